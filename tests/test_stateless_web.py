"""Two web processes behind one address behave as one: nothing that limits a user lives in a
process's memory.

Real gunicorn processes on loopback, sharing the database (SQLite file or PostgreSQL, whichever
pass this is) and a Redis for Flask-Limiter's counters; grading in each process's own pool. The
login throttle, the submissions-per-minute limit and the per-user in-flight cap must hold across
them. A control pair with per-process counters (memory://) shows what the test would catch.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from app import create_app
from tests import services
from tests.databases import DbTemplate

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server missing"),
]

LIMITS = {"SUBMISSION_RATE_PER_MINUTE": 3, "SUBMISSIONS_IN_FLIGHT_PER_USER": 1}
# Slow on purpose (two seconds in the sandbox, at import): it stays "in flight" meanwhile.
SLOW = (
    "import time\nimport numpy as np\ntime.sleep(2)\n\n\ndef softmax(x, axis=-1):\n"
    "    e = np.exp(x - x.max(axis=axis, keepdims=True))\n"
    "    return e / e.sum(axis=axis, keepdims=True)\n"
)
BROKEN = "def softmax(x, axis=-1):\n    return undefined_name\n"


def start_web(url: str, storage: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "stateless",  # every web process of a site shares it (README)
        "RATELIMIT_STORAGE_URI": storage,
        "GRADER_SLOTS": "1",
    }
    env.pop("GRADER_BROKER_URL", None)
    return services.start_web(env, log, app=f"app:create_app({LIMITS!r})")


@pytest.fixture
def site(synced_db_template: DbTemplate, tmp_path: Path) -> Iterator[dict[str, Any]]:
    url = synced_db_template.clone(tmp_path)
    redis = services.start_redis(tmp_path / "redis")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        webs = []
        for i, storage in enumerate([redis.url, redis.url, "memory://", "memory://"]):
            process, base = start_web(url, storage, tmp_path / f"web{i}.log")
            processes.append(process)
            webs.append(base)
        app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            from quiz.db import db
            from tests.factories import make_user

            for name in ("guessed", "control", "coder"):
                make_user(db.session, name, "right-password")
            db.session.remove()
            db.engine.dispose()
        yield {"url": url, "shared": webs[:2], "separate": webs[2:]}
    finally:
        for process in processes:
            services.stop(process, hard=True)
        redis.stop()


def login(base: str, username: str, password: str) -> int:
    body = {"username": username, "password": password}
    return services.call("POST", f"{base}/api/v1/tokens", body)[0]


def test_two_web_processes_share_every_per_user_limit(site: dict[str, Any]) -> None:
    a, b = site["shared"]
    # Login throttle (5 per 5 minutes per account and address): five wrong guesses spread
    # over both processes, and the account is closed on both, even to the right password.
    assert [login((a, b)[i % 2], "guessed", "wrong") for i in range(5)] == [401] * 5
    assert login(b, "guessed", "wrong") == 429
    assert login(a, "guessed", "right-password") == 429
    # The control: per-process counters let a guesser go on at the other process.
    c, d = site["separate"]
    assert [login(c, "control", "wrong") for _ in range(5)] == [401] * 5
    assert login(c, "control", "wrong") == 429
    assert login(d, "control", "wrong") == 401  # what sharing the counters prevents

    status, body = services.call(
        "POST", f"{b}/api/v1/tokens", {"username": "coder", "password": "right-password"}
    )
    assert status == 201, body
    token = body["token"]
    submit_url = "/api/v1/drills/softmax/submissions"

    def submit(base: str, code: str) -> tuple[int, Any]:
        return services.call("POST", base + submit_url, {"code": code, "mode": "run"}, token)

    # In flight (1 per user): while A grades the slow one, B refuses the next.
    slow: list[tuple[int, Any]] = []
    thread = threading.Thread(target=lambda: slow.append(submit(a, SLOW)))
    thread.start()
    engine = create_engine(site["url"])
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # A has counted it (its grading ticket is in)
            with engine.connect() as connection:
                if connection.execute(text("SELECT count(*) FROM grading_tickets")).scalar():
                    break
            time.sleep(0.05)
        status, body = submit(b, BROKEN)
        assert status == 429 and "正在评测" in body["error"], body
    finally:
        thread.join(60)
        engine.dispose()
    assert slow and slow[0][0] == 201, slow
    # Submissions per minute (3): one above, two more spread over both, then B refuses.
    assert submit(b, BROKEN)[0] == 201
    assert submit(a, BROKEN)[0] == 201
    status, body = submit(b, BROKEN)
    assert status == 429 and "提交太频繁" in body["error"], body


def test_a_scaled_out_site_counts_in_its_broker_redis_unless_told_otherwise(
    tmp_path: Path,
) -> None:
    from quiz.ratelimit import storage_uri

    def configured(**extra: Any) -> str:
        base = {"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/q.db"}
        return str(create_app({**base, **extra}).config["RATELIMIT_STORAGE_URI"])

    assert configured() == "memory://"  # make run: one process, nothing to share
    assert configured(GRADER_BROKER_URL="redis://10.0.0.5:6379/0") == "redis://10.0.0.5:6379/0"
    explicit = "redis://10.0.0.6:6379/2"
    assert configured(GRADER_BROKER_URL="redis://h/0", RATELIMIT_STORAGE_URI=explicit) == explicit
    assert storage_uri(None, "amqp://rabbit//") == "memory://"  # not a store Flask-Limiter shares
