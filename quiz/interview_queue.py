"""Mock-interview drill submissions graded by a worker (GRADER_BROKER_URL set): the item is
linked when the submission is queued, and gets its verdict when a worker finishes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from quiz import drills
from quiz.interview import errors
from quiz.interviews import _apply_verdict, _attach, _open_item, get
from quiz.models import InterviewItem, Submission


def attach_queued(
    session: Session,
    user_id: int,
    interview_id: int,
    index: int,
    submission: Submission,
    *,
    now: datetime,
) -> InterviewItem:
    """Link a queued submission (graded later by a worker) to its item; `verdict_in` applies
    the verdict once it is in. One at a time per item: a second would race the first's verdict.
    """
    item, late = _open_item(get(session, user_id, interview_id), index, now)
    if item.submission_id is not None:
        previous = session.get(Submission, item.submission_id)
        if previous is not None and previous.status != drills.DONE:
            raise errors.Conflict(_("上一次提交还在评测中，请等它出结果后再提交。代码已保存。"))
    _attach(item, submission, submission.code, late=late)
    session.flush()
    return item


def verdict_in(session: Session, submission: Submission, proposal: Any, *, now: datetime) -> None:
    """A worker finished `submission`: if it answers an interview item, record the verdict there.

    Runs once per submission (quiz.grading.finish is the only caller); the item's times are
    the submission's (when the learner pressed submit), not `now`.
    """
    item = session.scalar(select(InterviewItem).where(InterviewItem.submission_id == submission.id))
    # A verdict arriving after the interview was finished (and scored) leaves the report as is.
    if item is not None and item.interview.finished_at is None:
        _apply_verdict(item, submission, proposal, now=submission.created_at)
        session.flush()
