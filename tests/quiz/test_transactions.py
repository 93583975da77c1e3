"""One transaction per request, and SAVEPOINTs that really discard on SQLite."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text

from quiz import drills
from quiz.db import db, utcnow
from quiz.models import ApiToken, Draft
from tests.databases import ON_POSTGRES
from tests.factories import api_token

DRILL = "softmax"


def _drafts_on_disk(app: Flask) -> list[tuple[str, str]]:
    """What another connection sees: only committed rows."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])  # SQLite or PostgreSQL
    try:
        with engine.connect() as other:
            rows = other.execute(text("SELECT drill_id, code FROM drafts ORDER BY drill_id"))
            return [tuple(row) for row in rows]
    finally:
        engine.dispose()


def test_save_then_rollback_of_a_savepoint_discards_the_draft(app: Flask, user: Any) -> None:
    session = db.session
    savepoint = session.begin_nested()
    drills.save_draft(session, user.id, DRILL, "x = 1", now=utcnow())
    savepoint.rollback()
    assert session.scalars(select(Draft)).all() == []
    session.commit()
    assert _drafts_on_disk(app) == []


def test_savepoint_rollback_keeps_the_outer_transactions_work(app: Flask, user: Any) -> None:
    session = db.session
    drills.save_draft(session, user.id, DRILL, "kept", now=utcnow())
    savepoint = session.begin_nested()
    drills.save_draft(session, user.id, "relu", "discarded", now=utcnow())
    savepoint.rollback()
    assert _drafts_on_disk(app) == []  # nothing is visible before the commit
    session.commit()
    assert _drafts_on_disk(app) == [(DRILL, "kept")]


def test_outer_rollback_discards_a_released_savepoint(app: Flask, user: Any) -> None:
    session = db.session
    with session.begin_nested():
        drills.save_draft(session, user.id, DRILL, "x = 1", now=utcnow())
    session.rollback()
    assert _drafts_on_disk(app) == []


def test_a_writing_request_commits_once_after_the_view(
    app: Flask, auth_client: FlaskClient
) -> None:
    response = auth_client.put(f"/api/v1/drills/{DRILL}/draft", json={"code": "y = 2"})
    assert response.status_code == 200
    assert _drafts_on_disk(app) == [(DRILL, "y = 2")]


def test_a_refused_request_leaves_nothing_behind(app: Flask, auth_client: FlaskClient) -> None:
    # The draft write happens before the refusal of the bad rating: it must be rolled back.
    auth_client.put(f"/api/v1/drills/{DRILL}/draft", json={"code": "before"})
    response = auth_client.post(f"/api/v1/drills/{DRILL}/rating", json={"rating": 9})
    assert response.status_code == 400
    assert response.is_json and "评分" in response.get_json()["error"]
    assert _drafts_on_disk(app) == [(DRILL, "before")]


def test_get_requests_do_not_write(app: Flask, client: FlaskClient, user: Any) -> None:
    headers = api_token(client)
    db.session.execute(ApiToken.__table__.update().values(last_used_at=None))
    db.session.commit()
    assert client.get("/api/v1/reviews/next", headers=headers).status_code in (200, 204)
    assert client.get("/api/v1/progress", headers=headers).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken.last_used_at)) is None
    # A writing request refreshes it.
    client.put(f"/api/v1/drills/{DRILL}/draft", json={"code": "z"}, headers=headers)
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken.last_used_at)) is not None


@pytest.mark.skipif(
    ON_POSTGRES, reason="quiz.db's writer queue exists only on SQLite (BEGIN IMMEDIATE)"
)
def test_the_writer_queue_is_released_after_every_request(
    app: Flask, auth_client: FlaskClient
) -> None:
    from quiz.db import _writer_lock

    writers = _writers_file_of(app)

    def queue_is_free() -> bool:
        # Another open file description: flock() conflicts with it even within one process.
        fd = os.open(writers, os.O_RDONLY | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        finally:
            os.close(fd)  # also drops the lock just taken
        return not _writer_lock.locked()

    auth_client.put(f"/api/v1/drills/{DRILL}/draft", json={"code": "ok"})  # committed
    assert queue_is_free()
    auth_client.post(f"/api/v1/drills/{DRILL}/rating", json={"rating": 9})  # refused
    assert queue_is_free()
    auth_client.post("/api/v1/reviews", data=b"[" * 100, content_type="application/json")
    assert queue_is_free()
    with app.test_request_context("/x", method="POST"):  # a writer that never commits
        db.session.execute(ApiToken.__table__.select())
        assert _writer_lock.locked()
        assert not queue_is_free()
        db.session.remove()
    assert queue_is_free()


def _writers_file_of(app: Flask) -> str:
    with app.app_context():
        database = db.engine.url.database
    assert database
    return database + "-writers"


@pytest.mark.skipif(
    ON_POSTGRES, reason="quiz.db's writer queue exists only on SQLite (BEGIN IMMEDIATE)"
)
def test_a_writer_waits_for_the_writers_of_other_processes(
    app: Flask, auth_client: FlaskClient
) -> None:
    """Another worker process in the middle of a write holds the writers file: this process's
    writer waits in line for it (woken when it is released) instead of racing SQLite's lock."""
    auth_client.put(f"/api/v1/drills/{DRILL}/draft", json={"code": "before"})
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_WRITERS_FILE, _writers_file_of(app)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdin is not None and holder.stdout is not None
        assert holder.stdout.readline() == "holding\n"
        saved: list[int] = []
        writer = threading.Thread(
            target=lambda: saved.append(
                auth_client.put(f"/api/v1/drills/{DRILL}/draft", json={"code": "after"}).status_code
            )
        )
        writer.start()
        try:
            writer.join(0.5)
            assert writer.is_alive(), "the writer did not wait for the other process"
            assert _drafts_on_disk(app) == [(DRILL, "before")]
        finally:
            holder.stdin.close()  # the other process ends its write
            writer.join(10)
        assert saved == [200]
        assert _drafts_on_disk(app) == [(DRILL, "after")]


HOLD_THE_WRITERS_FILE = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
print("holding", flush=True)
sys.stdin.read()
"""
