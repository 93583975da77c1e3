"""Submissions are counted before they are graded: concurrent requests never pass the limits,
one user cannot have more than a few graded at once, and grading holds no database transaction."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from engine.sandbox import Call, CallOutcome, Limits, RunOutcome
from quiz import drills
from quiz.db import db
from quiz.models import GradingTicket, Submission
from tests.factories import api_token

CODE = "def relu(x):\n    return x\n"


class SlowSandbox:
    """Stand-in for the pool: takes `delay` seconds per run; notes what it saw meanwhile."""

    def __init__(
        self, delay: float, app: Flask | None = None, gate: threading.Event | None = None
    ) -> None:
        self.delay = delay
        self.app = app
        self.gate = gate  # when given, runs wait for it (at most `delay`) instead of sleeping
        self.lock = threading.Lock()
        self.running = 0
        self.most_running = 0
        self.transactions_seen: list[bool] = []
        self.writes_blocked: list[str] = []

    def run(
        self, source: str, function: str, calls: Sequence[Call], limits: Limits | None = None
    ) -> RunOutcome:
        with self.lock:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        try:
            self.transactions_seen.append(db.session().in_transaction())
            if self.app is not None:
                self._try_a_write()
            if self.gate is not None:
                self.gate.wait(timeout=self.delay)
            else:
                time.sleep(self.delay)
            return RunOutcome("ok", [CallOutcome("ok", value=None) for _ in calls])
        finally:
            with self.lock:
                self.running -= 1

    def _try_a_write(self) -> None:
        """Another connection can take SQLite's write lock at once: nothing is held open."""
        assert self.app is not None
        # The raw driver connection: SQLAlchemy's own BEGIN (quiz.db's begin event) would come
        # first and make ours a nested one.
        other = db.engine.raw_connection()
        try:
            driver = other.driver_connection
            assert driver is not None
            driver.execute("PRAGMA busy_timeout=0")
            try:
                driver.execute("BEGIN IMMEDIATE")
                driver.execute("ROLLBACK")
            except Exception as exc:
                self.writes_blocked.append(repr(exc))
        finally:
            other.close()


def _submit_concurrently(
    app: Flask, headers: dict[str, str], n: int, *, answered: Any = None
) -> list[Any]:
    barrier = threading.Barrier(n)
    responses: list[Any] = [None] * n
    lock = threading.Lock()

    def one(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(
            "/api/v1/drills/relu/submissions",
            json={"code": CODE, "mode": "run"},
            headers=headers,
        )
        with lock:
            responses[i] = response
            if answered is not None:
                answered(sum(r is not None for r in responses))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return responses


def test_concurrent_submissions_never_exceed_the_rate_limit(
    app: Flask, user: Any, session: Any
) -> None:
    app.config.update(
        SUBMISSION_RATE_PER_MINUTE=5,
        SUBMISSIONS_IN_FLIGHT_PER_USER=100,
        GRADER_MAX_WAITING=100,
        DRILL_SANDBOX=SlowSandbox(0.2),
    )
    headers = api_token(app.test_client())
    responses = _submit_concurrently(app, headers, 12)
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] * 5 + [429] * 7, codes
    assert {r.get_json()["verdict"] for r in responses if r.status_code == 201} == {"wrong_answer"}
    refused = next(r for r in responses if r.status_code == 429)
    assert "提交太频繁" in refused.get_json()["error"] and refused.headers["Retry-After"]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Submission)) == 5
    assert session.scalar(select(func.count()).select_from(GradingTicket)) == 0
    # Still full for the rest of the minute.
    again = app.test_client().post(
        "/api/v1/drills/relu/submissions", json={"code": CODE, "mode": "run"}, headers=headers
    )
    assert again.status_code == 429


