"""Browser tests: the real app served on a local port, driven by Debian's chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import DbTemplate
from tests.live import served_app

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    # Playwright cannot download its own browser here: use the system one.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def live_db_url(synced_db_template: DbTemplate, tmp_path: Path) -> str:
    """The live server's database (a fresh copy): tests may change it behind the server's back."""
    return synced_db_template.clone(tmp_path)


@pytest.fixture
def live_server(live_db_url: str) -> Iterator[str]:
    """The app with CSRF on, on a fresh database copy, served from a thread."""
    config = {"SECRET_KEY": "browser-test", "SQLALCHEMY_DATABASE_URI": live_db_url}
    with served_app(config) as (_, url):
        yield url


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    # The site follows Accept-Language; these tests read the Chinese interface (the default),
    # as a browser set to Chinese would. tests/browser/test_journey_browser.py covers English.
    return {**browser_context_args, "locale": "zh-CN"}
