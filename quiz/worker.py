"""The grader worker: `celery -A quiz.worker worker` (see `make worker` and README "Scaling out").

Reads DATABASE_URL and GRADER_BROKER_URL from the environment like the web app. Each worker
process holds one warm sandbox pool; its Celery threads (one per sandbox slot) take one job at a
time, grade it outside any database transaction and write the verdict. A thread sweeps for
submissions a lost message left behind (quiz.grading.sweep).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from celery import signals

from app import ROOT, create_app
from engine.grader import grade
from engine.sandbox import QueueFull, doctor_report
from quiz import grading
from quiz.db import db, utcnow
from quiz.drills import QUEUED, RUNNING

if TYPE_CHECKING:
    from engine.grader import Mode

log = logging.getLogger(__name__)

# Celery puts the working directory on sys.path as "" (relative); pin the checkout so modules
# imported lazily during a job are still found whatever the current directory is by then.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

flask_app = create_app()
# Every job's transactions write: on SQLite take the write lock at BEGIN (quiz.db).
flask_app.config["SQLITE_BEGIN_IMMEDIATE"] = True
if not flask_app.config.get("GRADER_BROKER_URL"):
    raise SystemExit("GRADER_BROKER_URL is not set: the worker needs a broker (e.g. redis://…).")
celery = grading.make_celery(flask_app)
# The worker's own sandbox: its warm pool, or a local grader service (GRADER_SOCKET) when the
# worker runs unprivileged beside one (quiz.grading decides, as in the web process).
sandbox: Any = grading.local_sandbox(flask_app.config.get("GRADER_SOCKET"))


@celery.task(name=grading.TASK_NAME, bind=True)  # type: ignore[untyped-decorator]  # celery has no types
def grade_submission(self: Any, submission_id: int) -> dict[str, Any]:
    """Grade one submission; safe to run again for the same id (redelivery)."""
    return run_job(submission_id)


def run_job(submission_id: int) -> dict[str, Any]:
    config = flask_app.config
    with flask_app.app_context():
        session = db.session()
        try:
            job = grading.claim(session, submission_id)
            session.commit()
            if job is None:
                return {"id": submission_id, "status": "done", "graded": False}
            if job.attempts > int(config["GRADER_MAX_ATTEMPTS"]):
                result = grading.gave_up_result(job.drill_id, job.mode, job.attempts - 1)
            else:
                # No transaction is open while the sandbox runs: the claim was committed above.
                try:
                    result = grade(
                        job.drill_id,
                        job.code,
                        mode=cast("Mode", job.mode),  # "run" or "submit", as the API checked
                        sandbox=sandbox,
                        lang=job.lang,
                    ).to_dict()
                except QueueFull:
                    # More jobs than slots (should not happen with prefetch 1): try again soon.
                    _unclaim(submission_id)
                    raise
            graded = grading.finish(session, submission_id, result, now=utcnow())
            session.commit()
            if graded:  # operators (and the distributed test) count these: one per submission
                log.info("submission %s finished here: %s", submission_id, result.get("verdict"))
            return {"id": submission_id, "status": "done", "graded": graded}
        finally:
            db.session.remove()


def _unclaim(submission_id: int) -> None:
    from sqlalchemy import update

    from quiz.models import Submission

    session = db.session()
    session.execute(
        update(Submission)
        .where(Submission.id == submission_id, Submission.status == RUNNING)
        .values(status=QUEUED, attempts=Submission.attempts - 1)
    )
    session.commit()


def sweep_once() -> grading.SweepReport:
    config = flask_app.config
    with flask_app.app_context():
        try:
            return grading.sweep(
                db.session(),
                now=utcnow(),
                older_than=timedelta(seconds=float(config["GRADER_REQUEUE_AFTER"])),
                max_attempts=int(config["GRADER_MAX_ATTEMPTS"]),
                enqueue=_enqueue,
            )
        finally:
            db.session.remove()


def _enqueue(submission_id: int) -> None:
    celery.send_task(
        grading.TASK_NAME,
        args=[submission_id],
        task_id=grading.task_id(submission_id),
        queue=grading.QUEUE_NAME,
    )


def _sweep_forever(stop: threading.Event) -> None:
    interval = float(flask_app.config["GRADER_SWEEP_SECONDS"])
    while not stop.wait(interval):
        try:
            report = sweep_once()
            if report.requeued or report.failed:
                log.warning("sweeper: re-enqueued %s, gave up %s", report.requeued, report.failed)
        except Exception:  # the database or broker is away: try again next round
            log.exception("sweeper round failed")


_stop = threading.Event()


@signals.worker_ready.connect  # type: ignore[untyped-decorator]  # celery has no types
def _start_sweeper(**_: Any) -> None:
    threading.Thread(target=_sweep_forever, args=(_stop,), name="sweeper", daemon=True).start()


@signals.worker_shutdown.connect  # type: ignore[untyped-decorator]  # celery has no types
def _stop_sweeper(**_: Any) -> None:
    _stop.set()


@signals.worker_init.connect  # type: ignore[untyped-decorator]  # celery has no types
def _warm_sandbox(**_: Any) -> None:
    """Start the runner pool before the first job, so no learner waits for the warm-up."""
    started = time.monotonic()
    doctor_report(sandbox)  # the start-up probe (the service's when GRADER_SOCKET is set)
    log.info("sandbox pool ready in %.2f s", time.monotonic() - started)
