"""Importing a validated backup into an account without history."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import exists, insert, select
from sqlalchemy.orm import Session

from quiz.backup.format import _CHUNK, BackupError
from quiz.backup.schema import validate_backup
from quiz.models import (
    Card,
    CardState,
    Draft,
    DrillProgress,
    ReviewLog,
    Submission,
    UserSettings,
    card_copies,
)


def has_history(session: Session, user_id: int) -> bool:
    """Whether the account holds any progress an import would have to merge with."""
    return any(
        session.scalar(select(exists().where(model.user_id == user_id)))
        for model in (CardState, ReviewLog, Draft, Submission, DrillProgress)
    )


def _card_ids(session: Session, keys: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        found.update(session.execute(select(Card.key, Card.id).where(Card.key.in_(chunk))).all())
    return found


def _remap(snapshot: dict[str, Any], ids: dict[str, int | None]) -> dict[str, Any]:
    """A log's before/after snapshot of the card state row, with this database's ids.

    Snapshots describe the log's own card for the log's own user, so any id fields they carry
    are exactly the new card, user and state ids (fields absent stay absent).
    """
    out = dict(snapshot)
    for name, new in ids.items():
        if name in out and new is not None:
            out[name] = new
    return out


@dataclass(frozen=True)
class ImportReport:
    card_states: int
    review_logs: int
    drafts: int
    submissions: int
    drill_progress: int

    def summary(self) -> str:
        return _(
            "已恢复 %(card_states)s 张卡片的状态、%(review_logs)s 条复习记录、"
            "%(drafts)s 份草稿、%(submissions)s 次提交和 %(drill_progress)s 项练习进度。",
            card_states=self.card_states,
            review_logs=self.review_logs,
            drafts=self.drafts,
            submissions=self.submissions,
            drill_progress=self.drill_progress,
        )


_importing: set[int] = set()
_importing_lock = threading.Lock()


@contextmanager
def one_import_per_user(user_id: int) -> Iterator[None]:
    """Refuse (409) a second import of the same account while one is running in this process.

    Across processes the request's write transaction serializes imports and the second one
    finds the history the first wrote.
    """
    with _importing_lock:
        if user_id in _importing:
            raise BackupError(
                _("这个账号正在导入另一个备份，请等它完成后刷新页面查看。"), status=409
            )
        _importing.add(user_id)
    try:
        yield
    finally:
        with _importing_lock:
            _importing.discard(user_id)


def import_backup(session: Session, user_id: int, data: dict[str, Any]) -> ImportReport:
    """Restore a parsed backup into an account without history. Validates first; flushes only."""
    if has_history(session, user_id):
        raise BackupError(
            _(
                "当前账号已有学习记录，只能把备份导入到没有学习记录的新账号。请注册一个新账号后再导入。"
            ),
            status=409,
        )
    backup = validate_backup(data)
    sections = backup.sections
    keys = {r["card"] for r in sections["card_states"]} | {
        r["card"] for r in sections["review_logs"]
    }
    card_ids = _card_ids(session, keys)
    unknown = sorted(keys - card_ids.keys())
    if unknown:
        examples = "、".join(unknown[:3])
        raise BackupError(
            _(
                "备份中有 %(n)s 张卡片在本站不存在（例如 %(examples)s），无法完整恢复。"
                "请先同步相同的笔记内容再导入。",
                n=len(unknown),
                examples=examples,
            )
        )

    if backup.settings is not None:
        settings = session.get(UserSettings, user_id)
        if settings is None:
            settings = UserSettings(user_id=user_id)
            session.add(settings)
        for name, value in backup.settings.items():
            setattr(settings, name, value)

    state_rows = [
        {"user_id": user_id, "card_id": card_ids[r.pop("card")], **r}
        for r in sections["card_states"]
    ]
    copies = card_copies(session)
    for row in state_rows:
        row.update(copies[row["card_id"]])
    if state_rows:
        session.execute(insert(CardState), state_rows)
    state_ids = dict(
        session.execute(
            select(CardState.card_id, CardState.id).where(CardState.user_id == user_id)
        ).all()
    )
    log_rows = []
    for record in sections["review_logs"]:
        card_id = card_ids[record.pop("card")]
        ids = {"card_id": card_id, "user_id": user_id, "id": state_ids.get(card_id)}
        record["before"] = _remap(record["before"], ids)
        record["after"] = _remap(record["after"], ids)
        log_rows.append({"user_id": user_id, "card_id": card_id, **record})
    for start in range(0, len(log_rows), 5000):
        session.execute(insert(ReviewLog), log_rows[start : start + 5000])
    for model, section in (
        (Draft, "drafts"),
        (Submission, "submissions"),
        (DrillProgress, "drill_progress"),
    ):
        if sections[section]:
            session.execute(insert(model), [{"user_id": user_id, **r} for r in sections[section]])
    session.flush()
    return ImportReport(
        card_states=len(state_rows),
        review_logs=len(log_rows),
        drafts=len(sections["drafts"]),
        submissions=len(sections["submissions"]),
        drill_progress=len(sections["drill_progress"]),
    )
