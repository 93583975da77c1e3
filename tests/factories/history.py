"""A known study history for the progress tests: fixed dates, New York time (DST on 2025-03-09).

Used by test_progress.py, test_backup.py and test_apkg.py.
Every figure the dashboard shows is worked out by hand in EXPECTED below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from quiz.models import (
    Card,
    CardState,
    Document,
    Draft,
    DrillProgress,
    ReviewLog,
    Submission,
    Topic,
    UserSettings,
)
from tests.factories import make_user

TZ = "America/New_York"
# 11:00 EDT on Monday 2025-03-10: the study day (rollover 04:00) is 2025-03-10.
NOW = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)
TODAY = date(2025, 3, 10)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@dataclass
class Deck:
    cards: dict[str, Card]
    topics: dict[str, Topic]


def make_deck(session: Any) -> Deck:
    """Two live topics, one retired; flashcards, drill cards, and a retired card."""
    doc = Document(path="progress-test.md", sha256="0" * 64)
    session.add(doc)
    session.flush()
    topics = {
        slug: Topic(
            document_id=doc.id, slug=slug, title=title, position=pos, retired=slug == "gamma"
        )
        for pos, (slug, title) in enumerate(
            [("alpha", "Alpha 主题"), ("beta", "Beta 主题"), ("gamma", "Gamma")]
        )
    }
    session.add_all(topics.values())
    session.flush()
    layout = [
        ("alpha", "a/q1", "question", None, False),
        ("alpha", "a/q2", "question", None, False),
        ("alpha", "a/k1", "knowledge", None, False),
        ("alpha", "a/k2", "knowledge", None, False),
        ("alpha", "a/k3", "knowledge", None, False),
        ("alpha", "a/old", "question", None, True),  # retired card: history kept, figures skip it
        ("alpha", "drill/d1", "drill", "d1", False),
        ("beta", "b/q3", "question", None, False),
        ("beta", "b/q4", "question", None, False),
        ("beta", "b/q5", "question", None, False),
        ("beta", "drill/d2", "drill", "d2", False),
        ("beta", "drill/d3", "drill", "d3", False),
        ("gamma", "g/q1", "question", None, False),  # card of a retired topic
    ]
    cards = {}
    for pos, (slug, key, kind, drill_id, retired) in enumerate(layout):
        front = f"问题 {key} 是什么？"
        card = Card(
            key=key,
            kind=kind,
            topic_id=topics[slug].id,
            sibling_key=key,
            position=pos,
            front_md=front,
            back_md=f"答案 {key}",
            front_html=f"<p>{front}</p>",
            back_html=f"<p>答案 {key}</p>",
            drill_id=drill_id,
            retired=retired,
        )
        cards[key] = card
    session.add_all(cards.values())
    session.flush()
    return Deck(cards, topics)


def state(
    session: Any,
    user_id: int,
    card: Card,
    *,
    state: int,
    stability: float | None = None,
    last_review: datetime | None = None,
    due: datetime = NOW,
    lapses: int = 0,
    reps: int = 0,
    suspended: bool = False,
    buried_until: date | None = None,
) -> CardState:
    row = CardState(
        user_id=user_id,
        card_id=card.id,
        state=state,
        step=None,
        stability=stability,
        difficulty=None if stability is None else 5.0,
        due=due,
        last_review=last_review,
        reps=reps,
        lapses=lapses,
        suspended=suspended,
        leech=lapses >= 3,
        buried_until=buried_until,
        version=reps,
    )
    session.add(row)
    return row


def _snap(card_id: int, state: int, **values: Any) -> dict[str, Any]:
    """A complete card-state snapshot, as answers record them (undo restores these)."""
    snapshot = {
        "card_id": card_id,
        "state": state,
        "step": None,
        "stability": None,
        "difficulty": None,
        "due": None,
        "last_review": None,
        "reps": 0,
        "lapses": 0,
        "suspended": False,
        "leech": False,
        "buried_until": None,
        "version": 0,
    }
    return {**snapshot, **values}


def log(
    session: Any,
    user_id: int,
    card: Card,
    at: datetime,
    rating: int,
    state_before: int,
    n: list[int],
) -> None:
    n[0] += 1
    session.add(
        ReviewLog(
            user_id=user_id,
            card_id=card.id,
            rating=rating,
            reviewed_at=at,
            duration_ms=1000 + n[0],
            state_before=state_before,
            state_after=2 if rating > 1 else 3,
            before=_snap(card.id, state_before, due=at.isoformat()),
            after=_snap(card.id, 2, due=at.isoformat(), stability=3.5 + n[0] / 7),
            request_id=f"req-{user_id}-{n[0]}",
        )
    )


def build_history(session: Any, deck: Deck, username: str = "alice") -> Any:
    """The user whose every figure EXPECTED lists."""
    user = make_user(session, username)
    settings = session.get(UserSettings, user.id)
    settings.timezone = TZ
    settings.rollover_hour = 4
    settings.new_per_day = 3
    settings.desired_retention = 0.85
    c = deck.cards
    uid = user.id
    state(
        session,
        uid,
        c["a/q1"],
        state=2,
        stability=10.0,
        last_review=NOW - timedelta(days=5),
        due=NOW - timedelta(hours=1),
        lapses=2,
        reps=6,
    )
    state(
        session,
        uid,
        c["a/q2"],
        state=2,
        stability=20.0,
        last_review=NOW - timedelta(days=2),
        due=NOW + timedelta(days=3),
        reps=3,
    )
    state(session, uid, c["a/k2"], state=0, due=NOW)  # reset to new: still new
    state(session, uid, c["a/k3"], state=0, due=NOW, suspended=True)
    state(
        session,
        uid,
        c["a/old"],
        state=2,
        stability=1.0,
        last_review=NOW - timedelta(days=30),
        due=NOW - timedelta(hours=1),
        lapses=9,
        reps=12,
    )
    state(
        session,
        uid,
        c["drill/d1"],
        state=2,
        stability=5.0,
        last_review=NOW - timedelta(days=1),
        due=NOW + timedelta(days=1),
        lapses=1,
        reps=2,
    )
    state(
        session,
        uid,
        c["b/q3"],
        state=1,
        stability=1.0,
        last_review=NOW - timedelta(minutes=10),
        due=NOW + timedelta(minutes=5),
        reps=1,
    )
    state(
        session,
        uid,
        c["b/q4"],
        state=3,
        stability=2.0,
        last_review=NOW - timedelta(days=1),
        due=NOW - timedelta(days=1),
        lapses=3,
        reps=8,
        suspended=True,
    )
    state(
        session,
        uid,
        c["b/q5"],
        state=2,
        stability=15.0,
        last_review=NOW - timedelta(days=3),
        due=NOW - timedelta(hours=2),
        reps=4,
        buried_until=TODAY + timedelta(days=1),
    )
    state(
        session,
        uid,
        c["g/q1"],
        state=2,
        stability=3.0,
        last_review=NOW - timedelta(days=3),
        due=NOW - timedelta(hours=3),
        reps=2,
    )

    n = [0]
    # Today, 2025-03-10 (EDT, UTC-4; the day runs 08:00 UTC to 08:00 UTC the next day).
    log(session, uid, c["a/q1"], utc(2025, 3, 10, 9, 0), 3, 0, n)
    log(session, uid, c["a/q2"], utc(2025, 3, 10, 10, 0), 1, 2, n)
    log(session, uid, c["drill/d1"], utc(2025, 3, 10, 11, 0), 3, 0, n)  # drills are not "new cards"
    log(session, uid, c["b/q3"], utc(2025, 3, 10, 14, 0), 3, 0, n)
    # 03:59 EDT on the 10th belongs to the study day of the 9th.
    log(session, uid, c["a/q2"], utc(2025, 3, 10, 7, 59), 3, 2, n)
    # 04:30 EDT on the 9th (clocks went forward at 02:00): the 9th. A fixed UTC-5 would say the 8th.
    log(session, uid, c["a/q1"], utc(2025, 3, 9, 8, 30), 3, 1, n)
    # 03:30 EDT on the 9th: still the 8th.
    log(session, uid, c["b/q4"], utc(2025, 3, 9, 7, 30), 1, 2, n)
    log(session, uid, c["b/q5"], utc(2025, 3, 8, 9, 30), 4, 2, n)  # 04:30 EST: the 8th
    # 03:30 EST on the 8th: the 7th. A fixed UTC-4 would say the 8th.
    log(session, uid, c["b/q4"], utc(2025, 3, 8, 8, 30), 3, 3, n)
    # Nothing on the 6th: the streak is 7th..10th.
    for hour, rating in zip((14, 15, 16, 17, 18), (1, 3, 3, 4, 2), strict=True):
        log(session, uid, c["a/q2"], utc(2025, 2, 20, hour), rating, 2, n)
    for hour, rating in zip((14, 15, 16, 17), (1, 1, 3, 3), strict=True):
        log(session, uid, c["b/q5"], utc(2024, 6, 1, hour), rating, 2, n)
    # 03:00 EDT on 2024-03-11 is study day 2024-03-10: just outside the 365-day window.
    log(session, uid, c["b/q5"], utc(2024, 3, 11, 7, 0), 3, 2, n)
    # A review of a card that was retired later: history still counts.
    log(session, uid, c["a/old"], utc(2025, 2, 20, 19), 3, 2, n)

    session.add(
        DrillProgress(
            user_id=uid,
            drill_id="d1",
            submits=3,
            failed_submits=1,
            attempts_to_first_accept=2,
            solved_at=NOW - timedelta(days=2),
        )
    )
    session.add(DrillProgress(user_id=uid, drill_id="d2", submits=1, failed_submits=1))
    session.add(
        Draft(
            user_id=uid,
            drill_id="d2",
            code="def f(x):\n    return x  # 草稿\n",
            updated_at=NOW - timedelta(hours=5),
        )
    )
    for i, (verdict, passed) in enumerate([("wrong_answer", 2), ("accepted", 6), ("accepted", 6)]):
        session.add(
            Submission(
                user_id=uid,
                drill_id="d1",
                mode="submit",
                code=f"# try {i}",
                verdict=verdict,
                passed=passed,
                total=6,
                time_ms=12.5 + i,
                sandboxed=True,
                result={"verdict": verdict, "cases": [{"name": "基本", "ok": passed == 6}]},
                created_at=NOW - timedelta(days=3, hours=-i),
            )
        )
    session.commit()
    return user


def build_other_user(session: Any, deck: Deck) -> Any:
    """Bob studies the same cards: none of his numbers may show up in Alice's."""
    bob = make_user(session, "bob")
    c = deck.cards
    state(
        session,
        bob.id,
        c["a/k1"],
        state=2,
        stability=50.0,
        last_review=NOW - timedelta(days=1),
        due=NOW - timedelta(minutes=1),
        lapses=7,
        reps=9,
    )
    state(
        session,
        bob.id,
        c["drill/d2"],
        state=2,
        stability=5.0,
        last_review=NOW - timedelta(days=1),
        due=NOW + timedelta(days=2),
        reps=1,
    )
    n = [100]
    for minute in range(6):
        log(session, bob.id, c["a/k1"], utc(2025, 3, 10, 12, minute), 1, 2, n)
    log(session, bob.id, c["a/k1"], utc(2025, 3, 6, 12), 3, 0, n)
    session.add(
        DrillProgress(
            user_id=bob.id,
            drill_id="d2",
            submits=1,
            failed_submits=0,
            attempts_to_first_accept=1,
            solved_at=NOW,
        )
    )
    session.commit()
    return bob


