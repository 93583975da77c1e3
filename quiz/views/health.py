"""Liveness and grader readiness for operators and monitors."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from flask_babel import gettext as _
from sqlalchemy import text

from quiz import grading
from quiz.db import db

bp = Blueprint("health", __name__)
PRIVATE_KEYS = ("start_errors", "setup_error")


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    db.session.execute(text("SELECT 1"))
    try:
        # In-process: the sandbox doctor (mode and layers are public; start-up errors name host
        # paths: those stay in the operator's `python -m engine doctor`). Scaled out: the broker
        # and how many workers answer.
        health = grading.backend(current_app).health()
        grader = {k: v for k, v in health.items() if k not in PRIVATE_KEYS}
    except Exception:  # the site still serves notes and cards without a grader
        # A fixed message: exception text can carry paths and settings an outsider should not see.
        current_app.logger.exception("grader doctor failed")
        grader = {"ready": False, "message": _("评测器不可用，请查看服务器日志。")}
    return jsonify({"status": "ok", "database": "ok", "grader": grader}), 200
