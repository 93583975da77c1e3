"""Home, topic pages (the rendered notes) and the card browser."""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy import select
from werkzeug.routing import BaseConverter
from werkzeug.wrappers import Response as WerkzeugResponse

from quiz import catalog, drills
from quiz.db import db, utcnow
from quiz.inputs import MAX_PAGE, bounded_int
from quiz.models import Card, ReviewLog, Section, Topic
from quiz.search import search_notes

bp = Blueprint("notes", __name__)


@bp.get("/")
def home() -> str:
    user_id = current_user.id if current_user.is_authenticated else None
    topics = catalog.topic_summaries(db.session(), user_id, now=utcnow())
    # Until the first answer, the home page opens with what to do first.
    first_run = user_id is not None and not db.session.scalar(
        select(ReviewLog.id).where(ReviewLog.user_id == user_id).limit(1)
    )
    return render_template("notes/home.html", topics=topics, first_run=first_run)


class TopicConverter(BaseConverter):
    """`/topics/<topic:slug>`: url_for takes the identity slug and writes the readable path."""

    def to_url(self, value: str) -> str:
        paths: dict[str, str | None] | None = g.get("topic_paths")
        if paths is None or (value not in paths and not g.get("topic_paths_all")):
            # Every topic's path, once per request (a page links a dozen topics).
            paths = {s: p for s, p in db.session.execute(select(Topic.slug, Topic.path))}
            g.topic_paths, g.topic_paths_all = paths, True
        return super().to_url(paths.get(value) or value)


def known_topic_paths(paths: dict[str, str | None]) -> None:
    """Paths a view has already read (slug -> path): its links to them need no query. A link
    to any other topic still reads them all."""
    if "topic_paths" not in g:
        g.topic_paths = paths


@bp.get("/topics/<topic:slug>")
def topic(slug: str) -> str | WerkzeugResponse:
    live = Topic.retired.is_(False)
    topic = db.session.scalar(select(Topic).where(Topic.path == slug, live))
    if topic is None:
        topic = db.session.scalar(select(Topic).where(Topic.slug == slug, live))
        if topic is None:
            abort(404)
        if topic.path:  # an old hash address: send links and bookmarks to the readable one
            return redirect(url_for("notes.topic", slug=topic.slug), code=301)
    sections = [s for s in topic.sections if not s.retired]
    drills_by_section = _drills_by_section(sections)
    return render_template(
        "notes/topic.html",
        topic=topic,
        sections=sections,
        drills_by_section=drills_by_section,
        drill_titles={
            d.id: drills.display_title(d, str(get_locale())) for d in drills.all_drills()
        },
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
    topics = catalog.topic_summaries(db.session(), current_user.id, now=utcnow())
    result = catalog.search_cards(
        db.session(),
        current_user.id,
        query=request.args.get("q", "").strip(),
        topic_slug=request.args.get("topic") or None,
        state_filter=request.args.get("state") or None,
        page=bounded_int(request.args.get("page"), 1, low=1, high=MAX_PAGE),
    )
    return render_template("notes/cards.html", result=result, topics=topics, args=request.args)


@bp.get("/search")
def search() -> str:
    query = request.args.get("q", "").strip()
    hits = search_notes(db.session(), query)
    return render_template("notes/search.html", query=query, hits=hits, mark=_mark)


def _mark(text: str, query: str) -> Markup:
    """The snippet with each occurrence of the query in <mark> (everything else escaped)."""
    if not query:
        return escape(text)
    parts = re.split(f"({re.escape(query)})", text, flags=re.IGNORECASE)
    return Markup("").join(
        Markup("<mark>%s</mark>") % part if i % 2 else escape(part) for i, part in enumerate(parts)
    )


@bp.get("/pygments.css")
def pygments_css() -> Response:
    from quiz.rendering import pygments_css as css

    response = Response(css(), mimetype="text/css")
    response.cache_control.max_age = 3600
    return response


@bp.get("/favicon.ico")
def favicon() -> WerkzeugResponse:
    # Browsers ask for /favicon.ico before reading the page's <link rel="icon">.
    return redirect(url_for("static", filename="favicon.svg"), code=301)
