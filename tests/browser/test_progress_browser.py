"""End to end in chromium: the progress dashboard after five months of simulated FSRS study.

Set PROGRESS_SHOTS=<dir> to keep screenshots (desktop, phone, dark) for a look.
"""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from app import create_app

pytestmark = pytest.mark.browser

TZ = ZoneInfo("Asia/Shanghai")


EXTRA_TOPICS = [
    ("optimizers", "优化器与学习率", ["动量", "Adam", "学习率预热", "权重衰减", "梯度裁剪"]),
    ("regularization", "正则化与过拟合", ["Dropout", "L2 正则", "早停", "数据增强", "标签平滑"]),
    ("cnn", "卷积神经网络", ["感受野", "池化", "空洞卷积", "残差连接", "1×1 卷积"]),
    (
        "attention",
        "注意力机制与 Transformer",
        ["缩放点积", "多头注意力", "位置编码", "掩码", "KV 缓存"],
    ),
]


def add_practice_deck(session: Any, per_concept: int = 8) -> None:
    """More topics beside the owner's two, so the page looks like a deck in real use."""
    from quiz.models import Card, Document, Topic

    doc = Document(path="practice.md", sha256="0" * 64)
    session.add(doc)
    session.flush()
    for pos, (slug, title, concepts) in enumerate(EXTRA_TOPICS):
        topic = Topic(document_id=doc.id, slug=slug, title=title, position=10 + pos)
        session.add(topic)
        session.flush()
        for c, concept in enumerate(concepts):
            for i in range(per_concept):
                front = f"{concept}：第 {i + 1} 个追问是什么？" if i else f"解释 {concept} 的作用"
                session.add(
                    Card(
                        key=f"{slug}/{c}/{i}",
                        kind="question",
                        topic_id=topic.id,
                        sibling_key=f"{slug}/{c}",
                        position=1000 + pos * 100 + c * 10 + i,
                        front_md=front,
                        back_md="……",
                        front_html=f"<p>{front}</p>",
                        back_html="<p>……</p>",
                    )
                )
    session.commit()


def _snapshot(card: Any, reps: int, lapses: int, moment: datetime) -> dict[str, Any]:
    """A complete card-state snapshot as the app's answers record them (undo restores it)."""
    return {
        "state": int(card.state) if card else 0,
        "step": card.step if card else None,
        "stability": card.stability if card else None,
        "difficulty": card.difficulty if card else None,
        "due": (card.due if card else moment).isoformat(),
        "last_review": card.last_review.isoformat() if card and card.last_review else None,
        "reps": reps,
        "lapses": lapses,
        "suspended": False,
        "leech": False,
        "buried_until": None,
        "version": reps,
    }


def simulate_history(session: Any, user_id: int, *, now: datetime, days: int, seed: int = 7) -> int:
    """Study the owner's deck with FSRS for `days` days: new cards, reviews, lapses, idle days."""
    from fsrs import Card as FsrsCard
    from fsrs import Rating, Scheduler
    from sqlalchemy import select

    from quiz.models import Card, CardState, DrillProgress, ReviewLog

    rng = random.Random(seed)
    scheduler = Scheduler(desired_retention=0.9, enable_fuzzing=False)
    flashcards = list(
        session.scalars(select(Card).where(Card.kind != "drill").order_by(Card.position))
    )
    cards: dict[int, FsrsCard] = {}
    reps: dict[int, int] = {}
    lapses: dict[int, int] = {}
    logs = 0
    start = (
        (now - timedelta(days=days))
        .astimezone(TZ)
        .replace(hour=7, minute=0, second=0, microsecond=0)
    )
    for day in range(days):
        if rng.random() < 0.12 and day < days - 12:
            continue  # a day off (none in the last twelve: the streak has something to show)
        moment = (start + timedelta(days=day, minutes=rng.randint(0, 150))).astimezone(UTC)
        if moment >= now:
            break
        due = [cid for cid, c in cards.items() if c.due <= moment]
        fresh = [c.id for c in flashcards if c.id not in cards][: rng.randint(4, 10)]
        for cid in due + fresh:
            card = cards.get(cid) or FsrsCard(card_id=cid)
            before_state = int(card.state) if cid in cards else 0
            before = _snapshot(
                card if cid in cards else None, reps.get(cid, 0), lapses.get(cid, 0), moment
            )
            recall = scheduler.get_card_retrievability(card, moment) if cid in cards else 0.55
            if rng.random() > recall:
                rating = Rating.Again
            else:
                rating = rng.choices([Rating.Hard, Rating.Good, Rating.Easy], weights=[15, 70, 15])[
                    0
                ]
            card, _ = scheduler.review_card(card, rating, moment)
            cards[cid] = card
            reps[cid] = reps.get(cid, 0) + 1
            lapses[cid] = lapses.get(cid, 0) + (before_state == 2 and rating == Rating.Again)
            logs += 1
            session.add(
                ReviewLog(
                    user_id=user_id,
                    card_id=cid,
                    rating=int(rating),
                    reviewed_at=moment,
                    duration_ms=rng.randint(3000, 40000),
                    state_before=before_state,
                    state_after=int(card.state),
                    before=before,
                    after=_snapshot(card, reps[cid], lapses[cid], moment),
                    request_id=f"sim-{logs}",
                )
            )
            moment += timedelta(seconds=rng.randint(20, 90))
    for cid, card in cards.items():
        session.add(
            CardState(
                user_id=user_id,
                card_id=cid,
                state=int(card.state),
                step=card.step,
                stability=card.stability,
                difficulty=card.difficulty,
                due=card.due,
                last_review=card.last_review,
                reps=reps[cid],
                lapses=lapses[cid],
                suspended=False,
                leech=lapses[cid] >= 4,
                version=1,
            )
        )
    drills = list(
        session.scalars(select(Card.drill_id).where(Card.kind == "drill").order_by(Card.position))
    )
    for i, drill_id in enumerate(drills[:7]):
        solved = i < 5
        session.add(
            DrillProgress(
                user_id=user_id,
                drill_id=drill_id,
                submits=2 + i,
                failed_submits=1 + i,
                attempts_to_first_accept=(2 + i) if solved else None,
                solved_at=now - timedelta(days=3 * i) if solved else None,
            )
        )
    session.commit()
    return logs


