"""The drill page when grading is queued: 排队中 while no worker runs, the verdict without reload."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests import services
from tests.factories import STABLE_SOFTMAX as STABLE
from tests.factories import register_in_browser, replace_code
from tests.live import served_app

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server missing"),
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
    ),
]


@pytest.fixture
def queued_server(live_db_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The app scaled out (a broker, no grader in the web process), answering 202 at once."""
    redis = services.start_redis(tmp_path / "redis")
    config = {
        "SECRET_KEY": "browser-test",
        "SQLALCHEMY_DATABASE_URI": live_db_url,
        "GRADER_BROKER_URL": redis.url,
        "GRADER_WAIT_SECONDS": 0,
    }
    try:
        with served_app(config) as (app, url):
            yield {"url": url, "redis": redis}
        # After the server has stopped: no request is left to hand a submission to the broker.
        backend = app.extensions.get("grading")
        if backend is not None:
            backend.close()
    finally:
        redis.stop()


def test_a_queued_submission_shows_its_place_then_its_verdict_without_reload(
    page: Page, queued_server: dict[str, Any], live_db_url: str, tmp_path: Path
) -> None:
    url = queued_server["url"]
    register_in_browser(page, url)
    page.goto(f"{url}/drills/softmax")
    replace_code(page, STABLE)
    page.click("#submit-btn")
    status = page.locator("#queue-status")
    expect(status).to_contain_text("排队中")  # no worker yet: it waits in the queue
    expect(page.locator("#submit-btn")).to_be_disabled()
    page.screenshot(path=str(tmp_path / "queued-desktop.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator(".drill-work").screenshot(path=str(tmp_path / "queued-phone.png"))
    page.set_viewport_size({"width": 1280, "height": 800})
    worker = services.start_worker(
        live_db_url, queued_server["redis"].url, tmp_path / "worker.log", slots=1
    )
    try:
        banner = page.locator(".verdict-banner")
        expect(banner.locator("strong")).to_have_text("通过", timeout=30_000)
        expect(page.locator("#solution")).to_be_visible()  # the first solve, as in-process
        expect(page.locator("#history-list li")).to_have_count(1)
        expect(page.locator("#submit-btn")).to_be_enabled()
    finally:
        services.stop(worker)


def test_a_queued_interview_drill_shows_its_place_then_its_verdict(
    page: Page, queued_server: dict[str, Any], live_db_url: str, tmp_path: Path
) -> None:
    """Mock interviews grade through the queue too: the drill's result area follows it."""
    import json
    import os

    shots = Path(os.environ.get("INTERVIEW_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)

    from engine.drills import get_drill

    url = queued_server["url"]
    register_in_browser(page, url)
    page.goto(f"{url}/interview")
    page.check("input[name=minutes][value='15']")
    page.click("#start-btn")
    page.wait_for_url(f"{url}/interview/*")
    state = json.loads(page.locator("#interview-state").text_content() or "{}")
    drill_index = next(i for i, item in enumerate(state["items"]) if item["kind"] == "drill")
    for n in range(drill_index):
        expect(page.locator("#iv-n")).to_have_text(str(n + 1))
        page.click("#q-skip")
    expect(page.locator("#iv-drill")).to_be_visible()
    expect(page.locator("#d-editor .cm-lineNumbers")).to_be_visible()
    solution = get_drill(state["items"][drill_index]["drill_id"]).solution_code
    replace_code(page, solution, editor="#d-editor")
    page.click("#d-submit")
    status = page.locator("#d-results #queue-status")
    expect(status).to_contain_text("排队中")
    expect(page.locator("#d-submit")).to_be_disabled()
    page.screenshot(path=str(shots / "interview-queued-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(shots / "interview-queued-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    worker = services.start_worker(
        live_db_url, queued_server["redis"].url, tmp_path / "worker.log", slots=1
    )
    try:
        banner = page.locator("#d-results .verdict-banner")
        expect(banner.locator("strong")).to_have_text("通过", timeout=30_000)
        expect(page.locator("#d-next")).to_be_visible()
        page.screenshot(path=str(shots / "interview-graded-desktop.png"), full_page=True)
    finally:
        services.stop(worker)
