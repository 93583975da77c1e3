"""Accounts under hostile or unlucky use: case variants, throttling that spares the innocent,
logged-out cookies, token expiry and the token list, the Secure cookie option."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app import create_app
from quiz.db import db, utcnow
from quiz.models import ApiToken, User
from tests.factories import api_token, login, make_user


def _login_from(client: FlaskClient, address: str, username: str, password: str) -> Any:
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_usernames_are_unique_whatever_their_case(client: FlaskClient, user: Any) -> None:
    for name in ("ALICE", "Alice", " alice "):
        response = client.post("/api/v1/users", json={"username": name, "password": "x" * 10})
        assert response.status_code == 409 and "不区分大小写" in response.get_json()["error"]
    assert db.session.scalar(select(db.func.count()).select_from(User)) == 1
    # Whatever the case typed at login, it is the one account.
    assert login(client, "ALICE").status_code == 302


def test_five_wrong_passwords_do_not_lock_out_other_accounts_on_the_address(
    app: Flask, session: Any, user: Any
) -> None:
    make_user(session, "bob", "bob-password")
    attacker, bob = app.test_client(), app.test_client()
    for _ in range(5):
        assert _login_from(attacker, "10.0.0.1", "alice", "wrong-guess").status_code == 401
    blocked = _login_from(attacker, "10.0.0.1", "alice", "correct horse")
    assert blocked.status_code == 429 and "Retry-After" in blocked.headers
    # Bob, behind the same address (a proxy, an office), logs in with his correct password.
    assert _login_from(bob, "10.0.0.1", "bob", "bob-password").status_code == 302
    # Alice herself, from her own address, is not locked out by the attacker either.
    assert _login_from(app.test_client(), "10.0.0.2", "alice", "correct horse").status_code == 302


def test_a_success_forgets_the_accounts_failures(app: Flask, user: Any) -> None:
    client = app.test_client()
    for _ in range(4):
        _login_from(client, "10.0.0.3", "alice", "typo-typo")
    assert _login_from(client, "10.0.0.3", "alice", "correct horse").status_code == 302
    for _ in range(4):  # a fresh allowance after the success
        assert _login_from(app.test_client(), "10.0.0.3", "alice", "typo").status_code == 401


def test_an_address_sweeping_many_names_is_capped(synced_db_template: Any, tmp_path: Any) -> None:
    from tests.conftest import _config

    app = create_app(
        _config(synced_db_template.clone(tmp_path), LOGIN_ADDRESS_RATE_LIMIT="6 per 15 minutes")
    )
    with app.app_context():
        make_user(db.session, "carol", "carol-password")
        client = app.test_client()
        for n in range(6):
            assert _login_from(client, "10.9.9.9", f"name{n}", "guess-guess").status_code == 401
        assert _login_from(client, "10.9.9.9", "name7", "guess-guess").status_code == 429
        # Another address is unaffected.
        assert _login_from(client, "10.9.9.8", "carol", "carol-password").status_code == 302
        db.session.remove()
        db.engine.dispose()


def test_the_api_token_endpoint_shares_the_throttle(client: FlaskClient, user: Any) -> None:
    for _ in range(5):
        bad = client.post("/api/v1/tokens", json={"username": "alice", "password": "nope-nope"})
        assert bad.status_code == 401
    blocked = client.post("/api/v1/tokens", json={"username": "alice", "password": "correct horse"})
    assert blocked.status_code == 429 and blocked.is_json and blocked.headers["Retry-After"]


def test_sign_up_is_rate_limited_per_address(client: FlaskClient) -> None:
    statuses = [
        client.post(
            "/api/v1/users", json={"username": f"user{n}", "password": "password-1"}
        ).status_code
        for n in range(11)
    ]
    assert statuses == [201] * 10 + [429]
    other = client.post(
        "/api/v1/users",
        json={"username": "elsewhere", "password": "password-1"},
        environ_base={"REMOTE_ADDR": "10.1.1.1"},
    )
    assert other.status_code == 201


def test_a_copy_of_a_logged_out_cookie_no_longer_works(app: Flask, user: Any) -> None:
    browser = app.test_client()
    assert login(browser).status_code == 302
    cookie = browser.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get("/cards").status_code == 200  # the copy works while the session lives
    assert browser.post("/logout").status_code == 302
    assert thief.get("/cards").status_code == 302  # ... and ends with the logout
    assert login(browser).status_code == 302  # logging in again works


def test_tokens_expire(client: FlaskClient, user: Any, session: Any) -> None:
    created = client.post("/api/v1/tokens", json={"username": "alice", "password": "correct horse"})
    assert created.get_json()["expires_in_days"] == 90
    headers = {"Authorization": f"Bearer {created.get_json()['token']}"}
    token = session.scalars(select(ApiToken)).one()
    assert token.expires_at - token.created_at == timedelta(days=90)
    assert client.get("/api/v1/topics", headers=headers).status_code == 200
    session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert client.get("/api/v1/topics", headers=headers).status_code == 401


def test_tokens_are_listed_and_revoked_on_the_settings_page(
    auth_client: FlaskClient, session: Any, user: Any
) -> None:
    headers = api_token(auth_client)
    page = auth_client.get("/settings").get_data(as_text=True)
    assert "API 令牌" in page and "撤销" in page
    token_id = session.scalar(select(ApiToken.id))
    response = auth_client.post(f"/settings/tokens/{token_id}/revoke", follow_redirects=True)
    assert "令牌已撤销" in response.get_data(as_text=True)
    assert auth_client.get("/api/v1/topics", headers=headers).status_code == 401


def test_another_users_token_cannot_be_revoked(app: Flask, session: Any, user: Any) -> None:
    make_user(session, "mallory", "mallory-pass")
    alice_headers = api_token(app.test_client())
    token_id = session.scalar(select(ApiToken.id))
    mallory = app.test_client()
    login(mallory, "mallory", "mallory-pass")
    mallory.post(f"/settings/tokens/{token_id}/revoke")
    assert app.test_client().get("/api/v1/topics", headers=alice_headers).status_code == 200


@pytest.mark.parametrize(("value", "secure"), [("1", True), ("true", True), ("", False)])
def test_secure_cookie_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, secure: bool
) -> None:
    monkeypatch.setenv("SESSION_COOKIE_SECURE", value)
    app = create_app({"TESTING": True, "SECRET_KEY": "x"})
    assert app.config["SESSION_COOKIE_SECURE"] is secure
    assert app.config["REMEMBER_COOKIE_SECURE"] is secure
