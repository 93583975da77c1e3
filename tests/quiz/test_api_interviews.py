"""Mock interview API: the whole flow, the server's clock, skip, resume, privacy, study next.

The clock is injected through INTERVIEW_CLOCK (the views' one clock read), so tests move time
by setting it; grading is the real sandbox.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engine.drills import get_drill
from quiz.models import Card, CardState, ReviewLog
from tests.factories import api_token, make_user

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(app: Flask) -> Clock:
    c = Clock(T0)
    app.config["INTERVIEW_CLOCK"] = c
    return c


@pytest.fixture
def headers(client: FlaskClient, user: Any) -> dict[str, str]:
    return api_token(client)


def start(client: FlaskClient, headers: dict[str, str], minutes: int = 15, **body: Any) -> Any:
    response = client.post("/api/v1/interviews", json={"minutes": minutes, **body}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def post_item(
    client: FlaskClient, headers: dict[str, str], iid: int, index: int, **body: Any
) -> Any:
    return client.post(f"/api/v1/interviews/{iid}/items/{index}", json=body, headers=headers)


def state(client: FlaskClient, headers: dict[str, str], iid: int) -> Any:
    response = client.get(f"/api/v1/interviews/{iid}", headers=headers)
    assert response.status_code == 200
    return response.get_json()


def model_answer_text(session: Any, card_id: int) -> str:
    """Every key point's sentence: an answer that says all of them covers every point."""
    from quiz.interviews import card_points

    card = session.get(Card, card_id)
    return "。".join(p.text for p in card_points(card))


def test_start_shape_and_validation(
    client: FlaskClient, headers: dict[str, str], clock: Clock
) -> None:
    body = start(client, headers, 15)
    kinds = [i["kind"] for i in body["items"]]
    assert kinds.count("drill") == 1 and kinds.count("question") == 4
    assert [i["index"] for i in body["items"]] == list(range(5))
    for item in body["items"]:
        assert ("card_id" in item) == (item["kind"] == "question")
        assert ("drill_id" in item) == (item["kind"] == "drill")
    # 4 questions of 120 s and a 7-minute drill: the 15 minutes exactly.
    assert sum(i["seconds"] for i in body["items"]) == 15 * 60
    ends = datetime.fromisoformat(body["ends_at"])
    assert ends == T0 + timedelta(minutes=15)

    longer = start(client, headers, 30)
    assert [i["kind"] for i in longer["items"]].count("drill") == 2
    for bad in ({"minutes": 20}, {"minutes": "15"}, {"minutes": True}, {}):
        response = client.post("/api/v1/interviews", json=bad, headers=headers)
        assert response.status_code == 400 and "15、30 或 45" in response.get_json()["error"]
    response = client.post(
        "/api/v1/interviews", json={"minutes": 15, "topics": ["no-such"]}, headers=headers
    )
    assert response.status_code == 400 and "no-such" in response.get_json()["error"]
    assert client.post("/api/v1/interviews", json={"minutes": 15}).status_code == 401


