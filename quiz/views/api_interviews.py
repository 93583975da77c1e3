"""Mock interview JSON API: start, answer/skip/confirm/submit an item, finish, history."""

from __future__ import annotations

import random
import threading
from datetime import datetime
from typing import Any

from flask import Response, current_app, jsonify, url_for
from flask_babel import gettext as _

from quiz import drills, grading, interview_queue, interview_report, interviews
from quiz.db import db, utcnow
from quiz.interview import keypoints
from quiz.models import Interview, Submission
from quiz.views.api import (
    InvalidRequest,
    api_blueprint,
    api_user,
    json_body,
    login_required,
)
from quiz.views.grading import grade_admitted, queue_admitted

bp = api_blueprint("api_interviews")


def clock() -> datetime:
    """The views' one clock read; INTERVIEW_CLOCK (a callable) lets tests move time."""
    return (current_app.config.get("INTERVIEW_CLOCK") or utcnow)()


def clock_scale() -> float:
    """INTERVIEW_CLOCK_SCALE shortens every clock (browser tests run 15 minutes in seconds)."""
    return float(current_app.config.get("INTERVIEW_CLOCK_SCALE", 1.0))


def with_links(report: dict[str, Any]) -> dict[str, Any]:
    """Links into the notes and drills for the report's items and its "study next"."""
    for entry in [*report["items"], *report["study_next"]]:
        entry["url"] = _link(entry)
    return report


def _link(entry: dict[str, Any]) -> str | None:
    if entry.get("kind") == "drill" and entry.get("drill_id"):
        return url_for("drills.drill", drill_id=entry["drill_id"])
    if entry.get("topic_slug"):
        anchor = entry.get("section_slug")
        return url_for("notes.topic", slug=entry["topic_slug"]) + (f"#{anchor}" if anchor else "")
    return None


def warm_keypoints() -> None:
    """Load the segmenter in the background while the learner reads the first question."""
    if not keypoints.is_warm():
        threading.Thread(target=keypoints.warm, name="jieba-warm", daemon=True).start()


@bp.post("/interviews")
@login_required
def start() -> tuple[Response, int]:
    data = json_body()
    now = clock()
    interview = interviews.start(
        db.session(),
        api_user().id,
        data.get("minutes"),
        data.get("topics"),
        now=now,
        rng=random.Random(),
        scale=clock_scale(),
    )
    warm_keypoints()
    body = {
        "id": interview.id,
        "items": [interview_report.item_brief(i) for i in interview.items],
        "started_at": interview.started_at.isoformat(),
        "ends_at": interview.ends_at.isoformat(),
        "url": url_for("interview.session", interview_id=interview.id),
    }
    response = jsonify(body)
    response.headers["Location"] = url_for("api_interviews.detail", interview_id=interview.id)
    return response, 201


@bp.get("/interviews")
@login_required
def history() -> Response:
    rows = interview_report.history(db.session(), api_user().id)
    return jsonify({"interviews": [history_json(i) for i in rows]})


def history_json(interview: Interview) -> dict[str, Any]:
    return {
        **interview_report.summary_json(interview),
        "finished_at": interview.finished_at.isoformat() if interview.finished_at else None,
        "score": interview.score,
        "items": len(interview.items),
    }


@bp.get("/interviews/<int:interview_id>")
@login_required
def detail(interview_id: int) -> Response:
    interview = interviews.get(db.session(), api_user().id, interview_id)
    return jsonify(interview_report.state_json(interview, now=clock()))


@bp.post("/interviews/<int:interview_id>/items/<int:index>")
@login_required
def item(interview_id: int, index: int) -> Response | tuple[Response, int]:
    """One body per action: {answer}, {points}, {code} or {skip: true}."""
    data = json_body()
    user_id, session = api_user().id, db.session()
    if data.get("skip") is True:
        done = interviews.skip(session, user_id, interview_id, index, now=clock())
    elif "points" in data:
        done = interviews.confirm_points(
            session, user_id, interview_id, index, data["points"], now=clock()
        )
    elif "answer" in data:
        done = interviews.answer_question(
            session, user_id, interview_id, index, data["answer"], now=clock()
        )
    elif "code" in data:
        return _submit(interview_id, index, data["code"])
    else:
        raise InvalidRequest(_("请求体需要 “answer”、“points”、“code” 或 “skip”: true 之一。"))
    return jsonify(_item_body(interview_id, index, done))


