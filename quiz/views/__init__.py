"""One blueprint per feature; views stay thin (parse input, call a service, render)."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

NAV = [
    ("study.study", "学习"),
    ("notes.home", "笔记"),
    ("notes.cards", "卡片"),
    ("drills.index", "练习"),
    ("interview.start_page", "面试"),
    ("progress.dashboard", "进度"),
    ("settings.settings", "设置"),
]


def _nav() -> dict[str, Any]:
    endpoints = set(current_app.view_functions)
    return {
        "nav_items": [(e, label) for e, label in NAV if e in endpoints],
        "nav_endpoints": endpoints,
    }


def register_blueprints(app: Flask) -> None:
    from quiz.views import (
        api,
        api_drills,
        api_interviews,
        api_progress,
        api_reviews,
        auth,
        drills,
        errors,
        health,
        interview,
        notes,
        progress,
        settings,
        study,
    )

    for module in (
        auth,
        notes,
        api,
        health,
        drills,
        api_drills,
        progress,
        api_progress,
        study,
        settings,
        api_reviews,
        interview,
        api_interviews,
    ):
        app.register_blueprint(module.bp)
    errors.init_app(app)
    app.context_processor(_nav)
