"""Drill pages: the list by topic and the two-pane drill page (statement | editor + results)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required

from engine import i18n as engine_i18n
from quiz import drills
from quiz.db import db, utcnow

bp = Blueprint("drills", __name__, url_prefix="/drills")


@bp.app_context_processor
def _drill_text() -> dict[str, Any]:
    """drill_title(d), drill_difficulty(d) and case_name(name) in the page's language (topics
    stay as written)."""
    locale = str(get_locale())
    return {
        "drill_title": lambda d: drills.display_title(d, locale),
        "case_name": lambda name: engine_i18n.case_name(name, locale),
        "drill_difficulty": lambda d: drills.display_difficulty(d, locale),
    }


@bp.get("")
def index() -> str:
    user_id = current_user.id if current_user.is_authenticated else None
    rows = drills.list_drills(db.session(), user_id, now=utcnow())
    counts = {status: sum(r.status == status for r in rows) for status in drills.STATUS_LABELS}
    return render_template(
        "drills/index.html",
        groups=drills.group_by_topic(rows),
        counts=counts,
        status_labels=drills.STATUS_LABELS,
    )


@bp.get("/<drill_id>")
@login_required
def drill(drill_id: str) -> str:
    drill = drills.find_drill(drill_id)
    if drill is None:
        abort(404)
    session, user_id, now = db.session(), current_user.id, utcnow()
    review = request.args.get("review") == "1"
    locale = str(get_locale())
    code, saved_at = drills.initial_code(session, user_id, drill, review=review, locale=locale)
    progress = drills.get_progress(session, user_id, drill_id)
    card = drills.drill_card(session, drill_id)
    # In review mode the answer stays hidden until the user solves it again or gives up.
    show_solution = drills.shows_solution(progress) and not review
    state: dict[str, Any] = {
        "drill": drill.id,
        "user": user_id,
        "review": review,
        "code": code,
        "draftSavedAt": saved_at.isoformat() if saved_at else None,
        "starter": engine_i18n.starter_code(drill, locale),
        "maxBytes": drills.max_source_bytes(),
        "progress": drills.progress_json(session, user_id, drill_id, now=now),
        "api": url_for("api_drills.drill_detail", drill_id=drill.id),
        "submissionApi": url_for("api_drills.submission_detail", submission_id=0)[:-1],
        # Where a diagnosis's notes anchor points: {section anchor: topic page URL}.
        "notes": {
            section: url_for("notes.topic", slug=topic)
            for section, topic in drills.section_topics(session).items()
        },
    }
    return render_template(
        "drills/drill.html",
        drill=drill,
        review=review,
        state=state,
        statement_html=drills.statement_html(drill.id, str(get_locale())),
        hints_html=drills.hints_html(drill.id, locale),
        solution=drills.solution_html(drill.id) if show_solution else None,
        progress=progress,
        status=state["progress"]["status"],
        status_labels=drills.STATUS_LABELS,
        history=drills.list_submissions(session, user_id, drill_id),
        verdict_labels=drills.VERDICT_LABELS,
        card=card,
        rating_labels=drills.RATING_LABELS,
    )