def test_whole_flow_question_points_drill_finish_feeds_fsrs(
    client: FlaskClient, headers: dict[str, str], clock: Clock, session: Any
) -> None:
    body = start(client, headers, 15)
    iid, items = body["id"], body["items"]
    questions = [i for i in items if i["kind"] == "question"]
    drill = next(i for i in items if i["kind"] == "drill")

    # First question: a full answer; the suggested points are all ticked, the model answer shown.
    first = questions[0]
    clock.advance(30)
    full = model_answer_text(session, first["card_id"])
    result = post_item(client, headers, iid, first["index"], answer=full).get_json()
    assert result["status"] == "answered" and result["late"] is False
    assert result["model_answer"]["back_html"]
    assert result["points"] and all(p["suggested"] for p in result["points"])
    assert {"index", "text", "terms", "suggested", "covered"} <= set(result["points"][0])
    # The learner confirms only the first point.
    confirmed = post_item(client, headers, iid, first["index"], points=[0]).get_json()
    assert confirmed["status"] == "confirmed"
    assert [p["covered"] for p in confirmed["points"]][:2] == [True, False][
        : len(confirmed["points"])
    ]

    # Second question: an empty-handed answer suggests nothing.
    second = questions[1]
    clock.advance(10)
    weak = post_item(client, headers, iid, second["index"], answer="不太清楚").get_json()
    assert not any(p["suggested"] for p in weak["points"])
    post_item(client, headers, iid, second["index"], points=[])
    for q in questions[2:]:
        clock.advance(5)
        assert post_item(client, headers, iid, q["index"], skip=True).status_code == 200

    # The drill: a wrong answer first (kept, not solved), then the reference solution.
    d = get_drill(drill["drill_id"])
    clock.advance(20)
    wrong = post_item(client, headers, iid, drill["index"], code=d.starter_code).get_json()
    assert wrong["submission"]["verdict"] != "accepted"
    assert "solution" not in wrong and "solution_html" not in str(wrong)
    assert wrong["status"] == "pending"
    right = post_item(client, headers, iid, drill["index"], code=d.solution_code).get_json()
    assert right["submission"]["verdict"] == "accepted" and right["status"] == "answered"
    assert right["over"] is True

    clock.advance(5)
    report = client.post(f"/api/v1/interviews/{iid}/finish", headers=headers).get_json()
    by_index = {i["index"]: i for i in report["items"]}
    assert by_index[first["index"]]["points_covered"] == 1
    assert by_index[first["index"]]["missed"] == [p["text"] for p in result["points"][1:]]
    assert by_index[drill["index"]]["verdict"] == "accepted"
    assert by_index[drill["index"]]["url"] == f"/drills/{drill['drill_id']}"
    assert by_index[first["index"]]["url"].startswith("/topics/")
    assert 0 < report["score"] < 100
    # Each question fed FSRS once with the documented rating; skipped ones are 重来.
    session.expire_all()
    user_id = session.scalar(select(CardState.user_id).limit(1))
    for q in questions:
        logs = session.scalars(
            select(ReviewLog).where(ReviewLog.user_id == user_id, ReviewLog.card_id == q["card_id"])
        ).all()
        assert len(logs) == 1, q
        assert logs[0].rating == by_index[q["index"]]["rating"]
    assert by_index[questions[2]["index"]]["rating"] == 1
    assert by_index[second["index"]]["rating"] == 1
    # The drill was solved for the first time here (after a failure): one review, 困难.
    assert by_index[drill["index"]]["rating"] == 2
    # Finishing again changes nothing and reviews nothing twice.
    again = client.post(f"/api/v1/interviews/{iid}/finish", headers=headers).get_json()
    assert again["score"] == report["score"]
    assert len(session.scalars(select(ReviewLog)).all()) == len(questions) + 1
    # After the end: no more answers.
    late = post_item(client, headers, iid, questions[2]["index"], answer="现在才想起来")
    assert late.status_code == 409

    history = client.get("/api/v1/interviews", headers=headers).get_json()["interviews"]
    assert history[0]["id"] == iid and history[0]["score"] == report["score"]


def test_time_is_enforced_by_the_server(
    client: FlaskClient, headers: dict[str, str], clock: Clock
) -> None:
    body = start(client, headers, 15)
    iid, items = body["id"], body["items"]
    q0, q1 = items[0], items[1]
    # A future item cannot be answered before its turn.
    ahead = post_item(client, headers, iid, q1["index"], answer="抢答")
    assert ahead.status_code == 409 and "还没到" in ahead.get_json()["error"]
    # The first question's clock runs out: the server moves on by itself.
    clock.advance(q0["seconds"] + 1)
    now = state(client, headers, iid)
    assert now["items"][0]["phase"] == "timeout" and now["current"] == 1
    # Its answer still arrives: recorded as late, not lost, and it does not move the timeline.
    late = post_item(client, headers, iid, q0["index"], answer="迟到的回答").get_json()
    assert late["late"] is True and late["answer"] == "迟到的回答"
    assert state(client, headers, iid)["current"] == 1
    # The second question started when the first timed out, not when the late answer came.
    started = datetime.fromisoformat(state(client, headers, iid)["items"][1]["started_at"])
    assert started == T0 + timedelta(seconds=q0["seconds"])
    # After the whole session's time, everything left has timed out and answers are late.
    clock.advance(15 * 60)
    over = state(client, headers, iid)
    assert over["over"] is True and over["current"] is None
    assert {i["phase"] for i in over["items"][1:]} == {"timeout"}
    late2 = post_item(client, headers, iid, q1["index"], answer="也迟到了").get_json()
    assert late2["late"] is True
    report = client.post(f"/api/v1/interviews/{iid}/finish", headers=headers).get_json()
    by_index = {i["index"]: i for i in report["items"]}
    assert by_index[0]["late"] is True and by_index[0]["rating"] <= 2
    assert by_index[items[-1]["index"]]["status"] == "timeout"


