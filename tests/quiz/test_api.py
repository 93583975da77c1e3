"""The JSON API: users, tokens, topics, cards; errors as JSON with the right status."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.factories import api_token


def test_user_token_and_listing_flow(client: FlaskClient) -> None:
    response = client.post("/api/v1/users", json={"username": "apiuser", "password": "longenough"})
    assert response.status_code == 201
    headers = api_token(client, "apiuser", "longenough")
    topics = client.get("/api/v1/topics", headers=headers).get_json()["topics"]
    assert [t["title"] for t in topics] == ["神经网络结构", "反向传播（Backpropagation）与梯度计算"]
    assert all(t["cards"] > 0 for t in topics)
    cards = client.get("/api/v1/cards", headers=headers).get_json()["cards"]
    assert {"id", "topic", "kind", "front_html", "back_html"} <= set(cards[0])
    fronts = " ".join(c["front_html"] for c in cards)
    assert "Softmax函数的作用是什么" in fronts


def test_errors_are_json(client: FlaskClient, user) -> None:
    assert client.get("/api/v1/cards").status_code == 401
    assert client.get("/api/v1/cards").get_json() == {"error": "需要登录或有效的令牌。"}
    bad = client.get("/api/v1/cards", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert client.get("/api/v1/nothing-here").get_json()["error"]
    malformed = client.post(
        "/api/v1/users", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400 and "JSON" in malformed.get_json()["error"]
    duplicate = client.post("/api/v1/users", json={"username": "alice", "password": "whatever1"})
    assert duplicate.status_code == 409
    short = client.post("/api/v1/users", json={"username": "dave", "password": "x"})
    assert short.status_code == 400 and "密码" in short.get_json()["error"]
    wrong = client.post("/api/v1/tokens", json={"username": "alice", "password": "wrong!!!"})
    assert wrong.status_code == 401
    huge = client.post("/api/v1/users", json={"username": "x" * 300_000, "password": "p"})
    assert huge.status_code == 413 and "error" in huge.get_json()


def test_card_search(client: FlaskClient, user) -> None:
    headers = api_token(client)
    cards = client.get("/api/v1/cards?q=Softmax 溢出", headers=headers).get_json()["cards"]
    assert len(cards) >= 1
    assert all("Softmax" in c["front_html"] + c["back_html"] for c in cards)


def test_topic_counts_leave_out_suspended_and_buried_cards(
    client: FlaskClient, session, user
) -> None:
    from datetime import timedelta

    from sqlalchemy import select

    from quiz.db import utcnow
    from quiz.models import STATE_REVIEW, Card, CardState

    headers = api_token(client)

    def first_topic() -> dict:
        return client.get("/api/v1/topics", headers=headers).get_json()["topics"][0]

    before = first_topic()
    cards = session.scalars(
        select(Card).where(Card.kind == "question").order_by(Card.position)
    ).all()
    now = utcnow()
    due = {
        "state": STATE_REVIEW,
        "stability": 5.0,
        "difficulty": 5.0,
        "due": now - timedelta(hours=1),
    }
    session.add_all(
        [
            CardState(user_id=user.id, card_id=cards[0].id, **due),
            CardState(
                user_id=user.id,
                card_id=cards[1].id,
                buried_until=(now + timedelta(days=2)).date(),
                **due,
            ),
            CardState(user_id=user.id, card_id=cards[2].id, suspended=True),
        ]
    )
    session.commit()
    after = first_topic()
    assert after["due"] == before["due"] + 1  # the buried one waits
    assert after["new"] == before["new"] - 3  # none of the three is new any more
