"""One blueprint per feature; views stay thin (parse input, call a service, render)."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask_babel import lazy_gettext as _l

NAV = [
    ("study.study", _l("学习")),
    ("notes.home", _l("笔记")),
    ("notes.cards", _l("卡片")),
    ("drills.index", _l("练习")),
    ("interview.start_page", _l("面试")),
    ("progress.dashboard", _l("进度")),
    ("settings.settings", _l("设置")),
]


def _nav() -> dict[str, Any]:
    return {"nav_items": NAV, "nav_current": _current(request.endpoint, [e for e, _ in NAV])}


def _current(endpoint: str | None, items: list[str]) -> str | None:
    """The one nav item to mark: the page itself, else the first item of its blueprint."""
    if endpoint in items:
        return endpoint
    blueprint = (endpoint or "").split(".")[0]
    return next((e for e in items if e.split(".")[0] == blueprint), None)


def register_blueprints(app: Flask) -> None:
    from quiz.views import (
        account,
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

    app.url_map.converters["topic"] = notes.TopicConverter
    for module in (
        account,
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
