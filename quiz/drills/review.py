"""Rating proposals, reveal, and the review rating a drill card gets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from quiz.models import (
    ReviewLog,
)

if TYPE_CHECKING:
    pass

from quiz.drills import errors
from quiz.drills.drafts import discard_review_draft
from quiz.drills.labels import AGAIN, RATING_LABELS, REVEAL_AFTER_FAILURES
from quiz.drills.progress import (
    _is_due,
    _state,
    can_reveal,
    drill_card,
    get_progress,
    review_horizon,
)
from quiz.scheduling import parse_rating


@dataclass
class Proposal:
    """A review rating suggested by the outcome; `log_id` is set once it was applied."""

    rating: int
    reason: str
    log_id: int | None = None
    due: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "rating": self.rating,
            "label": str(RATING_LABELS[self.rating]),  # may be stored in a JSON column
            "reason": self.reason,
            "scheduled": self.log_id is not None,
            "log_id": self.log_id,
            "due": self.due.isoformat() if self.due else None,
        }


@dataclass
class RevealOutcome:
    newly_revealed: bool
    proposal: Proposal | None


def reveal(
    session: Session, user_id: int, drill_id: str, *, now: datetime, review: bool = False
) -> RevealOutcome:
    """Show the answer: to solvers always, otherwise after three failed submissions.

    Revealing before solving marks the drill 看过答案. In review mode revealing is giving up:
    it proposes Again for the user to confirm.
    """
    progress = get_progress(session, user_id, drill_id)
    if not can_reveal(progress):
        failed = progress.failed_submits if progress else 0
        raise errors.Forbidden(
            _(
                "提交失败 %(REVEAL_AFTER_FAILURES)s 次后才能查看答案（目前 %(failed)s 次）。",
                REVEAL_AFTER_FAILURES=REVEAL_AFTER_FAILURES,
                failed=failed,
            ),
        )
    assert progress is not None
    newly = progress.solved_at is None and progress.revealed_at is None
    if newly:
        progress.revealed_at = now
    proposal = None
    card = drill_card(session, drill_id) if review else None
    if card is not None and _is_due(
        _state(session, user_id, card.id), review_horizon(session, user_id, now=now)
    ):
        proposal = Proposal(AGAIN, _("放弃并查看答案 → 重来"))
    session.flush()
    return RevealOutcome(newly, proposal)


@dataclass
class RatingOutcome:
    rating: int
    log_id: int
    due: datetime


def rate(
    session: Session,
    user_id: int,
    drill_id: str,
    rating: int,
    *,
    now: datetime,
    replaces: int | None = None,
) -> RatingOutcome:
    """Schedule the drill card with the user's rating, or change the rating just given.

    `replaces` names the review log the new rating supersedes (the automatic one of a first
    solve, or a confirmation the user changes their mind about): it is undone first, so a
    correction never counts as a second review.
    """
    if parse_rating(rating) is None:
        raise errors.InvalidInput(_("评分必须是 1（重来）、2（困难）、3（良好）或 4（简单）。"))
    card = drill_card(session, drill_id)
    if card is None:
        raise errors.Conflict(_("这道练习没有复习卡片（内容尚未同步）。"))
    progress = get_progress(session, user_id, drill_id)
    if progress is None or progress.solved_at is None:
        raise errors.Conflict(_("先通过这道练习，它才会加入复习。"))
    if replaces is not None:
        _undo(session, user_id, card.id, replaces)
    proposal = Proposal(rating, "")
    _apply(session, user_id, card.id, proposal, now=now)
    assert proposal.log_id is not None and proposal.due is not None
    discard_review_draft(session, user_id, drill_id)
    return RatingOutcome(rating, proposal.log_id, proposal.due)


def _apply(
    session: Session, user_id: int, card_id: int, proposal: Proposal, *, now: datetime
) -> None:
    from quiz.study import StudyError, schedule_drill_review

    try:
        result = schedule_drill_review(session, user_id, card_id, proposal.rating, now=now)
    except StudyError as error:
        raise errors.DrillError(error.message, error.status) from error
    proposal.log_id, proposal.due = result.log_id, result.due


def _latest_log_id(session: Session, user_id: int, card_id: int) -> int | None:
    return session.scalar(
        select(ReviewLog.id)
        .where(ReviewLog.user_id == user_id, ReviewLog.card_id == card_id)
        .order_by(ReviewLog.reviewed_at.desc(), ReviewLog.id.desc())
        .limit(1)
    )


def _undo(session: Session, user_id: int, card_id: int, log_id: int) -> None:
    from quiz.study import StudyError, undo_review

    # Only the drill card's own latest rating may be replaced, never some other card's answer.
    if _latest_log_id(session, user_id, card_id) != log_id:
        raise errors.Conflict(_("这个评分已经不是最新的了，无法修改；请刷新页面。"))
    try:
        undo_review(session, user_id, log_id)
    except StudyError as error:
        raise errors.Conflict(error.message) from error
