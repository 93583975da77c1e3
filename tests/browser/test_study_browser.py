"""End to end in chromium: study with the keyboard only (Space, 3, U) and see the intervals."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.factories import register_in_browser

pytestmark = pytest.mark.browser


def front_text(page: Page) -> str:
    return page.locator(".study-front").inner_text()


def answer_with_3(page: Page) -> None:
    before = front_text(page)
    page.keyboard.press("3")
    expect(page.locator(".study-front")).not_to_have_text(before)


def done_today(page: Page) -> int:
    return page.evaluate(
        "fetch('/api/v1/reviews/summary', {credentials: 'same-origin'}).then(r => r.json()).then(d => d.done_today)"
    )


def test_study_with_the_keyboard_only(page: Page, live_server: str) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    register_in_browser(page, live_server)
    page.goto(f"{live_server}/study")
    card = page.locator(".study-card")
    answers = page.locator(".study-answers")
    expect(card).to_be_visible()
    expect(answers).to_be_hidden()
    expect(page.locator('[data-count="new"]')).not_to_have_text("0")

    # A knowledge point: one Space shows the whole answer and the buttons with their intervals.
    page.keyboard.press("Space")
    expect(page.locator(".study-back")).to_be_visible()
    expect(answers).to_be_visible()
    # The default learning step is 10m: Again comes back in 10 minutes, Good graduates.
    expect(page.locator(".answer-again .answer-ivl")).to_have_text("10分钟")
    expect(page.locator(".answer-hard .answer-ivl")).to_have_text("15分钟")
    expect(page.locator(".answer-good .answer-ivl")).to_have_text("2天")
    expect(page.locator(".answer-easy .answer-ivl")).to_have_text("8天")
    new_before = int(page.locator('[data-count="new"]').inner_text())
    answer_with_3(page)
    expect(page.locator('[data-count="new"]')).to_have_text(str(new_before - 1))

    # Keep going until a question: Space shows the one-line answer, Space again the deep one.
    for _ in range(10):
        page.keyboard.press("Space")
        if page.locator(".study-short").is_visible():
            break
        answer_with_3(page)
    question = front_text(page)
    expect(page.locator(".study-short")).to_contain_text("一句话答案")
    expect(page.locator(".study-back")).to_be_hidden()
    expect(answers).to_be_visible()
    page.keyboard.press("Space")
    expect(page.locator(".study-back")).to_be_visible()
    expect(page.locator(".study-back")).to_contain_text("深入回答")
    answered = done_today(page)
    answer_with_3(page)
    assert done_today(page) == answered + 1

    # U undoes exactly: the question is back on its front, and the count goes back too.
    page.keyboard.press("u")
    expect(page.locator(".study-front")).to_have_text(question)
    expect(page.locator(".study-notice")).to_contain_text("已撤销")
    expect(answers).to_be_hidden()
    assert done_today(page) == answered
    # Ctrl+Z undoes the one before; then the restored card can be answered again.
    page.keyboard.press("Control+z")
    expect(page.locator(".study-front")).not_to_have_text(question)
    assert done_today(page) == answered - 1
    page.keyboard.press("Space")
    answer_with_3(page)
    assert done_today(page) == answered

    # Focus stays on the card (never on a button that Space would press).
    assert page.evaluate("document.activeElement.classList.contains('study-card')")
    assert errors == []


def test_double_click_answers_once(page: Page, live_server: str) -> None:
    register_in_browser(page, live_server)
    page.goto(f"{live_server}/study")
    page.click(".study-reveal")
    page.dblclick(".answer-good")
    page.wait_for_timeout(500)
    assert done_today(page) == 1


def test_buttons_at_phone_width(page: Page, live_server: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    register_in_browser(page, live_server)
    page.goto(f"{live_server}/study")
    page.keyboard.press("Space")
    boxes = [page.locator(f".answer-{n}").bounding_box() for n in ("again", "hard", "good", "easy")]
    assert all(boxes)
    again, hard, good, easy = boxes  # type: ignore[misc]
    assert again["y"] == hard["y"] and good["y"] == easy["y"] and good["y"] > again["y"]  # 2 x 2
    assert min(b["width"] for b in boxes) >= 120  # big enough for a thumb  # type: ignore[index]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page scrolls sideways at phone width ({width}px)"


def counts(page: Page) -> dict[str, str]:
    return {
        n: page.locator(f'[data-count="{n}"]').inner_text() for n in ("new", "learning", "review")
    }


def test_bury_and_suspend_are_undone_by_u(page: Page, live_server: str) -> None:
    """B then U, S then U: the card and the counts from before the key press; the notice after
    B or S has its own undo button; an earlier answer is never what U takes back."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    register_in_browser(page, live_server)
    page.goto(f"{live_server}/study")
    page.keyboard.press("Space")
    answer_with_3(page)  # an earlier, unrelated answer
    answered = done_today(page)
    notice = page.locator(".study-notice")
    for key, message in (("b", "已搁置到明天"), ("s", "已暂停这张卡片")):
        front, before = front_text(page), counts(page)
        page.keyboard.press(key)
        expect(page.locator(".study-front")).not_to_have_text(front)
        expect(notice).to_contain_text(message)
        expect(notice.locator(".study-notice-undo")).to_be_visible()
        page.keyboard.press("u")
        expect(page.locator(".study-front")).to_have_text(front)
        expect(notice).to_contain_text("已撤销")
        assert counts(page) == before
        assert done_today(page) == answered  # the answer before is still there
    # The notice's own button does the same as U.
    front, before = front_text(page), counts(page)
    page.keyboard.press("s")
    expect(page.locator(".study-front")).not_to_have_text(front)
    notice.locator(".study-notice-undo").click()
    expect(page.locator(".study-front")).to_have_text(front)
    assert counts(page) == before
    # With nothing but the answer left on the stack, U takes back the answer.
    page.keyboard.press("u")
    expect(notice).to_contain_text("已撤销上一次回答")
    assert done_today(page) == answered - 1
    assert errors == []


