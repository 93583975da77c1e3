"""Grading through Celery: a real Redis, a real worker process, the web app's API.

The web process here never runs a sandbox (GRADER_BROKER_URL is set); the worker grades in its
own warm pool and writes verdicts to the same database. One worker serves the module (starting
one costs seconds); each test has its own user, so tests stay independent.
"""

from __future__ import annotations

import gc
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app import create_app
from tests import services
from tests.databases import DbTemplate, drop
from tests.factories import NAIVE_SOFTMAX as NAIVE
from tests.factories import STABLE_SOFTMAX as STABLE
from tests.factories import login, make_user

pytestmark = [
    pytest.mark.skipif(
        shutil.which("redis-server") is None,
        reason="redis-server is not installed (make service-deps)",
    ),
    # Celery's Redis result store keeps one socket per app that close() does not release; in
    # production that is one connection for the life of the process, here a GC-time warning.
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
    ),
]


@pytest.fixture(scope="module")
def queue_env(
    synced_db_template: DbTemplate, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("queue")
    url = synced_db_template.clone(folder, per_test=False)
    redis = services.start_redis(folder / "redis")
    worker = None
    try:
        worker = services.start_worker(
            url,
            redis.url,
            folder / "worker.log",
            GRADER_SWEEP_SECONDS="1",
            GRADER_REQUEUE_AFTER="3",
        )
        yield {"url": url, "redis": redis, "worker": worker, "log": folder / "worker.log"}
    finally:
        if worker is not None:
            services.stop(worker)
        redis.stop()
        drop(url)


@pytest.fixture
def queue_app(queue_env: dict[str, Any]) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "queue-test",
            "WTF_CSRF_ENABLED": False,
            "SQLALCHEMY_DATABASE_URI": queue_env["url"],
            "GRADER_BROKER_URL": queue_env["redis"].url,
            "GRADER_WAIT_SECONDS": 20,  # a loaded test machine; the worker answers in ms
        }
    )
    app.before_request(_fresh_g)
    with app.app_context():
        yield app
        from quiz.db import db

        db.session.remove()
        db.engine.dispose()
    close_grading(app)


def _fresh_g() -> None:
    # One app context spans the test's requests: give each request a fresh `g`, as in production.
    for name in list(g):
        g.pop(name)


def close_grading(app: Flask) -> None:
    # Results still referenced unsubscribe while Redis is up, not in a later test's GC.
    gc.collect()
    backend = app.extensions.get("grading")
    if backend is not None and hasattr(backend, "close"):
        backend.close()


_users = iter(range(10**6))


@pytest.fixture
def learner(queue_app: Flask) -> tuple[FlaskClient, Any]:
    from quiz.db import db

    name = f"learner{next(_users)}"
    user = make_user(db.session, name, "queue-password")
    client = queue_app.test_client()
    assert login(client, name, "queue-password").status_code == 302
    return client, user.id


def post(client: FlaskClient, code: str, **body: Any) -> Any:
    return client.post(
        "/api/v1/drills/softmax/submissions", json={"code": code, "mode": "submit", **body}
    )


def wait_done(client: FlaskClient, submission_id: int, timeout: float = 30) -> dict[str, Any]:
    from quiz.db import db

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # The fixture's app context spans requests: end the session as a real request would.
        db.session.remove()
        body = client.get(f"/api/v1/submissions/{submission_id}").get_json()
        if body["status"] == "done":
            return body
        assert body["status"] in ("queued", "running")
        time.sleep(0.1)
    raise AssertionError(f"submission {submission_id} not graded in {timeout} s")


def hold_the_queue(app: Flask) -> list[int]:
    """Graders busy, deterministically: no wait, and the message held back until `release`
    (an idle worker could otherwise answer before the request looks)."""
    from quiz import grading

    app.config["GRADER_WAIT_SECONDS"] = 0
    close_grading(app)
    app.extensions["grading"] = None  # rebuilt with the new wait
    backend = grading.backend(app)
    held: list[int] = []
    backend.enqueue = held.append  # type: ignore[method-assign]
    return held


def release(app: Flask, held: list[int]) -> None:
    from quiz import grading

    backend = grading.backend(app)
    del backend.enqueue  # the class's own: the broker gets the messages now
    assert len(held) == 1
    for submission_id in held:
        backend.enqueue(submission_id)


def test_an_answer_graded_by_the_worker_comes_back_201_like_in_process(learner: Any) -> None:
    client, _ = learner
    response = post(client, STABLE)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "done" and body["verdict"] == "accepted" and body["first_solve"]
    assert body["review"]["scheduled"] and body["progress"]["solved"] and body["solution"]
    assert body["sandboxed"] is True and body["passed"] == body["total"] > 0


def test_a_slow_verdict_answers_202_and_the_status_endpoint_follows_it(
    queue_app: Flask, learner: Any
) -> None:
    client, _ = learner
    held = hold_the_queue(queue_app)
    response = post(client, NAIVE)
    assert response.status_code == 202
    release(queue_app, held)
    pending = response.get_json()
    assert pending["status"] in ("queued", "running") and pending["status_label"]
    assert response.headers["Location"] == f"/api/v1/submissions/{pending['id']}"
    done = wait_done(client, pending["id"])
    assert done["verdict"] == "wrong_answer" and done["progress"]["failed_submits"] == 1


