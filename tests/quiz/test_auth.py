"""Accounts: registration, login, CSRF, throttling, session cookies and per-user isolation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from tests.factories import login, make_user


def test_register_logs_in_and_hashes_password(client: FlaskClient, session) -> None:
    from quiz.models import User

    response = client.post(
        "/register", data={"username": "bob", "password": "s3cret-pass", "confirm": "s3cret-pass"}
    )
    assert response.status_code == 302
    user = session.query(User).filter_by(username="bob").one()
    assert user.password_hash.startswith("scrypt:")
    assert "s3cret-pass" not in user.password_hash
    assert "bob" in client.get("/").get_data(as_text=True)


def test_register_rejects_duplicate_and_mismatch(client: FlaskClient, user) -> None:
    response = client.post(
        "/register", data={"username": "alice", "password": "whatever1", "confirm": "whatever1"}
    )
    assert response.status_code == 400
    assert "该用户名已被注册" in response.get_data(as_text=True)
    response = client.post(
        "/register", data={"username": "carol", "password": "whatever1", "confirm": "whatever2"}
    )
    assert "两次输入的密码不一致" in response.get_data(as_text=True)


def test_wrong_password_is_refused(client: FlaskClient, user) -> None:
    response = login(client, password="wrong password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/cards").status_code == 302  # still logged out


def test_failed_logins_are_rate_limited(client: FlaskClient, user) -> None:
    for _ in range(5):
        assert login(client, password="nope-nope").status_code == 401
    response = login(client)  # even the right password waits now
    assert response.status_code == 429
    assert "登录失败次数过多" in response.get_data(as_text=True)


def test_logout_requires_post_and_ends_session(auth_client: FlaskClient) -> None:
    assert auth_client.get("/logout").status_code == 405
    assert auth_client.post("/logout").status_code == 302
    assert auth_client.get("/cards").status_code == 302


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "/%5Cevil.example", "/%09/evil.example", "https://evil.example"]
)
def test_open_redirect_is_refused(client: FlaskClient, user, target: str) -> None:
    response = client.post(
        f"/login?next={target}", data={"username": "alice", "password": "correct horse"}
    )
    assert response.headers["Location"] == "/"


def test_login_returns_to_a_local_page(client: FlaskClient, user) -> None:
    response = client.post(
        "/login?next=/cards?q=x", data={"username": "alice", "password": "correct horse"}
    )
    assert response.headers["Location"] == "/cards?q=x"


def test_session_cookie_flags(client: FlaskClient, user) -> None:
    response = login(client)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_csrf_missing_is_refused(synced_db_template: Any, tmp_path: Path) -> None:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "k",
            "SQLALCHEMY_DATABASE_URI": synced_db_template.clone(tmp_path),
        }
    )
    with app.app_context():
        from quiz.db import db

        make_user(db.session)
        client = app.test_client()
        response = client.post("/login", data={"username": "alice", "password": "correct horse"})
        assert response.status_code == 400
        assert "安全令牌" in response.get_data(as_text=True)
        # The same form with its token works.
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert token is not None
        response = client.post(
            "/login",
            data={"username": "alice", "password": "correct horse", "csrf_token": token.group(1)},
        )
        assert response.status_code == 302
        # Cookie-authenticated API writes need the token too; bearer tokens do not.
        assert client.post("/api/v1/tokens", json={}).status_code == 400
        db.session.remove()
        db.engine.dispose()


def test_secret_key_is_generated_once_never_fixed(tmp_path: Path, monkeypatch) -> None:
    import app as app_module

    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = app_module._secret_key(tmp_path)
    assert len(first) == 64 and first == app_module._secret_key(tmp_path)
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert app_module._secret_key(tmp_path / "other") != first


def test_debugger_refused_outside_development(monkeypatch) -> None:
    import pytest

    monkeypatch.delenv("QUIZ_ENV", raising=False)
    with pytest.raises(RuntimeError):
        create_app({"DEBUG": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_security_headers(client: FlaskClient) -> None:
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]


def test_card_browser_shows_only_own_state(app: Flask, client: FlaskClient, session) -> None:
    from sqlalchemy import select

    from quiz.models import Card, CardState

    alice = make_user(session, "alice")
    make_user(session, "bobby")
    card = session.scalars(select(Card).where(Card.kind == "question")).first()
    session.add(CardState(user_id=alice.id, card_id=card.id, suspended=True))
    session.commit()
    login(client, "alice")
    assert "已暂停" in client.get("/cards?state=suspended").get_data(as_text=True)
    client.post("/logout")
    login(client, "bobby")
    page = client.get("/cards?state=suspended").get_data(as_text=True)
    assert "没有匹配的卡片" in page


def test_bumping_session_version_ends_existing_sessions(
    auth_client: FlaskClient, session, user
) -> None:
    assert auth_client.get("/cards").status_code == 200
    user.session_version += 1
    session.commit()
    assert auth_client.get("/cards").status_code == 302


def test_logout_everywhere_ends_other_sessions_and_tokens(app: Flask, session, user) -> None:
    from tests.factories import api_token

    phone, laptop, script = app.test_client(), app.test_client(), app.test_client()
    login(phone)
    login(laptop)
    headers = api_token(script)
    assert script.get("/api/v1/topics", headers=headers).status_code == 200
    assert laptop.post("/logout-everywhere").status_code == 302
    assert phone.get("/cards").status_code == 302  # the other browser is logged out too
    assert script.get("/api/v1/topics", headers=headers).status_code == 401
    assert login(phone).status_code == 302  # the password still works


def test_revoke_current_token(client: FlaskClient, user) -> None:
    from tests.factories import api_token

    headers = api_token(client)
    other = api_token(client)
    assert client.delete("/api/v1/tokens/current", headers=headers).status_code == 204
    assert client.get("/api/v1/topics", headers=headers).status_code == 401
    assert client.get("/api/v1/topics", headers=other).status_code == 200
