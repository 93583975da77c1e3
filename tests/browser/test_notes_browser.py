"""End to end in chromium: register, log in, open a topic, see math and a diagram rendered."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.factories import register_in_browser

pytestmark = pytest.mark.browser


def test_register_login_and_read_a_topic(page: Page, live_server: str) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    register_in_browser(page, live_server)
    page.click("text=退出")
    page.goto(f"{live_server}/login")
    page.fill("#username", "browser")
    page.fill("#password", "browser-pass")
    page.click("button[type=submit]")
    expect(page.locator("text=browser · 退出")).to_be_visible()
    page.click("text=神经网络结构")
    expect(page.locator(".katex").first).to_be_visible()
    expect(page.locator("pre.mermaid svg").first).to_be_visible(timeout=15_000)
    expect(page.locator(".highlight").first).to_be_visible()
    assert errors == []


def test_topic_page_at_phone_width(page: Page, live_server: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server)
    page.click("text=反向传播（Backpropagation）与梯度计算")
    expect(page.locator(".katex").first).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page scrolls sideways at phone width ({width}px)"
