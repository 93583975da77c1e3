"""Per-topic progress and the weakest cards."""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    case,
    func,
    select,
)
from sqlalchemy.orm import Session

from quiz.models import (
    Card,
    CardState,
    DrillProgress,
    Topic,
)
from quiz.progress.days import _live, _run, _user
from quiz.progress.figures import WEAKEST_LIMIT, TopicProgress, WeakCard


@lru_cache(maxsize=1)
def _studied_statement() -> Select[tuple[int, int, str, float, datetime, int, int]]:
    return (
        select(
            Card.id,
            Card.topic_id,
            Card.kind,
            CardState.stability,
            CardState.last_review,
            CardState.lapses,
            CardState.reps,
        )
        .join(CardState, and_(CardState.card_id == Card.id, CardState.user_id == _user()))
        .join(Topic, Topic.id == Card.topic_id)
        .where(_live(), CardState.reps > 0)
    )


@lru_cache(maxsize=1)
def _drills_statement() -> Select[tuple[int, int, int, int, float | None]]:
    progress = DrillProgress
    solved = progress.solved_at.is_not(None)
    return (
        select(
            Card.topic_id,
            func.count(),
            func.coalesce(func.sum(case((progress.submits > 0, 1), else_=0)), 0),
            func.coalesce(func.sum(case((solved, 1), else_=0)), 0),
            func.avg(case((solved, progress.attempts_to_first_accept))),
        )
        .join(Topic, Topic.id == Card.topic_id)
        .join(
            progress,
            and_(progress.drill_id == Card.drill_id, progress.user_id == _user()),
            isouter=True,
        )
        .where(_live(), Card.kind == "drill")
        .group_by(Card.topic_id)
    )


@lru_cache(maxsize=1)
def _topics_statement() -> Select[tuple[int, str, str]]:
    return (
        select(Topic.id, Topic.slug, Topic.title)
        .where(Topic.retired.is_(False))
        .order_by(Topic.position)
    )


def topic_progress(
    session: Session, user_id: int, flashcards: dict[int, int], recall_sums: dict[int, float]
) -> list[TopicProgress]:
    """Per live topic: flashcards and their mean retrievability, and drill figures.

    `flashcards` maps topic id to its live flashcards (`card_figures`); `recall_sums` maps
    topic id to the sum of its flashcards' retrievability now. Flashcards never answered
    count as 0 towards mastery.
    """
    drills = {
        topic_id: (total, attempted, solved, mean_attempts)
        for topic_id, total, attempted, solved, mean_attempts in _run(
            session, _drills_statement(), {"user_id": user_id}
        )
    }
    out = []
    for topic_id, slug, title in _run(session, _topics_statement()):
        cards = flashcards.get(topic_id, 0)
        total, attempted, solved, mean_attempts = drills.get(topic_id, (0, 0, 0, None))
        out.append(
            TopicProgress(
                topic_id=topic_id,
                slug=slug,
                title=title,
                cards=cards,
                mastery=recall_sums.get(topic_id, 0.0) / cards if cards else None,
                drills_total=int(total),
                drills_attempted=int(attempted),
                drills_solved=int(solved),
                attempts_to_first_accept=None if mean_attempts is None else float(mean_attempts),
            )
        )
    return out


@lru_cache(maxsize=1)
def _weak_details_statement() -> Select[tuple[Any, ...]]:
    return (
        select(
            Card.id,
            Card.key,
            Card.kind,
            Card.front_md,
            Card.front_html,
            Topic.slug,
            Topic.title,
            CardState.lapses,
            CardState.reps,
            CardState.suspended,
            CardState.leech,
        )
        .join(CardState, and_(CardState.card_id == Card.id, CardState.user_id == _user()))
        .join(Topic, Topic.id == Card.topic_id)
        .where(Card.id.in_(bindparam("ids", expanding=True)))
    )


# Rounds to 100% on the page: such a card is not weak, whatever its history.
SURE_RECALL = 0.995


def weakest_cards(
    session: Session,
    user_id: int,
    rows: Sequence[tuple[int, int, int]],
    recall: dict[int, float],
    limit: int = WEAKEST_LIMIT,
    *,
    target: float = 0.9,
) -> list[WeakCard]:
    """The cards the learner forgot: most lapses first, then the lowest retrievability.

    `rows` are (card id, lapses, reps) for the user's live cards. A card qualifies once it has
    reviews and either lapsed or dropped below the target retention; a card the learner is
    all but sure to recall (shown as 100%) never does, even right after an "Again" on a new card.
    """
    studied = [
        (cid, lapses)
        for cid, lapses, reps in rows
        if reps > 0 and recall[cid] < SURE_RECALL and (lapses > 0 or recall[cid] < target)
    ]
    chosen = heapq.nsmallest(limit, studied, key=lambda r: (-r[1], recall[r[0]], r[0]))
    if not chosen:
        return []
    ids = [cid for cid, _ in chosen]
    found = {
        row[0]: row
        for row in _run(session, _weak_details_statement(), {"user_id": user_id, "ids": ids})
    }
    out = []
    for cid in ids:
        _, key, kind, front_md, front_html, slug, title, lapses, reps, suspended, leech = found[cid]
        out.append(
            WeakCard(
                card_id=cid,
                key=key,
                kind=kind,
                front_md=front_md,
                front_html=front_html,
                topic_slug=slug,
                topic_title=title,
                lapses=lapses,
                reps=reps,
                retrievability=recall[cid],
                suspended=suspended,
                leech=leech,
            )
        )
    return out
