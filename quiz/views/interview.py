"""Mock interview pages: start (with history), the timed session, the report."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from quiz import drills, interview_report, interviews
from quiz.db import db
from quiz.interview.plan import LENGTHS, SHAPES
from quiz.models import Topic
from quiz.transaction import attempt
from quiz.views.api_interviews import clock, clock_scale, warm_keypoints, with_links

bp = Blueprint("interview", __name__, url_prefix="/interview")


def trend_chart(previous: list[dict[str, Any]], current: dict[str, Any] | None) -> dict[str, Any]:
    """What progress.js draws for the score trend (the table beside it has the same numbers)."""
    rows = [*previous, *([current] if current else [])]
    return {
        "type": "bar",
        "unit": "",
        "max": 100,
        "labels": [r["label"] for r in rows],
        "datasets": [{"label": _("得分"), "color": "easy", "data": [r["score"] for r in rows]}],
    }


def _label(iso: str, minutes: int) -> str:
    """ "12-01 · 15 min", the day in the user's zone (the API's timestamps are UTC)."""
    day = format_datetime(datetime.fromisoformat(iso), "MM-dd")
    return _("%(iso)s · %(minutes)s 分钟", iso=day, minutes=minutes)


@bp.get("")
@login_required
def start_page() -> str:
    topics = db.session.scalars(
        select(Topic).where(Topic.retired.is_(False)).order_by(Topic.position)
    ).all()
    return render_template(
        "interview/start.html",
        lengths=LENGTHS,
        shapes=SHAPES,
        topics=topics,
        history=interview_report.history(db.session(), current_user.id),
    )


@bp.post("")
@login_required
def start() -> Response:
    minutes = request.form.get("minutes", type=int)
    topics = request.form.getlist("topics") or None
    try:
        with attempt():
            interview = interviews.start(
                db.session(),
                current_user.id,
                minutes,
                topics,
                now=clock(),
                rng=random.Random(),
                scale=clock_scale(),
            )
    except interviews.InterviewError as error:
        flash(error.message, "error")
        return redirect(url_for("interview.start_page"))
    return redirect(url_for("interview.session", interview_id=interview.id))


def _own(interview_id: int) -> Any:
    try:
        return interviews.get(db.session(), current_user.id, interview_id)
    except interviews.InterviewError:
        abort(404)


@bp.get("/<int:interview_id>")
@login_required
def session(interview_id: int) -> str | Response:
    interview = _own(interview_id)
    if interview.finished_at is not None:
        return redirect(url_for("interview.report", interview_id=interview.id))
    warm_keypoints()
    state = interview_report.state_json(interview, now=clock())
    state.update(
        api=url_for("api_interviews.detail", interview_id=interview.id),
        report=url_for("interview.report", interview_id=interview.id),
        user=current_user.id,
        maxBytes=drills.max_source_bytes(),
    )
    return render_template(
        "interview/session.html",
        interview=interview,
        state=state,
        verdict_labels=drills.VERDICT_LABELS,
    )


@bp.get("/<int:interview_id>/report")
@login_required
def report(interview_id: int) -> str | Response:
    interview = _own(interview_id)
    if interview.finished_at is None:
        return redirect(url_for("interview.session", interview_id=interview.id))
    data = with_links(interview_report.report_json(db.session(), interview))
    previous = [
        {"label": _label(p["finished_at"], p["minutes"]), "score": p["score"], "id": p["id"]}
        for p in data["previous"]
        if p["id"] != interview.id
    ]
    current = {
        "label": _label(data["finished_at"], interview.minutes) + _("（本次）"),
        "score": data["score"],
        "id": interview.id,
    }
    solutions = {
        item["drill_id"]: drills.solution_html(item["drill_id"])
        for item in data["items"]
        if item["kind"] == "drill"
    }
    return render_template(
        "interview/report.html",
        r=data,
        trend=[*previous, current],
        chart=trend_chart(previous, current),
        solutions=solutions,
        rating_labels=drills.RATING_LABELS,
    )
