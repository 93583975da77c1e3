"""The daily queue: which card comes next, today's counts and the empty-state summary."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import (
    Date,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from quiz import scheduling, studyday
from quiz.db import UTCDateTime, built_once
from quiz.models import (
    STATE_LEARNING,
    STATE_NEW,
    STATE_RELEARNING,
    STATE_REVIEW,
    Card,
    CardState,
    ReviewLog,
    Topic,
    UserSettings,
)
from quiz.scheduling import MemoryState, Rating
from quiz.study.errors import NotFound
from quiz.study.settings import _kind_config, fuzz_seed, user_settings
from quiz.study.state import StateRow, _Day, _day, memory_of

# A learning card due within this window is shown early when nothing else is left (Anki's
# "learn ahead"), so a 1-minute step does not end the session with "come back in 40 s".
LEARN_AHEAD = timedelta(minutes=20)


@dataclass(frozen=True)
class Counts:
    """What is left today, as the bar above the card shows it."""

    new: int
    learning: int
    review: int

    @property
    def total(self) -> int:
        return self.new + self.learning + self.review


@dataclass(frozen=True)
class CardFace:
    """What the study page shows of a card: columns of `Card`. The queue hands out one card
    per answer; loading it and its state as ORM objects cost ~0.12 ms more per answer."""

    id: int
    kind: str
    retired: bool
    front_html: str
    short_html: str
    back_html: str
    drill_id: str | None


@dataclass(frozen=True)
class QueueCard:
    card: CardFace
    state: StateRow | None
    queue: str  # "learning" | "review" | "new"
    topic_title: str
    topic_slug: str

    @property
    def version(self) -> int:
        return self.state.version if self.state else 0

    @property
    def memory(self) -> MemoryState:
        return memory_of(self.state)


@dataclass(frozen=True)
class StudyQueue:
    card: QueueCard | None
    counts: Counts
    done_today: int
    next_learning_due: datetime | None  # the earliest learning card due later today


def topic_id_for(session: Session, slug: str | None) -> int | None:
    """The live topic's id; NotFound for an unknown slug, None when no topic was asked for."""
    if not slug:
        return None
    topic_id = session.scalar(select(Topic.id).where(Topic.slug == slug, Topic.retired.is_(False)))
    if topic_id is None:
        raise NotFound(_("找不到该主题。"))
    return topic_id


@dataclass(frozen=True)
class _Statements:
    done_today: Select[Any]
    queue: Select[Any]
    new_pick: Select[Any]
    ahead_pick: Select[Any]
    load: Select[Any]


