"""Drill JSON API: the catalogue, drafts, submissions (graded in the sandbox), reveal, ratings."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, request
from flask_babel import gettext as _

from quiz import drills, grading, scheduling
from quiz.db import db, utcnow
from quiz.views.api import (
    InvalidRequest,
    NotFound,
    api_blueprint,
    api_user,
    json_body,
    login_required,
)
from quiz.views.grading import grade_admitted, queue_admitted

bp = api_blueprint("api_drills")


def _drill(drill_id: str) -> Any:
    return drills.require_drill(drill_id)  # a DrillError is answered by the one error handler


def _body() -> dict[str, Any]:
    # Say "not UTF-8" plainly rather than the generic "not JSON" for undecodable bytes.
    try:
        request.get_data(cache=True).decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidRequest(_("请求内容不是有效的 UTF-8 文本，无法读取代码。")) from error
    return json_body()


def _code(data: dict[str, Any], *, allow_empty: bool = False) -> str:
    return drills.validate_code(data.get("code"), allow_empty=allow_empty)


def _review(data: dict[str, Any]) -> bool:
    return data.get("review") is True


@bp.get("/drills")
@login_required
def drill_list() -> Response:
    rows = drills.list_drills(db.session(), api_user().id, now=utcnow())
    return jsonify(
        {
            "drills": [
                {
                    "id": r.drill.id,
                    "title": r.drill.title,
                    "topic": r.drill.topic,
                    "section": r.drill.section,
                    "difficulty": r.drill.difficulty,
                    "status": r.status,
                    "revealed": r.revealed,
                }
                for r in rows
            ]
        }
    )


@bp.get("/drills/<drill_id>")
@login_required
def drill_detail(drill_id: str) -> Response:
    drill = _drill(drill_id)
    user_id = api_user().id
    progress = drills.get_progress(db.session(), user_id, drill_id)
    body: dict[str, Any] = {
        "id": drill.id,
        "title": drill.title,
        "topic": drill.topic,
        "section": drill.section,
        "difficulty": drill.difficulty,
        "signature": drill.signature,
        "statement_md": drill.statement_md,
        "statement_html": drills.statement_html(drill.id),
        "starter_code": drill.starter_code,
        "examples": drills.examples_json(drill),
        "hints": list(drill.hints),
        "progress": drills.progress_json(db.session(), user_id, drill_id, now=utcnow()),
    }
    if drills.shows_solution(progress):
        body["solution"] = drills.solution_html(drill.id)
    return jsonify(body)


@bp.get("/drills/<drill_id>/draft")
@login_required
def draft_get(drill_id: str) -> Response:
    _drill(drill_id)
    review = request.args.get("review") == "1"
    draft = drills.load_draft(db.session(), api_user().id, drill_id, review=review)
    return jsonify(
        {
            "code": draft.code if draft else None,
            "updated_at": draft.updated_at.isoformat() if draft else None,
        }
    )


@bp.put("/drills/<drill_id>/draft")
@login_required
def draft_put(drill_id: str) -> Response:
    _drill(drill_id)
    data = _body()
    code = _code(data, allow_empty=True)  # clearing the editor is a draft too
    draft = drills.save_draft(
        db.session(), api_user().id, drill_id, code, now=utcnow(), review=_review(data)
    )
    return jsonify({"saved": True, "updated_at": draft.updated_at.isoformat()})


@bp.post("/drills/<drill_id>/submissions")
@login_required
def submit(drill_id: str) -> tuple[Response, int] | Response:
    """Save the draft, count the submission, grade it outside any transaction, record it.

    Four short steps, each committed: (1) the draft, so the code is never lost whatever
    follows; (2) a grading ticket, so the rate limits see this submission before it is graded
    (concurrent requests cannot all slip under them); (3) grading, with no transaction open
    and at most GRADER_MAX_WAITING request threads of this process waiting on the grader; (4)
    the result, stored in the same transaction that removes the ticket. (2) and (3) are
    `grade_admitted`, shared with the mock interview.
    """
    drill = _drill(drill_id)
    data = _body()
    mode = data.get("mode", "submit")
    if mode not in drills.MODES:
        raise InvalidRequest(_("“mode” 必须是 run（运行示例）或 submit（提交）。"))
    code = _code(data)
    user_id, review = api_user().id, _review(data)
    session = db.session()
    # grade_admitted commits the draft first: whatever follows (limits, a busy grader), the
    # code is never lost.
    drills.save_draft(session, user_id, drill.id, code, now=utcnow(), review=review)
    backend = grading.backend(current_app)
    if isinstance(backend, grading.CeleryBackend):  # scaled out: a worker grades it
        return _submit_queued(backend, user_id, drill.id, code, mode=mode, review=review)
    result, ticket = grade_admitted(session, user_id, drill.id, code, mode=mode, now=utcnow())
    outcome = drills.record_submission(
        session, user_id, drill.id, code, mode=mode, result=result, now=utcnow(), review=review
    )
    drills.close_ticket(session, ticket)
    response = jsonify(_finished_body(outcome.submission))
    response.headers["Location"] = f"/api/v1/submissions/{outcome.submission.id}"
    return response, 201


def _submit_queued(
    backend: grading.CeleryBackend,
    user_id: int,
    drill_id: str,
    code: str,
    *,
    mode: str,
    review: bool,
) -> tuple[Response, int] | Response:
    """Record the submission as queued, enqueue it, wait GRADER_WAIT_SECONDS for the verdict."""
    session = db.session()
    submission_id = queue_admitted(
        backend, session, user_id, drill_id, code, mode=mode, now=utcnow(), review=review
    )
    submission = backend.deliver(session, submission_id)
    finished = submission.status == drills.DONE
    response = jsonify(_finished_body(submission) if finished else _pending_body(submission))
    response.headers["Location"] = f"/api/v1/submissions/{submission_id}"
    return response, 201 if finished else 202


def _pending_body(submission: Any) -> dict[str, Any]:
    return {
        "id": submission.id,
        "drill": submission.drill_id,
        "mode": submission.mode,
        "status": submission.status,
        "status_label": str(drills.QUEUE_LABELS[submission.status]),
        "created_at": submission.created_at.isoformat(),
    }


def _finished_body(submission: Any) -> dict[str, Any]:
    """What a finished submission tells its submitter: verdict, progress, proposal, solution."""
    result = submission.result or {}
    outcome = result.get("outcome") or {}
    body = drills.submission_json(submission)
    body["message"] = result.get("message", "")
    body["review"] = outcome.get("review")
    body["first_solve"] = bool(outcome.get("first_solve"))
    body["progress"] = drills.progress_json(
        db.session(), submission.user_id, submission.drill_id, now=utcnow()
    )
    if body["first_solve"] or (submission.review and submission.verdict == "accepted"):
        body["solution"] = drills.solution_html(submission.drill_id)
    return body


@bp.get("/drills/<drill_id>/submissions")
@login_required
def submission_list(drill_id: str) -> Response:
    _drill(drill_id)
    rows = drills.list_submissions(db.session(), api_user().id, drill_id)
    return jsonify({"submissions": [drills.submission_summary(s) for s in rows]})


@bp.get("/submissions/<int:submission_id>")
@login_required
def submission_detail(submission_id: int) -> Response:
    submission = drills.get_submission(db.session(), api_user().id, submission_id)
    if submission is None:
        raise NotFound(_("找不到这次提交。"))
    if submission.status != drills.DONE:
        return jsonify(_pending_body(submission))
    return jsonify(_finished_body(submission))


@bp.post("/drills/<drill_id>/reveal")
@login_required
def reveal(drill_id: str) -> Response:
    drill = _drill(drill_id)
    data = request.get_json(silent=True)
    review = isinstance(data, dict) and _review(data)  # the body is optional here
    user_id = api_user().id
    outcome = drills.reveal(db.session(), user_id, drill.id, now=utcnow(), review=review)
    return jsonify(
        {
            **drills.solution_html(drill.id),
            "newly_revealed": outcome.newly_revealed,
            "review": outcome.proposal.to_json() if outcome.proposal else None,
            "progress": drills.progress_json(db.session(), user_id, drill.id, now=utcnow()),
        }
    )


@bp.post("/drills/<drill_id>/rating")
@login_required
def rating(drill_id: str) -> Response:
    drill = _drill(drill_id)
    data = json_body()
    value, replaces = data.get("rating"), data.get("replaces")
    rating = scheduling.parse_rating(value)
    if rating is None:
        raise InvalidRequest(_("评分必须是 1（重来）、2（困难）、3（良好）或 4（简单）。"))
    if replaces is not None and (not isinstance(replaces, int) or isinstance(replaces, bool)):
        raise InvalidRequest(_("“replaces” 必须是评分记录的 id。"))
    user_id = api_user().id
    outcome = drills.rate(
        db.session(), user_id, drill.id, int(rating), now=utcnow(), replaces=replaces
    )
    return jsonify(
        {
            "rating": outcome.rating,
            "label": drills.RATING_LABELS[outcome.rating],
            "log_id": outcome.log_id,
            "due": outcome.due.isoformat(),
            "progress": drills.progress_json(db.session(), user_id, drill.id, now=utcnow()),
        }
    )