def test_question_mark_lists_the_shortcuts(page: Page, live_server: str) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    register_in_browser(page, live_server)
    page.goto(f"{live_server}/study")
    dialog = page.locator("#study-keys")
    expect(dialog).to_be_hidden()
    front = front_text(page)
    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("aria-labelledby", "study-keys-title")
    for text in ("空格", "重来", "简单", "撤销上一步", "搁置", "暂停", "Esc"):
        expect(dialog).to_contain_text(text)
    # Focus is inside the dialog, and the study keys do nothing behind it.
    assert page.evaluate("document.getElementById('study-keys').contains(document.activeElement)")
    page.keyboard.press("Space")  # presses the focused close button: closes, reveals nothing
    expect(dialog).to_be_hidden()
    expect(page.locator(".study-back")).to_be_hidden()
    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    page.keyboard.press("3")
    expect(page.locator(".study-front")).to_have_text(front)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # Focus goes back where it was: the card, so Space reveals the answer again.
    assert page.evaluate("document.activeElement.classList.contains('study-card')")
    page.keyboard.press("Space")
    expect(page.locator(".study-back")).to_be_visible()
    # The button opens it too.
    page.click(".study-help")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator(".study-help")).to_be_focused()
    assert errors == []


def test_key_hints_hidden_on_touch_screens(browser: Any, live_server: str) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, locale="zh-CN"
    )
    page = context.new_page()
    try:
        register_in_browser(page, live_server)
        page.goto(f"{live_server}/study")
        assert page.evaluate("matchMedia('(hover: none), (pointer: coarse)').matches")
        expect(page.locator(".study-reveal kbd")).to_be_hidden()
        expect(page.locator(".study-tools kbd").first).to_be_hidden()
        expect(page.locator(".study-help")).to_be_hidden()
        page.locator(".study-reveal").tap()
        expect(page.locator(".answer-good kbd")).to_be_hidden()
        expect(page.locator(".answer-good .answer-ivl")).to_be_visible()
    finally:
        context.close()
    # A desktop browser keeps them.
    desktop = browser.new_page()
    try:
        register_in_browser(desktop, live_server, username="deskuser")
        desktop.goto(f"{live_server}/study")
        expect(desktop.locator(".study-reveal kbd")).to_be_visible()
    finally:
        desktop.close()