@pytest.mark.parametrize("per_minute", [0, 1])
def test_a_rate_of_zero_turns_the_limit_off(
    app: Flask, user: Any, session: Any, per_minute: int
) -> None:
    """0 means no per-minute limit (as on the queue path), not "refuse everything"; 1 is one."""
    app.config.update(
        SUBMISSION_RATE_PER_MINUTE=per_minute,
        SUBMISSIONS_IN_FLIGHT_PER_USER=100,
        GRADER_MAX_WAITING=100,
        DRILL_SANDBOX=SlowSandbox(0.0),
    )
    headers = api_token(app.test_client())
    codes = [
        app.test_client()
        .post(
            "/api/v1/drills/relu/submissions", json={"code": CODE, "mode": "run"}, headers=headers
        )
        .status_code
        for _ in range(4)
    ]
    assert codes == ([201] * 4 if per_minute == 0 else [201, 429, 429, 429])


def test_a_user_has_at_most_two_submissions_in_grading(app: Flask, user: Any) -> None:
    # The admitted two are held until the other three are answered: on a loaded machine a
    # fixed grading time could end before the last request is counted (and then rightly admit).
    gate = threading.Event()
    sandbox = SlowSandbox(30.0, gate=gate)
    app.config.update(SUBMISSION_RATE_PER_MINUTE=100, GRADER_MAX_WAITING=100, DRILL_SANDBOX=sandbox)
    headers = api_token(app.test_client())
    responses = _submit_concurrently(
        app, headers, 5, answered=lambda done: done >= 3 and gate.set()
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 201, 429, 429, 429], codes
    assert sandbox.most_running <= 2
    refused = next(r for r in responses if r.status_code == 429)
    assert "2 个提交正在评测" in refused.get_json()["error"]
    assert "草稿" in refused.get_json()["error"]


def test_grading_holds_no_database_transaction(app: Flask, user: Any) -> None:
    sandbox = SlowSandbox(0.0, app)
    app.config["DRILL_SANDBOX"] = sandbox
    client = app.test_client()
    response = client.post(
        "/api/v1/drills/relu/submissions",
        json={"code": CODE, "mode": "run"},
        headers=api_token(client),
    )
    assert response.status_code == 201, response.get_json()
    assert sandbox.transactions_seen == [False]
    assert sandbox.writes_blocked == []


def test_request_threads_waiting_on_the_grader_are_bounded_and_shared_fairly(
    app: Flask, session: Any, user: Any
) -> None:
    """At most GRADER_MAX_WAITING threads wait on the grader; past half of them only users with
    nothing in grading get in, so one account cannot fill the gate for everyone (503 at once,
    code kept)."""
    from tests.factories import make_user

    make_user(session, "bob", "another password")
    sandbox = SlowSandbox(0.8)
    app.config.update(
        SUBMISSION_RATE_PER_MINUTE=100,
        SUBMISSIONS_IN_FLIGHT_PER_USER=100,
        GRADER_MAX_WAITING=4,
        DRILL_SANDBOX=sandbox,
    )
    alice = api_token(app.test_client())
    bob = api_token(app.test_client(), "bob", "another password")
    late: list[Any] = []

    def bob_submits() -> None:
        time.sleep(0.3)  # while alice's are being graded
        late.append(
            app.test_client().post(
                "/api/v1/drills/relu/submissions",
                json={"code": CODE, "mode": "run"},
                headers=bob,
            )
        )

    thread = threading.Thread(target=bob_submits)
    thread.start()
    responses = _submit_concurrently(app, alice, 4)
    thread.join()
    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 201, 503, 503], codes
    busy = next(r for r in responses if r.status_code == 503)
    assert "评测队列已满" in busy.get_json()["error"] and "草稿" in busy.get_json()["error"]
    assert late[0].status_code == 201, late[0].get_json()
    assert sandbox.most_running <= 3


def test_a_stale_ticket_stops_counting(session: Any, user: Any) -> None:
    """A worker that died mid-grading leaves a ticket; after TICKET_TTL it no longer counts."""
    from datetime import UTC, datetime

    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    session.add(GradingTicket(user_id=user.id, created_at=now - drills.TICKET_TTL))
    session.add(GradingTicket(user_id=user.id, created_at=now - drills.TICKET_TTL))
    session.commit()
    ticket = drills.open_ticket(session, user.id, now=now, per_minute=1, max_in_flight=1)
    assert ticket
    with pytest.raises(drills.DrillError) as refused:
        drills.open_ticket(session, user.id, now=now, per_minute=5, max_in_flight=1)
    assert refused.value.status == 429
