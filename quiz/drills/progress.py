"""A user's drill statuses, the drill list grouped by topic, and per-drill progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quiz import studyday
from quiz.models import (
    STATE_NEW,
    Card,
    CardState,
    DrillProgress,
    Section,
    Topic,
    UserSettings,
)

if TYPE_CHECKING:
    from engine.drills import Drill

from quiz.drills.catalogue import all_drills
from quiz.drills.labels import REVEAL_AFTER_FAILURES, STATUS_LABELS


@dataclass(frozen=True)
class DrillRow:
    drill: Drill
    status: str  # new | attempted | solved | due
    revealed: bool  # 看过答案 (before solving)
    topic_slug: str | None
    section_slug: str | None


@dataclass(frozen=True)
class TopicGroup:
    title: str
    slug: str | None
    rows: list[DrillRow]


def drill_cards(session: Session) -> dict[str, Card]:
    """The review card of each drill (content sync attaches it to the section it practises)."""
    cards = session.scalars(select(Card).where(Card.kind == "drill", Card.retired.is_(False)))
    return {c.drill_id: c for c in cards if c.drill_id}


def section_topics(session: Session) -> dict[str, str]:
    """Each live notes section's anchor and the slug of its topic page (to link diagnoses)."""
    rows = session.execute(
        select(Section.slug, Topic.slug)
        .join(Topic, Section.topic_id == Topic.id)
        .where(Section.retired.is_(False), Topic.retired.is_(False))
    )
    return {section: topic for section, topic in rows}


def drill_card(session: Session, drill_id: str) -> Card | None:
    return session.scalar(
        select(Card).where(Card.kind == "drill", Card.drill_id == drill_id, Card.retired.is_(False))
    )


def review_horizon(session: Session, user_id: int, *, now: datetime) -> datetime:
    """End of the user's study day: a drill due before then is due for review today."""
    settings = session.get(UserSettings, user_id)
    return studyday.today_bounds(now, *studyday.zone_and_rollover(settings))[1]


def _is_due(state: CardState | None, horizon: datetime) -> bool:
    return (
        state is not None
        and state.state != STATE_NEW
        and not state.suspended
        and state.due < horizon
    )


def status_of(progress: DrillProgress | None, state: CardState | None, horizon: datetime) -> str:
    if progress is not None and progress.solved_at is not None:
        return "due" if _is_due(state, horizon) else "solved"
    return "new" if progress is None else "attempted"


def list_drills(session: Session, user_id: int | None, *, now: datetime) -> list[DrillRow]:
    """Every drill in catalogue order, with the user's status (all "new" for a visitor)."""
    cards = drill_cards(session)
    progress: dict[str, DrillProgress] = {}
    states: dict[int, CardState] = {}
    horizon = now
    if user_id is not None:
        progress = {
            p.drill_id: p
            for p in session.scalars(select(DrillProgress).where(DrillProgress.user_id == user_id))
        }
        card_ids = [c.id for c in cards.values()]
        states = {
            s.card_id: s
            for s in session.scalars(
                select(CardState).where(
                    CardState.user_id == user_id, CardState.card_id.in_(card_ids)
                )
            )
        }
        horizon = review_horizon(session, user_id, now=now)
    rows = []
    for drill in all_drills():
        card = cards.get(drill.id)
        p = progress.get(drill.id)
        state = states.get(card.id) if card else None
        rows.append(
            DrillRow(
                drill=drill,
                status=status_of(p, state, horizon),
                revealed=bool(
                    p and p.revealed_at and (p.solved_at is None or p.revealed_at <= p.solved_at)
                ),
                topic_slug=card.topic.slug if card else None,
                section_slug=card.section.slug if card and card.section else None,
            )
        )
    return rows


def group_by_topic(rows: list[DrillRow]) -> list[TopicGroup]:
    """Rows grouped by topic, topics in the order their first drill appears."""
    groups: dict[str, TopicGroup] = {}
    for row in rows:
        group = groups.get(row.drill.topic)
        if group is None:
            group = groups[row.drill.topic] = TopicGroup(row.drill.topic, row.topic_slug, [])
        group.rows.append(row)
    return list(groups.values())


def get_progress(session: Session, user_id: int, drill_id: str) -> DrillProgress | None:
    return session.scalar(
        select(DrillProgress).where(
            DrillProgress.user_id == user_id, DrillProgress.drill_id == drill_id
        )
    )


def _progress(session: Session, user_id: int, drill_id: str) -> DrillProgress:
    """The row, locked for this transaction: two graders finishing at once must not lose a count."""
    progress = _locked_progress(session, user_id, drill_id)
    if progress is None:
        progress = DrillProgress(user_id=user_id, drill_id=drill_id, submits=0, failed_submits=0)
        if not _inserted(session, progress):
            # Another transaction created it (and has committed): lock and read its counts.
            progress = _locked_progress(session, user_id, drill_id)
            assert progress is not None
    return progress


def _locked_progress(session: Session, user_id: int, drill_id: str) -> DrillProgress | None:
    return session.scalar(
        select(DrillProgress)
        .where(DrillProgress.user_id == user_id, DrillProgress.drill_id == drill_id)
        .with_for_update()  # PostgreSQL row lock; SQLite already serialises writers
        .execution_options(populate_existing=True)
    )


def _inserted(session: Session, row: Any) -> bool:
    """Insert a row unique per user and drill; False when a concurrent request won the race.

    The debounced autosave and a submission can both create the first draft at once.
    """
    try:
        with session.begin_nested():
            session.add(row)
        return True
    except IntegrityError:
        return False


def can_reveal(progress: DrillProgress | None) -> bool:
    """Solvers see the answer; others after three failed submissions."""
    if progress is None:
        return False
    return progress.solved_at is not None or progress.failed_submits >= REVEAL_AFTER_FAILURES


def shows_solution(progress: DrillProgress | None) -> bool:
    return progress is not None and (
        progress.solved_at is not None or progress.revealed_at is not None
    )


def progress_json(
    session: Session, user_id: int, drill_id: str, *, now: datetime
) -> dict[str, Any]:
    progress = get_progress(session, user_id, drill_id)
    card = drill_card(session, drill_id)
    state = _state(session, user_id, card.id) if card else None
    status = status_of(progress, state, review_horizon(session, user_id, now=now))
    return {
        "status": status,
        "status_label": STATUS_LABELS[status],
        "solved": bool(progress and progress.solved_at),
        "revealed": bool(progress and progress.revealed_at),
        "submits": progress.submits if progress else 0,
        "failed_submits": progress.failed_submits if progress else 0,
        "can_reveal": can_reveal(progress),
        "due": state.due.isoformat() if state is not None and state.state != STATE_NEW else None,
    }


def _state(session: Session, user_id: int, card_id: int) -> CardState | None:
    return session.scalar(
        select(CardState).where(CardState.user_id == user_id, CardState.card_id == card_id)
    )
