"""The review API: shapes, idempotency, 409 on stale answers, bad input, isolation between users."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from quiz.models import CardState, ReviewLog
from tests.factories import api_token, make_user


@pytest.fixture
def headers(client: FlaskClient, session: Any, user: Any) -> dict[str, str]:
    # Anki's steps, so answers leave cards in learning (the app's default is one 10m step).
    from quiz import study

    settings = study.user_settings(session, user.id)
    settings.learning_steps, settings.relearning_steps = "1m 10m", "10m"
    session.commit()
    return api_token(client)


def log_count(session: Any, user_id: int | None = None) -> int:
    session.expire_all()
    stmt = select(func.count()).select_from(ReviewLog)
    if user_id is not None:
        stmt = stmt.where(ReviewLog.user_id == user_id)
    return session.scalar(stmt)


def test_next_card_shape(client: FlaskClient, headers: dict[str, str]) -> None:
    response = client.get("/api/v1/reviews/next", headers=headers)
    assert response.status_code == 200
    data = response.get_json()
    card = data["card"]
    assert {"id", "topic", "front_html", "back_html", "short_html", "kind", "state"} <= set(card)
    assert card["topic"] == "神经网络结构" and card["state"] == "new" and card["queue"] == "new"
    assert data["version"] == 0
    assert set(data["previews"]) == {"again", "hard", "good", "easy"}
    assert data["previews"]["again"] == 60 and data["previews"]["good"] == 600
    assert data["labels"]["again"] == "1分钟" and data["labels"]["good"] == "10分钟"
    assert data["counts"]["new"] > 0 and data["done_today"] == 0


def test_next_by_topic_and_unknown_topic(client: FlaskClient, headers: dict[str, str]) -> None:
    topics = client.get("/api/v1/topics", headers=headers).get_json()["topics"]
    second = topics[1]
    data = client.get(f"/api/v1/reviews/next?topic={second['slug']}", headers=headers).get_json()
    assert data["card"]["topic"] == second["title"] and data["card"]["topic_slug"] == second["slug"]
    missing = client.get("/api/v1/reviews/next?topic=nope", headers=headers)
    assert missing.status_code == 404 and missing.get_json()["error"] == "找不到该主题。"


def test_204_when_nothing_is_due(
    client: FlaskClient, headers: dict[str, str], session: Any, user: Any
) -> None:
    from quiz import study

    study.user_settings(session, user.id).new_per_day = 0
    session.commit()
    response = client.get("/api/v1/reviews/next", headers=headers)
    assert response.status_code == 204 and response.data == b""
    summary = client.get("/api/v1/reviews/summary", headers=headers).get_json()
    assert summary["due_tomorrow"] == 0 and summary["counts"] == {
        "new": 0,
        "learning": 0,
        "review": 0,
    }


def answer(client: FlaskClient, headers: dict[str, str], **body: Any) -> Any:
    return client.post("/api/v1/reviews", headers=headers, json=body)


def test_answer_and_retry_with_the_same_request_id(
    client: FlaskClient, headers: dict[str, str], session: Any, user: Any
) -> None:
    shown = client.get("/api/v1/reviews/next", headers=headers).get_json()
    card_id = shown["card"]["id"]
    body = {
        "card_id": card_id,
        "rating": 3,
        "duration_ms": 5000,
        "request_id": "abc-1",
        "version": 0,
    }
    first = answer(client, headers, **body)
    assert first.status_code == 201
    data = first.get_json()
    assert set(data) >= {"card_id", "due", "state", "interval_seconds"}
    assert (
        data["card_id"] == card_id
        and data["state"] == "learning"
        and data["interval_seconds"] == 600
    )
    retry = answer(client, headers, **body)
    assert retry.status_code == 201 and retry.get_json() == data
    assert log_count(session) == 1
    log = session.scalars(select(ReviewLog)).one()
    assert (log.duration_ms, log.request_id, log.user_id) == (5000, "abc-1", user.id)


def test_second_tab_gets_409_and_nothing_is_applied_twice(
    client: FlaskClient, headers: dict[str, str], session: Any
) -> None:
    shown = client.get("/api/v1/reviews/next", headers=headers).get_json()
    card_id, version = shown["card"]["id"], shown["version"]
    assert answer(client, headers, card_id=card_id, rating=3, version=version).status_code == 201
    stale = answer(client, headers, card_id=card_id, rating=1, version=version)
    assert stale.status_code == 409 and "error" in stale.get_json()
    no_version = answer(client, headers, card_id=card_id, rating=1)  # learning, not due for 10 min
    assert no_version.status_code == 409
    assert log_count(session) == 1
    state = session.scalars(select(CardState)).one()
    assert state.reps == 1 and state.version == 1


@pytest.mark.parametrize(
    "body",
    [
        {"card_id": 1, "rating": 0},
        {"card_id": 1, "rating": 5},
        {"card_id": 1, "rating": "3"},
        {"card_id": 1, "rating": 3.0},
        {"card_id": 1, "rating": True},
        {"card_id": 1},
        {"rating": 3},
        {"card_id": "1", "rating": 3},
        {"card_id": 1, "rating": 3, "duration_ms": -1},
        {"card_id": 1, "rating": 3, "duration_ms": "fast"},
        {"card_id": 1, "rating": 3, "version": -1},
        {"card_id": 1, "rating": 3, "request_id": ""},
        {"card_id": 1, "rating": 3, "request_id": "x" * 65},
        {"card_id": 1, "rating": 3, "request_id": 7},
    ],
)
def test_bad_input_is_400_and_writes_nothing(
    client: FlaskClient, headers: dict[str, str], session: Any, body: dict[str, Any]
) -> None:
    response = answer(client, headers, **body)
    assert response.status_code == 400 and response.get_json()["error"]
    assert (
        log_count(session) == 0 and session.scalar(select(func.count()).select_from(CardState)) == 0
    )


def test_malformed_json_unknown_card_and_no_auth(
    client: FlaskClient, headers: dict[str, str], session: Any
) -> None:
    malformed = client.post(
        "/api/v1/reviews", data="{nope", headers={**headers, "Content-Type": "application/json"}
    )
    assert malformed.status_code == 400 and "JSON" in malformed.get_json()["error"]
    not_object = client.post("/api/v1/reviews", json=[1, 2], headers=headers)
    assert not_object.status_code == 400
    unknown = answer(client, headers, card_id=999_999, rating=3)
    assert unknown.status_code == 404 and unknown.get_json()["error"] == "找不到该卡片。"
    assert client.post("/api/v1/reviews", json={"card_id": 1, "rating": 3}).status_code == 401
    assert client.get("/api/v1/reviews/next").status_code == 401
    assert client.post("/api/v1/reviews/undo").status_code == 401
    assert log_count(session) == 0


def test_undo_returns_the_restored_card(
    client: FlaskClient, headers: dict[str, str], session: Any
) -> None:
    shown = client.get("/api/v1/reviews/next", headers=headers).get_json()
    answer(client, headers, card_id=shown["card"]["id"], rating=4, version=0)
    response = client.post("/api/v1/reviews/undo", headers=headers)
    assert response.status_code == 200
    data = response.get_json()
    assert data["card"]["id"] == shown["card"]["id"] and data["card"]["state"] == "new"
    assert data["previews"] == shown["previews"] and data["version"] == 2
    assert log_count(session) == 0
    # The restored card can be answered with the version the undo returned.
    assert (
        answer(client, headers, card_id=shown["card"]["id"], rating=3, version=2).status_code == 201
    )
    assert client.post("/api/v1/reviews/undo", headers=headers).status_code == 200
    nothing = client.post("/api/v1/reviews/undo", headers=headers)
    assert nothing.status_code == 404 and "撤销" in nothing.get_json()["error"]


def test_users_cannot_see_or_touch_each_other(
    client: FlaskClient, headers: dict[str, str], session: Any, user: Any
) -> None:
    bob = make_user(session, "bob", "bob-password")
    bob_headers = api_token(client, "bob", "bob-password")
    shown = client.get("/api/v1/reviews/next", headers=headers).get_json()
    card_id = shown["card"]["id"]
    assert (
        answer(client, headers, card_id=card_id, rating=1, version=0, request_id="same").status_code
        == 201
    )
    # Bob still sees the card as new, with his own version; alice's learning card is not his.
    bobs = client.get("/api/v1/reviews/next", headers=bob_headers).get_json()
    assert bobs["card"]["id"] == card_id and bobs["card"]["state"] == "new" and bobs["version"] == 0
    # The same request_id from another user is another answer, not a replay of alice's.
    bob_answer = answer(
        client, bob_headers, card_id=card_id, rating=4, version=0, request_id="same"
    )
    assert bob_answer.status_code == 201 and bob_answer.get_json()["state"] == "review"
    # Bob's undo undoes bob's answer only; alice's stale version for bob's state is refused.
    assert client.post("/api/v1/reviews/undo", headers=bob_headers).status_code == 200
    assert log_count(session, user.id) == 1 and log_count(session, bob.id) == 0
    assert client.post("/api/v1/reviews/undo", headers=bob_headers).status_code == 404
    alice_state = session.scalars(select(CardState).where(CardState.user_id == user.id)).one()
    assert alice_state.state == 1 and alice_state.reps == 1


def race(
    app: Flask, headers: dict[str, str], bodies: list[dict[str, Any]]
) -> list[tuple[int, Any]]:
    """POST the bodies to /reviews from one thread each, released together."""
    results: list[tuple[int, Any]] = []
    barrier = threading.Barrier(len(bodies))

    def worker(body: dict[str, Any]) -> None:
        local = app.test_client()  # its own request and app context, like another worker
        barrier.wait()
        response = local.post("/api/v1/reviews", headers=headers, json=body)
        results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=worker, args=(body,)) for body in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_answers_apply_once(app: Flask, session: Any, user: Any) -> None:
    """Two tabs answering the same shown card at once: one 201, one 409, one log row."""
    client = app.test_client()
    headers = api_token(client)
    for round_ in range(6):
        shown = client.get("/api/v1/reviews/next", headers=headers).get_json()
        base = {"card_id": shown["card"]["id"], "version": shown["version"]}
        results = race(app, headers, [{**base, "rating": 3}, {**base, "rating": 4}])
        assert sorted(status for status, _ in results) == [201, 409], results
        assert log_count(session, user.id) == round_ + 1


def test_concurrent_retries_with_one_request_id_count_once(
    app: Flask, session: Any, user: Any
) -> None:
    client = app.test_client()
    headers = api_token(client)
    shown = client.get("/api/v1/reviews/next", headers=headers).get_json()
    body = {"card_id": shown["card"]["id"], "rating": 3, "version": 0, "request_id": "retry-me"}
    results = race(app, headers, [body, body, body])
    assert [status for status, _ in results] == [201, 201, 201]
    assert len({str(data) for _, data in results}) == 1
    assert log_count(session, user.id) == 1


def test_bury_and_suspend_endpoints(client: FlaskClient, headers: dict[str, str]) -> None:
    first = client.get("/api/v1/reviews/next", headers=headers).get_json()["card"]["id"]
    buried = client.post("/api/v1/reviews/bury", headers=headers, json={"card_id": first})
    assert buried.status_code == 200 and buried.get_json()["buried_until"]
    second = client.get("/api/v1/reviews/next", headers=headers).get_json()["card"]["id"]
    assert second != first
    suspended = client.post("/api/v1/reviews/suspend", headers=headers, json={"card_id": second})
    assert suspended.get_json() == {"card_id": second, "suspended": True, "version": 1}
    assert client.get("/api/v1/reviews/next", headers=headers).get_json()["card"]["id"] not in {
        first,
        second,
    }
    assert (
        client.post("/api/v1/reviews/bury", headers=headers, json={"card_id": 999_999}).status_code
        == 404
    )
    assert client.post("/api/v1/reviews/suspend", headers=headers, json={}).status_code == 400


def test_due_drill_card_links_to_its_drill(
    app: Flask, client: FlaskClient, headers: dict[str, str], session: Any, user: Any
) -> None:
    from datetime import timedelta

    from quiz import study
    from quiz.db import utcnow
    from quiz.models import Card

    drill = session.scalars(select(Card).where(Card.kind == "drill")).first()
    if drill is None:
        pytest.skip("no drill cards synced")
    study.schedule_drill_review(session, user.id, drill.id, 1, now=utcnow() - timedelta(days=2))
    session.commit()
    data = client.get(f"/api/v1/reviews/next?topic={drill.topic.slug}", headers=headers).get_json()
    assert data["card"]["id"] == drill.id and data["card"]["kind"] == "drill"
    if "drills.drill" in app.view_functions:
        assert data["card"]["drill_url"] == f"/drills/{drill.drill_id}?review=1"
    else:
        assert data["card"]["drill_url"] is None
    assert data["labels"]["again"] == "1天"  # drills have no (re)learning steps


def test_answer_can_carry_the_next_card(
    client: FlaskClient, headers: dict[str, str], session: Any
) -> None:
    topics = client.get("/api/v1/topics", headers=headers).get_json()["topics"]
    slug = topics[1]["slug"]
    shown = client.get(f"/api/v1/reviews/next?topic={slug}", headers=headers).get_json()
    response = client.post(
        f"/api/v1/reviews?topic={slug}",
        headers=headers,
        json={"card_id": shown["card"]["id"], "rating": 3, "version": 0, "next": True},
    )
    assert response.status_code == 201
    data = response.get_json()
    assert data["card_id"] == shown["card"]["id"] and data["state"] == "learning"
    following = data["next"]
    assert following["card"]["id"] != shown["card"]["id"]
    assert following["card"]["topic_slug"] == slug and following["done_today"] == 1
    assert following == client.get(f"/api/v1/reviews/next?topic={slug}", headers=headers).get_json()
    bad = answer(client, headers, card_id=shown["card"]["id"], rating=3, next="yes")
    assert bad.status_code == 400
    assert log_count(session) == 1


@pytest.mark.parametrize("action", ["bury", "suspend"])
def test_undo_of_a_bury_or_suspend_through_the_api(
    client: FlaskClient, headers: dict[str, str], session: Any, action: str
) -> None:
    """The study page's U after B or S: the card and the counts from before the key press."""
    answered = client.get("/api/v1/reviews/next", headers=headers).get_json()
    answer(client, headers, card_id=answered["card"]["id"], rating=3, version=0)
    shown = client.get("/api/v1/reviews/next", headers=headers).get_json()
    card_id = shown["card"]["id"]
    done = client.post(f"/api/v1/reviews/{action}", headers=headers, json={"card_id": card_id})
    assert done.status_code == 200
    version = done.get_json()["version"]
    assert client.get("/api/v1/reviews/next", headers=headers).get_json()["card"]["id"] != card_id
    body = {"action": action, "card_id": card_id, "version": version}
    undone = client.post("/api/v1/reviews/undo", headers=headers, json=body)
    assert undone.status_code == 200
    data = undone.get_json()
    assert data["card"] == shown["card"] and data["counts"] == shown["counts"]
    assert data["previews"] == shown["previews"] and data["done_today"] == shown["done_today"]
    assert data["version"] == version + 1
    # The earlier, unrelated answer is untouched; the same undo twice is refused.
    assert log_count(session) == 1
    again = client.post("/api/v1/reviews/undo", headers=headers, json=body)
    assert again.status_code == 409 and "无法撤销" in again.get_json()["error"]
    bad = client.post("/api/v1/reviews/undo", headers=headers, json={**body, "action": "x"})
    assert bad.status_code == 400
    missing = client.post("/api/v1/reviews/undo", headers=headers, json={"action": action})
    assert missing.status_code == 400