@lru_cache(maxsize=1)
def _statements() -> _Statements:
    """The queue's queries, built once with bound parameters.

    Two round trips per card in the usual case: today's counts and the pick in one statement
    (what was done today sets the room left under the daily limits inside it), then the card
    itself. Every part walks an index or a small set and stops early (LIMIT); sorting whole
    card rows, or building SQLAlchemy expressions per request, would cost more than the
    answer itself.
    """
    user_id = bindparam("user_id", type_=Integer())
    topic_id = bindparam("topic_id", type_=Integer())
    start, end = bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime())
    now, ahead = bindparam("now", type_=UTCDateTime()), bindparam("ahead", type_=UTCDateTime())
    today = bindparam("today", type_=Date())
    new_per_day = bindparam("new_per_day", type_=Integer())
    reviews_per_day = bindparam("reviews_per_day", type_=Integer())

    in_topic = or_(topic_id.is_(None), Card.topic_id == topic_id)
    shown = and_(
        CardState.suspended.is_(False),
        or_(CardState.buried_until.is_(None), CardState.buried_until <= today),
    )
    # Today's answers with their cards: the counts under the daily limits and the notes seen
    # today both come from them. In the queue's statement they are one CTE, read once (a CTE
    # used more than once is computed once by SQLite and PostgreSQL): the statement's cost
    # grows with one index range over today's answers rather than four.
    answered = (
        select(ReviewLog.state_before, Card.kind, Card.sibling_key)
        .select_from(ReviewLog)
        .join(Card, Card.id == ReviewLog.card_id)
        .where(ReviewLog.user_id == user_id, ReviewLog.reviewed_at >= start)
    )
    answered_today = answered.cte("answered_today")
    # Any card answered today hides the other cards of its note until tomorrow.
    fresh = Card.sibling_key.not_in(select(answered_today.c.sibling_key))

    def from_states(*columns: Any) -> Select[Any]:
        return (
            select(*columns)
            .select_from(CardState)
            .join(Card, Card.id == CardState.card_id)
            .where(CardState.user_id == user_id, Card.retired.is_(False), in_topic, shown)
        )

    # Two comparisons, not IN (...): an IN list is rendered into the SQL on every execution.
    is_learning = or_(CardState.state == STATE_LEARNING, CardState.state == STATE_RELEARNING)
    learning_summary = from_states(
        func.count().label("learning"), func.min(CardState.due).label("learning_next")
    ).where(is_learning, CardState.due < end)

    def done_counts(rows: Any) -> Select[Any]:
        introduced = and_(rows.c.state_before == STATE_NEW, rows.c.kind != "drill")
        reviewed = rows.c.state_before == STATE_REVIEW
        return select(
            func.count().label("done"),
            func.coalesce(func.sum(case((introduced, 1), else_=0)), 0).label("new_done"),
            func.coalesce(func.sum(case((reviewed, 1), else_=0)), 0).label("reviews_done"),
        ).select_from(rows)

    done_today = done_counts(answered.subquery())

    def room(limit: Any, used: Any) -> Any:
        # What today's limit still lets through, never negative (a negative LIMIT is none).
        return case((limit - used > 0, limit - used), else_=0)

    # Today's counts, read once; the rooms under today's limits come with them.
    done_of_queue = done_counts(answered_today)
    done_cte = done_of_queue.add_columns(
        room(new_per_day, done_of_queue.selected_columns.new_done).label("new_room"),
        room(reviews_per_day, done_of_queue.selected_columns.reviews_done).label("review_room"),
    ).cte("done_today")
    done_sq = done_cte
    learning_sq = learning_summary.subquery()
    new_room = select(done_cte.c.new_room).scalar_subquery()
    review_room = select(done_cte.c.review_room).scalar_subquery()

    reviews = from_states(CardState.card_id.label("card_id")).where(
        CardState.state == STATE_REVIEW, CardState.due < end, fresh
    )
    # New: no state row, or a NEW row that is not suspended or buried. Probed per card through
    # the (user, card) unique index, so a scan can stop as soon as it has what it needs.
    has_progress = (
        select(CardState.id)
        .where(
            CardState.user_id == user_id,
            CardState.card_id == Card.id,
            or_(
                CardState.state != STATE_NEW,
                CardState.suspended.is_(True),
                CardState.buried_until > today,
            ),
        )
        .exists()
    )
    new = select(Card.id.label("card_id")).where(
        Card.retired.is_(False), Card.kind != "drill", in_topic, ~has_progress, fresh
    )

    def waiting(candidates: Select[Any], room: Any, *, newest_first: bool = False) -> Any:
        # One card per note a day, so siblings waiting together count once; the LIMIT stops
        # counting at what today's limit lets through. The count does not depend on order;
        # newest first reaches unseen cards without walking past every studied one.
        keys = candidates.with_only_columns(Card.sibling_key)
        if newest_first:
            keys = keys.order_by(Card.id.desc())
        inner = keys.subquery()
        limited = select(inner.c.sibling_key).distinct().limit(room).subquery()
        return select(func.count()).select_from(limited).scalar_subquery()

    by_due = (CardState.due, CardState.card_id)

    def ranked(rank: int, candidates: Select[Any]) -> Select[Any]:
        one = candidates.add_columns(CardState.due.label("due")).order_by(*by_due).limit(1)
        first = one.subquery()
        return select(literal(rank).label("rank"), first.c.due, first.c.card_id)

    def learning_first(until: Any) -> Subquery:
        # The learning card due first: one range of the (user, state, due) index per learning
        # state, each stopping at its first row. With the two states in one condition SQLite
        # walks the (user, due) index instead, through every due card (nearly all reviews).
        firsts = union_all(
            *(
                ranked(
                    0,
                    from_states(CardState.card_id.label("card_id")).where(
                        CardState.state == state, CardState.due <= until
                    ),
                )
                for state in (STATE_LEARNING, STATE_RELEARNING)
            )
        ).subquery()
        return firsts

    # Learning cards due now, else the first review due today: each walks its state's range
    # of the (user, state, due) index and stops at the first hit. New cards (a sort over all
    # of them) are asked for separately, only once reviews are done.
    picks = union_all(
        select(learning_first(now)),
        ranked(1, reviews.where(review_room > 0)),
    ).subquery()
    pick = select(picks.c.card_id).order_by(picks.c.rank, picks.c.due, picks.c.card_id).limit(1)
    queue_stmt = select(
        waiting(new, new_room, newest_first=True).label("new"),
        waiting(reviews, review_room).label("review"),
        pick.scalar_subquery().label("pick"),
        done_sq.c.done,
        learning_sq.c.learning,
        learning_sq.c.learning_next,
    ).select_from(done_sq.join(learning_sq, true()))
    new_pick = (
        new.join(Topic, Topic.id == Card.topic_id)
        .order_by(Topic.position, Card.position, Card.id)
        .limit(1)
    )
    soon = learning_first(ahead)
    ahead_pick = select(soon.c.card_id).order_by(soon.c.due, soon.c.card_id).limit(1)
    load = (
        select(*_columns(Card, CardFace), *_columns(CardState, StateRow), Topic.title, Topic.slug)
        .select_from(Card)
        .outerjoin(CardState, and_(CardState.card_id == Card.id, CardState.user_id == user_id))
        .join(Topic, Topic.id == Card.topic_id)
        .where(Card.id == bindparam("card_id", type_=Integer()))
    )
    statements = (done_today, queue_stmt, new_pick, ahead_pick, load)
    return _Statements(*(built_once(statement) for statement in statements))