def test_a_redelivered_job_changes_nothing(queue_app: Flask, learner: Any) -> None:
    from quiz import grading
    from quiz.db import db
    from quiz.models import DrillProgress, ReviewLog

    client, user_id = learner
    first = post(client, STABLE).get_json()
    assert first["verdict"] == "accepted"
    # The same message again, as Redis does after a visibility timeout.
    backend = grading.backend(queue_app)
    backend.celery.AsyncResult(grading.task_id(first["id"])).forget()  # wait for the new run
    backend.enqueue(first["id"])
    outcome = backend.celery.AsyncResult(grading.task_id(first["id"])).get(timeout=30)
    assert outcome == {"id": first["id"], "status": "done", "graded": False}
    db.session.expire_all()
    progress = db.session.scalar(select(DrillProgress).where(DrillProgress.user_id == user_id))
    reviews = db.session.scalar(
        select(func.count()).select_from(ReviewLog).where(ReviewLog.user_id == user_id)
    )
    assert (progress.submits, reviews) == (1, 1)


def test_a_submission_whose_message_was_lost_is_swept_up(queue_app: Flask, learner: Any) -> None:
    from datetime import timedelta

    from quiz import drills
    from quiz.db import db, utcnow

    client, user_id = learner
    # Recorded, never enqueued: what a broker restart between commit and enqueue leaves.
    lost = drills.new_submission(
        db.session, user_id, "softmax", STABLE, mode="submit", now=utcnow() - timedelta(seconds=5)
    )
    db.session.commit()
    done = wait_done(client, lost.id, timeout=60)
    assert done["verdict"] == "accepted" and done["first_solve"]


def test_each_learner_has_a_cap_on_unfinished_submissions(queue_app: Flask, learner: Any) -> None:
    from datetime import timedelta

    from quiz import drills
    from quiz.db import db, utcnow

    client, user_id = learner
    queue_app.config["GRADER_INFLIGHT_PER_USER"] = 2
    close_grading(queue_app)
    queue_app.extensions["grading"] = None
    for _ in range(2):  # recorded just now: the sweeper leaves them for a while
        drills.new_submission(
            db.session, user_id, "relu", "x", mode="run", now=utcnow() + timedelta(minutes=5)
        )
    db.session.commit()
    response = post(client, STABLE)
    assert response.status_code == 429 and "正在排队" in response.get_json()["error"]
    assert response.headers["Retry-After"]


def test_health_reports_the_broker_and_the_live_workers(queue_app: Flask) -> None:
    grader = queue_app.test_client().get("/healthz").get_json()["grader"]
    assert grader == {"backend": "celery", "broker": "ok", "workers": 1}


def test_health_says_so_when_the_broker_is_away(queue_env: dict[str, Any], tmp_path: Path) -> None:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": queue_env["url"],
            "GRADER_BROKER_URL": f"redis://127.0.0.1:{services.free_port()}/0",
        }
    )
    body = app.test_client().get("/healthz").get_json()
    assert body["grader"] == {"backend": "celery", "broker": "unreachable", "workers": 0}
    with app.app_context():
        from quiz.db import db

        db.engine.dispose()


class NoSandboxHere:
    """The web process must not grade when a broker is set: any call here fails the test."""

    def run(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the web process ran a sandbox")

    def session(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the web process ran a sandbox")


def test_mock_interview_drills_are_graded_by_the_worker_too(queue_app: Flask, learner: Any) -> None:
    from engine.drills import get_drill
    from quiz.db import db
    from quiz.models import InterviewItem

    client, _ = learner
    queue_app.config["DRILL_SANDBOX"] = NoSandboxHere()
    started = client.post("/api/v1/interviews", json={"minutes": 15})
    assert started.status_code == 201, started.get_json()
    body = started.get_json()
    iid, items = body["id"], body["items"]
    drill = next(i for i in items if i["kind"] == "drill")
    for item in items[: drill["index"]]:
        assert client.post(f"/api/v1/interviews/{iid}/items/{item['index']}", json={"skip": True})
    url = f"/api/v1/interviews/{iid}/items/{drill['index']}"
    d = get_drill(drill["drill_id"])
    # Graders "busy" (no wait at all): 202, the page follows the submission, and the worker
    # writes the verdict onto the interview item itself.
    held = hold_the_queue(queue_app)
    queued = client.post(url, json={"code": d.starter_code})
    assert queued.status_code == 202, queued.get_json()
    release(queue_app, held)
    pending = queued.get_json()["submission"]
    assert pending["status"] in ("queued", "running") and "verdict" not in pending
    done = wait_done(client, pending["id"])
    assert done["verdict"] != "accepted"
    db.session.remove()
    item = client.get(f"/api/v1/interviews/{iid}").get_json()["items"][drill["index"]]
    assert item["verdict"] == done["verdict"] and item["code"] == d.starter_code
    # In time: the verdict comes back in the answer, as in-process grading answers it.
    queue_app.config["GRADER_WAIT_SECONDS"] = 20
    close_grading(queue_app)
    queue_app.extensions["grading"] = None
    right = client.post(url, json={"code": d.solution_code})
    assert right.status_code == 200, right.get_json()
    answer = right.get_json()
    assert answer["submission"]["verdict"] == "accepted" and answer["verdict"] == "accepted"
    assert "solution" not in answer["submission"]
    db.session.remove()
    row = db.session.scalar(
        select(InterviewItem).where(
            InterviewItem.interview_id == iid, InterviewItem.position == drill["index"]
        )
    )
    assert (row.submits, row.failed_submits, row.status) == (2, 1, "answered")
    assert row.rating == 2  # solved here for the first time after one failure: 困难, once