def test_review_pause_and_skip(client: FlaskClient, headers: dict[str, str], clock: Clock) -> None:
    body = start(client, headers, 15)
    iid = body["id"]
    clock.advance(20)
    post_item(client, headers, iid, 0, answer="一些想法")
    # Reading the model answer: the question is in review, the next clock has not started.
    clock.advance(300)
    now = state(client, headers, iid)
    assert now["items"][0]["phase"] == "review" and now["items"][1]["phase"] == "upcoming"
    assert post_item(client, headers, iid, 0, skip=True).status_code == 409
    post_item(client, headers, iid, 0, points=[])
    now = state(client, headers, iid)
    assert now["current"] == 1
    assert datetime.fromisoformat(now["items"][1]["started_at"]) == T0 + timedelta(seconds=320)
    # Skip moves on at once and refuses a second skip.
    skipped = post_item(client, headers, iid, 1, skip=True).get_json()
    assert skipped["status"] == "skipped" and skipped["next"] == 2
    assert post_item(client, headers, iid, 1, skip=True).status_code == 409
    # Wrong bodies say what is wrong.
    assert post_item(client, headers, iid, 2, code="x").status_code == 400
    assert post_item(client, headers, iid, 2).status_code == 400
    assert post_item(client, headers, iid, 0, points=[99]).status_code == 400
    assert post_item(client, headers, iid, 42, skip=True).status_code == 404


def test_resume_after_reload(client: FlaskClient, headers: dict[str, str], clock: Clock) -> None:
    body = start(client, headers, 15)
    iid = body["id"]
    clock.advance(15)
    post_item(client, headers, iid, 0, answer="ReLU 缓解梯度消失")
    # A reload: the page asks the server where things stand and gets the answer and checklist.
    again = state(client, headers, iid)
    assert again["current"] == 0 and again["items"][0]["answer"] == "ReLU 缓解梯度消失"
    assert again["items"][0]["points"] and again["items"][0]["model_answer"]
    post_item(client, headers, iid, 0, points=[0])
    clock.advance(10)
    again = state(client, headers, iid)
    assert again["current"] == 1 and again["items"][0]["status"] == "confirmed"
    assert again["items"][1]["question_html"] and "answer" in again["items"][1]
    # Items not reached yet do not reveal their content.
    assert "question_html" not in again["items"][2]
    # The page resumes too (it renders this state).
    assert client.get(f"/interview/{iid}", headers=headers).status_code in (200, 302)


def test_another_users_interview_is_404(
    client: FlaskClient, headers: dict[str, str], clock: Clock, session: Any
) -> None:
    iid = start(client, headers)["id"]
    make_user(session, "bob", "bob-password")
    bob = api_token(client, "bob", "bob-password")
    assert client.get(f"/api/v1/interviews/{iid}", headers=bob).status_code == 404
    assert post_item(client, bob, iid, 0, answer="x").status_code == 404
    assert client.post(f"/api/v1/interviews/{iid}/finish", headers=bob).status_code == 404
    assert client.get("/api/v1/interviews", headers=bob).get_json()["interviews"] == []
    assert client.get(f"/api/v1/interviews/{iid + 100}", headers=headers).status_code == 404


def test_study_next_is_what_the_session_showed_weak(
    client: FlaskClient, headers: dict[str, str], clock: Clock, session: Any
) -> None:
    """A crafted history: two questions answered fully, one thinly, one skipped, a drill failed."""
    body = start(client, headers, 15)
    iid, items = body["id"], body["items"]
    questions = [i for i in items if i["kind"] == "question"]
    drill = next(i for i in items if i["kind"] == "drill")
    strong, thin, skipped = questions[:2], questions[2], questions[3]
    for q in strong:
        clock.advance(10)
        result = post_item(
            client, headers, iid, q["index"], answer=model_answer_text(session, q["card_id"])
        ).get_json()
        post_item(client, headers, iid, q["index"], points=[p["index"] for p in result["points"]])
    clock.advance(10)
    result = post_item(client, headers, iid, thin["index"], answer="不记得").get_json()
    post_item(client, headers, iid, thin["index"], points=[])
    post_item(client, headers, iid, skipped["index"], skip=True)
    d = get_drill(drill["drill_id"])
    post_item(client, headers, iid, drill["index"], code=d.starter_code)
    post_item(client, headers, iid, drill["index"], skip=True)
    report = client.post(f"/api/v1/interviews/{iid}/finish", headers=headers).get_json()

    weak = report["study_next"]
    assert {(s["kind"], s.get("card_id") or s.get("drill_id")) for s in weak} == {
        ("question", thin["card_id"]),
        ("question", skipped["card_id"]),
        ("drill", drill["drill_id"]),
    }
    assert weak[0]["kind"] == "drill"  # weakest first, a failed drill before a question
    reasons = {s.get("card_id") or s.get("drill_id"): s["reason"] for s in weak}
    assert reasons[skipped["card_id"]] == "not_answered"
    assert reasons[thin["card_id"]] == "missed_points"
    assert reasons[drill["drill_id"]] == "not_accepted"
    assert all(s["url"] for s in weak)
    # The strong answers were rated 良好 or 简单 and are not in the list.
    by_index = {i["index"]: i for i in report["items"]}
    assert all(by_index[q["index"]]["rating"] >= 3 for q in strong)
    # A drill never solved gets no FSRS review (drill cards join FSRS when first solved).
    assert by_index[drill["index"]]["fed_fsrs"] is False

    # The next interview's report compares with this one.
    clock.advance(3600)
    second = start(client, headers, 15)["id"]
    report2 = client.post(f"/api/v1/interviews/{second}/finish", headers=headers).get_json()
    assert [p["id"] for p in report2["previous"]] == [iid, second]
    assert report2["previous"][0]["score"] == report["score"]