def _columns(model: Any, view: Any) -> list[Any]:
    return [getattr(model, field.name) for field in fields(view)]


_FACE_END = len(fields(CardFace))
_STATE_END = _FACE_END + len(fields(StateRow))


def _queue_card(row: Any) -> QueueCard:
    """A row of the `load` statement."""
    card = CardFace(*row[:_FACE_END])
    state = StateRow(*row[_FACE_END:_STATE_END]) if row[_FACE_END] is not None else None
    queue = _QUEUE_NAMES[state.state if state else STATE_NEW]
    return QueueCard(card, state, queue, *row[_STATE_END:])


_QUEUE_NAMES = {
    STATE_NEW: "new",
    STATE_LEARNING: "learning",
    STATE_RELEARNING: "learning",
    STATE_REVIEW: "review",
}


def _done_today(session: Session, user_id: int, day: _Day) -> tuple[int, int, int]:
    """(all answers, new cards introduced, review-state answers) since the day began."""
    params = {"user_id": user_id, "start": day.start}
    row = session.connection().execute(_statements().done_today, params).one()
    return int(row[0]), int(row[1]), int(row[2])


def study_queue(
    session: Session, user_id: int, *, now: datetime, topic_id: int | None = None
) -> StudyQueue:
    """The next card and today's counts.

    Order: learning cards that are due, then reviews due today (up to the daily limit), then
    new cards in document order (up to the daily limit); a learning card due within
    LEARN_AHEAD comes last. Drill cards never enter as new cards; retired, suspended and buried
    cards never show; a card whose sibling was answered today waits for tomorrow.
    """
    settings = user_settings(session, user_id)
    day = _day(settings, now)
    sql = _statements()
    # Ids and counts go through Core: the ORM's per-row machinery would cost more than SQLite.
    conn = session.connection()
    params: dict[str, Any] = {
        "user_id": user_id,
        "topic_id": topic_id,
        "start": day.start,
        "end": day.end,
        "today": day.today,
    }
    queue_params = {
        **params,
        "now": now,
        "ahead": now + LEARN_AHEAD,
        "new_per_day": settings.new_per_day,
        "reviews_per_day": settings.reviews_per_day,
    }
    new_left, review_left, card_id, done, learning_left, learning_next = conn.execute(
        sql.queue, queue_params
    ).one()
    if card_id is None and new_left:
        card_id = conn.execute(sql.new_pick, queue_params).scalar()
    if card_id is None:
        card_id = conn.execute(sql.ahead_pick, queue_params).scalar()
    counts = Counts(new=new_left, learning=learning_left, review=review_left)
    pick = None
    if card_id is not None:
        pick = _queue_card(conn.execute(sql.load, {"user_id": user_id, "card_id": card_id}).one())
    later = learning_next if learning_next is not None and learning_next > now else None
    return StudyQueue(pick, counts, int(done), later)


