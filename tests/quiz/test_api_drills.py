"""Drill API: catalogue, drafts, submissions graded in the real sandbox, errors, reveal, ratings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from engine.drills import get_drill
from engine.sandbox import QueueFull
from quiz import drills
from quiz.db import utcnow
from quiz.models import CardState, Draft, ReviewLog, Submission
from tests.factories import api_token, make_user

NAIVE = """import numpy as np


def softmax(x, axis=-1):
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)
"""
STABLE = NAIVE.replace("np.exp(x)", "np.exp(x - x.max(axis=axis, keepdims=True))")


def post(
    client: FlaskClient, code: Any, mode: str = "submit", drill: str = "softmax", **extra: Any
) -> Any:
    """POST a submission; `extra` goes into the JSON body (e.g. review=True)."""
    return client.post(
        f"/api/v1/drills/{drill}/submissions", json={"code": code, "mode": mode, **extra}
    )


def draft_code(session: Any, user_id: int, drill_id: str = "softmax") -> str | None:
    session.expire_all()
    return session.scalar(
        select(Draft.code).where(Draft.user_id == user_id, Draft.drill_id == drill_id)
    )


def fake(verdict: str) -> dict[str, Any]:
    return {"verdict": verdict, "passed": 0, "total": 15, "time_ms": 1.0, "tests": [], "stdout": ""}


def test_list_and_detail(client: FlaskClient, user: Any) -> None:
    assert client.get("/api/v1/drills").status_code == 401
    headers = api_token(client)
    listing = client.get("/api/v1/drills", headers=headers).get_json()["drills"]
    assert [d["id"] for d in listing][:4] == ["sigmoid", "relu", "leaky_relu", "softmax"]
    assert {"id", "title", "topic", "status"} <= set(listing[0])
    assert {d["status"] for d in listing} == {"new"}
    detail = client.get("/api/v1/drills/softmax", headers=headers).get_json()
    drill = get_drill("softmax")
    assert detail["statement_md"] == drill.statement_md and "arithmatex" in detail["statement_html"]
    assert detail["starter_code"] == drill.starter_code
    assert [e["name"] for e in detail["examples"]] == [e.name for e in drill.examples]
    assert {"call", "input", "expected"} <= set(detail["examples"][0])
    assert "solution" not in detail  # not before solving
    missing = client.get("/api/v1/drills/nope", headers=headers)
    assert missing.status_code == 404 and "找不到练习" in missing.get_json()["error"]


def test_submit_fail_then_pass_then_fetch(client: FlaskClient, user: Any, session: Any) -> None:
    headers = api_token(client)
    failed = client.post(
        "/api/v1/drills/softmax/submissions",
        json={"code": NAIVE, "mode": "submit"},
        headers=headers,
    )
    assert failed.status_code == 201
    body = failed.get_json()
    assert {"id", "verdict", "passed", "total", "tests", "stdout", "time_ms"} <= set(body)
    assert body["verdict"] == "wrong_answer" and body["passed"] < body["total"]
    stability = next(t for t in body["tests"] if t["name"] == "大输入数值稳定性")
    assert stability["status"] == "failed" and stability["hidden"] and "input" not in stability
    visible = next(t for t in body["tests"] if not t["hidden"])
    assert {"input", "expected", "got"} <= set(visible)
    assert body["review"] is None and body["progress"]["failed_submits"] == 1
    assert "solution" not in body
    assert body["diagnosis"]["id"] == "softmax.no_shift"
    assert set(body["diagnosis"]) == {"id", "title", "detail", "section"}

    passed = client.post(
        "/api/v1/drills/softmax/submissions",
        json={"code": STABLE, "mode": "submit"},
        headers=headers,
    ).get_json()
    assert passed["verdict"] == "accepted" and passed["passed"] == passed["total"]
    assert passed["diagnosis"] is None
    assert passed["first_solve"] and passed["progress"]["status"] == "solved"
    # One failure before the accept: the first solve is scheduled as Hard, overridable.
    assert passed["review"]["rating"] == drills.HARD and passed["review"]["scheduled"]
    assert passed["solution"]["solution_code"] == get_drill("softmax").solution_code

    fetched = client.get(f"/api/v1/submissions/{body['id']}", headers=headers).get_json()
    assert fetched["verdict"] == "wrong_answer" and fetched["tests"] == body["tests"]
    assert fetched["diagnosis"] == body["diagnosis"]
    assert fetched["code"] == NAIVE and fetched["time_ms"] == body["time_ms"]
    history = client.get("/api/v1/drills/softmax/submissions", headers=headers).get_json()
    assert [s["id"] for s in history["submissions"]] == [passed["id"], body["id"]]
    listing = client.get("/api/v1/drills", headers=headers).get_json()["drills"]
    assert next(d for d in listing if d["id"] == "softmax")["status"] == "solved"
    assert "solution" in client.get("/api/v1/drills/softmax", headers=headers).get_json()
    assert draft_code(session, user.id) == STABLE  # the last submitted code is the draft


def test_run_mode_runs_only_the_visible_examples(
    auth_client: FlaskClient, session: Any, user: Any
) -> None:
    body = post(auth_client, STABLE, mode="run").get_json()
    assert body["verdict"] == "accepted" and body["mode"] == "run"
    assert body["total"] == len(get_drill("softmax").examples)
    assert not any(t["hidden"] for t in body["tests"])
    assert not body["first_solve"] and body["progress"]["status"] == "attempted"
    assert body["progress"]["submits"] == 0


def test_syntax_error_is_reported(auth_client: FlaskClient) -> None:
    body = post(auth_client, "def softmax(x:\n", mode="run").get_json()
    assert body["verdict"] == "syntax_error" and body["message"].startswith("语法错误")


def test_users_are_isolated(client: FlaskClient, session: Any, user: Any) -> None:
    make_user(session, "bob", "another password")
    alice, bob = api_token(client), api_token(client, "bob", "another password")
    mine = client.post(
        "/api/v1/drills/relu/submissions", json={"code": "def relu(x): pass"}, headers=alice
    )
    assert mine.status_code == 201
    sid = mine.get_json()["id"]
    assert client.get(f"/api/v1/submissions/{sid}", headers=bob).status_code == 404
    assert client.get(f"/api/v1/submissions/{sid}", headers=alice).status_code == 200
    assert (
        client.get("/api/v1/drills/relu/submissions", headers=bob).get_json()["submissions"] == []
    )
    bob_list = client.get("/api/v1/drills", headers=bob).get_json()["drills"]
    assert next(d for d in bob_list if d["id"] == "relu")["status"] == "new"
    client.put("/api/v1/drills/relu/draft", json={"code": "bob's"}, headers=bob)
    assert (
        client.get("/api/v1/drills/relu/draft", headers=alice).get_json()["code"]
        == "def relu(x): pass"
    )
    assert client.get("/api/v1/drills/relu/draft", headers=bob).get_json()["code"] == "bob's"


def test_draft_round_trip(auth_client: FlaskClient) -> None:
    url = "/api/v1/drills/sigmoid/draft"
    assert auth_client.get(url).get_json() == {"code": None, "updated_at": None}
    saved = auth_client.put(url, json={"code": "def sigmoid(x):\n    return x\n"})
    assert saved.status_code == 200 and saved.get_json()["saved"]
    assert auth_client.get(url).get_json()["code"] == "def sigmoid(x):\n    return x\n"
    assert auth_client.put(url, json={"code": ""}).status_code == 200  # a cleared editor too
    assert auth_client.get(url).get_json()["code"] == ""
    auth_client.put(url, json={"code": "review attempt", "review": True})
    assert auth_client.get(f"{url}?review=1").get_json()["code"] == "review attempt"
    assert auth_client.get(url).get_json()["code"] == ""
    assert auth_client.put("/api/v1/drills/nope/draft", json={"code": "x"}).status_code == 404
    assert auth_client.put(url, json={"code": "x" * 70_000}).status_code == 413


def test_bad_input_gets_clear_chinese_errors(auth_client: FlaskClient, session: Any) -> None:
    url = "/api/v1/drills/softmax/submissions"
    cases = [
        (post(auth_client, ""), 400, "代码为空"),
        (post(auth_client, "   \n"), 400, "代码为空"),
        (post(auth_client, None), 400, "code"),
        (post(auth_client, "#" * (64 * 1024 + 10)), 413, "64 KB"),
        (post(auth_client, STABLE, mode="debug"), 400, "mode"),
        (post(auth_client, STABLE, drill="nope"), 404, "找不到练习"),
        (
            auth_client.post(url, data=b'{"code": "\xff\xfe"}', content_type="application/json"),
            400,
            "UTF-8",
        ),
        (
            auth_client.post(url, data='{"code": "\\ud800"}', content_type="application/json"),
            400,
            "无法编码",
        ),
        (auth_client.post(url, data="code=1"), 400, "JSON"),
    ]
    for response, status, words in cases:
        assert response.status_code == status, response.get_json()
        assert words in response.get_json()["error"]
    huge = post(auth_client, "#" * 300_000)  # past the request size limit of the whole app
    assert huge.status_code == 413 and huge.get_json()["error"]
    assert session.scalar(select(func.count()).select_from(Submission)) == 0


class FullSandbox:
    """Stand-in for the runner pool when every slot is busy and the queue is full."""

    def run(self, *args: Any, **kwargs: Any) -> Any:
        raise QueueFull(retry_after=7)


def test_queue_full_is_503_and_keeps_the_code(
    app: Flask, auth_client: FlaskClient, session: Any, user: Any
) -> None:
    app.config["DRILL_SANDBOX"] = FullSandbox()
    response = post(auth_client, STABLE)
    assert response.status_code == 503 and response.headers["Retry-After"] == "7"
    body = response.get_json()
    assert "7 秒" in body["error"] and "草稿" in body["error"] and body["retry_after"] == 7
    assert draft_code(session, user.id) == STABLE
    assert session.scalar(select(func.count()).select_from(Submission)) == 0


def test_submission_rate_limit(
    app: Flask, auth_client: FlaskClient, session: Any, user: Any
) -> None:
    app.config["SUBMISSION_RATE_PER_MINUTE"] = 2
    now = utcnow()
    for seconds in (50, 10):
        outcome = drills.record_submission(
            session,
            user.id,
            "relu",
            "c",
            mode="run",
            result=fake("wrong_answer"),
            now=now - timedelta(seconds=seconds),
        )
        assert outcome.submission.id
    session.commit()
    response = post(auth_client, STABLE)
    assert response.status_code == 429
    wait = int(response.headers["Retry-After"])
    assert 1 <= wait <= 11 and f"{wait} 秒" in response.get_json()["error"]
    assert draft_code(session, user.id) == STABLE  # refused, but not lost


def test_reveal_after_three_failures(auth_client: FlaskClient, session: Any, user: Any) -> None:
    url = "/api/v1/drills/softmax/reveal"
    early = auth_client.post(url)
    assert early.status_code == 403 and "3 次" in early.get_json()["error"]
    for _ in range(3):
        drills.record_submission(
            session,
            user.id,
            "softmax",
            "c",
            mode="submit",
            result=fake("wrong_answer"),
            now=utcnow(),
        )
    session.commit()
    shown = auth_client.post(url)
    assert shown.status_code == 200
    body = shown.get_json()
    assert body["newly_revealed"] and body["progress"]["revealed"]
    assert body["solution_code"] == get_drill("softmax").solution_code and body["explanation_html"]
    listing = auth_client.get("/api/v1/drills").get_json()["drills"]
    assert next(d for d in listing if d["id"] == "softmax")["revealed"]
    solved = post(auth_client, STABLE).get_json()
    assert solved["review"]["rating"] == drills.AGAIN  # solved after looking: Again


def test_rating_override_of_the_first_solve(
    auth_client: FlaskClient, session: Any, user: Any
) -> None:
    url = "/api/v1/drills/softmax/rating"
    assert auth_client.post(url, json={"rating": 3}).status_code == 409  # not solved yet
    first = post(auth_client, STABLE).get_json()["review"]
    assert first["rating"] == drills.GOOD and first["scheduled"]
    changed = auth_client.post(url, json={"rating": 4, "replaces": first["log_id"]})
    assert changed.status_code == 200 and changed.get_json()["label"] == "简单"
    session.expire_all()
    assert list(session.scalars(select(ReviewLog.rating).where(ReviewLog.user_id == user.id))) == [
        4
    ]
    for bad in ({"rating": 0}, {"rating": "3"}, {"rating": True}, {"rating": 3, "replaces": "x"}):
        assert auth_client.post(url, json=bad).status_code == 400


def test_review_mode_flow(auth_client: FlaskClient, session: Any, user: Any) -> None:
    post(auth_client, STABLE)
    auth_client.put("/api/v1/drills/softmax/draft", json={"code": "my everyday draft"})
    card = drills.drill_card(session, "softmax")
    assert card is not None
    session.expire_all()
    state = session.scalar(
        select(CardState).where(CardState.user_id == user.id, CardState.card_id == card.id)
    )
    assert state is not None
    state.due = utcnow() - timedelta(minutes=1)  # the review is due now
    session.commit()
    page = auth_client.get("/drills/softmax?review=1").get_data(as_text=True)
    assert "复习模式" in page and "my everyday draft" not in page

    failed = post(auth_client, NAIVE, review=True).get_json()
    assert failed["verdict"] == "wrong_answer" and failed["review"] is None
    assert auth_client.get("/api/v1/drills/softmax/draft?review=1").get_json()["code"] == NAIVE
    passed = post(auth_client, STABLE, review=True).get_json()
    proposal = passed["review"]
    assert proposal["rating"] == drills.HARD and not proposal["scheduled"]
    confirmed = auth_client.post(
        "/api/v1/drills/softmax/rating", json={"rating": proposal["rating"]}
    )
    assert confirmed.status_code == 200
    session.expire_all()
    ratings = list(
        session.scalars(
            select(ReviewLog.rating).where(ReviewLog.user_id == user.id).order_by(ReviewLog.id)
        )
    )
    assert ratings == [drills.GOOD, drills.HARD]
    # The review draft is done with; the everyday draft is untouched.
    assert auth_client.get("/api/v1/drills/softmax/draft?review=1").get_json()["code"] is None
    assert auth_client.get("/api/v1/drills/softmax/draft").get_json()["code"] == "my everyday draft"


def test_giving_up_in_review_proposes_again(
    auth_client: FlaskClient, session: Any, user: Any
) -> None:
    post(auth_client, STABLE)
    session.expire_all()
    for state in session.scalars(select(CardState).where(CardState.user_id == user.id)):
        state.due = utcnow() - timedelta(minutes=1)
    session.commit()
    body = auth_client.post("/api/v1/drills/softmax/reveal", json={"review": True}).get_json()
    assert body["review"]["rating"] == drills.AGAIN and not body["review"]["scheduled"]
    assert not body["newly_revealed"]
