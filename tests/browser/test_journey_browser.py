"""The whole journey in each language: sign-up -> study (B, S, U, ?) -> topic -> drill ->
progress, with no console errors, and screenshots of every page at desktop and phone width
(test-results/screens/<lang>-<device>-<page>.png, for people to look at)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.browser

SCREENS = Path(__file__).resolve().parents[2] / "test-results" / "screens"

# What each language must show: html lang, nav, and the texts the journey checks.
TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "accept": "zh-CN,zh;q=0.9",
        "lang": "zh-CN",
        "nav_study": "学习",
        "welcome": "欢迎！从这里开始",
        "buried": "已搁置到明天",
        "suspended": "已暂停这张卡片",
        "undone": "已撤销",
        "keys": "键盘快捷键",
        "study_topic": "学习本主题",
        "run": "运行示例",
        "progress": "学习进度",
        "password": "browser-pass",
    },
    "en": {
        "accept": "en-US,en;q=0.9",
        "lang": "en",
        "nav_study": "Study",
        "welcome": "Welcome! Start here",
        "buried": "Buried until tomorrow",
        "suspended": "Card suspended",
        "undone": "undone",
        "keys": "Keyboard shortcuts",
        "study_topic": "Study this topic",
        "run": "Run examples",
        "progress": "Progress",
        "password": "browser-pass",
    },
}


def _watch(page: Page) -> list[str]:
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(f"{m.type}: {m.text}")
            if m.type == "error"
            or (m.type == "warning" and any(w in m.text for w in ("KaTeX", "LaTeX", "strict")))
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    return problems


def _counts(page: Page) -> tuple[str, ...]:
    return tuple(
        page.locator(f'[data-count="{k}"]').inner_text() for k in ("new", "learning", "review")
    )


def _shot(page: Page, lang: str, device: str, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(SCREENS / f"{lang}-{device}-{name}.png"), full_page=True)


def _context(browser: Browser, lang: str, *, phone: bool) -> Any:
    options: dict[str, Any] = {
        "locale": TEXT[lang]["lang"],
        "extra_http_headers": {"Accept-Language": TEXT[lang]["accept"]},
    }
    if phone:
        options |= {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
    else:
        options |= {"viewport": {"width": 1280, "height": 900}}
    return browser.new_context(**options)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_journey(browser: Browser, live_server: str, lang: str) -> None:
    t = TEXT[lang]
    context = _context(browser, lang, phone=False)
    page = context.new_page()
    problems = _watch(page)

    # Sign-up lands on the home page with the first-run panel, in the browser's language.
    page.goto(f"{live_server}/register")
    expect(page.locator("html")).to_have_attribute("lang", t["lang"])
    _shot(page, lang, "desktop", "register")
    page.fill("#username", f"walker-{lang}")
    page.fill("#password", t["password"])
    page.fill("#confirm", t["password"])
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    expect(page.locator(".first-run")).to_contain_text(t["welcome"])
    expect(page.locator(".main-nav a[aria-current=page]")).to_have_count(1)
    expect(page.locator(".main-nav")).to_contain_text(t["nav_study"])
    _shot(page, lang, "desktop", "home")

    # Study: reveal, answer, then B/U and S/U restore exactly the card and the counts.
    page.goto(f"{live_server}/study")
    page.keyboard.press("Space")
    expect(page.locator(".study-answers")).to_be_visible()
    _shot(page, lang, "desktop", "study")
    front = page.locator(".study-front").inner_text()
    page.keyboard.press("3")
    expect(page.locator(".study-front")).not_to_have_text(front)
    notice = page.locator(".study-notice")
    for key, message in (("b", t["buried"]), ("s", t["suspended"])):
        front, before = page.locator(".study-front").inner_text(), _counts(page)
        page.keyboard.press(key)
        expect(page.locator(".study-front")).not_to_have_text(front)
        expect(notice).to_contain_text(message)
        page.keyboard.press("u")
        expect(page.locator(".study-front")).to_have_text(front)
        expect(notice).to_contain_text(t["undone"])
        assert _counts(page) == before
    page.keyboard.press("?")
    dialog = page.locator("#study-keys")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(t["keys"])
    _shot(page, lang, "desktop", "study-keys")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # A topic: contents, the study button, drill chips that lead to the drill page.
    page.goto(f"{live_server}/")
    page.locator(".topic-card h2 a").first.click()
    expect(page.locator(".topic-actions")).to_contain_text(t["study_topic"])
    expect(page.locator("nav.toc")).to_be_visible()
    expect(page.locator(".katex").first).to_be_visible()
    _shot(page, lang, "desktop", "topic")
    page.locator(".drill-chip").first.click()
    page.wait_for_url(f"{live_server}/drills/*")
    expect(page.locator(".cm-content")).to_be_visible()
    expect(page.locator("#run-btn")).to_have_text(t["run"])
    _shot(page, lang, "desktop", "drill")

    # Progress, and the other pages a learner visits.
    page.goto(f"{live_server}/progress")
    expect(page.locator("h1")).to_have_text(t["progress"])
    _shot(page, lang, "desktop", "progress")
    for name, path in (
        ("topic-bn", "/topics/fan-xiang-chuan-bo-backpropagation-yu-ti-du-ji-suan"),
        ("cards", "/cards"),
        ("search", "/search?q=softmax"),
        ("drills", "/drills"),
        ("settings", "/settings"),
        ("password", "/account/password"),
        ("delete", "/account/delete"),
    ):
        page.goto(f"{live_server}{path}")
        expect(page.locator("html")).to_have_attribute("lang", t["lang"])
        _shot(page, lang, "desktop", name)
    assert problems == []
    cookies = context.cookies()
    context.close()

    # The same pages at phone width (signed in with the same session).
    phone = _context(browser, lang, phone=True)
    phone.add_cookies(cookies)
    page = phone.new_page()
    problems = _watch(page)
    for name, path in (
        ("home", "/"),
        ("study", "/study"),
        ("topic", None),
        ("drill", "/drills/softmax"),
        ("progress", "/progress"),
        ("cards", "/cards"),
        ("search", "/search?q=softmax"),
        ("settings", "/settings"),
    ):
        if path is None:
            page.goto(f"{live_server}/")
            page.locator(".topic-card h2 a").first.click()
            page.wait_for_url(f"{live_server}/topics/*")
        else:
            page.goto(f"{live_server}{path}")
        if name == "study":
            page.keyboard.press("Space")
            expect(page.locator(".study-answers")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", t["lang"])
        _shot(page, lang, "phone", name)
    assert problems == []
    phone.close()


def test_the_setting_overrides_the_browser_language(browser: Browser, live_server: str) -> None:
    context = _context(browser, "en", phone=False)
    page = context.new_page()
    page.goto(f"{live_server}/register")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.fill("#username", "switcher")
    page.fill("#password", "browser-pass")
    page.fill("#confirm", "browser-pass")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/settings")
    page.select_option("#locale", "zh")
    page.select_option("#theme", "dark")
    page.locator(".settings-appearance button").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    expect(page.locator(".main-nav")).to_contain_text("学习")
    # The footer switch works for everyone, and back to English in one click.
    page.locator(".lang-switch button[value=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    context.close()