@pytest.fixture
def studied(live_server: str, live_db_url: str, tmp_path: Path) -> dict[str, Any]:
    """A user on the live server's database with a realistic history."""
    from quiz import backup
    from quiz.db import db, utcnow
    from tests.factories import make_user

    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": live_db_url})
    with app.app_context():
        user = make_user(db.session, "progress", "progress-pass")
        add_practice_deck(db.session)
        logs = simulate_history(db.session, user.id, now=utcnow(), days=150)
        backup_file = tmp_path / "backup.json"
        data = backup.export_backup(db.session, user.id, now=utcnow())
        backup_file.write_bytes(backup.dump_backup(data))
        assert backup_file.stat().st_size > 256 * 1024  # above the app-wide request limit
        db.session.remove()
        db.engine.dispose()
    return {"url": live_server, "logs": logs, "backup": backup_file}


def log_in(page: Page, url: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#username", "progress")
    page.fill("#password", "progress-pass")
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def charts_drawn(page: Page) -> int:
    return page.evaluate(
        "Array.from(document.querySelectorAll('canvas[data-chart]')).filter(c => Chart.getChart(c)).length"
    )


def shoot(page: Page, name: str) -> None:
    target = os.environ.get("PROGRESS_SHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(target) / name), full_page=True)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(Path(target) / name.replace(".png", "-top.png")))


def wait_for_charts(page: Page, selector: str) -> None:
    """Four canvases and Chart.js loaded.

    Not `wait_for_function`: when it has to poll, it compiles its string with eval, which the
    page's CSP refuses (a flaky failure under load). `evaluate` runs through the debugger protocol.
    """
    expect(page.locator(selector)).to_have_count(4)
    for _ in range(100):
        if page.evaluate("!!window.Chart"):
            return
        page.wait_for_timeout(50)
    raise AssertionError("Chart.js never loaded")


def test_dashboard_draws_every_chart_with_its_table(page: Page, studied: dict[str, Any]) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, studied["url"])
    page.click("nav >> text=进度")
    expect(page.locator("h1")).to_have_text("学习进度")
    expect(page.locator(".heat.heat-4").first).to_be_attached()
    wait_for_charts(page, "canvas[data-chart]")
    page.wait_for_timeout(600)  # the bars' entry animation
    assert charts_drawn(page) == 4
    # Each chart's numbers are one keyboard press away: focus a "查看数据" and open it.
    summary = page.locator("#forecast-h ~ details summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#forecast-h ~ details table tbody tr")).to_have_count(30)
    weekly = page.locator("#heatmap-h ~ details tbody td:last-child").all_text_contents()
    total = sum(int(x) for x in weekly)
    assert 0 < total <= studied["logs"]
    shoot(page, "progress-desktop.png")
    assert errors == []


def test_dashboard_at_phone_width_and_in_dark(page: Page, studied: dict[str, Any]) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, studied["url"])
    page.goto(f"{studied['url']}/progress")
    wait_for_charts(page, "canvas")
    page.wait_for_timeout(600)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page scrolls sideways at phone width ({width}px)"
    # The calendar scrolls inside its own box, showing the latest weeks first.
    assert page.evaluate("document.querySelector('.heatmap-scroll').scrollLeft") > 0
    shoot(page, "progress-phone.png")
    page.emulate_media(color_scheme="dark")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.wait_for_timeout(600)
    assert charts_drawn(page) == 4
    shoot(page, "progress-dark.png")


def test_import_a_backup_into_a_new_account(page: Page, studied: dict[str, Any]) -> None:
    """The real form, CSRF on, with a file above the app-wide 256 KB request limit."""
    from tests.factories import register_in_browser

    url = studied["url"]
    log_in(page, url)
    page.goto(f"{url}/progress")
    original = page.locator(".stat-value").all_inner_texts()
    expect(page.locator("#backup-file")).to_have_count(0)  # this account has history
    page.click("text=退出")
    register_in_browser(page, url, "newcomer", "newcomer-pass")
    page.goto(f"{url}/progress")
    page.set_input_files("#backup-file", str(studied["backup"]))
    page.click("form.import-form button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text(f"{studied['logs']} 条复习记录")
    assert page.locator(".stat-value").all_inner_texts() == original
    expect(page.locator("#backup-file")).to_have_count(0)