class FullSandbox:
    """Stand-in for the runner pool when every slot is busy and the queue is full."""

    def run(self, *args: Any, **kwargs: Any) -> Any:
        from engine.sandbox import QueueFull

        raise QueueFull(retry_after=7)


def skip_to_drill(client: FlaskClient, headers: dict[str, str], clock: Clock) -> tuple[int, Any]:
    body = start(client, headers, 15)
    drill = next(i for i in body["items"] if i["kind"] == "drill")
    for item in body["items"][: drill["index"]]:
        clock.advance(1)
        post_item(client, headers, body["id"], item["index"], skip=True)
    return body["id"], drill


def test_a_busy_grader_or_the_rate_limit_loses_no_code(
    app: Flask, client: FlaskClient, headers: dict[str, str], clock: Clock
) -> None:
    iid, drill = skip_to_drill(client, headers, clock)
    code = get_drill(drill["drill_id"]).solution_code
    app.config["DRILL_SANDBOX"] = FullSandbox()
    busy = post_item(client, headers, iid, drill["index"], code=code)
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "7"
    assert "不会丢失" in busy.get_json()["error"]
    kept = state(client, headers, iid)["items"][drill["index"]]
    assert kept["code"] == code and kept["submits"] == 0 and kept["phase"] == "current"

    app.config["DRILL_SANDBOX"] = None
    app.config["SUBMISSION_RATE_PER_MINUTE"] = 1
    first = post_item(client, headers, iid, drill["index"], code="def nope(:\n")
    assert first.get_json()["submission"]["verdict"] == "syntax_error"
    limited = post_item(client, headers, iid, drill["index"], code=code)
    assert limited.status_code == 429 and limited.headers["Retry-After"]
    assert state(client, headers, iid)["items"][drill["index"]]["code"] == code
    clock.advance(420)  # the rate limit's minute has passed, and the drill's 7 minutes too
    late = post_item(client, headers, iid, drill["index"], code=code).get_json()
    assert late["submission"]["verdict"] == "accepted" and late["late"] is True


class GatedSandbox:
    """Stand-in for the pool that holds every run until released; counts runs at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.running = self.most_running = 0

    def run(self, source: str, function: str, calls: Any, limits: Any = None) -> Any:
        from engine.sandbox import CallOutcome, RunOutcome

        with self.lock:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        try:
            self.release.wait(timeout=5)
            return RunOutcome("ok", [CallOutcome("ok", value=None) for _ in calls])
        finally:
            with self.lock:
                self.running -= 1


def test_interview_submissions_share_the_in_flight_cap(
    app: Flask, client: FlaskClient, headers: dict[str, str], clock: Clock
) -> None:
    """Five drill submissions at once from one interview: at most two are graded at a time,
    the rest are refused with 429 before grading, and the typed code is kept."""
    iid, drill = skip_to_drill(client, headers, clock)
    sandbox = GatedSandbox()
    app.config.update(DRILL_SANDBOX=sandbox, SUBMISSION_RATE_PER_MINUTE=100)
    code = "def wrong(x):\n    return x\n"
    barrier = threading.Barrier(5)
    codes: list[int] = []

    def one() -> None:
        own = app.test_client()
        barrier.wait()
        response = post_item(own, headers, iid, drill["index"], code=code)
        with sandbox.lock:
            codes.append(response.status_code)
            if codes.count(429) == 3:
                sandbox.release.set()  # every refusal is in: let the admitted two finish

    threads = [threading.Thread(target=one) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200, 200, 429, 429, 429], codes
    assert sandbox.most_running <= 2
    assert state(client, headers, iid)["items"][drill["index"]]["code"] == code
