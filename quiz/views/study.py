"""The study page, and the suspend/bury/unsuspend forms of the card browser."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from quiz import catalog, study, studyday
from quiz.db import db, utcnow
from quiz.transaction import attempt
from quiz.urls import is_local_path
from quiz.views.api_reviews import card_payload, counts_json

bp = Blueprint("study", __name__)


@bp.get("/study", endpoint="study")  # the NAV links `study.study`
@login_required
def study_page() -> str:
    """The card, its reveal stages and the four buttons; study.js drives it through the API."""
    now = utcnow()
    user_id = current_user.id
    slug = request.args.get("topic") or None
    try:
        topic_id = study.topic_id_for(db.session(), slug)
    except study.NotFound:
        flash(_("找不到该主题，已改为学习全部主题。"), "warning")
        slug, topic_id = None, None
    settings = study.user_settings(db.session(), user_id)
    queue = study.study_queue(db.session(), user_id, now=now, topic_id=topic_id)
    initial = None
    summary = None
    if queue.card is not None:
        initial = card_payload(
            queue.card, queue.counts, user_id=user_id, now=now, settings=settings
        )
        initial["done_today"] = queue.done_today
    else:
        summary = study.day_summary(db.session(), user_id, now=now, topic_id=topic_id)
    topics = catalog.topic_summaries(db.session(), user_id, now=now)
    return render_template(
        "study/study.html",
        topics=topics,
        topic_slug=slug,
        initial=initial,
        counts=counts_json(queue.counts),
        done_today=queue.done_today,
        summary=summary,
        reveal_all=settings.reveal_all,
        now=now,
    )


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"study_today": _study_today}


def _study_today() -> date | None:
    """The signed-in user's study day (for "buried until" in the card browser), once per request."""
    if not current_user.is_authenticated:
        return None
    if "study_today" not in g:
        settings = study.user_settings(db.session(), current_user.id)
        g.study_today = studyday.study_day(utcnow(), settings.timezone, settings.rollover_hour)
    today: date | None = g.study_today
    return today


def _back(default: str) -> Response:
    """Back where the form was (same-site relative paths only), else `default`."""
    target = request.form.get("next") or ""
    return redirect(target if is_local_path(target) else default)


def _apply_card_action(user_id: int, card_id: int, action: str) -> str:
    if action == "suspend":
        study.set_suspended(db.session(), user_id, card_id, True, now=utcnow())
        return _("已暂停这张卡片：它不会再出现在学习中，直到你恢复它。")
    if action == "unsuspend":
        study.set_suspended(db.session(), user_id, card_id, False, now=utcnow())
        return _("已恢复这张卡片。")
    if action == "bury":
        study.bury(db.session(), user_id, card_id, now=utcnow())
        return _("已搁置到明天。")
    study.unbury(db.session(), user_id, card_id)
    return _("已取消搁置。")


def _card_action(card_id: int, action: str) -> Response:
    user_id = current_user.id
    try:
        with attempt():
            message = _apply_card_action(user_id, card_id, action)
    except study.StudyError as error:
        if error.status == 404:
            abort(404)
        flash(error.message, "error")
        return _back(url_for("notes.cards"))
    flash(message, "success")
    return _back(url_for("notes.cards") + f"#card-{card_id}")


@bp.post("/cards/<int:card_id>/suspend")
@login_required
def suspend(card_id: int) -> Response:
    return _card_action(card_id, "suspend")


@bp.post("/cards/<int:card_id>/unsuspend")
@login_required
def unsuspend(card_id: int) -> Response:
    return _card_action(card_id, "unsuspend")


@bp.post("/cards/<int:card_id>/bury")
@login_required
def bury(card_id: int) -> Response:
    return _card_action(card_id, "bury")


@bp.post("/cards/<int:card_id>/unbury")
@login_required
def unbury(card_id: int) -> Response:
    return _card_action(card_id, "unbury")
