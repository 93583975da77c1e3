"""Where submissions are graded: in this process (the default) or by grader workers via Celery.

The web side asks a `GradingBackend` to grade a submission and gets the stored `Submission`
back, finished (status "done") or still "queued"/"running". Which backend runs is configuration:

- `InProcessBackend` (GRADER_BROKER_URL unset): the warm sandbox pool of this process grades in
  the request, as `make run` has always done.
- `CeleryBackend` (GRADER_BROKER_URL set): this process never runs a sandbox. It records the
  submission as queued, enqueues its id, and waits up to GRADER_WAIT_SECONDS for a worker
  (`quiz.worker`, `make worker`) to finish it.

The queue path's guarantees live here too, as plain services: `claim` and `finish` make a
redelivered job harmless (the bookkeeping runs once per submission, whoever finishes first), and
`sweep` re-enqueues submissions a lost message left waiting, giving up after a few attempts.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from quiz import drills
from quiz.drills import DONE, QUEUED, RUNNING
from quiz.i18n import N_
from quiz.locks import lock_user
from quiz.models import Submission

log = logging.getLogger(__name__)

TASK_NAME = "quiz.grade_submission"
CODE_TASK_NAME = "quiz.grade_code"  # a verdict only, stored by the caller (mock interviews)
QUEUE_NAME = "grading"
DEFAULTS: dict[str, Any] = {
    "GRADER_BROKER_URL": None,  # unset: grade in this process
    "GRADER_RESULT_URL": None,  # defaults to the broker (Redis keeps both)
    "GRADER_WAIT_SECONDS": 10.0,  # how long a request waits for a queued verdict
    # Redis hands an unacknowledged job to another worker after this long: a little above the
    # sandbox's wall limit (5 s) plus start-up, so a killed worker's job comes back soon.
    "GRADER_VISIBILITY_TIMEOUT": 15,
    "GRADER_REQUEUE_AFTER": 60,  # the sweeper re-enqueues what waited longer than this
    "GRADER_SWEEP_SECONDS": 15,  # how often each worker sweeps
    "GRADER_MAX_ATTEMPTS": 3,  # claims before a submission is given up as internal_error
    "GRADER_INFLIGHT_PER_USER": 3,  # unfinished submissions one user may have at once
}


def task_id(submission_id: int) -> str:
    """One id per submission: a re-enqueued job reports to whoever waits on the first one."""
    return f"submission-{submission_id}"


class QueueBusy(Exception):
    """The user already has too many submissions waiting; `retry_after` in seconds."""

    def __init__(self, waiting: int, retry_after: int = 5) -> None:
        super().__init__(waiting)
        self.waiting, self.retry_after = waiting, retry_after


class GradingBackend(Protocol):
    name: str

    def submit(
        self,
        session: Session,
        user_id: int,
        drill_id: str,
        code: str,
        *,
        mode: str,
        review: bool,
        now: Callable[[], datetime],
        lang: str = "zh",
    ) -> Submission:
        """Grade (or start grading) and return the stored submission, committed."""
        ...

    def grade_code(self, drill_id: str, code: str) -> dict[str, Any]:
        """A verdict now, stored by the caller (interviews); raises QueueFull when busy."""
        ...

    def health(self) -> dict[str, Any]: ...


class InProcessBackend:
    """Grade in the request with this process's sandbox pool (raises QueueFull when busy)."""

    name = "in-process"

    def __init__(self, config: Any) -> None:
        self.config = config  # read at each call: tests swap DRILL_SANDBOX on a live app

    @property
    def sandbox(self) -> Any:
        # DRILL_SANDBOX: a stand-in sandbox for tests; None means the process-wide runner pool.
        return self.config.get("DRILL_SANDBOX")

    def submit(
        self,
        session: Session,
        user_id: int,
        drill_id: str,
        code: str,
        *,
        mode: str,
        review: bool,
        now: Callable[[], datetime],
        lang: str = "zh",
    ) -> Submission:
        result = drills.grade(
            drill_id, code, mode=mode, sandbox=self.sandbox, user=user_id, lang=lang
        )
        outcome = drills.record_submission(
            session, user_id, drill_id, code, mode=mode, result=result, now=now(), review=review
        )
        session.commit()
        return outcome.submission

    def grade_code(self, drill_id: str, code: str) -> dict[str, Any]:
        return drills.grade(drill_id, code, mode="submit", sandbox=self.sandbox)

    def health(self) -> dict[str, Any]:
        from engine.sandbox import doctor_report

        return {"backend": self.name, **doctor_report()}


