"""In chromium: an English browser submits a wrong softmax and reads the grader's feedback, the
diagnosis and the hints in English (screenshots at desktop and phone width)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.factories import NAIVE_SOFTMAX as NAIVE
from tests.factories import register_in_browser, replace_code

pytestmark = pytest.mark.browser
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("width", [1280, 390])
def test_english_feedback_on_the_drill_page(
    browser: Browser, live_server: str, tmp_path: Path, width: int
) -> None:
    context = browser.new_context(locale="en-US", viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        register_in_browser(page, live_server)
        page.goto(f"{live_server}/drills/softmax")
        expect(page.locator(".cm-content")).to_contain_text("Softmax along axis")
        expect(page.locator(".drill-example figcaption").first).to_contain_text("1-D vector")
        replace_code(page, NAIVE)
        page.locator("#submit-btn").click()
        banner = page.locator(".verdict-banner")
        expect(banner).to_contain_text("Wrong answer", timeout=30_000)
        row = page.locator(".test-table tr", has_text="numerical stability on large inputs")
        expect(row).to_contain_text("NaN or inf")
        diagnosis = page.locator("#diagnosis")
        expect(diagnosis).to_contain_text("The maximum is not subtracted first")
        results = page.locator("#diagnosis").inner_text() + page.locator(".test-table").inner_text()
        assert not CHINESE.search(results)
        shots = Path(os.environ.get("SCREENSHOT_DIR", str(tmp_path)))
        page.screenshot(path=str(shots / f"feedback-en-{width}.png"), full_page=True)
        diagnosis.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"feedback-en-{width}-results.png"))
        assert errors == []
    finally:
        context.close()
