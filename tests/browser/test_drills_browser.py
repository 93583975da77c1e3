"""End to end in chromium: implement softmax, fail the stability test, fix it, pass, reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.factories import register_in_browser

pytestmark = pytest.mark.browser

NAIVE = """import numpy as np


def softmax(x, axis=-1):
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)
"""
STABLE = NAIVE.replace("np.exp(x)", "np.exp(x - x.max(axis=axis, keepdims=True))")


def replace_code(page: Page, code: str) -> None:
    # CodeMirror auto-indents on Enter: insert the whole text instead of typing it.
    page.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(code)


def editor_text(page: Page) -> str:
    return page.evaluate(
        "Array.from(document.querySelectorAll('.cm-line')).map(l => l.textContent).join('\\n')"
    )


def test_softmax_fail_fix_pass_and_reload(page: Page, live_server: str, browser: Browser) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    register_in_browser(page, live_server)
    page.goto(f"{live_server}/drills/softmax")
    expect(page.locator(".katex").first).to_be_visible()
    expect(page.locator(".cm-lineNumbers")).to_be_visible()
    assert "raise NotImplementedError" in editor_text(page)

    replace_code(page, NAIVE)
    page.locator("#submit-btn").dblclick()  # a double click must grade once
    banner = page.locator(".verdict-banner")
    expect(banner).to_contain_text("答案错误", timeout=20_000)
    row = page.locator(".test-table tr", has_text="大输入数值稳定性")
    expect(row).to_contain_text("未通过")
    expect(row).to_contain_text("隐藏")
    expect(page.locator("#history-list li")).to_have_count(1)
    expect(page.locator("#submit-btn")).to_be_enabled()

    replace_code(page, STABLE)
    page.keyboard.press("Control+Enter")
    expect(banner.locator("strong")).to_have_text("通过", timeout=20_000)
    expect(page.locator("#history-list li")).to_have_count(2)
    expect(page.locator("#solution")).to_be_visible()  # the explanation after solving
    expect(page.locator("#rating-panel .rating-2")).to_have_attribute("aria-pressed", "true")

    page.reload()
    expect(page.locator(".cm-content")).to_contain_text("x.max(axis=axis, keepdims=True)")
    assert editor_text(page) == STABLE.rstrip("\n") + "\n" or editor_text(page) == STABLE

    # Another device: a fresh browser context logs in and finds the same code.
    other = browser.new_context()
    try:
        phone = other.new_page()
        phone.goto(f"{live_server}/login")
        phone.fill("#username", "browser")
        phone.fill("#password", "browser-pass")
        phone.click("button[type=submit]")
        phone.goto(f"{live_server}/drills/softmax")
        expect(phone.locator(".cm-content")).to_contain_text("x.max(axis=axis, keepdims=True)")
    finally:
        other.close()
    assert errors == []


def test_typing_is_autosaved_and_errors_keep_the_code(page: Page, live_server: str) -> None:
    register_in_browser(page, live_server)
    page.goto(f"{live_server}/drills/relu")
    replace_code(page, "   ")
    page.click("#run-btn")
    expect(page.locator("#drill-alert")).to_contain_text("代码为空")
    replace_code(page, "def relu(x):\n    return x  # work in progress\n")
    expect(page.locator("#save-status")).to_contain_text("草稿已保存", timeout=10_000)
    page.reload()
    expect(page.locator(".cm-content")).to_contain_text("work in progress")


def test_drill_page_stacks_at_phone_width(page: Page, live_server: str) -> None:
    register_in_browser(page, live_server)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/drills/batchnorm_backward")
    expect(page.locator(".cm-content")).to_be_visible()
    statement = page.locator(".drill-statement").bounding_box()
    work = page.locator(".drill-work").bounding_box()
    assert statement and work and work["y"] >= statement["y"] + statement["height"]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page scrolls sideways at phone width ({width}px)"
