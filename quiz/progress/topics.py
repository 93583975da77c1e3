"""Per-topic progress and the weakest cards."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    func,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import Subquery

from quiz.db import built_once
from quiz.models import (
    Card,
    CardState,
    DrillProgress,
    Topic,
)
from quiz.progress.curve import staleness_now, staleness_where_recall_is
from quiz.progress.days import _live, _run, _user
from quiz.progress.figures import WEAKEST_LIMIT, TopicProgress, WeakCard
from quiz.scheduling import card_retrievability


def _drills_per_topic() -> Subquery:
    progress = DrillProgress
    solved = progress.solved_at.is_not(None)
    return (
        select(
            Card.topic_id,
            func.count().label("total"),
            func.count(case((progress.submits > 0, 1))).label("attempted"),
            func.count(case((solved, 1))).label("solved"),
            func.avg(case((solved, progress.attempts_to_first_accept))).label("mean_attempts"),
        )
        .join(
            progress,
            and_(progress.drill_id == Card.drill_id, progress.user_id == _user()),
            isouter=True,
        )
        .where(Card.retired.is_(False), Card.kind == "drill")
        .group_by(Card.topic_id)
        .subquery("drills")
    )


@lru_cache(maxsize=1)
def _topics_statement() -> Select[*tuple[Any, ...]]:
    # The live topics in page order, each with its drill figures: one statement (the drills
    # grouped per topic first, then joined), where the topics and the drills were two.
    drills = _drills_per_topic()
    return built_once(
        select(
            Topic.id,
            Topic.slug,
            Topic.title,
            Topic.path,
            drills.c.total,
            drills.c.attempted,
            drills.c.solved,
            drills.c.mean_attempts,
        )
        .join(drills, drills.c.topic_id == Topic.id, isouter=True)
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
    out = []
    rows = _run(session, _topics_statement(), {"user_id": user_id})
    for topic_id, slug, title, path, total, attempted, solved, mean_attempts in rows:
        cards = flashcards.get(topic_id, 0)
        out.append(
            TopicProgress(
                topic_id=topic_id,
                slug=slug,
                title=title,
                cards=cards,
                mastery=recall_sums.get(topic_id, 0.0) / cards if cards else None,
                drills_total=int(total or 0),
                drills_attempted=int(attempted or 0),
                drills_solved=int(solved or 0),
                attempts_to_first_accept=None if mean_attempts is None else float(mean_attempts),
                path=path,
            )
        )
    return out


# Rounds to 100% on the page: such a card is not weak, whatever its history.
SURE_RECALL = 0.995


@lru_cache(maxsize=1)
def _weakest_statement() -> Select[*tuple[Any, ...]]:
    # Ranked and filtered on staleness (elapsed days over stability), which orders cards
    # exactly opposite to retrievability: one evaluation per card in the filter and one in the
    # ranking, no power function, where the filters and the ranking on retrievability itself
    # evaluated the curve four times per card. Retrievability of the ten is computed in Python.
    stale = staleness_now()
    return built_once(
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
            CardState.stability,
            CardState.last_review,
        )
        .join(CardState, and_(CardState.card_id == Card.id, CardState.user_id == _user()))
        .join(Topic, Topic.id == Card.topic_id)
        .where(
            _live(),
            CardState.reps > 0,
            # A lapsed card qualifies below SURE_RECALL, another only below the target too.
            stale
            > case(
                (CardState.lapses > 0, bindparam("lapsed_limit", type_=Float())),
                else_=bindparam("kept_limit", type_=Float()),
            ),
        )
        .order_by(CardState.lapses.desc(), stale.desc(), Card.id)
        .limit(bindparam("limit", type_=Integer()))
    )


def weakest_cards(
    session: Session,
    user_id: int,
    *,
    now: datetime,
    decay: float,
    target: float = 0.9,
    limit: int = WEAKEST_LIMIT,
) -> list[WeakCard]:
    """The cards the learner forgot: most lapses first, then the lowest retrievability.

    A live card qualifies once it has reviews and either lapsed or dropped below the target
    retention; a card the learner is all but sure to recall (shown as 100%) never does, even
    right after an "Again" on a new card. Retrievability at `now` on the user's curve (`decay`),
    ranked by the database (quiz.progress.curve): one query, whatever the number of cards.
    """
    # R < SURE_RECALL, and R < min(SURE_RECALL, target) unless lapsed, solved for staleness.
    sure = staleness_where_recall_is(SURE_RECALL, decay)
    params = {
        "user_id": user_id,
        "now": now,
        "lapsed_limit": sure,
        "kept_limit": max(sure, staleness_where_recall_is(target, decay)),
        "limit": limit,
    }
    out = []
    for row in _run(session, _weakest_statement(), params):
        cid, key, kind, front_md, front_html, slug, title, lapses, reps, suspended, leech = row[:11]
        stability, last_review = row[11:]
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
                retrievability=card_retrievability(stability, last_review, now, decay),
                suspended=suspended,
                leech=leech,
            )
        )
    return out
