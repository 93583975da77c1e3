"""Recording a graded submission, its rating proposal, and the submission history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from quiz.models import (
    Card,
    DrillProgress,
    Submission,
)

if TYPE_CHECKING:
    pass

from quiz.drills.labels import AGAIN, DONE, GOOD, HARD, QUEUED, VERDICT_LABELS
from quiz.drills.progress import _is_due, _progress, _state, drill_card, review_horizon
from quiz.drills.review import Proposal, _apply


@dataclass
class SubmitOutcome:
    submission: Submission
    progress: DrillProgress
    first_solve: bool
    proposal: Proposal | None


def rating_for(*, accepted: bool, failures: int, gave_up: bool = False) -> int:
    """The drill review rule: first-try accept Good, accept after failures Hard, else Again."""
    if gave_up or not accepted:
        return AGAIN
    return GOOD if failures == 0 else HARD


def _reason(rating: int, failures: int, *, revealed: bool) -> str:
    if revealed:
        return _("看过答案 → 重来")
    if rating == GOOD:
        return _("第一次提交就通过 → 良好")
    if rating == HARD:
        return _("失败 %(failures)s 次后通过 → 困难", failures=failures)
    return _("没有通过 → 重来")


def record_submission(
    session: Session,
    user_id: int,
    drill_id: str,
    code: str,
    *,
    mode: str,
    result: dict[str, Any],
    now: datetime,
    review: bool = False,
) -> SubmitOutcome:
    """Store a submission graded in this process and do its bookkeeping (see complete_submission)."""
    submission = new_submission(session, user_id, drill_id, code, mode=mode, now=now, review=review)
    return complete_submission(session, submission, result, now=now)


def new_submission(
    session: Session,
    user_id: int,
    drill_id: str,
    code: str,
    *,
    mode: str,
    now: datetime,
    review: bool = False,
    lang: str | None = None,
) -> Submission:
    """A submission waiting for its verdict (status "queued"); it counts toward the rate limit."""
    submission = Submission(
        user_id=user_id,
        drill_id=drill_id,
        mode=mode,
        code=code,
        verdict="pending",
        passed=0,
        total=0,
        time_ms=0.0,
        sandboxed=True,
        result={},
        created_at=now,
        status=QUEUED,
        review=review,
        enqueued_at=now,
        lang=lang,
    )
    session.add(submission)
    session.flush()
    return submission


def complete_submission(
    session: Session, submission: Submission, result: dict[str, Any], *, now: datetime
) -> SubmitOutcome:
    """Store the verdict, update the user's progress and, when due, the review card.

    The first accepted submission ever schedules the drill card with the rule's rating at once;
    in review mode the first accepted submission only proposes a rating for the user to confirm.
    Callers make sure this runs once per submission (quiz.grading.finish guards the queue path).
    """
    user_id, drill_id, mode = submission.user_id, submission.drill_id, submission.mode
    submission.verdict = str(result.get("verdict", "internal_error"))
    submission.passed = int(result.get("passed", 0))
    submission.total = int(result.get("total", 0))
    submission.time_ms = float(result.get("time_ms", 0.0))
    submission.sandboxed = bool(result.get("sandboxed", True))
    submission.status = DONE
    progress = _progress(session, user_id, drill_id)
    accepted = submission.verdict == "accepted"
    first_solve, proposal = False, None
    if mode == "submit":
        progress.submits += 1
        # An internal error is ours, not the user's: it must not count toward revealing.
        if not accepted and submission.verdict != "internal_error":
            progress.failed_submits += 1
        if accepted and progress.solved_at is None:
            first_solve = True
            progress.solved_at = now
            progress.attempts_to_first_accept = progress.submits
    session.flush()
    card = drill_card(session, drill_id) if mode == "submit" and accepted else None
    if card is not None and first_solve:
        failures = progress.submits - 1
        revealed = progress.revealed_at is not None
        rating = rating_for(accepted=True, failures=failures, gave_up=revealed)
        proposal = Proposal(rating, _reason(rating, failures, revealed=revealed))
        _apply(session, user_id, card.id, proposal, now=now)
    elif card is not None and submission.review:
        proposal = _review_proposal(session, user_id, card, submission, now=now)
    # What the submitter sees once (first solve, proposed rating) is kept for whoever asks later.
    submission.result = {
        **result,
        "outcome": {
            "first_solve": first_solve,
            "review": proposal.to_json() if proposal else None,
        },
    }
    session.flush()
    return SubmitOutcome(submission, progress, first_solve, proposal)


def _review_proposal(
    session: Session, user_id: int, card: Card, submission: Submission, *, now: datetime
) -> Proposal | None:
    """In review mode: the first accept of a due drill proposes Good or Hard by the failures."""
    state = _state(session, user_id, card.id)
    if not _is_due(state, review_horizon(session, user_id, now=now)):
        return None
    assert state is not None
    since = state.last_review or state.due
    attempts = session.scalars(
        select(Submission.verdict).where(
            Submission.user_id == user_id,
            Submission.drill_id == submission.drill_id,
            Submission.mode == "submit",
            Submission.created_at > since,  # the accept that scheduled it is not part of it
            Submission.id != submission.id,
        )
    ).all()
    if "accepted" in attempts:
        return None  # this review already had its accept (and its proposal)
    failures = sum(1 for v in attempts if v != "internal_error")
    rating = rating_for(accepted=True, failures=failures)
    return Proposal(rating, _reason(rating, failures, revealed=False))


def list_submissions(
    session: Session, user_id: int, drill_id: str, *, limit: int = 50
) -> list[Submission]:
    return list(
        session.scalars(
            select(Submission)
            .where(Submission.user_id == user_id, Submission.drill_id == drill_id)
            .order_by(Submission.created_at.desc(), Submission.id.desc())
            .limit(limit)
        )
    )


def get_submission(session: Session, user_id: int, submission_id: int) -> Submission | None:
    """The user's own submission; another user's is as absent as a missing one."""
    submission = session.get(Submission, submission_id)
    return submission if submission is not None and submission.user_id == user_id else None


def submission_summary(submission: Submission) -> dict[str, Any]:
    return {
        "id": submission.id,
        "status": submission.status,
        "drill": submission.drill_id,
        "mode": submission.mode,
        "verdict": submission.verdict,
        "verdict_label": VERDICT_LABELS.get(submission.verdict, submission.verdict),
        "passed": submission.passed,
        "total": submission.total,
        "time_ms": submission.time_ms,
        "created_at": submission.created_at.isoformat(),
    }


def submission_json(submission: Submission) -> dict[str, Any]:
    """The grader's whole result plus the stored fields and the code."""
    result = submission.result or {}
    return {
        **submission_summary(submission),
        "tests": result.get("tests", []),
        "stdout": result.get("stdout", ""),
        # The grader's named mistake (engine.diagnosis), or None; older results have none.
        "diagnosis": result.get("diagnosis"),
        "sandboxed": submission.sandboxed,
        "code": submission.code,
    }
