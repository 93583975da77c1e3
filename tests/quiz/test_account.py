"""The account page: appearance (language, theme), password change, account deletion."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from quiz import accounts
from quiz.db import db, utcnow
from quiz.models import User
from tests.factories import api_token, login, make_user
from tests.factories.history import build_history, build_other_user, make_deck


def test_change_password_ends_other_sessions_and_keeps_this_one(
    app: Flask, session: Any, user: Any
) -> None:
    here, other, script = app.test_client(), app.test_client(), app.test_client()
    login(here)
    login(other)
    headers = api_token(script)
    wrong = here.post(
        "/account/password",
        data={"current": "nope-nope", "new": "brand new pass", "confirm": "brand new pass"},
    )
    assert wrong.status_code == 400 and "当前密码不正确" in wrong.get_data(as_text=True)
    ok = here.post(
        "/account/password",
        data={"current": "correct horse", "new": "brand new pass", "confirm": "brand new pass"},
    )
    assert ok.status_code == 302
    assert here.get("/cards").status_code == 200  # this browser stays signed in
    assert other.get("/cards").status_code == 302  # the other one is signed out
    assert script.get("/api/v1/topics", headers=headers).status_code == 401
    assert login(other, password="correct horse").status_code != 302
    assert login(other, password="brand new pass").status_code == 302


def test_short_new_password_is_refused_and_nothing_changes(auth_client: Any, user: Any) -> None:
    response = auth_client.post(
        "/account/password", data={"current": "correct horse", "new": "short", "confirm": "short"}
    )
    assert response.status_code == 400 and "密码至少 8 个字符" in response.get_data(as_text=True)
    assert auth_client.get("/cards").status_code == 200


@pytest.fixture
def history_session(empty_app: Flask) -> Any:
    return db.session


def _rows_of(session: Any, user_id: int) -> dict[str, int]:
    counts = {}
    for table in db.metadata.sorted_tables:
        if "user_id" in table.c:
            counts[table.name] = session.scalar(
                select(func.count()).select_from(table).where(table.c.user_id == user_id)
            )
    return counts


def test_delete_account_removes_every_row_of_that_user_only(
    empty_app: Flask, history_session: Any
) -> None:
    session = history_session
    deck = make_deck(session)
    alice = build_history(session, deck)
    bob = build_other_user(session, deck)
    accounts.issue_token(session, alice, now=utcnow(), days=30)
    session.commit()
    alice_id = alice.id  # the request deletes the row: the ORM object cannot be read after it
    before = _rows_of(session, alice_id)
    for table in ("card_states", "review_logs", "submissions", "drafts", "drill_progress"):
        assert before[table] > 0, table
    assert before["api_tokens"] == 1 and before["user_settings"] == 1
    bob_before = _rows_of(session, bob.id)

    client = empty_app.test_client()
    login(client, "alice")
    page = client.get("/account/delete").get_data(as_text=True)
    assert "/progress/backup.json" in page  # the export is offered first
    refused = client.post("/account/delete", data={"password": "wrong password"})
    assert refused.status_code == 400 and _rows_of(session, alice_id) == before
    done = client.post("/account/delete", data={"password": "correct horse"})
    assert done.status_code == 302

    session.expire_all()
    assert set(_rows_of(session, alice_id).values()) == {0}
    assert session.scalar(select(User).where(User.username == "alice")) is None
    assert _rows_of(session, bob.id) == bob_before  # nobody else loses anything
    assert client.get("/cards").status_code == 302  # signed out
    assert login(client, "alice").status_code != 302
    # the name is free again
    assert make_user(session, "alice").id != alice_id


def test_theme_and_language_are_stored_in_settings(
    auth_client: Any, session: Any, user: Any
) -> None:
    html = auth_client.get("/settings").get_data(as_text=True)
    assert "data-theme" not in html.split(">", 2)[1]  # system: no override
    auth_client.post("/settings/appearance", data={"locale": "en", "theme": "dark"})
    html = auth_client.get("/settings", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="en" data-theme="dark">' in html
    auth_client.post("/settings/appearance", data={"locale": "", "theme": "light"})
    html = auth_client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="zh-CN" data-theme="light">' in html
    bad = auth_client.post("/settings/appearance", data={"locale": "xx", "theme": "neon"})
    assert bad.status_code == 302
    assert 'data-theme="light"' in auth_client.get("/").get_data(as_text=True)