def card_previews(
    session: Session,
    user_id: int,
    item: QueueCard,
    *,
    now: datetime,
    fuzz: bool = True,
    settings: UserSettings | None = None,
) -> dict[Rating, timedelta]:
    """The four buttons' intervals for this card, exactly as answering would set them."""
    settings = settings or user_settings(session, user_id)
    memory = item.memory
    return scheduling.previews(
        memory,
        now=now,
        config=_kind_config(item.card.kind, settings, fuzz),
        fuzz_seed=fuzz_seed(item.card.id, memory.reps),
    )


@dataclass(frozen=True)
class DaySummary:
    """For the empty state: how much is waiting tomorrow, and when learning cards return."""

    done_today: int
    due_tomorrow: int
    learning_later: int
    next_learning_due: datetime | None


def day_summary(
    session: Session, user_id: int, *, now: datetime, topic_id: int | None = None
) -> DaySummary:
    settings = user_settings(session, user_id)
    day = _day(settings, now)
    tomorrow_end = studyday.day_bounds(
        day.today + timedelta(days=1), settings.timezone, settings.rollover_hour
    )[1]
    live = [Card.retired.is_(False), CardState.suspended.is_(False), CardState.user_id == user_id]
    if topic_id is not None:
        live.append(Card.topic_id == topic_id)
    due_tomorrow = session.scalar(
        select(func.count())
        .select_from(CardState)
        .join(Card, Card.id == CardState.card_id)
        .where(*live, CardState.state != STATE_NEW, CardState.due < tomorrow_end)
        # Learning cards still due today are reported below, not as tomorrow's.
        .where(
            ~and_(CardState.state.in_((STATE_LEARNING, STATE_RELEARNING)), CardState.due < day.end)
        )
    )
    learning = session.execute(
        select(func.count(), func.min(CardState.due))
        .select_from(CardState)
        .join(Card, Card.id == CardState.card_id)
        .where(
            *live, CardState.state.in_((STATE_LEARNING, STATE_RELEARNING)), CardState.due < day.end
        )
    ).one()
    done = _done_today(session, user_id, day)[0]
    return DaySummary(done, int(due_tomorrow or 0), int(learning[0]), learning[1])


def queue_card(session: Session, user_id: int, card_id: int) -> QueueCard:
    """A card with this user's state, as the queue would hand it out (for showing it again)."""
    # Card, state and topic in one query (the queue's own), not one lazy load each.
    row = (
        session.connection()
        .execute(_statements().load, {"user_id": user_id, "card_id": card_id})
        .first()
    )
    item = None if row is None else _queue_card(row)
    if item is None or item.card.retired:
        raise NotFound(_("找不到该卡片。"))
    return item
