"""Card actions from the study page: suspend, bury, and undoing them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import (
    update,
)
from sqlalchemy.orm import Session

from quiz.db import rowcount
from quiz.models import (
    CardState,
)
from quiz.study.errors import Conflict, InvalidAnswer, NotFound
from quiz.study.settings import user_settings
from quiz.study.state import _day, _ensure_state, _get_state, _live_card


def set_suspended(
    session: Session, user_id: int, card_id: int, suspended: bool, *, now: datetime
) -> CardState:
    """Suspend or unsuspend by hand. Unsuspending keeps the leech tag (it still marks the card)."""
    _live_card(session, card_id)
    state = _ensure_state(session, user_id, card_id, now=now)
    state.suspended = suspended
    state.version = CardState.version + 1  # SQL-side, race-free
    session.flush()
    session.refresh(state)
    return state


def bury(session: Session, user_id: int, card_id: int, *, now: datetime) -> CardState:
    """Hide a card until the next study day."""
    _live_card(session, card_id)
    settings = user_settings(session, user_id)
    state = _ensure_state(session, user_id, card_id, now=now)
    state.buried_until = _day(settings, now).today + timedelta(days=1)
    state.version = CardState.version + 1
    session.flush()
    session.refresh(state)
    return state


UNDOABLE_ACTIONS = ("bury", "suspend")


def undo_card_action(
    session: Session, user_id: int, card_id: int, action: str, *, version: int
) -> CardState:
    """Undo a bury or a suspend given from the study page, on the same undo stack as answers.

    `version` is the card's version the bury or suspend produced: if anything changed the card
    since, nothing is undone (Conflict). Both act only on a card that was being shown, so what
    they undo to is known: not buried, not suspended.
    """
    if action not in UNDOABLE_ACTIONS:
        raise InvalidAnswer(_("action 必须是 bury 或 suspend。"))
    state = _get_state(session, user_id, card_id)
    if state is None:
        raise NotFound(_("没有可撤销的操作。"))
    undone = state.buried_until is not None if action == "bury" else state.suspended
    if state.version != version or not undone:
        raise Conflict(_("这张卡片之后又被修改过，无法撤销。"))
    values: dict[str, Any] = {"buried_until": None} if action == "bury" else {"suspended": False}
    updated = session.execute(
        update(CardState)
        .where(CardState.id == state.id, CardState.version == version)
        .values(**values, version=version + 1)
        .execution_options(synchronize_session=False)
    )
    if rowcount(updated) != 1:
        raise Conflict(_("这张卡片之后又被修改过，无法撤销。"))
    session.expire(state)
    session.flush()
    return state


def unbury(session: Session, user_id: int, card_id: int) -> CardState | None:
    state = _get_state(session, user_id, card_id)
    if state is not None and state.buried_until is not None:
        state.buried_until = None
        state.version = CardState.version + 1
        session.flush()
        session.refresh(state)
    return state
