"""The results panel explains failures: the diagnosis callout linking to the notes, hidden
failures with their reason, tracebacks in monospace with the line marked, phone cards."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.factories import register_in_browser, replace_code

pytestmark = pytest.mark.browser

SHIFT_MEAN = """import numpy as np


def softmax(x, axis=-1):
    e = np.exp(x - x.mean(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
"""
EPS_OUTSIDE = """import numpy as np


def layernorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    sd = x.std(axis=-1, keepdims=True)
    return gamma * (x - mu) / (sd + eps) + beta
"""
CRASH = """import numpy as np


def relu(x):
    y = np.maximum(x, 0)
    return y.not_an_attribute
"""
# Screenshots for people to look at (kept when SCREENSHOT_DIR is set).
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))


def submit(page: Page, code: str, button: str = "#submit-btn") -> None:
    replace_code(page, code)
    page.click(button)
    expect(page.locator(".verdict-banner")).to_be_visible(timeout=20_000)


def test_diagnosis_callout_and_hidden_failure_reasons(page: Page, live_server: str) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.set_viewport_size({"width": 1366, "height": 900})
    register_in_browser(page, live_server)
    page.goto(f"{live_server}/drills/softmax")
    submit(page, SHIFT_MEAN)

    callout = page.locator("#diagnosis")
    expect(callout).to_contain_text("减去的是每组的均值")
    link = callout.get_by_role("link")
    assert link.get_attribute("href").endswith("#03564bfc")
    # The callout sits above the table; hidden failures say why, without data.
    assert callout.bounding_box()["y"] < page.locator(".test-table").bounding_box()["y"]
    hidden = page.locator(".test-table tr", has_text="每行跨越 ±1000")
    expect(hidden).to_contain_text("隐藏")
    expect(hidden).to_contain_text("含 NaN 或 inf")
    expect(hidden.locator(".test-message")).not_to_have_text("—")
    expect(page.locator("#results")).not_to_contain_text("null")
    page.screenshot(path=str(SHOTS / "i12-diagnosis-desktop.png"), full_page=False)
    hidden.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "i12-table-desktop.png"), full_page=False)

    # The notes link lands on the section.
    link.click()
    expect(page.locator("section#\\30 3564bfc")).to_be_attached()
    assert errors == []


def test_small_errors_do_not_read_like_rounding_and_run_mode_prints_no_null(
    page: Page, live_server: str
) -> None:
    page.set_viewport_size({"width": 1366, "height": 900})
    register_in_browser(page, live_server)
    page.goto(f"{live_server}/drills/layernorm_forward")
    submit(page, EPS_OUTSIDE, "#run-btn")
    page.locator(".io-grid").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "i12-io-desktop.png"), full_page=False)
    results = page.locator("#results")
    expect(results).not_to_contain_text("null")
    expect(page.locator("#diagnosis")).to_contain_text("ε 加在了根号外")
    expect(results).to_contain_text("容差的")
    # Expected/got boxes stay inside the pane: nothing is cut off at 1366 px.
    pane = page.locator(".drill-work").bounding_box()
    for box in page.locator(".io-grid pre").all():
        b = box.bounding_box()
        assert b["x"] + b["width"] <= pane["x"] + pane["width"] + 1


def test_traceback_is_monospace_and_marks_the_line(page: Page, live_server: str) -> None:
    page.set_viewport_size({"width": 1366, "height": 900})
    register_in_browser(page, live_server)
    page.goto(f"{live_server}/drills/relu")
    submit(page, CRASH, "#run-btn")
    trace = page.locator(".test-table pre.traceback").first
    expect(trace).to_contain_text("line 6")
    family = trace.evaluate("el => getComputedStyle(el).fontFamily")
    assert "mono" in family.lower()
    page.locator(".goto-line").first.click()
    selected = page.evaluate("window.getSelection().toString()")
    assert "not_an_attribute" in selected
    page.screenshot(path=str(SHOTS / "i12-traceback-desktop.png"), full_page=False)


def test_phone_results_are_cards_and_the_editor_stays_in_view_on_desktop(
    page: Page, live_server: str
) -> None:
    register_in_browser(page, live_server)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server}/drills/batchnorm_backward")
    expect(page.locator(".cm-content")).to_be_visible()
    page.mouse.wheel(0, 1500)
    page.wait_for_timeout(200)
    box = page.locator(".cm-editor").bounding_box()
    assert box and 0 <= box["y"] < 900, "the editor scrolled away with the statement"

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/drills/softmax")
    submit(page, SHIFT_MEAN)
    expect(page.locator("#diagnosis")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page scrolls sideways at phone width ({width}px)"
    row = page.locator(".test-table tr.test-row").first.bounding_box()
    assert row and row["width"] > 300  # a full-width card, not a squeezed table row
    page.locator("#diagnosis").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "i12-diagnosis-phone.png"), full_page=False)
    page.locator(".test-table tr", has_text="每行跨越 ±1000").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "i12-hidden-phone.png"), full_page=False)
