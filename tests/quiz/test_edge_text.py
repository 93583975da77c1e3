"""NUL and lone surrogates in a query string or form field: a 400 that says so, on both databases.

PostgreSQL refuses NUL in text columns (SQLite stores it): without the check at the edge a
search or a login with one is a 500 on PostgreSQL only.
"""

from __future__ import annotations

from flask.testing import FlaskClient

from quiz.models import User
from tests.factories import make_user

REFUSAL = "NUL 或孤立的代理字符"


def test_nul_in_a_query_argument_is_a_clear_400(auth_client: FlaskClient) -> None:
    page = auth_client.get("/cards?q=soft%00max")
    assert page.status_code == 400 and REFUSAL in page.get_data(as_text=True)
    assert auth_client.get("/cards?q=softmax").status_code == 200  # the clean search works
    api = auth_client.get("/api/v1/cards?q=%00")
    assert api.status_code == 400 and REFUSAL in api.get_json()["error"]


def test_the_refusal_follows_the_language(auth_client: FlaskClient) -> None:
    english = auth_client.get("/api/v1/cards?q=%00", headers={"Accept-Language": "en"})
    assert english.status_code == 400 and "NUL" in english.get_json()["error"]
    assert REFUSAL not in english.get_json()["error"]


def test_nul_in_a_form_field_is_refused_before_the_database(client: FlaskClient, session) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/register", data={"username": "eve\x00", "password": "password-1", "confirm": "password-1"}
    )
    assert response.status_code == 400 and REFUSAL in response.get_data(as_text=True)
    assert session.query(User).filter(User.username.like("eve%")).count() == 0
    make_user(session, "mallory", "password-1")
    login = client.post("/login", data={"username": "mallory", "password": "pass\x00word"})
    assert login.status_code == 400 and REFUSAL in login.get_data(as_text=True)
