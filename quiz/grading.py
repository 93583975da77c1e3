"""Where code is graded: THE one place that decides, from two settings.

    GRADER_BROKER_URL  GRADER_SOCKET   backend           who runs the sandbox
    set                (any)           CeleryBackend     grader workers (`make worker`, quiz.worker),
                                                         each with its own `local_sandbox`
    unset              set             InProcessBackend  the root grader service on that unix
                                                         socket (engine.sandbox.service), asked
                                                         from the request thread
    unset              unset           InProcessBackend  this process's warm runner pool
                                                         (engine.sandbox.get_sandbox), as
                                                         `make run` as non-root does

`backend(app)` builds the web side's choice once; `local_sandbox(socket)` is the sandbox of a
process that grades itself (a web process without a broker, or a worker). Nothing else reads
these settings: engine.sandbox only ever starts this process's pool.

- `InProcessBackend`: the request grades (quiz.views.grading.grade_admitted: counted, gated,
  graded with no transaction open) and stores the verdict itself.
- `CeleryBackend`: the web process never runs a sandbox. It records the submission as queued,
  commits, enqueues its id, and waits up to GRADER_WAIT_SECONDS for a worker to finish it.

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

from engine.sandbox import Sandbox, doctor_report, get_sandbox
from quiz import drills, interview_queue
from quiz.db import rowcount
from quiz.drills import DONE, QUEUED, RUNNING
from quiz.i18n import N_
from quiz.locks import lock_user
from quiz.models import Submission

log = logging.getLogger(__name__)

TASK_NAME = "quiz.grade_submission"
QUEUE_NAME = "grading"
DEFAULTS: dict[str, Any] = {
    "GRADER_BROKER_URL": None,  # unset: grade in this process
    "GRADER_RESULT_URL": None,  # defaults to the broker (Redis keeps both)
    "GRADER_SOCKET": None,  # unset: runners in this process (scripts/run.sh sets it as root)
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


def local_sandbox(socket_path: str | None) -> Sandbox:
    """The sandbox of a process that grades: the grader service if a socket is set, else the
    process-wide pool (started lazily; a forked process gets its own)."""
    if socket_path:
        from engine.sandbox.service import ServiceClient

        return ServiceClient(socket_path)
    return get_sandbox()


class GradingBackend(Protocol):
    @property
    def name(self) -> str: ...

    def health(self) -> dict[str, Any]: ...


class InProcessBackend:
    """The request grades: with this process's pool, or through the grader service."""

    def __init__(self, config: Any) -> None:
        self.config = config  # read at each call: tests swap DRILL_SANDBOX on a live app

    @property
    def name(self) -> str:
        return "unix-socket" if self.config.get("GRADER_SOCKET") else "in-process"

    @property
    def sandbox(self) -> Sandbox:
        # DRILL_SANDBOX: a stand-in sandbox for tests.
        stand_in = self.config.get("DRILL_SANDBOX")
        return stand_in if stand_in is not None else local_sandbox(self.config.get("GRADER_SOCKET"))

    def health(self) -> dict[str, Any]:
        return dict(doctor_report(self.sandbox), backend=self.name)


class CeleryBackend:
    """Queue submissions for grader workers; wait a little for the verdict."""

    name = "celery"

    def __init__(self, celery: Any, *, wait_seconds: float, inflight_per_user: int) -> None:
        self.celery = celery
        self.wait_seconds = wait_seconds
        self.inflight_per_user = inflight_per_user

    def enqueue(self, submission_id: int) -> None:
        self.celery.send_task(
            TASK_NAME, args=[submission_id], task_id=task_id(submission_id), queue=QUEUE_NAME
        )

    def queue(
        self,
        session: Session,
        user_id: int,
        drill_id: str,
        code: str,
        *,
        mode: str,
        review: bool,
        now: datetime,
        lang: str = "zh",
    ) -> Submission:
        """Record a queued submission (flushed): the caller commits it, then calls `deliver`.

        Raises QueueBusy when the user already has GRADER_INFLIGHT_PER_USER unfinished ones:
        counted in the database, so every web process sees the same count.
        """
        lock_user(session, user_id)  # two web processes must not both count n-1 (re-entrant)
        waiting = unfinished_count(session, user_id)
        if waiting >= self.inflight_per_user:
            raise QueueBusy(waiting)
        return drills.new_submission(
            session, user_id, drill_id, code, mode=mode, now=now, review=review, lang=lang
        )

    def deliver(self, session: Session, submission_id: int) -> Submission:
        """Enqueue a committed submission, wait up to `wait_seconds`, return it as it is now.

        The caller has no transaction open (it committed and reads nothing meanwhile): on SQLite
        a writing request's next transaction would hold the write lock the worker needs.
        """
        try:
            self.enqueue(submission_id)
        except Exception:  # broker down: the row stays queued and the sweeper enqueues it
            log.exception("could not enqueue submission %s", submission_id)
        else:
            # A timeout or an absent result store is no error here: the row says where it is.
            waiting = self.celery.AsyncResult(task_id(submission_id))
            with contextlib.suppress(Exception):
                waiting.get(timeout=self.wait_seconds, propagate=False, disable_sync_subtasks=False)
            # Unsubscribe now, not whenever the garbage collector gets to it (perhaps with Redis
            # away, when Celery would retry for seconds inside the collector).
            with contextlib.suppress(Exception):
                self.celery.backend.remove_pending_result(waiting)
        submission = session.get(Submission, submission_id, populate_existing=True)
        assert submission is not None
        return submission

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
    """The web side's grading backend (see the table above), built on first use."""
    built: GradingBackend | None = app.extensions.get("grading")
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
    claimed = rowcount(
        session.execute(
            update(Submission)
            .where(Submission.id == submission_id, Submission.status != DONE)
            .values(status=RUNNING, attempts=Submission.attempts + 1)
        )
    )
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
    won = rowcount(
        session.execute(
            update(Submission)
            .where(Submission.id == submission_id, Submission.status != DONE)
            .values(status=DONE)
        )
    )
    if not won:
        return False
    submission = session.get(Submission, submission_id, populate_existing=True)
    assert submission is not None
    outcome = drills.complete_submission(session, submission, result, now=now)
    interview_queue.verdict_in(session, submission, outcome.proposal, now=now)  # a mock interview's
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
