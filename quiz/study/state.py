"""A user's card-state rows: reading, creating, snapshots for undo and backups, the study day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quiz import studyday
from quiz.models import STATE_NEW, Card, CardState
from quiz.scheduling import MemoryState
from quiz.study.errors import Conflict, NotFound

_MEMORY_FIELDS = (
    "state",
    "step",
    "stability",
    "difficulty",
    "due",
    "last_review",
    "reps",
    "lapses",
)


def _memory(columns: dict[str, Any]) -> MemoryState:
    return MemoryState(**{name: columns[name] for name in _MEMORY_FIELDS})


def _expire_state(session: Session, state_id: int) -> None:
    """After a Core UPDATE, make any loaded copy of the row reload instead of lying."""
    loaded = session.identity_map.get(session.identity_key(CardState, state_id))
    if loaded is not None:
        session.expire(loaded)


@dataclass(frozen=True)
class StateRow:
    """A user's state of a queued card: columns of `CardState`, read only."""

    id: int
    state: int
    step: int | None
    stability: float | None
    difficulty: float | None
    due: datetime
    last_review: datetime | None
    reps: int
    lapses: int
    suspended: bool
    leech: bool
    buried_until: date | None
    version: int


def memory_of(state: CardState | StateRow | None) -> MemoryState:
    """The scheduling part of a state row (a card never answered when there is none)."""
    if state is None:
        return MemoryState()
    return _memory({name: getattr(state, name) for name in _MEMORY_FIELDS})


# Every column of a user's card state: undo restores them, backups carry them.
SNAPSHOT_FIELDS = (*_MEMORY_FIELDS, "suspended", "leech", "buried_until", "version")


def _snapshot(values: dict[str, Any]) -> dict[str, Any]:
    """A JSON-safe copy of a CardState's columns (what undo restores)."""
    out: dict[str, Any] = {}
    for name in SNAPSHOT_FIELDS:
        value = values.get(name)
        out[name] = value.isoformat() if isinstance(value, datetime | date) else value
    return out


def _state_values(state: CardState) -> dict[str, Any]:
    return {name: getattr(state, name) for name in SNAPSHOT_FIELDS}


def _restore(snapshot: dict[str, Any]) -> dict[str, Any]:
    """Column values from a snapshot (everything but version, which only ever goes up)."""
    values: dict[str, Any] = {
        name: snapshot.get(name) for name in SNAPSHOT_FIELDS if name != "version"
    }
    for name in ("due", "last_review"):
        if values[name] is not None:
            values[name] = datetime.fromisoformat(values[name])
    if values["buried_until"] is not None:
        values["buried_until"] = date.fromisoformat(values["buried_until"])
    return values


@dataclass(frozen=True)
class _Day:
    today: date
    start: datetime
    end: datetime


def _day(settings: Any, now: datetime) -> _Day:
    today = studyday.study_day(now, settings.timezone, settings.rollover_hour)
    start, end = studyday.day_bounds(today, settings.timezone, settings.rollover_hour)
    return _Day(today, start, end)


def _live_card(session: Session, card_id: int) -> Card:
    card = session.get(Card, card_id)
    if card is None or card.retired:
        raise NotFound(_("找不到该卡片。"))
    return card


def _get_state(session: Session, user_id: int, card_id: int) -> CardState | None:
    return session.scalar(
        select(CardState).where(CardState.user_id == user_id, CardState.card_id == card_id)
    )


def _ensure_state(session: Session, user_id: int, card_id: int, *, now: datetime) -> CardState:
    state = _get_state(session, user_id, card_id)
    if state is not None:
        return state
    state = CardState(
        user_id=user_id,
        card_id=card_id,
        state=STATE_NEW,
        due=now,
        reps=0,
        lapses=0,
        suspended=False,
        leech=False,
        version=0,
    )
    try:
        # In a savepoint: losing the race to another request's insert (PostgreSQL lets both
        # try) must leave the request's transaction usable for its 409 or its replay.
        with session.begin_nested():
            session.add(state)
    except IntegrityError as error:  # another request created it first: what we saw is stale
        raise Conflict(_("这张卡片刚刚在别处被回答过，请刷新。")) from error
    return state