class CeleryBackend:
    """Queue the submission for grader workers; wait a little for the verdict."""

    name = "celery"

    def __init__(self, celery: Any, *, wait_seconds: float, inflight_per_user: int) -> None:
        self.celery = celery
        self.wait_seconds = wait_seconds
        self.inflight_per_user = inflight_per_user

    def enqueue(self, submission_id: int) -> None:
        self.celery.send_task(
            TASK_NAME, args=[submission_id], task_id=task_id(submission_id), queue=QUEUE_NAME
        )

    def submit(
        self,
        session: Session,
        user_id: int,
        drill_id: str,
        code: str,
        *,
        mode: str,
        review: bool,
        now: Callable[[], datetime],
        lang: str = "zh",
    ) -> Submission:
        lock_user(session, user_id)  # two web processes must not both count n-1
        waiting = unfinished_count(session, user_id)
        if waiting >= self.inflight_per_user:
            raise QueueBusy(waiting)
        submission = drills.new_submission(
            session, user_id, drill_id, code, mode=mode, now=now(), review=review, lang=lang
        )
        submission_id = submission.id
        session.commit()  # recorded before it is enqueued: a lost message is swept up later
        # No session access until the verdict is in: on SQLite a writing request's next
        # transaction would hold the write lock the worker needs (quiz.db BEGIN IMMEDIATE).
        try:
            self.enqueue(submission_id)
        except Exception:  # broker down: the row stays queued and the sweeper enqueues it
            log.exception("could not enqueue submission %s", submission_id)
            return submission
        # A timeout or an absent result store is no error here: the row says where it is.
        waiting = self.celery.AsyncResult(task_id(submission_id))
        with contextlib.suppress(Exception):
            waiting.get(timeout=self.wait_seconds, propagate=False, disable_sync_subtasks=False)
        # Unsubscribe now, not whenever the garbage collector gets to it (perhaps with Redis
        # away, when Celery would retry for seconds inside the collector).
        with contextlib.suppress(Exception):
            self.celery.backend.remove_pending_result(waiting)
        session.refresh(submission)
        session.commit()
        return submission

    def grade_code(self, drill_id: str, code: str) -> dict[str, Any]:
        """Grade on a worker and wait; a worker that does not answer in time is a busy queue."""
        from engine.sandbox import QueueFull

        result = self.celery.send_task(
            CODE_TASK_NAME, args=[drill_id, code], queue=QUEUE_NAME, expires=self.wait_seconds * 3
        )
        try:
            return dict(result.get(timeout=self.wait_seconds * 3, disable_sync_subtasks=False))
        except Exception as error:
            raise QueueFull(retry_after=5) from error
        finally:
            result.forget()

    def close(self) -> None:
        """Let go of the broker and result-store connections (shutdown, tests)."""
        consumer = getattr(self.celery.backend, "result_consumer", None)
        if consumer is not None:
            consumer.stop()
        client = getattr(self.celery.backend, "client", None)  # the result store's Redis pool
        if client is not None:
            client.connection_pool.disconnect()
        self.celery.close()

    def health(self) -> dict[str, Any]:
        broker = "ok"
        try:
            with self.celery.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
            replies = self.celery.control.ping(timeout=0.5) or []
        except Exception:
            broker, replies = "unreachable", []
        return {"backend": self.name, "broker": broker, "workers": len(replies)}


def init_app(app: Flask) -> None:
    # Defaults, then the environment, unless instance/config.py or test_config already said.
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, os.environ.get(key) or value)
    app.extensions["grading"] = None  # built on first use: the broker need not be up at start


def backend(app: Flask) -> GradingBackend:
    built = app.extensions.get("grading")
    if built is None:
        if app.config.get("GRADER_BROKER_URL"):
            built = CeleryBackend(
                make_celery(app),
                wait_seconds=float(app.config["GRADER_WAIT_SECONDS"]),
                inflight_per_user=int(app.config["GRADER_INFLIGHT_PER_USER"]),
            )
        else:
            built = InProcessBackend(app.config)
        app.extensions["grading"] = built
    return built


