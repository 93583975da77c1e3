import pytest
from playwright.sync_api import Page, expect
from tests.factories import register_in_browser
pytestmark = pytest.mark.browser

BAD = """import numpy as np


def softmax(x, axis=-1):
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)
"""

def test_shots(page: Page, live_server: str) -> None:
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.set_viewport_size({"width": 1400, "height": 900})
    register_in_browser(page, live_server)
    page.goto(f"{live_server}/drills")
    page.screenshot(path="/tmp/shots/index.png", full_page=True)
    page.goto(f"{live_server}/drills/softmax")
    page.wait_for_selector(".cm-content")
    page.screenshot(path="/tmp/shots/desktop-fresh.png", full_page=True)
    page.click(".cm-content")
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(BAD)
    page.click("#submit-btn")
    expect(page.locator(".verdict-banner")).to_be_visible(timeout=20000)
    page.screenshot(path="/tmp/shots/desktop-fail.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path="/tmp/shots/phone-fail.png", full_page=True)
    top = page.evaluate("document.querySelector('.drill-work').getBoundingClientRect().top + window.scrollY")
    for i in range(2):
        page.screenshot(path=f"/tmp/shots/phone-work-{i}.png", full_page=True, clip={"x": 0, "y": top + i * 800, "width": 390, "height": 800})
    page.goto(f"{live_server}/drills/softmax")
    page.wait_for_selector(".cm-content")
    page.screenshot(path="/tmp/shots/phone-top.png")
    print(errors)
    print(page.evaluate("document.documentElement.scrollWidth"))