def _submit(interview_id: int, index: int, code: object) -> Response | tuple[Response, int]:
    user_id, session, submitted_at = api_user().id, db.session(), clock()
    # grade_admitted commits the kept code before grading can refuse or fail, as the drill
    # page does; grading is admitted, counted and run outside any transaction.
    item, text = interviews.keep_code(session, user_id, interview_id, index, code, now=submitted_at)
    assert item.drill_id is not None
    backend = grading.backend(current_app)
    if isinstance(backend, grading.CeleryBackend):  # scaled out: a worker grades it
        return _submit_queued(backend, interview_id, index, item.drill_id, text, submitted_at)
    result, ticket = grade_admitted(
        session, user_id, item.drill_id, text, mode="submit", now=submitted_at
    )
    done, submission = interviews.record_graded_code(
        session, user_id, interview_id, index, text, result, now=submitted_at
    )
    drills.close_ticket(session, ticket)
    body = _item_body(interview_id, index, done)
    body.update(submission=_verdict_json(submission))
    return jsonify(body)


def _submit_queued(
    backend: grading.CeleryBackend,
    interview_id: int,
    index: int,
    drill_id: str,
    text: str,
    submitted_at: datetime,
) -> Response | tuple[Response, int]:
    """As the drill page: queued, enqueued, waited for; the worker records the item's verdict
    (quiz.grading.finish). Not in time: 202, and the page follows /api/v1/submissions/<id>."""
    user_id, session = api_user().id, db.session()

    def attach(submission: Submission) -> None:
        interview_queue.attach_queued(
            session, user_id, interview_id, index, submission, now=submitted_at
        )

    submission_id = queue_admitted(
        backend, session, user_id, drill_id, text, mode="submit", now=submitted_at, attach=attach
    )
    submission = backend.deliver(session, submission_id)
    interview = interviews.get(session, user_id, interview_id)
    body = _item_body(interview_id, index, interview.items[index])
    if submission.status != drills.DONE:
        body.update(
            submission={
                "id": submission.id,
                "status": submission.status,
                "status_label": str(drills.QUEUE_LABELS[submission.status]),
            }
        )
        return jsonify(body), 202
    body.update(submission=_verdict_json(submission))
    return jsonify(body)


def _verdict_json(submission: Submission) -> dict[str, Any]:
    result = submission.result or {}
    # The verdict and the diagnosis, never the reference solution (not before the end).
    return {
        "id": submission.id,
        "status": submission.status,
        "verdict": submission.verdict,
        "passed": submission.passed,
        "total": submission.total,
        "time_ms": submission.time_ms,
        "tests": result.get("tests", []),
        "stdout": result.get("stdout", ""),
        "message": result.get("message", ""),
    }


def _item_body(interview_id: int, index: int, done: Any) -> dict[str, Any]:
    interview = interviews.get(db.session(), api_user().id, interview_id)
    now = clock()
    timeline = interviews.slots(interview, now)
    body = interview_report.item_state(
        done, timeline[index], finished=interview.finished_at is not None
    )
    body["next"] = interview_report.state_json(interview, now=now)["current"]
    body["over"] = interviews.is_over(interview, now)
    return body


@bp.post("/interviews/<int:interview_id>/finish")
@login_required
def finish(interview_id: int) -> Response:
    session = db.session()
    interview = interviews.finish(session, api_user().id, interview_id, now=clock())
    report = interview_report.report_json(session, interview)
    report["url"] = url_for("interview.report", interview_id=interview.id)
    return jsonify(with_links(report))
