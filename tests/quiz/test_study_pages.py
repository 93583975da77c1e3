"""The study page and the card browser's suspend / unsuspend / bury forms."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask, g, request_started
from flask.testing import FlaskClient
from sqlalchemy import select

from quiz import study
from quiz.db import utcnow
from quiz.models import Card, CardState


@pytest.fixture(autouse=True)
def _fresh_request_globals(app: Flask) -> Any:
    # The app fixture keeps one app context open; a server gives each request a fresh `g`.
    def clear(sender: Flask, **extra: Any) -> None:
        g.pop("api_user", None)
        g.pop("_login_user", None)
        g.pop("study_today", None)

    request_started.connect(clear, app)
    yield
    request_started.disconnect(clear, app)


def initial_payload(page: str) -> Any:
    match = re.search(r"data-initial='([^']*)'", page)
    assert match, "no data-initial attribute"
    return json.loads(match.group(1).replace("&#34;", '"').replace("&amp;", "&"))


def test_study_page_needs_login(client: FlaskClient) -> None:
    response = client.get("/study")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_study_page_carries_the_first_card_and_key_hints(auth_client: FlaskClient) -> None:
    response = auth_client.get("/study")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    payload = initial_payload(page)
    assert payload["card"]["front_html"] and payload["labels"]["good"] == "2天"
    for text in (
        "重来",
        "困难",
        "良好",
        "简单",
        "<kbd>1</kbd>",
        "<kbd>4</kbd>",
        "<kbd>空格</kbd>",
        "<kbd>U</kbd>",
    ):
        assert text in page
    assert 'src="/static/js/study.js"' in page and "<script>" not in page  # CSP: no inline JS
    assert 'href="/study"' in page  # the nav links the page (study.study)
    assert "/api/v1/reviews/next" in page and 'data-reveal-all="false"' in page


def test_empty_state_says_what_is_due_tomorrow(
    auth_client: FlaskClient, session: Any, user: Any
) -> None:
    study.user_settings(session, user.id).new_per_day = 0
    session.commit()
    page = auth_client.get("/study").get_data(as_text=True)
    assert "data-initial='null'" in page
    text = re.sub(r"<[^>]+>", "", page)
    assert "今天的复习已完成 — 明天还有 0 张到期" in text and "返回笔记" in text


def test_study_page_for_one_topic_and_unknown_topic(auth_client: FlaskClient) -> None:
    topics = auth_client.get("/api/v1/topics").get_json()["topics"]
    page = auth_client.get(f"/study?topic={topics[1]['slug']}").get_data(as_text=True)
    assert initial_payload(page)["card"]["topic"] == topics[1]["title"]
    assert f'data-topic="{topics[1]["slug"]}"' in page
    fallback = auth_client.get("/study?topic=nope", follow_redirects=True).get_data(as_text=True)
    assert "找不到该主题" in fallback and 'data-topic=""' in fallback


def first_card_id(session: Any) -> int:
    return session.scalars(select(Card.id).where(Card.kind != "drill").order_by(Card.id)).first()


def test_card_browser_suspend_unsuspend_and_bury(
    auth_client: FlaskClient, session: Any, user: Any
) -> None:
    card_id = first_card_id(session)
    page = auth_client.get("/cards").get_data(as_text=True)
    assert (
        f'action="/cards/{card_id}/suspend"' in page and f'action="/cards/{card_id}/bury"' in page
    )
    assert 'name="csrf_token"' in page

    response = auth_client.post(f"/cards/{card_id}/suspend", data={"next": "/cards?q=x"})
    assert response.status_code == 302 and response.headers["Location"] == "/cards?q=x"
    state = session.scalars(select(CardState).where(CardState.card_id == card_id)).one()
    assert state.suspended
    page = auth_client.get("/cards").get_data(as_text=True)
    assert f'action="/cards/{card_id}/unsuspend"' in page and "已暂停" in page

    auth_client.post(f"/cards/{card_id}/unsuspend")
    session.refresh(state)
    assert not state.suspended

    auth_client.post(f"/cards/{card_id}/bury")
    session.refresh(state)
    assert state.buried_until is not None
    assert f'action="/cards/{card_id}/unbury"' in auth_client.get("/cards").get_data(as_text=True)
    auth_client.post(f"/cards/{card_id}/unbury")
    session.refresh(state)
    assert state.buried_until is None


def test_card_actions_refuse_foreign_redirects_and_unknown_cards(
    auth_client: FlaskClient, session: Any
) -> None:
    card_id = first_card_id(session)
    response = auth_client.post(f"/cards/{card_id}/suspend", data={"next": "https://evil.example/"})
    assert response.headers["Location"].startswith("/cards")
    assert auth_client.post("/cards/999999/suspend").status_code == 404


def test_unsuspending_a_leech_keeps_its_tag(
    auth_client: FlaskClient, session: Any, user: Any
) -> None:
    card_id = first_card_id(session)
    now = utcnow()
    session.add(
        CardState(
            user_id=user.id,
            card_id=card_id,
            state=2,
            stability=1.0,
            difficulty=9.0,
            due=now,
            last_review=now,
            reps=20,
            lapses=8,
            suspended=True,
            leech=True,
            version=3,
        )
    )
    session.commit()
    leeches = auth_client.get("/cards?state=leech").get_data(as_text=True)
    assert "恢复学习（难记卡）" in leeches
    auth_client.post(f"/cards/{card_id}/unsuspend")
    state = session.scalars(select(CardState).where(CardState.card_id == card_id)).one()
    session.refresh(state)
    assert not state.suspended and state.leech
