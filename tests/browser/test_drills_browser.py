"""End to end in chromium: implement softmax, fail the stability test, fix it, pass, reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import create_engine, text

from tests.factories import NAIVE_SOFTMAX as NAIVE
from tests.factories import register_in_browser, replace_code

pytestmark = pytest.mark.browser

STABLE = NAIVE.replace("np.exp(x)", "np.exp(x - x.max(axis=axis, keepdims=True))")


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
    assert editor_text(page) == STABLE

    # Another device: a fresh browser context logs in and finds the same code.
    other = browser.new_context(locale="zh-CN")
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

    # History: the failed submission reopens in the editor; 撤销 brings the fix back.
    page.locator("#history-list li", has_text="答案错误").get_by_role("button").click()
    expect(page.locator("#save-status")).to_contain_text("已载入提交")
    assert editor_text(page) == NAIVE
    expect(page.locator(".verdict-banner")).to_contain_text("答案错误")
    page.locator("#save-status").get_by_role("button", name="撤销").click()
    assert editor_text(page) == STABLE
    assert errors == []


def test_typing_is_autosaved_and_errors_keep_the_code(page: Page, live_server: str) -> None:
    register_in_browser(page, live_server)
    page.goto(f"{live_server}/drills/relu")
    replace_code(page, "   ")
    page.click("#run-btn")
    expect(page.locator("#drill-alert")).to_contain_text("代码为空")
    replace_code(page, "def relu(x):\n    return x  # work in progress\n")
    expect(page.locator("#save-status")).to_contain_text("草稿已保存", timeout=10_000)

    # Hold the grading request to see the pending state, then let it through.
    held: list = []
    page.route("**/submissions", lambda route: held.append(route))
    page.click("#run-btn")
    expect(page.locator("#run-btn")).to_have_text("评测中…")
    expect(page.locator("#submit-btn")).to_be_disabled()
    expect(page.locator("#results")).to_have_attribute("aria-busy", "true")
    page.wait_for_timeout(50)
    assert len(held) == 1
    held[0].continue_()
    expect(page.locator(".verdict-banner")).to_contain_text("答案错误", timeout=20_000)
    expect(page.locator("#run-btn")).to_have_text("运行示例")
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


def test_review_mode_starts_blank_and_confirms_the_proposed_rating(
    page: Page, live_server: str, live_db_url: str
) -> None:
    register_in_browser(page, live_server)
    page.goto(f"{live_server}/drills/softmax")
    replace_code(page, STABLE)
    page.click("#submit-btn")
    expect(page.locator("#rating-panel .rating-3")).to_have_attribute("aria-pressed", "true")
    # Time passes: the drill card falls due (live_server serves this very database file).
    engine = create_engine(live_db_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE card_states SET due = '2000-01-01 00:00:00.000000'"))
    engine.dispose()
    page.goto(f"{live_server}/drills")
    expect(page.locator('[data-drill="softmax"]')).to_contain_text("待复习")
    page.locator('[data-drill="softmax"]').get_by_role("link", name="开始复习").click()
    expect(page.locator(".review-banner")).to_be_visible()
    # blank, not the solved draft (wait: the editor fills in after the page loads)
    expect(page.locator(".cm-content")).to_contain_text("raise NotImplementedError")
    replace_code(page, STABLE)
    page.keyboard.press("Control+Enter")
    expect(page.locator("#rating-text")).to_contain_text("建议评分")
    proposed = page.locator("#rating-panel .rating-3")
    expect(proposed).to_have_attribute("aria-pressed", "true")
    expect(proposed).to_be_focused()
    page.keyboard.press("Enter")  # confirm the proposal from the keyboard
    expect(page.locator("#rating-result")).to_contain_text("已评为“良好”")


def test_solution_formulas_render_at_phone_width(page: Page, live_server: str) -> None:
    """The batch norm explanation's two-line display formula renders as one formula, and at
    phone width it scrolls inside itself rather than pushing the page sideways."""
    from engine.drills import DRILLS

    register_in_browser(page, live_server)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/drills/batchnorm_backward")
    replace_code(page, DRILLS["batchnorm_backward"].solution_code)
    page.locator("#submit-btn").click()
    expect(page.locator(".verdict-banner strong")).to_have_text("通过", timeout=30_000)
    explanation = page.locator("#solution-explanation")
    expect(explanation.locator(".katex-display").first).to_be_visible()
    assert explanation.locator(".katex-error").count() == 0
    assert "$" not in explanation.inner_text()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page scrolls sideways at phone width ({width}px)"