def make_celery(app: Flask) -> Any:
    """A Celery app configured for "nothing lost": late acks, one job at a time per slot."""
    from celery import Celery

    broker = app.config["GRADER_BROKER_URL"]
    visibility = int(app.config["GRADER_VISIBILITY_TIMEOUT"])
    celery = Celery("quiz", set_as_current=False)
    celery.conf.update(
        broker_url=broker,
        result_backend=app.config.get("GRADER_RESULT_URL") or broker,
        task_acks_late=True,  # acknowledged after the job, so a killed worker's job returns
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # nothing waits in a worker that could run elsewhere
        broker_transport_options={"visibility_timeout": visibility},
        result_expires=3600,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_default_queue=QUEUE_NAME,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )
    return celery


# ---------------------------------------------------------------------------------------------
# The queue path's services (session first, callers commit)


def unfinished_count(session: Session, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                Submission.user_id == user_id, Submission.status.in_((QUEUED, RUNNING))
            )
        )
        or 0
    )


@dataclass
class Claim:
    submission_id: int
    drill_id: str
    code: str
    mode: str
    attempts: int
    lang: str


def claim(session: Session, submission_id: int) -> Claim | None:
    """Mark the submission running and count the attempt; None when it is already done."""
    claimed = session.execute(
        update(Submission)
        .where(Submission.id == submission_id, Submission.status != DONE)
        .values(status=RUNNING, attempts=Submission.attempts + 1)
    ).rowcount
    if not claimed:
        return None
    row = session.get(Submission, submission_id, populate_existing=True)
    assert row is not None
    return Claim(row.id, row.drill_id, row.code, row.mode, row.attempts, row.lang or "zh")


def finish(session: Session, submission_id: int, result: dict[str, Any], *, now: datetime) -> bool:
    """Store the verdict and do the bookkeeping, once: False if another grader finished first.

    The conditional UPDATE takes the row's write lock before anything is read, so of two
    graders finishing the same submission (a redelivered job) exactly one sees it unfinished.
    """
    won = session.execute(
        update(Submission)
        .where(Submission.id == submission_id, Submission.status != DONE)
        .values(status=DONE)
    ).rowcount
    if not won:
        return False
    submission = session.get(Submission, submission_id, populate_existing=True)
    assert submission is not None
    drills.complete_submission(session, submission, result, now=now)
    return True


def gave_up_result(drill_id: str, mode: str, attempts: int) -> dict[str, Any]:
    return {
        "drill": drill_id,
        "verdict": "internal_error",
        "passed": 0,
        "total": 0,
        "time_ms": 0.0,
        "tests": [],
        "stdout": "",
        # Stored with the verdict, written by a worker outside any request: marked for the
        # catalogue, kept in the default language like the sandbox's own messages.
        "message": N_(
            "评测中断了 {attempts} 次，已放弃：这不是你的代码的问题，请重新提交。"
        ).format(attempts=attempts),
        "sandboxed": True,
        "mode": mode,
    }


@dataclass
class SweepReport:
    requeued: list[int]
    failed: list[int]


def sweep(
    session: Session,
    *,
    now: datetime,
    older_than: timedelta,
    max_attempts: int,
    enqueue: Callable[[int], None],
) -> SweepReport:
    """Re-enqueue submissions left unfinished longer than `older_than`; give up on the tired.

    A lost message (broker restart, a worker killed after the visibility timeout was raised)
    leaves its row queued or running: the row, not the broker, is the source of truth.
    """
    stale = session.scalars(
        select(Submission.id)
        .where(Submission.status.in_((QUEUED, RUNNING)), Submission.enqueued_at < now - older_than)
        .order_by(Submission.id)
        .limit(500)
    ).all()
    report = SweepReport([], [])
    for submission_id in stale:
        row = session.get(Submission, submission_id)
        if row is None or row.status == DONE:
            continue
        if row.attempts >= max_attempts:
            if finish(
                session, row.id, gave_up_result(row.drill_id, row.mode, row.attempts), now=now
            ):
                report.failed.append(row.id)
            continue
        row.enqueued_at = now
        session.flush()
        report.requeued.append(row.id)
    session.commit()  # the new enqueue times are recorded before the jobs go out
    for submission_id in report.requeued:
        enqueue(submission_id)
    return report
