"""Read-side queries for topics and cards (home page, card browser, API)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Date, Integer, Select, and_, bindparam, case, func, or_, select, true
from sqlalchemy.orm import Session

from quiz import studyday
from quiz.db import UTCDateTime, built_once
from quiz.models import STATE_NEW, Card, CardState, Section, Topic, UserSettings, card_is_live
from quiz.scheduling import STATE_NAMES


@dataclass(frozen=True)
class TopicSummary:
    id: int
    slug: str
    title: str
    cards: int
    due: int
    new: int
    sections: int


@lru_cache(maxsize=1)
def _topic_summaries_statement() -> Select[Any]:
    """Every live topic with its counts, in one grouped statement built once (bound values).

    Per topic: its live cards (a correlated count on the cards' covering index), and the user's
    states of live cards from one range of `ix_card_states_user_topic_counts` in topic order (a
    state carries its card's topic and liveness): no card is joined to its state row.
    """
    state = CardState
    today = bindparam("today", type_=Date())
    now = bindparam("now", type_=UTCDateTime())
    shown = and_(
        state.suspended.is_(False), or_(state.buried_until.is_(None), state.buried_until <= today)
    )
    cards = (
        select(func.count())
        .select_from(Card)
        .where(Card.topic_id == Topic.id, card_is_live())
        .scalar_subquery()
    )
    sections = (
        select(func.count())
        .select_from(Section)
        .where(Section.topic_id == Topic.id, Section.retired.is_(False))
        .scalar_subquery()
    )
    # count(CASE ...) of the rows that qualify: fewer operations per row than sum(CASE ...).
    due = func.count(case((and_(state.due <= now, state.state != STATE_NEW, shown), 1)))
    new_shown = func.count(case((and_(state.state == STATE_NEW, shown), 1)))
    users_states = and_(
        state.user_id == bindparam("user_id", type_=Integer()),
        state.card_live == true(),  # `= 1`/`= true`: an index equality on both databases
        state.topic_id == Topic.id,
    )
    return built_once(
        select(
            Topic.id, Topic.slug, Topic.title, cards, func.count(state.id), due, new_shown, sections
        )
        .select_from(Topic)
        .join(state, users_states, isouter=True)
        .where(Topic.retired.is_(False))
        .group_by(Topic.id)
        .order_by(Topic.position)
    )


def topic_summaries(session: Session, user_id: int | None, *, now: datetime) -> list[TopicSummary]:
    """Every live topic with its card count, and for a user what is due now and still new
    (suspended cards and cards buried until a later study day count as neither)."""
    settings = session.get(UserSettings, user_id) if user_id else None
    today = studyday.study_day(now, *studyday.zone_and_rollover(settings))
    params = {"user_id": user_id or -1, "today": today, "now": now}
    rows = session.connection().execute(_topic_summaries_statement(), params).all()
    # New: the live cards without a state row, plus the NEW rows shown.
    return [
        TopicSummary(topic_id, slug, title, cards, due, cards - states + new_shown, sections)
        for topic_id, slug, title, cards, states, due, new_shown, sections in rows
    ]


@dataclass(frozen=True)
class CardPage:
    cards: list[tuple[Card, CardState | None]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_cards(
    session: Session,
    user_id: int,
    *,
    query: str = "",
    topic_slug: str | None = None,
    state_filter: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> CardPage:
    """Cards matching every word of `query` in the front or back, with this user's state."""
    stmt = (
        select(Card, CardState)
        .join(
            CardState,
            and_(CardState.card_id == Card.id, CardState.user_id == user_id),
            isouter=True,
        )
        .join(Topic, Topic.id == Card.topic_id)
        .where(Card.retired.is_(False))
    )
    for word in query.split()[:8]:
        pattern = f"%{_escape_like(word)}%"
        stmt = stmt.where(
            or_(Card.front_md.like(pattern, escape="\\"), Card.back_md.like(pattern, escape="\\"))
        )
    if topic_slug:
        stmt = stmt.where(Topic.slug == topic_slug)
    if state_filter == "suspended":
        stmt = stmt.where(CardState.suspended.is_(True))
    elif state_filter == "leech":
        stmt = stmt.where(CardState.leech.is_(True))
    elif state_filter == "new":
        stmt = stmt.where(
            or_(CardState.id.is_(None), CardState.state == STATE_NEW), Card.kind != "drill"
        )
    elif state_filter == "due":
        stmt = stmt.where(CardState.state != STATE_NEW, CardState.suspended.is_(False))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = max(1, page)
    rows = session.execute(
        stmt.order_by(Topic.position, Card.position).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return CardPage([(c, s) for c, s in rows], total, page, per_page)


def card_json(row: tuple[Card, CardState | None]) -> dict[str, Any]:
    card, state = row
    return {
        "id": card.id,
        "topic": card.topic.title,
        "kind": card.kind,
        "front_html": card.front_html,
        "back_html": card.back_html,
        "state": STATE_NAMES[state.state] if state else "new",
        "suspended": bool(state and state.suspended),
        "due": state.due.isoformat() if state and state.state != STATE_NEW else None,
    }
