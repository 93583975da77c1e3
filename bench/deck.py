"""The benchmarks' synthetic deck: ten topics of question cards with realistic HTML sizes.

Shared so that every benchmark that reads the study path measures the same cards. Imports
`quiz` lazily: bench/hot_paths.py --compare puts another checkout's `quiz` on the path first.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

BODY_HTML = "<p>" + "反向传播把损失对每个参数的梯度一层层传回去。" * 12 + "</p>"


def add_deck(session: Any, cards: int, *, topic_position: int = 0) -> list[Any]:
    """Add a document, ten topics and `cards` question cards (keys bench/0…); returns the topics."""
    from sqlalchemy import insert

    from quiz.models import Card, Document, Topic

    doc = Document(path="bench.md", sha256="0" * 64)
    session.add(doc)
    session.flush()
    topics = [
        Topic(document_id=doc.id, slug=f"bench-{t}", title=f"主题 {t}", position=topic_position + t)
        for t in range(10)
    ]
    session.add_all(topics)
    session.flush()
    session.execute(
        insert(Card),
        [
            {
                "key": f"bench/{i}",
                "kind": "question",
                "topic_id": topics[i % 10].id,
                "sibling_key": f"bench/{i}",
                "position": i,
                "front_md": f"问题 {i}",
                "back_md": "答案",
                "front_html": f"<p>问题 {i}：为什么梯度会消失？</p>",
                "back_html": BODY_HTML,
                "short_html": "<p>链式法则里连乘的小于 1 的导数。</p>",
            }
            for i in range(cards)
        ],
    )
    return topics


def study_history(
    rng: random.Random,
    user_id: int,
    card_ids: list[int],
    now: datetime,
    *,
    studied: int = 1_600,
    due: int = 1_000,
    logs: int = 20_000,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A learner's card-state rows (the first `studied` cards in review, `due` of them due now)
    and `logs` review-log rows, one every 14 minutes up to yesterday: rows to insert."""
    states = []
    for n, card_id in enumerate(card_ids[:studied]):
        when = (
            now - timedelta(hours=rng.randint(1, 240))
            if n < due
            else now + timedelta(days=rng.randint(1, 60))
        )
        states.append(
            {
                "user_id": user_id,
                "card_id": card_id,
                "state": 2,
                "stability": rng.uniform(2, 60),
                "difficulty": rng.uniform(3, 8),
                "due": when,
                "last_review": when - timedelta(days=rng.randint(2, 30)),
                "reps": 12,
                "lapses": rng.randint(0, 2),
                "suspended": False,
                "leech": False,
                "version": 12,
            }
        )
    history = [
        {
            "user_id": user_id,
            "card_id": card_ids[i % studied],
            "rating": rng.choice([1, 3, 3, 3, 4]),
            "reviewed_at": min(
                now - timedelta(days=200) + timedelta(minutes=14 * i), now - timedelta(days=1)
            ),
            "duration_ms": 8000,
            "state_before": 2,
            "state_after": 2,
            "before": {"state": 2},
            "after": {"state": 2},
            "request_id": f"seed-{user_id}-{i}",
        }
        for i in range(logs)
    ]
    return states, history


def insert_states(session: Any, rows: list[dict[str, Any]]) -> None:
    """Insert card-state rows in one Core statement. Since topics18 a state row carries its
    card's topic and liveness (`quiz.models.card_copies`); older checkouts (`--compare`) have
    neither column."""
    from sqlalchemy import insert

    from quiz import models

    copies = getattr(models, "card_copies", None)
    if copies is not None:
        by_card = copies(session)
        rows = [{**row, **by_card[row["card_id"]]} for row in rows]
    session.execute(insert(models.CardState), rows)
