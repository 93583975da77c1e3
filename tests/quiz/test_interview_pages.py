"""Mock interview pages: the start form, the session page, the report, the dashboard panel."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.factories import login, make_user


def test_start_form_session_report_and_panel(auth_client: FlaskClient, session: Any) -> None:
    page = auth_client.get("/interview")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "开始面试" in html and "还没有模拟面试" in html
    assert auth_client.get("/progress").get_data(as_text=True).count("还没有完成过模拟面试") == 1

    bad = auth_client.post("/interview", data={"minutes": "20"})
    assert bad.status_code == 302
    assert "15、30 或 45" in auth_client.get("/interview").get_data(as_text=True)

    started = auth_client.post("/interview", data={"minutes": "15"})
    assert started.status_code == 302
    url = started.headers["Location"]
    iid = int(url.rstrip("/").split("/")[-1])
    body = auth_client.get(url).get_data(as_text=True)
    assert 'id="interview-state"' in body and "全场剩余" in body
    # Not finished: the report sends back to the session.
    assert auth_client.get(f"/interview/{iid}/report").headers["Location"].endswith(url)

    report = auth_client.post(f"/api/v1/interviews/{iid}/finish").get_json()
    assert report["score"] == 0 and len(report["study_next"]) == 5
    html = auth_client.get(f"/interview/{iid}/report").get_data(as_text=True)
    assert "接下来学什么" in html and "没有作答" in html and 'id="trend-table"' in html
    assert auth_client.get(url).status_code == 302  # a finished session shows its report
    listing = auth_client.get("/interview").get_data(as_text=True)
    assert "查看报告" in listing

    panel = auth_client.get("/progress").get_data(as_text=True)
    assert 'id="iv-count">1<' in panel and 'id="iv-last-score">0' in panel


def test_pages_of_another_user_are_404(client: FlaskClient, session: Any) -> None:
    make_user(session)
    make_user(session, "bob", "bob-password")
    login(client)
    iid = int(client.post("/interview", data={"minutes": "15"}).headers["Location"].split("/")[-1])
    client.post("/logout")
    login(client, "bob", "bob-password")
    assert client.get(f"/interview/{iid}").status_code == 404
    assert client.get(f"/interview/{iid}/report").status_code == 404
    client.post("/logout")
    assert client.get("/interview").status_code == 302  # login required


def test_panel_counts_every_finished_interview_beyond_the_trend(session: Any) -> None:
    """The panel's count comes from the trend below its limit and from a count above it."""
    from datetime import UTC, datetime, timedelta

    from quiz import interview_report
    from quiz.models import Interview

    user = make_user(session)
    start = datetime(2025, 3, 1, 9, tzinfo=UTC)
    for i in range(interview_report.TREND_LIMIT + 2):
        at = start + timedelta(days=i)
        finished = at + timedelta(minutes=15) if i != 3 else None  # one left unfinished
        session.add(
            Interview(
                user_id=user.id,
                minutes=15,
                started_at=at,
                ends_at=at + timedelta(minutes=15),
                finished_at=finished,
                score=i,
            )
        )
        session.flush()
        if i == 4:
            few = interview_report.summary(session, user.id)
            assert few["count"] == 4 and len(few["trend"]) == 4 and few["last_score"] == 4
    many = interview_report.summary(session, user.id)
    assert many["count"] == interview_report.TREND_LIMIT + 1
    assert len(many["trend"]) == interview_report.TREND_LIMIT and many["last_score"] == 11
