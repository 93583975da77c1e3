"""One transaction per request, and SAVEPOINTs that really discard on SQLite."""

from __future__ import annotations

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

    auth_client.put(f"/api/v1/drills/{DRILL}/draft", json={"code": "ok"})  # committed
    assert not _writer_lock.locked()
    auth_client.post(f"/api/v1/drills/{DRILL}/rating", json={"rating": 9})  # refused
    assert not _writer_lock.locked()
    auth_client.post("/api/v1/reviews", data=b"[" * 100, content_type="application/json")
    assert not _writer_lock.locked()
    with app.test_request_context("/x", method="POST"):  # a writer that never commits
        db.session.execute(ApiToken.__table__.select())
        assert _writer_lock.locked()
        db.session.remove()
    assert not _writer_lock.locked()
