"""Code validation and drafts: code typed is never lost, review mode starts blank."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import i18n as engine_i18n
from quiz.models import (
    Draft,
)

if TYPE_CHECKING:
    from engine.drills import Drill

from quiz.drills import errors
from quiz.drills.catalogue import max_source_bytes
from quiz.drills.labels import REVIEW_SUFFIX
from quiz.drills.progress import _inserted


def validate_code(code: object, *, allow_empty: bool = False) -> str:
    """The code as text, or a DrillError saying in Chinese what is wrong with it."""
    if not isinstance(code, str):
        raise errors.InvalidInput(_("缺少代码：请求中的 “code” 必须是字符串。"))
    try:
        size = len(code.encode("utf-8"))
    except UnicodeEncodeError as error:
        raise errors.InvalidInput(
            _("代码包含无法编码的字符（孤立的代理字符），请删除后重试。")
        ) from error
    limit = max_source_bytes()
    if size > limit:
        raise errors.TooLarge(
            _(
                "代码太长：%(size_1024)s KB，上限是 %(limit_1024)s KB。",
                size_1024=size // 1024,
                limit_1024=limit // 1024,
            ),
        )
    if not allow_empty and not code.strip():
        raise errors.InvalidInput(_("代码为空：请先写出函数再运行或提交。"))
    return code


def _draft_key(drill_id: str, review: bool) -> str:
    return drill_id + REVIEW_SUFFIX if review else drill_id


def load_draft(
    session: Session, user_id: int, drill_id: str, *, review: bool = False
) -> Draft | None:
    key = _draft_key(drill_id, review)
    return session.scalar(select(Draft).where(Draft.user_id == user_id, Draft.drill_id == key))


def save_draft(
    session: Session, user_id: int, drill_id: str, code: str, *, now: datetime, review: bool = False
) -> Draft:
    """Insert or overwrite the user's draft (the review draft in review mode)."""
    draft = load_draft(session, user_id, drill_id, review=review)
    if draft is None:
        draft = Draft(
            user_id=user_id, drill_id=_draft_key(drill_id, review), code=code, updated_at=now
        )
        if _inserted(session, draft):
            return draft
        draft = load_draft(session, user_id, drill_id, review=review)
        assert draft is not None
    draft.code, draft.updated_at = code, now
    session.flush()
    return draft


def discard_review_draft(session: Session, user_id: int, drill_id: str) -> None:
    """A finished review starts the next one from a blank editor again."""
    draft = load_draft(session, user_id, drill_id, review=True)
    if draft is not None:
        session.delete(draft)
        session.flush()


def initial_code(
    session: Session, user_id: int, drill: Drill, *, review: bool, locale: str = "zh"
) -> tuple[str, datetime | None]:
    """What the editor opens with, and when that draft was saved (None: the starter code,
    its docstring in the user's language)."""
    draft = load_draft(session, user_id, drill.id, review=review)
    if draft is not None:
        return draft.code, draft.updated_at
    return engine_i18n.starter_code(drill, locale), None
