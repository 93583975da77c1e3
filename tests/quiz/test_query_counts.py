"""SQL statements per request on the main pages and API calls: a change that adds one fails here.

Counted on the real SQLite file with SQLAlchemy's `before_cursor_execute` event, so every
round trip to the database counts, BEGIN and SAVEPOINT included. The budgets are exact: a
change that saves a query updates its line here, and one that adds a query has to say why.
Each request runs in its own app context (tests/conftest.py), so nothing cached in `g` by an
earlier request hides a query.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from quiz.db import db, utcnow
from quiz.models import Submission, Topic
from tests.databases import ON_POSTGRES
from tests.factories import api_token, login, make_user

# The budgets are SQLite's (quiz.db issues an explicit BEGIN there, one statement more than on
# PostgreSQL, where the driver begins implicitly): the PostgreSQL pass leaves them alone.
pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="statement budgets counted on SQLite")

# What each request costs today (see the module docstring).
BUDGETS = {
    # The study page, and its one request per answer: BEGIN, the user with their settings, the
    # answer (read card + state + settings, update, log; no savepoint: a refused answer rolls
    # the request's transaction back), then the next card (today's counts and the queue in one
    # statement, new cards only when no review is left, the card itself).
    # The first answer to a new card also creates its state row (read, then the insert in a
    # savepoint: 4 statements). The page's answer here is to a new card, the token's to a
    # card already studied.
    "GET /study": 6,
    "POST /api/v1/reviews (page, next)": 12,
    "POST /api/v1/reviews (token, next)": 8,
    "POST /api/v1/reviews/undo": 11,
    "GET /api/v1/reviews/next": 5,
    # BEGIN, the token with its user's settings, one grouped statement (counts per topic from
    # the states' own index: a state carries its card's topic and liveness).
    "GET /api/v1/topics": 3,
    "GET /progress": 11,
    "GET /api/v1/progress": 10,
    "GET /drills": 11,
    "GET /drills/relu": 13,
    "GET /api/v1/drills/relu/submissions": 3,
    # A finished submission answers as its POST did (issue 13: the drill page follows a queued
    # one here): with the learner's progress, the drill card and its state.
    "GET /api/v1/submissions/<id>": 6,
    "GET / (notes)": 5,
    "GET /topics/<path>": 5,
    "GET /cards": 7,
}


@contextmanager
def counted() -> Iterator[list[str]]:
    """Every statement sent to the database while the block runs."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(" ".join(statement.split())[:120])

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def check(name: str, statements: list[str]) -> None:
    listing = "\n".join(f"  {s}" for s in statements)
    assert len(statements) == BUDGETS[name], (
        f"{name}: {len(statements)} SQL statements, budget {BUDGETS[name]}:\n{listing}"
    )


@pytest.fixture
def studied(app: Flask, client: FlaskClient) -> dict[str, Any]:
    """Alice, logged in, who has answered a few cards; her bearer token; a submission."""
    user = make_user(db.session)
    assert login(client).status_code == 302
    headers = api_token(client)
    for _ in range(3):
        shown = client.get("/api/v1/reviews/next", headers=headers).get_json()
        answer = {"card_id": shown["card"]["id"], "rating": 3, "version": shown["version"]}
        assert client.post("/api/v1/reviews", json=answer, headers=headers).status_code == 201
    submission = Submission(
        user_id=user.id,
        drill_id="relu",
        mode="submit",
        code="def relu(x):\n    return x\n",
        verdict="wrong_answer",
        passed=1,
        total=6,
        time_ms=12.5,
        result={"message": "", "tests": []},
        created_at=utcnow() - timedelta(minutes=5),
    )
    db.session.add(submission)
    db.session.commit()
    path = db.session.scalar(select(Topic.path).where(Topic.retired.is_(False)))
    return {"headers": headers, "submission": submission.id, "path": path}


def _next(client: FlaskClient, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = client.get("/api/v1/reviews/next", headers=headers)
    assert response.status_code == 200
    return response.get_json()


def test_study_page_and_answers(client: FlaskClient, studied: dict[str, Any]) -> None:
    with counted() as statements:
        assert client.get("/study").status_code == 200
    check("GET /study", statements)

    shown = _next(client)
    body = {"card_id": shown["card"]["id"], "rating": 3, "version": shown["version"]}
    with counted() as statements:
        response = client.post("/api/v1/reviews", json={**body, "next": True})
    assert response.status_code == 201 and response.get_json()["next"] is not None
    check("POST /api/v1/reviews (page, next)", statements)

    with counted() as statements:
        assert client.post("/api/v1/reviews/undo", json={}).status_code == 200
    check("POST /api/v1/reviews/undo", statements)

    headers = studied["headers"]
    with counted() as statements:
        shown = _next(client, headers)
    check("GET /api/v1/reviews/next", statements)

    body = {"card_id": shown["card"]["id"], "rating": 4, "version": shown["version"]}
    with counted() as statements:
        response = client.post("/api/v1/reviews", json={**body, "next": True}, headers=headers)
    assert response.status_code == 201
    check("POST /api/v1/reviews (token, next)", statements)


def test_topics_and_notes(client: FlaskClient, studied: dict[str, Any]) -> None:
    with counted() as statements:
        response = client.get("/api/v1/topics", headers=studied["headers"])
    assert response.status_code == 200 and response.get_json()["topics"]
    check("GET /api/v1/topics", statements)

    for name, path in (
        ("GET / (notes)", "/"),
        ("GET /topics/<path>", f"/topics/{studied['path']}"),
        ("GET /cards", "/cards"),
    ):
        with counted() as statements:
            assert client.get(path).status_code == 200, path
        check(name, statements)


def test_progress(client: FlaskClient, studied: dict[str, Any]) -> None:
    with counted() as statements:
        assert client.get("/progress").status_code == 200
    check("GET /progress", statements)

    with counted() as statements:
        response = client.get("/api/v1/progress", headers=studied["headers"])
    assert response.status_code == 200 and response.get_json()["done_today"] == 3
    check("GET /api/v1/progress", statements)


def test_drills_and_submissions(client: FlaskClient, studied: dict[str, Any]) -> None:
    for name, path in (("GET /drills", "/drills"), ("GET /drills/relu", "/drills/relu")):
        with counted() as statements:
            assert client.get(path).status_code == 200, path
        check(name, statements)

    headers = studied["headers"]
    with counted() as statements:
        response = client.get("/api/v1/drills/relu/submissions", headers=headers)
    assert [s["id"] for s in response.get_json()["submissions"]] == [studied["submission"]]
    check("GET /api/v1/drills/relu/submissions", statements)

    with counted() as statements:
        response = client.get(f"/api/v1/submissions/{studied['submission']}", headers=headers)
    assert response.status_code == 200
    check("GET /api/v1/submissions/<id>", statements)
