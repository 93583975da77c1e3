"""Home, topic pages (the rendered notes) and the card browser."""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from quiz import catalog
from quiz.db import db, utcnow
from quiz.inputs import MAX_PAGE, bounded_int
from quiz.models import Card, Section, Topic

bp = Blueprint("notes", __name__)


@bp.get("/")
def home() -> str:
    user_id = current_user.id if current_user.is_authenticated else None
    topics = catalog.topic_summaries(db.session, user_id, now=utcnow())
    return render_template("notes/home.html", topics=topics)


@bp.get("/topics/<slug>")
def topic(slug: str) -> str:
    topic = db.session.scalar(select(Topic).where(Topic.slug == slug, Topic.retired.is_(False)))
    if topic is None:
        abort(404)
    sections = [s for s in topic.sections if not s.retired]
    drills_by_section = _drills_by_section(sections)
    return render_template(
        "notes/topic.html",
        topic=topic,
        sections=sections,
        drills_by_section=drills_by_section,
        needs_mermaid=any(s.has_diagram for s in sections),
    )


def _drills_by_section(sections: list[Section]) -> dict[int, list[Card]]:
    ids = [s.id for s in sections]
    cards = db.session.scalars(
        select(Card).where(Card.kind == "drill", Card.section_id.in_(ids)).order_by(Card.position)
    )
    grouped: dict[int, list[Card]] = {}
    for card in cards:
        grouped.setdefault(card.section_id or 0, []).append(card)
    return grouped


@bp.get("/cards")
@login_required
def cards() -> str:
    topics = catalog.topic_summaries(db.session, current_user.id, now=utcnow())
    result = catalog.search_cards(
        db.session,
        current_user.id,
        query=request.args.get("q", "").strip(),
        topic_slug=request.args.get("topic") or None,
        state_filter=request.args.get("state") or None,
        page=bounded_int(request.args.get("page"), 1, low=1, high=MAX_PAGE),
    )
    return render_template("notes/cards.html", result=result, topics=topics, args=request.args)


@bp.get("/pygments.css")
def pygments_css() -> Response:
    from quiz.rendering import pygments_css as css

    response = Response(css(), mimetype="text/css")
    response.cache_control.max_age = 3600
    return response


@bp.get("/favicon.ico")
def favicon() -> Response:
    # Browsers ask for /favicon.ico before reading the page's <link rel="icon">.
    return redirect(url_for("static", filename="favicon.svg"), code=301)  # type: ignore[return-value]
