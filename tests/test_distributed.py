"""The scaled-out setup end to end: PostgreSQL, Redis, two web processes, two grader workers.

Every part is a separate process on loopback, started the way an operator would (gunicorn with
`app:create_app()`, `celery -A quiz.worker worker`). Learners submit at once through both web
processes while a worker is killed with SIGKILL, or while Redis restarts (losing every queued
message: no persistence). Afterwards every submission is final, and none was counted twice: the
database's bookkeeping and the workers' own logs agree.

Runs in `make test`'s PostgreSQL pass (TEST_DATABASE_URL) when redis-server is installed.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from app import create_app
from tests import services
from tests.databases import ON_POSTGRES, DbTemplate
from tests.factories import NAIVE_SOFTMAX as NAIVE
from tests.factories import STABLE_SOFTMAX as STABLE

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not ON_POSTGRES, reason="the distributed setup runs on PostgreSQL"),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server missing"),
]

USERS = 12
ROUNDS = 3  # submissions per learner: wrong, right, right again
SETTINGS = {
    "GRADER_WAIT_SECONDS": "2",  # short, so some answers come back 202 and are polled
    "GRADER_VISIBILITY_TIMEOUT": "8",  # a killed worker's job comes back after this
    "GRADER_REQUEUE_AFTER": "10",
    "GRADER_SWEEP_SECONDS": "1",
    "GRADER_INFLIGHT_PER_USER": "10",
}


def start_web(url: str, broker: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {**os.environ, "DATABASE_URL": url, "GRADER_BROKER_URL": broker, "SECRET_KEY": "e2e"}
    env.update(SETTINGS)
    return services.start_web(env, log, threads=16)


@pytest.fixture
def cluster(synced_db_template: DbTemplate, tmp_path: Path) -> Iterator[dict[str, Any]]:
    url = synced_db_template.clone(tmp_path)
    redis = services.start_redis(tmp_path / "redis")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        workers = [
            services.start_worker(url, redis.url, tmp_path / f"worker{i}.log", slots=1, **SETTINGS)
            for i in range(2)
        ]
        processes += workers
        webs = []
        for i in range(2):
            process, base = start_web(url, redis.url, tmp_path / f"web{i}.log")
            processes.append(process)
            webs.append(base)
        yield {"url": url, "redis": redis, "workers": workers, "webs": webs, "tmp": tmp_path}
    finally:
        for process in processes:
            services.stop(process, hard=True)
        redis.stop()


def make_learners(url: str, webs: list[str]) -> list[str]:
    """USERS accounts and their API tokens (tokens are asked for through the web processes)."""
    from quiz.db import db
    from tests.factories import make_user

    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        for i in range(USERS):
            make_user(db.session, f"learner{i}", "distributed-pass")
        db.session.remove()
        db.engine.dispose()
    tokens = []
    for i in range(USERS):
        status, body = services.call(
            "POST",
            f"{webs[i % 2]}/api/v1/tokens",
            {"username": f"learner{i}", "password": "distributed-pass"},
        )
        assert status == 201, body
        tokens.append(body["token"])
    return tokens


def learn(base: str, token: str, out: list[tuple[int, int]], errors: list[str]) -> None:
    """One learner: submit, follow each submission to its verdict, then the next."""
    for code in [NAIVE, STABLE, STABLE][:ROUNDS]:
        status, body = services.call(
            "POST",
            f"{base}/api/v1/drills/softmax/submissions",
            {"code": code, "mode": "submit"},
            token,
        )
        if status not in (201, 202):
            errors.append(f"POST {status} {body}")
            return
        out.append((body["id"], status))
        deadline = time.monotonic() + 120
        while body.get("status") != "done":
            if time.monotonic() > deadline:
                errors.append(f"submission {body['id']} never finished")
                return
            time.sleep(0.3)
            status, body = services.call(
                "GET", f"{base}/api/v1/submissions/{body['id']}", token=token
            )


def run_load(cluster: dict[str, Any], disturb: Any) -> list[tuple[int, int]]:
    tokens = make_learners(cluster["url"], cluster["webs"])
    submitted: list[tuple[int, int]] = []
    errors: list[str] = []
    threads = [
        threading.Thread(target=learn, args=(cluster["webs"][i % 2], tokens[i], submitted, errors))
        for i in range(USERS)
    ]
    for t in threads:
        t.start()
    disturb()
    for t in threads:
        t.join(300)
    assert not errors, errors
    assert len(submitted) == USERS * ROUNDS
    return submitted


def check_exactly_once(cluster: dict[str, Any], submitted: list[tuple[int, int]]) -> Counter:
    """Every submission final, each learner's counts right, each job graded in effect once."""
    engine = create_engine(cluster["url"])
    with engine.connect() as connection:
        statuses = dict(
            connection.execute(
                text("SELECT status, count(*) FROM submissions GROUP BY status")
            ).all()
        )
        assert statuses == {"done": USERS * ROUNDS}
        verdicts = Counter(
            dict(
                connection.execute(
                    text("SELECT verdict, count(*) FROM submissions GROUP BY verdict")
                ).all()
            )
        )
        progress = connection.execute(
            text("SELECT submits, failed_submits, attempts_to_first_accept FROM drill_progress")
        ).all()
        reviews = connection.execute(
            text("SELECT user_id, count(*) FROM review_logs GROUP BY user_id")
        ).all()
    engine.dispose()
    assert verdicts == Counter({"wrong_answer": USERS, "accepted": 2 * USERS})
    assert sorted(progress) == [(ROUNDS, 1, 2)] * USERS  # no count lost, none doubled
    assert sorted(count for _, count in reviews) == [1] * USERS  # one first-solve review each
    # The workers' own word: each submission's bookkeeping ran once, on one worker.
    graded: Counter = Counter()
    for log in cluster["tmp"].glob("worker*.log"):
        for sid in re.findall(r"submission (\d+) finished here", log.read_text()):
            graded[int(sid)] += 1
    assert set(graded) == {sid for sid, _ in submitted} and set(graded.values()) == {1}
    deliveries = sum(
        len(re.findall(r"grade_submission\[submission-\d+\] received", log.read_text()))
        for log in cluster["tmp"].glob("worker*.log")
    )
    print(f"\n{len(submitted)} submissions, {deliveries} deliveries to workers, ", end="")
    return Counter(status for _, status in submitted)


def test_a_worker_killed_mid_run_loses_nothing_and_doubles_nothing(
    cluster: dict[str, Any],
) -> None:
    victim = cluster["workers"][0]

    def kill_a_worker() -> None:
        log = cluster["tmp"] / "worker0.log"
        deadline = time.monotonic() + 60
        while b"received" not in log.read_bytes() and time.monotonic() < deadline:
            time.sleep(0.02)
        os.killpg(victim.pid, signal.SIGKILL)  # the worker and its sandbox runners, like a crash

    submitted = run_load(cluster, kill_a_worker)
    assert victim.wait(10) == -signal.SIGKILL
    statuses = check_exactly_once(cluster, submitted)
    print(f"kill -9: {len(submitted)} submissions, {dict(statuses)} at first answer, all final")


def test_a_redis_restart_under_load_loses_nothing_and_doubles_nothing(
    cluster: dict[str, Any],
) -> None:
    redis = cluster["redis"]

    def restart_redis() -> None:
        time.sleep(1.0)
        redis.stop()  # every queued message and stored result is gone (no persistence)
        time.sleep(2.0)
        redis.start()

    submitted = run_load(cluster, restart_redis)
    statuses = check_exactly_once(cluster, submitted)
    print(f"redis restart: {len(submitted)} submissions, {dict(statuses)} at first answer")
