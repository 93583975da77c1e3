"""A user's full backup as JSON (optionally gzip)."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from quiz.backup.format import (
    BACKUP_FORMAT,
    BACKUP_VERSION,
    DRAFT_FIELDS,
    DRILL_PROGRESS_FIELDS,
    LOG_FIELDS,
    SETTINGS_FIELDS,
    STATE_FIELDS,
    SUBMISSION_FIELDS,
)
from quiz.models import (
    Card,
    CardState,
    Draft,
    DrillProgress,
    ReviewLog,
    Submission,
    User,
    UserSettings,
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _record(obj: object, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: _plain(getattr(obj, name)) for name in fields}


def export_backup(session: Session, user_id: int, *, now: datetime) -> dict[str, Any]:
    """Everything the user did, keyed by card key, ready for `json.dumps`."""
    user = session.get(User, user_id)
    settings = session.get(UserSettings, user_id)
    keys = dict(session.execute(select(Card.id, Card.key)).all())
    states = session.scalars(
        select(CardState).where(CardState.user_id == user_id).order_by(CardState.card_id)
    )
    logs = session.scalars(
        select(ReviewLog)
        .where(ReviewLog.user_id == user_id)
        .order_by(ReviewLog.reviewed_at, ReviewLog.id)
        .execution_options(yield_per=2000)
    )
    by_user = {
        Draft: (DRAFT_FIELDS, (Draft.drill_id,)),
        Submission: (SUBMISSION_FIELDS, (Submission.created_at, Submission.id)),
        DrillProgress: (DRILL_PROGRESS_FIELDS, (DrillProgress.drill_id,)),
    }

    def rows(model: Any) -> list[dict[str, Any]]:
        fields, order = by_user[model]
        query = select(model).where(model.user_id == user_id).order_by(*order)
        return [_record(obj, fields) for obj in session.scalars(query)]

    return {
        "format": BACKUP_FORMAT,
        "version": BACKUP_VERSION,
        "exported_at": _plain(now),
        "username": user.username if user else None,  # informational; import ignores it
        "settings": _record(settings, SETTINGS_FIELDS) if settings else None,
        "card_states": [{"card": keys[s.card_id], **_record(s, STATE_FIELDS)} for s in states],
        "review_logs": [{"card": keys[r.card_id], **_record(r, LOG_FIELDS)} for r in logs],
        "drafts": rows(Draft),
        "submissions": rows(Submission),
        "drill_progress": rows(DrillProgress),
    }


def dump_backup(data: dict[str, Any], *, compress: bool = False) -> bytes:
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    # mtime=0 keeps the compressed file a pure function of its contents.
    return gzip.compress(raw, compresslevel=6, mtime=0) if compress else raw
