"""Liveness and grader readiness for operators and monitors."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from quiz.db import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    db.session.execute(text("SELECT 1"))
    try:
        from engine.sandbox import doctor_report

        grader = doctor_report()
    except Exception as error:  # the site still serves notes and cards without a grader
        grader = {"ready": False, "message": f"评测器不可用：{error}"}
    return jsonify({"status": "ok", "database": "ok", "grader": grader}), 200
