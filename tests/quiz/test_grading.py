"""The queue path's services on the database alone: claim, finish once, sweep.

A redelivered job, two graders finishing the same submission, a lost message: the bookkeeping
(progress counts, first solve, the drill card's review) must happen exactly once. These run on
SQLite and, in `make test`'s second pass, on PostgreSQL with real concurrent transactions.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from quiz import drills, grading
from quiz.models import DrillProgress, ReviewLog, Submission
from tests.factories import grader_result as result

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def queued(session: Any, user: Any, *, at: datetime = NOW, mode: str = "submit") -> int:
    submission = drills.new_submission(session, user.id, "softmax", "code", mode=mode, now=at)
    session.commit()
    return submission.id


def counts(session: Any, user: Any) -> tuple[int, int, int]:
    session.commit()
    progress = session.scalar(select(DrillProgress).where(DrillProgress.user_id == user.id))
    reviews = session.scalar(
        select(func.count()).select_from(ReviewLog).where(ReviewLog.user_id == user.id)
    )
    return (
        progress.submits if progress else 0,
        progress.failed_submits if progress else 0,
        reviews,
    )


def test_a_queued_submission_counts_toward_the_rate_limit_before_it_is_graded(
    session: Any, user: Any
) -> None:
    for _ in range(2):
        queued(session, user)
    assert drills.submission_retry_after(session, user.id, now=NOW, per_minute=2) is not None
    assert grading.unfinished_count(session, user.id) == 2


def test_claim_counts_attempts_and_refuses_a_finished_submission(session: Any, user: Any) -> None:
    sid = queued(session, user)
    assert grading.claim(session, sid).attempts == 1
    assert grading.claim(session, sid).attempts == 2  # a redelivery claims again
    session.commit()
    assert grading.finish(session, sid, result("accepted"), now=NOW)
    session.commit()
    assert grading.claim(session, sid) is None


def test_finishing_twice_does_the_bookkeeping_once(session: Any, user: Any) -> None:
    sid = queued(session, user)
    assert grading.finish(session, sid, result("accepted"), now=NOW)
    session.commit()
    assert not grading.finish(session, sid, result("wrong_answer"), now=NOW)
    session.commit()
    stored = session.get(Submission, sid)
    assert stored.verdict == "accepted" and stored.status == "done"
    assert stored.result["outcome"]["first_solve"] is True
    assert counts(session, user) == (1, 0, 1)  # one submit, no failure, one review of the card


def test_two_graders_finishing_at_once_do_the_bookkeeping_once(
    app: Flask, session: Any, user: Any
) -> None:
    """Real concurrent transactions: on PostgreSQL the second UPDATE waits for the row lock."""
    from quiz.db import db

    ids = [queued(session, user) for _ in range(3)]
    user_id = user.id
    barrier = threading.Barrier(6)
    won: list[bool] = []
    errors: list[BaseException] = []

    def grader(sid: int, verdict: str) -> None:
        try:
            with app.app_context():
                barrier.wait(10)
                outcome = grading.finish(db.session, sid, result(verdict), now=NOW)
                db.session.commit()
                won.append(outcome)
                db.session.remove()
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=grader, args=(sid, "wrong_answer")) for sid in ids]
    threads += [threading.Thread(target=grader, args=(sid, "wrong_answer")) for sid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert sorted(won) == [False] * 3 + [True] * 3
    session.rollback()  # a new transaction: this one's snapshot predates the graders' commits
    progress = session.scalar(select(DrillProgress).where(DrillProgress.user_id == user_id))
    assert (progress.submits, progress.failed_submits) == (3, 3)  # no count lost, none doubled


def test_sweep_requeues_stale_submissions_and_leaves_fresh_ones(session: Any, user: Any) -> None:
    stale = queued(session, user, at=NOW - timedelta(minutes=5))
    fresh = queued(session, user, at=NOW - timedelta(seconds=5))
    sent: list[int] = []
    report = grading.sweep(
        session, now=NOW, older_than=timedelta(minutes=1), max_attempts=3, enqueue=sent.append
    )
    assert report.requeued == [stale] and sent == [stale] and report.failed == []
    assert session.get(Submission, stale).enqueued_at == NOW  # not swept again at once
    assert session.get(Submission, fresh).status == "queued"
    again = grading.sweep(
        session, now=NOW, older_than=timedelta(minutes=1), max_attempts=3, enqueue=sent.append
    )
    assert again.requeued == []


def test_sweep_gives_up_after_max_attempts_without_blaming_the_learner(
    session: Any, user: Any
) -> None:
    sid = queued(session, user, at=NOW - timedelta(minutes=5))
    for _ in range(3):
        grading.claim(session, sid)
    session.commit()
    sent: list[int] = []
    report = grading.sweep(
        session, now=NOW, older_than=timedelta(minutes=1), max_attempts=3, enqueue=sent.append
    )
    assert report.failed == [sid] and sent == []
    stored = session.get(Submission, sid)
    assert stored.status == "done" and stored.verdict == "internal_error"
    assert "重新提交" in stored.result["message"]
    assert counts(session, user) == (1, 0, 0)  # an internal error never counts as a failure


def test_in_process_submissions_are_done_at_once(session: Any, user: Any) -> None:
    outcome = drills.record_submission(
        session, user.id, "softmax", "code", mode="submit", result=result("accepted"), now=NOW
    )
    session.commit()
    assert outcome.submission.status == "done" and grading.unfinished_count(session, user.id) == 0
