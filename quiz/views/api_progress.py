"""`/api/v1/progress`: the dashboard's figures as JSON, and the backup for scripts."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from quiz import backup, progress
from quiz.db import db, utcnow
from quiz.views.api import api_blueprint, api_user, login_required

bp = api_blueprint("api_progress")


def _ratio(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def progress_json(d: progress.Dashboard) -> dict[str, Any]:
    """The documented shape (plus a few context fields: today, desired retention, counts)."""
    return {
        "today": d.today.isoformat(),
        "due_now": d.due_now,
        "done_today": d.done_today,
        "new_left_today": d.new_left_today,
        "streak_days": d.streak_days,
        "retention": {key: _ratio(r.rate) for key, r in d.retention.items()},
        "retention_reviews": {key: r.total for key, r in d.retention.items()},
        "desired_retention": d.settings.desired_retention,
        "states": d.states,
        "forecast": [f.reviews for f in d.forecast],
        "topics": [
            {
                "topic": t.title,
                "slug": t.slug,
                "cards": t.cards,
                "mastery": _ratio(t.mastery),
                "drills_solved": t.drills_solved,
                "drills_attempted": t.drills_attempted,
                "drills_total": t.drills_total,
                "attempts_to_first_accept": _ratio(t.attempts_to_first_accept),
            }
            for t in d.topics
        ],
    }


@bp.get("/progress")
@login_required
def summary() -> Response:
    return jsonify(progress_json(progress.dashboard(db.session(), api_user().id, now=utcnow())))


@bp.get("/progress/backup")
@login_required
def export_backup() -> Response:
    data = backup.export_backup(db.session(), api_user().id, now=utcnow())
    return Response(backup.dump_backup(data), mimetype="application/json")


@bp.post("/progress/backup")
@login_required
def import_backup() -> tuple[Response, int]:
    """Body: a backup file as exported (JSON, or gzip-compressed JSON)."""
    request.max_content_length = backup.MAX_BACKUP_BYTES
    user_id = api_user().id
    with backup.one_import_per_user(user_id):
        data = backup.load_backup(request.get_data(cache=False))
        report = backup.import_backup(db.session(), user_id, data)
    return jsonify({"imported": report.__dict__, "message": report.summary()}), 201
