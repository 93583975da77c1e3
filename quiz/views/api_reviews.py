"""The review API: next card, answer, undo (token auth, or the session plus its CSRF token)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, current_app, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from quiz import study, transaction
from quiz.db import db, utcnow
from quiz.i18n import request_gettext
from quiz.models import UserSettings
from quiz.scheduling import RATING_NAMES, STATE_NAMES, interval_label
from quiz.schemas import AnswerIn, CardIdIn, CardVersionIn
from quiz.views.api import (
    Conflict,
    InvalidRequest,
    api_blueprint,
    api_user,
    login_required,
    parse_body,
)

bp = api_blueprint("api_reviews")


def _fuzz() -> bool:
    return bool(current_app.config.get("FSRS_FUZZ", True))


def drill_url(drill_id: str | None) -> str | None:
    """Where a due drill card sends the user to re-implement it."""
    if not drill_id:
        return None
    return url_for("drills.drill", drill_id=drill_id, review=1)


def card_payload(
    item: study.QueueCard,
    counts: study.Counts | None,
    *,
    user_id: int,
    now: datetime,
    settings: UserSettings | None = None,
) -> dict[str, Any]:
    """A card as the study page and API clients get it: content, version and the four previews."""
    settings = settings or study.user_settings(db.session(), user_id)
    previews = study.card_previews(
        db.session(), user_id, item, now=now, fuzz=_fuzz(), settings=settings
    )
    card, state = item.card, item.state
    translate = request_gettext()  # the catalogue once for the four labels
    payload: dict[str, Any] = {
        "card": {
            "id": card.id,
            "topic": item.topic_title,
            "topic_slug": item.topic_slug,
            "kind": card.kind,
            "front_html": card.front_html,
            "short_html": card.short_html,
            "back_html": card.back_html,
            "drill_url": drill_url(card.drill_id),
            "state": STATE_NAMES[state.state if state else 0],
            "queue": item.queue,
            "leech": bool(state and state.leech),
        },
        "version": item.version,
        "previews": {RATING_NAMES[r]: int(v.total_seconds()) for r, v in previews.items()},
        "labels": {
            RATING_NAMES[r]: interval_label(v.total_seconds(), translate)
            for r, v in previews.items()
        },
    }
    if counts is not None:
        payload["counts"] = counts_json(counts)
    return payload


def counts_json(counts: study.Counts) -> dict[str, int]:
    return {"new": counts.new, "learning": counts.learning, "review": counts.review}


def _user_id() -> int:
    return api_user().id


def _topic_id() -> int | None:
    return study.topic_id_for(db.session(), request.args.get("topic") or None)


def _next_payload(user_id: int, *, now: datetime, topic_id: int | None) -> dict[str, Any] | None:
    """The next card as /reviews/next shows it, or None when nothing is left."""
    settings = study.user_settings(db.session(), user_id)  # held: one load for the whole request
    queue = study.study_queue(db.session(), user_id, now=now, topic_id=topic_id)
    if queue.card is None:
        return None
    payload = card_payload(queue.card, queue.counts, user_id=user_id, now=now, settings=settings)
    payload["done_today"] = queue.done_today
    return payload


@bp.get("/reviews/next")
@login_required
def next_card() -> Response | tuple[str, int]:
    payload = _next_payload(_user_id(), now=utcnow(), topic_id=_topic_id())
    if payload is None:
        return "", 204
    return jsonify(payload)


@bp.get("/reviews/summary")
@login_required
def summary() -> Response:
    """Today's counts and what tomorrow holds (the study page's empty state)."""
    now = utcnow()
    user_id = _user_id()
    topic_id = _topic_id()
    queue = study.study_queue(db.session(), user_id, now=now, topic_id=topic_id)
    day = study.day_summary(db.session(), user_id, now=now, topic_id=topic_id)
    counts = queue.counts
    return jsonify(
        {
            "counts": counts_json(counts),
            "done_today": day.done_today,
            "due_tomorrow": day.due_tomorrow,
            "learning_later": day.learning_later,
            "next_learning_due": day.next_learning_due.isoformat()
            if day.next_learning_due
            else None,
        }
    )


@bp.post("/reviews")
@login_required
def answer() -> tuple[Response, int]:
    """Record an answer. With `"next": true` the response also carries the next card (as
    /reviews/next would answer, null when nothing is left), saving the page a round trip."""
    body = parse_body(AnswerIn)
    card_id, rating, want_next, request_id = body.card_id, body.rating, body.next, body.request_id
    duration, version = body.duration_ms, body.version
    if request_id is not None and not request_id.isprintable():
        raise InvalidRequest(
            _(
                "request_id 必须是 1–%(MAX_REQUEST_ID)s 个可打印字符的字符串。",
                MAX_REQUEST_ID=study.MAX_REQUEST_ID,
            ),
        )
    user_id = _user_id()
    topic_id = _topic_id() if want_next else None
    now = utcnow()
    try:
        result = study.answer(
            db.session(),
            user_id,
            card_id,
            rating,
            now=now,
            duration_ms=duration,
            request_id=request_id,
            version=version,
            fuzz=_fuzz(),
        )
    except (study.Conflict, IntegrityError) as error:
        # A refused answer leaves nothing behind: the answer is all this request writes (a
        # bearer token's last-used time besides, which its next request sets again).
        transaction.discard()
        # A retry that raced its own first attempt: answer what that attempt recorded.
        replay = study.find_replay(db.session(), user_id, request_id) if request_id else None
        if replay is None or replay.card_id != card_id:
            message = error.message if isinstance(error, study.Conflict) else None
            raise Conflict(message) from error
        result = replay
    answered = result.to_json()
    if want_next:
        answered["next"] = _next_payload(user_id, now=now, topic_id=topic_id)
    return jsonify(answered), 201


@bp.post("/reviews/undo")
@login_required
def undo() -> Response:
    """Undo the last answer of today, or (with `action`, `card_id` and `version`) a bury or
    suspend; answers with the restored card and counts, ready to be shown again."""
    data = request.get_json(silent=True) or {}
    if not isinstance(data, dict):
        raise InvalidRequest(_("请求体必须是 JSON 对象。"))
    action = data.get("action")
    if action is not None and action not in study.UNDOABLE_ACTIONS:
        raise InvalidRequest(_("action 必须是 bury 或 suspend（撤销回答时不写 action）。"))
    card_id = version = None
    if action is not None:
        target = parse_body(CardVersionIn, data)
        card_id, version = target.card_id, target.version
    user_id = _user_id()
    now = utcnow()
    topic_id = _topic_id()  # a bad topic is refused before anything is undone
    if action is None:
        state = study.undo_last(db.session(), user_id, now=now)
    else:
        assert card_id is not None and version is not None
        state = study.undo_card_action(db.session(), user_id, card_id, action, version=version)
    # In the same transaction: if the card cannot be shown again, nothing is undone.
    item = study.queue_card(db.session(), user_id, state.card_id)
    queue = study.study_queue(db.session(), user_id, now=now, topic_id=topic_id)
    payload = card_payload(item, queue.counts, user_id=user_id, now=now)
    payload["done_today"] = queue.done_today
    return jsonify(payload)


def _card_id_from_body() -> int:
    return parse_body(CardIdIn).card_id


@bp.post("/reviews/bury")
@login_required
def bury() -> Response:
    """Hide a card until the next study day."""
    state = study.bury(db.session(), _user_id(), _card_id_from_body(), now=utcnow())
    return jsonify(
        {
            "card_id": state.card_id,
            "buried_until": state.buried_until.isoformat() if state.buried_until else None,
            "version": state.version,  # what /reviews/undo needs to take it back
        }
    )


@bp.post("/reviews/suspend")
@login_required
def suspend() -> Response:
    """Take a card out of studying until it is unsuspended in the card browser."""
    state = study.set_suspended(db.session(), _user_id(), _card_id_from_body(), True, now=utcnow())
    return jsonify(
        {"card_id": state.card_id, "suspended": state.suspended, "version": state.version}
    )
