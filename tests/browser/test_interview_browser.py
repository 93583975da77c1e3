"""A 15-minute mock interview end to end in chromium, on a clock scaled down to seconds.

Answers typed, points confirmed, one question left to run out of time (its typed answer is kept
as late), one skipped, the drill submitted to the real grader, the report shown, the dashboard
panel updated. Set INTERVIEW_SHOTS=<dir> to keep desktop and phone screenshots for a look.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from engine.drills import get_drill
from tests.factories import register_in_browser, replace_code
from tests.live import served_app

pytestmark = pytest.mark.browser

SCALE = 0.2  # 2-minute questions last 24 s, the 7-minute drill 84 s


@pytest.fixture
def interview_server(live_db_url: str, tmp_path: Path) -> Iterator[str]:
    """The app with CSRF on and the interview clock scaled down, served from a thread."""
    config = {
        "SECRET_KEY": "browser-test",
        "SQLALCHEMY_DATABASE_URI": live_db_url,
        "INTERVIEW_CLOCK_SCALE": SCALE,
    }
    with served_app(config) as (_, url):
        yield url


def shot(page: Page, name: str) -> None:
    target = os.environ.get("INTERVIEW_SHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(target) / name), full_page=True)


def start_interview(page: Page, base: str, shot_name: str | None = None) -> dict:
    page.goto(f"{base}/interview")
    if shot_name:
        shot(page, shot_name)
    page.check("input[name=minutes][value='15']")
    page.click("#start-btn")
    page.wait_for_url(f"{base}/interview/*")
    return json.loads(page.locator("#interview-state").text_content() or "{}")


def test_fifteen_minute_interview_end_to_end(page: Page, interview_server: str) -> None:
    base = interview_server
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.set_viewport_size({"width": 1280, "height": 900})
    register_in_browser(page, base)
    state = start_interview(page, base, "interview-start-desktop.png")
    kinds = [i["kind"] for i in state["items"]]
    assert kinds == ["question"] * 4 + ["drill"]

    # 1. A typed answer, revealed beside the model answer, with the checklist pre-ticked.
    expect(page.locator("#q-text")).not_to_be_empty()
    expect(page.locator("#iv-item-clock")).to_have_text(re.compile(r"^00:[0-2]\d$"))
    page.fill("#q-answer", "隐藏层 ReLU 梯度消失 过拟合 正则化 数据 特征 模型 权重矩阵 激活函数")
    page.click("#q-reveal")
    expect(page.locator("#q-review")).to_be_visible(timeout=20_000)
    expect(page.locator("#q-model")).not_to_be_empty()
    expect(page.locator("#q-mine")).to_contain_text("梯度消失")
    boxes = page.locator("#q-point-list input[type=checkbox]")
    n_points = boxes.count()
    assert n_points >= 1
    shot(page, "interview-review-desktop.png")
    # The learner corrects the ticks: the first point unticked, every other one ticked.
    for i in range(n_points):
        boxes.nth(i).set_checked(i > 0)
    page.click("#q-confirm")
    expect(page.locator("#iv-n")).to_have_text("2")

    # 2. Typed but not sent: the clock runs out, the answer is kept as late, the page moves on.
    page.fill("#q-answer", "时间到之前没来得及提交的回答")
    expect(page.locator("#iv-n")).to_have_text("3", timeout=45_000)
    expect(page.locator("#iv-status")).to_contain_text("超时")

    # 3. Skipped.
    page.click("#q-skip")
    expect(page.locator("#iv-n")).to_have_text("4")

    # 4. A short answer, points confirmed as suggested.
    page.fill("#q-answer", "不记得了")
    page.click("#q-reveal")
    expect(page.locator("#q-review")).to_be_visible()
    page.click("#q-confirm")

    # 5. The drill: the editor, a wrong submission, then the reference solution.
    expect(page.locator("#iv-drill")).to_be_visible()
    expect(page.locator("#iv-n")).to_have_text("5")
    expect(page.locator("#d-editor .cm-lineNumbers")).to_be_visible()
    drill = get_drill(state["items"][4]["drill_id"])
    expect(page.locator("#iv-item-clock")).to_have_text(re.compile(r"^0[01]:\d\d$"))
    shot(page, "interview-drill-desktop.png")
    page.click("#d-submit")  # the starter code fails
    expect(page.locator("#d-results .verdict-banner")).to_be_visible(timeout=30_000)
    expect(page.locator("#d-results")).not_to_contain_text("通过！")
    replace_code(page, drill.solution_code, editor="#d-editor")
    page.click("#d-submit")
    expect(page.locator("#d-results")).to_contain_text("通过！", timeout=30_000)
    page.click("#d-next")

    # The report: score, every item, what was missed, study next, the trend table.
    page.wait_for_url(f"{base}/interview/*/report", timeout=30_000)
    expect(page.locator("#iv-score")).to_have_text(re.compile(r"^\d+$"))
    expect(page.locator(".iv-report-item")).to_have_count(5)
    expect(page.locator("#item-0")).to_contain_text(f"要点：{n_points - 1}/{n_points}")
    expect(page.locator("#item-1")).to_contain_text("超时后作答")
    expect(page.locator("#item-2")).to_contain_text("已跳过")
    expect(page.locator("#item-4")).to_contain_text("通过")
    next_links = page.locator("#study-next a")
    assert next_links.count() >= 2  # at least the skipped and the late/short ones
    expect(page.locator("#study-next")).to_contain_text("没有作答")
    expect(page.locator("#trend-table tbody tr")).to_have_count(1)
    shot(page, "interview-report-desktop.png")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "interview-report-phone.png")

    # The dashboard panel counts it.
    page.goto(f"{base}/progress")
    expect(page.locator("#iv-count")).to_have_text("1")
    expect(page.locator("#interview-panel")).to_be_visible()
    if os.environ.get("INTERVIEW_SHOTS"):
        panel = Path(os.environ["INTERVIEW_SHOTS"]) / "progress-panel-phone.png"
        page.locator("#interview-panel").screenshot(path=str(panel))

    # The session page at phone width, resumed after a reload.
    state = start_interview(page, base, "interview-start-phone.png")
    expect(page.locator("#q-text")).not_to_be_empty()
    page.fill("#q-answer", "ReLU 缓解梯度消失")
    page.click("#q-reveal")
    expect(page.locator("#q-review")).to_be_visible()
    page.reload()
    expect(page.locator("#q-review")).to_be_visible()
    expect(page.locator("#q-mine")).to_contain_text("ReLU 缓解梯度消失")
    shot(page, "interview-review-phone.png")
    assert not errors, errors