EXPECTED: dict[str, Any] = {
    "today": "2025-03-10",
    "due_now": 1,  # a/q1; b/q3 in 5 min, b/q5 buried, b/q4 suspended, a/old and g/q1 retired
    "done_today": 4,
    "new_introduced_today": 2,  # a/q1 and b/q3 (the drill does not count)
    "new_available": 2,  # a/k1 (no state) and a/k2 (state reset to new)
    "new_left_today": 1,  # min(3 - 2, 2)
    "streak_days": 4,
    # (not Again, all) among reviews of review-state cards; the retired card's review counts.
    "retention": {"7d": (2, 4), "30d": (7, 10), "365d": (9, 14)},
    "states": {"new": 2, "learning": 1, "relearning": 0, "review": 4, "suspended": 2},
    # Day 0 holds a/q1 (overdue) and b/q3; b/q5 waits for its bury day; d1 tomorrow; a/q2 the 13th.
    "forecast": [2, 2, 0, 1] + [0] * 26,
    "heatmap": {
        date(2025, 3, 10): 4,
        date(2025, 3, 9): 2,
        date(2025, 3, 8): 2,
        date(2025, 3, 7): 1,
        date(2025, 2, 20): 6,
        date(2024, 6, 1): 4,
    },
    # Only what Alice forgot (lapses) or is likely to forget (below her target retention):
    # b/q5, a/q2 and b/q3 were reviewed but never lapsed and are above the target.
    "weakest": ["b/q4", "a/q1", "drill/d1"],
}
