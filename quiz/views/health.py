"""Liveness and grader readiness for operators and monitors."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from flask_babel import gettext as _
from sqlalchemy import text

from quiz.db import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    db.session.execute(text("SELECT 1"))
    try:
        from engine.sandbox import doctor_report

        grader = doctor_report()
    except Exception:  # the site still serves notes and cards without a grader
        # A fixed message: exception text can carry paths and settings an outsider should not see.
        current_app.logger.exception("grader doctor failed")
        grader = {"ready": False, "message": _("评测器不可用，请查看服务器日志。")}
    return jsonify({"status": "ok", "database": "ok", "grader": grader}), 200
