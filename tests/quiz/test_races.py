"""Races against a real threaded HTTP server on a file SQLite database: sign-ups, login
throttling, double imports, answer and undo. Threads start together at a barrier; every
response must be a deliberate answer (never a 5xx), and the database must stay consistent."""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from werkzeug.serving import WSGIRequestHandler, make_server

from app import create_app
from tests.conftest import _config

RACES = Counter[str]()


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class Server:
    port: int
    db_url: str

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, Any]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            payload = response.read()
        finally:
            connection.close()
        parsed = json.loads(payload) if payload and payload[:1] in (b"{", b"[") else payload
        return response.status, parsed

    def sql(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        """Run `query` ("?" placeholders) on the server's database, SQLite or PostgreSQL."""
        parts = query.split("?")
        named = "".join(f"{part}:p{i}" for i, part in enumerate(parts[:-1])) + parts[-1]
        engine = create_engine(self.db_url)
        try:
            with engine.connect() as connection:
                rows = connection.execute(text(named), {f"p{i}": a for i, a in enumerate(args)})
                return [tuple(row) for row in rows]
        finally:
            engine.dispose()

    def token(self, username: str, password: str = "password-1") -> str:
        status, body = self.call(
            "POST", "/api/v1/users", {"username": username, "password": password}
        )
        assert status == 201, body
        status, body = self.call(
            "POST", "/api/v1/tokens", {"username": username, "password": password}
        )
        assert status == 201, body
        return str(body["token"])


@pytest.fixture
def server(synced_db_template: Any, tmp_path: Path) -> Iterator[Server]:
    url = synced_db_template.clone(tmp_path, "race")
    app = create_app(_config(url, SIGNUP_RATE_LIMIT="10000 per hour", FSRS_FUZZ=False))
    httpd = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(httpd.server_port, url)
    finally:
        httpd.shutdown()
        thread.join(10)
        with app.app_context():
            from quiz.db import db

            db.engine.dispose()


def together(calls: list[Callable[[], tuple[int, Any]]]) -> list[tuple[int, Any]]:
    """Run the calls in threads released at once by a barrier; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], tuple[int, Any]]) -> None:
        barrier.wait()
        try:
            results[i] = call()
        except Exception as error:
            results[i] = (-1, repr(error))

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    RACES["requests"] += len(calls)
    assert all(status < 500 and status != -1 for status, _ in results), results
    return results


def test_concurrent_sign_ups_of_one_name_give_one_201_and_409s(server: Server) -> None:
    names = ["alice", "Bob", "carol", "dave", "erin", "frank"]
    calls = [
        (
            lambda n=variant: server.call(
                "POST", "/api/v1/users", {"username": n, "password": "password-1"}
            )
        )
        for name in names
        for variant in (name, name.upper(), name.lower(), name.title(), name) * 3
    ]
    results = together(calls)
    RACES["races"] += 1
    assert len(results) == 90
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 6, 409: 84}, statuses
    assert server.sql("SELECT count(*) FROM users")[0][0] == 6


def test_forty_simultaneous_guesses_get_exactly_five_checks(server: Server) -> None:
    server.token("alice")
    server.token("bob")
    guesses = [
        (
            lambda: server.call(
                "POST", "/api/v1/tokens", {"username": "alice", "password": "guess-guess"}
            )
        )
        for _ in range(40)
    ]
    # Bob logs in correctly from the same address meanwhile.
    bob = [
        (
            lambda: server.call(
                "POST", "/api/v1/tokens", {"username": "bob", "password": "password-1"}
            )
        )
        for _ in range(4)
    ]
    results = together(guesses + bob)
    RACES["races"] += 1
    guess_statuses = Counter(status for status, _ in results[:40])
    assert guess_statuses == {401: 5, 429: 35}, guess_statuses
    assert all(status == 201 for status, _ in results[40:]), results[40:]
    assert all(isinstance(body, dict) and "error" in body for _, body in results[:40])


def _history(server: Server, token: str, answers: int) -> None:
    for _ in range(answers):
        status, shown = server.call("GET", "/api/v1/reviews/next", token=token)
        assert status == 200
        body = {"card_id": shown["card"]["id"], "rating": 3, "version": shown["version"]}
        assert server.call("POST", "/api/v1/reviews", body, token=token)[0] == 201


def test_the_same_backup_imported_twice_at_once_lands_once(server: Server) -> None:
    source = server.token("source")
    _history(server, source, 6)
    status, backup = server.call("GET", "/api/v1/progress/backup", token=source)
    assert status == 200 and len(backup["review_logs"]) == 6
    target = server.token("target")
    raw = json.dumps(backup).encode()
    results = together(
        [lambda: server.call("POST", "/api/v1/progress/backup", raw=raw, token=target)] * 4
    )
    RACES["races"] += 1
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 1, 409: 3}, results
    user_id = server.sql("SELECT id FROM users WHERE username = 'target'")[0][0]
    assert server.sql("SELECT count(*) FROM review_logs WHERE user_id = ?", user_id)[0][0] == 6
    # The account is usable after the import.
    assert server.call("GET", "/api/v1/reviews/next", token=target)[0] in (200, 204)
    assert server.call("GET", "/api/v1/progress", token=target)[0] == 200
    assert server.call("POST", "/api/v1/reviews/undo", token=target)[0] in (200, 404, 409)


def test_concurrent_answers_and_undos_apply_once(server: Server) -> None:
    token = server.token("alice")
    status, shown = server.call("GET", "/api/v1/reviews/next", token=token)
    card_id, version = shown["card"]["id"], shown["version"]
    body = {"card_id": card_id, "rating": 3, "version": version}
    answers = together([lambda: server.call("POST", "/api/v1/reviews", body, token=token)] * 8)
    RACES["races"] += 1
    assert Counter(s for s, _ in answers) == {201: 1, 409: 7}, answers
    assert server.sql("SELECT count(*) FROM review_logs")[0][0] == 1
    # The same answer retried with one request id from many tabs: recorded once.
    _, shown = server.call("GET", "/api/v1/reviews/next", token=token)
    retry = {
        "card_id": shown["card"]["id"],
        "rating": 2,
        "request_id": "tab-retry",
        "version": shown["version"],
    }
    retries = together([lambda: server.call("POST", "/api/v1/reviews", retry, token=token)] * 6)
    RACES["races"] += 1
    assert {s for s, _ in retries} == {201}
    assert len({json.dumps(b, sort_keys=True) for _, b in retries}) == 1  # one recorded answer
    assert server.sql("SELECT count(*) FROM review_logs")[0][0] == 2
    undos = together([lambda: server.call("POST", "/api/v1/reviews/undo", token=token)] * 6)
    RACES["races"] += 1
    statuses = Counter(s for s, _ in undos)
    assert statuses[200] == 2 and sum(statuses.values()) == 6, undos  # two answers to undo
    assert set(statuses) <= {200, 404, 409}
    assert server.sql("SELECT count(*) FROM review_logs")[0][0] == 0
    states = server.sql("SELECT reps, version FROM card_states")
    assert all(reps == 0 for reps, _ in states), states


def test_race_totals_are_reported(capsys: pytest.CaptureFixture[str]) -> None:
    # Printed for the numbers (run with -s); the races above ran in this session.
    with capsys.disabled():
        print(f"\nraces run: {RACES['races']}, racing requests: {RACES['requests']}")
