"""Card counts: new cards introduced, due now, per state, and the forecast."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache

from sqlalchemy import (
    Select,
    and_,
    case,
    func,
    not_,
    or_,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from quiz.models import (
    STATE_LEARNING,
    STATE_NEW,
    STATE_RELEARNING,
    STATE_REVIEW,
    Card,
    CardState,
    ReviewLog,
    Topic,
)
from quiz.progress.days import (
    _day_ranges,
    _instant,
    _live,
    _not_buried,
    _range_params,
    _run,
    _scheduled,
    _today,
    _user,
)
from quiz.progress.figures import _EPOCH, RATINGS, STATE_KEYS

# The statements below are built once and take their values as bind parameters: building a
# select costs about a millisecond of Python on every request otherwise.


@lru_cache(maxsize=1)
def _new_introduced_statement() -> Select[tuple[int]]:
    return (
        # Rows, not distinct cards: the study queue counts its daily new-card room this way.
        select(func.count())
        .select_from(ReviewLog)
        .join(Card, Card.id == ReviewLog.card_id)
        .where(
            ReviewLog.user_id == _user(),
            ReviewLog.state_before == STATE_NEW,
            ReviewLog.rating.in_(RATINGS),  # lets the outcome index serve the time range
            ReviewLog.reviewed_at >= _instant("start"),
            ReviewLog.reviewed_at < _instant("end"),
            Card.kind != "drill",
        )
    )


def new_introduced(session: Session, user_id: int, start: datetime, end: datetime) -> int:
    """Flashcards first answered in [start, end): what counts against the daily new-card limit."""
    params = {"user_id": user_id, "start": start, "end": end}
    return _run(session, _new_introduced_statement(), params).scalar() or 0


@lru_cache(maxsize=1)
def _due_now_statement() -> Select[tuple[int]]:
    return (
        select(func.count())
        .select_from(CardState)
        .join(Card, Card.id == CardState.card_id)
        .join(Topic, Topic.id == Card.topic_id)
        .where(
            CardState.user_id == _user(),
            CardState.due <= _instant("now"),
            _scheduled(),
            _not_buried(),
            _live(),
        )
    )


def due_now(session: Session, user_id: int, *, now: datetime, today: date) -> int:
    """Cards due at `now` (learning steps included), not suspended or buried."""
    params = {"user_id": user_id, "now": now, "today": today}
    return _run(session, _due_now_statement(), params).scalar() or 0


@lru_cache(maxsize=1)
def _state_counts_statement() -> Select[tuple[int, int, int, int, int, int]]:
    is_drill = Card.kind == "drill"
    has_state = CardState.id.is_not(None)
    suspended = and_(has_state, CardState.suspended.is_(True))
    active = and_(has_state, CardState.suspended.is_(False))
    new = and_(not_(is_drill), or_(not_(has_state), and_(active, CardState.state == STATE_NEW)))

    def total(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    return (
        select(
            total(new),
            total(and_(active, CardState.state == STATE_LEARNING)),
            total(and_(active, CardState.state == STATE_RELEARNING)),
            total(and_(active, CardState.state == STATE_REVIEW)),
            total(and_(suspended, or_(not_(is_drill), CardState.state != STATE_NEW))),
            total(and_(new, or_(not_(has_state), _not_buried()))),
        )
        .select_from(Card)
        .join(Topic, Topic.id == Card.topic_id)
        .join(
            CardState,
            and_(CardState.card_id == Card.id, CardState.user_id == _user()),
            isouter=True,
        )
        .where(_live())
    )


def state_counts(session: Session, user_id: int, *, today: date) -> tuple[dict[str, int], int]:
    """Live cards by state, and the new flashcards available today.

    A drill card has no state until its drill is solved, so unsolved drills are not "new".
    Suspended cards count only as suspended.
    """
    row = _run(session, _state_counts_statement(), {"user_id": user_id, "today": today}).one()
    return dict(zip(STATE_KEYS, (int(v) for v in row[:5]), strict=True)), int(row[5])


@lru_cache(maxsize=4)
def _forecast_statement(n: int) -> Select[tuple[int, int]]:
    days = _day_ranges(n, "forecast_days")
    count = (
        select(func.count())
        .select_from(CardState)
        .join(Card, Card.id == CardState.card_id)
        .join(Topic, Topic.id == Card.topic_id)
        .where(
            CardState.user_id == _user(),
            _scheduled(),
            _live(),
            _not_buried(),
            CardState.due >= days.c.lo,
            CardState.due < days.c.hi,
        )
        .scalar_subquery()
    )
    return select(days.c.i, count)


@lru_cache(maxsize=1)
def _buried_statement() -> Select[tuple[datetime, date]]:
    return (
        select(CardState.due, CardState.buried_until)
        .join(Card, Card.id == CardState.card_id)
        .join(Topic, Topic.id == Card.topic_id)
        .where(
            CardState.user_id == _user(), _scheduled(), _live(), CardState.buried_until > _today()
        )
    )


def forecast(
    session: Session, user_id: int, bounds: Sequence[datetime], *, today: date
) -> list[int]:
    """Cards falling due on each study day in `bounds`; the first day also holds the overdue.

    A buried card waits until its `buried_until` day even if it was due earlier.
    """
    n = len(bounds) - 1
    lows = [_EPOCH, *bounds[1:]]
    params = {"user_id": user_id, "today": today, **_range_params(lows, "forecast_days")}
    counts = [0] * n
    for i, count in _run(session, _forecast_statement(n), params).all():
        counts[i] = count
    # Buried cards are rare (siblings of today's answers): place them one by one.
    buried = _run(session, _buried_statement(), {"user_id": user_id, "today": today})
    for due, buried_until in buried:
        index = max(bisect_right(bounds, due) - 1, (buried_until - today).days, 0)
        if index < n:
            counts[index] += 1
    return counts
