"""Card counts: new cards introduced, due now, per state and per topic, and the forecast."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
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
from quiz.progress.curve import recall_now, recall_params
from quiz.progress.days import (
    _day_ranges,
    _instant,
    _live,
    _not_buried,
    _range_params,
    _ratings_in,
    _run,
    _scheduled,
    _today,
    _user,
)
from quiz.progress.figures import _EPOCH, RATINGS, STATE_KEYS

# The statements below are built once and take their values as bind parameters: building a
# select costs about a millisecond of Python on every request otherwise.


@lru_cache(maxsize=1)
def _new_introduced_statement() -> Select[int]:
    return (
        # Rows, not distinct cards: the study queue counts its daily new-card room this way.
        select(func.count())
        .select_from(ReviewLog)
        .join(Card, Card.id == ReviewLog.card_id)
        .where(
            ReviewLog.user_id == _user(),
            ReviewLog.state_before == STATE_NEW,
            _ratings_in(RATINGS),  # lets the outcome index serve the time range
            ReviewLog.reviewed_at >= _instant("start"),
            ReviewLog.reviewed_at < _instant("end"),
            Card.kind != "drill",
        )
    )


def new_introduced(session: Session, user_id: int, start: datetime, end: datetime) -> int:
    """Flashcards first answered in [start, end): what counts against the daily new-card limit."""
    params = {"user_id": user_id, "start": start, "end": end}
    return _run(session, _new_introduced_statement(), params).scalar() or 0


@dataclass(frozen=True)
class CardFigures:
    """The user's live cards counted in one pass: by state, due now, new available today, and
    flashcards per topic."""

    states: dict[str, int]  # keys of STATE_KEYS
    new_available: int
    due_now: int
    flashcards: dict[int, int]  # topic id -> live flashcards (drills are counted apart)
    recall_sums: dict[int, float]  # topic id -> sum of its flashcards' retrievability now


@lru_cache(maxsize=1)
def _card_figures_statement() -> Select[int, int, int, int, int, int, int, int, int, float]:
    is_drill = Card.kind == "drill"
    # A card without a state row has NULLs in the outer-joined columns, so every test on a
    # state column (suspended is NOT NULL) is already false for it: only "new" asks for it.
    no_state = CardState.id.is_(None)
    suspended = CardState.suspended.is_(True)
    active = CardState.suspended.is_(False)
    new = and_(not_(is_drill), or_(no_state, and_(active, CardState.state == STATE_NEW)))
    # (state != 0 here, not _scheduled()'s IN list: this reads every state row anyway, and the
    # list costs more instructions per card than one comparison.)
    due = and_(
        CardState.state != STATE_NEW, active, _not_buried(), CardState.due <= _instant("now")
    )

    def total(condition: ColumnElement[bool]) -> ColumnElement[int]:
        # count(CASE WHEN c THEN 1 END): fewer SQLite instructions per card than
        # sum(CASE WHEN c THEN 1 ELSE 0 END), and 0 rather than NULL for no rows.
        return func.count(case((condition, 1)))

    # Per topic (a dozen rows): the page needs the flashcards of each, the rest is summed.
    # Topics drive the join: their cards come from the (topic, retired, kind) index in topic
    # order, where cards first looked their topic up once per card.
    return (
        select(
            Topic.id,
            total(not_(is_drill)),
            total(new),
            total(and_(active, CardState.state == STATE_LEARNING)),
            total(and_(active, CardState.state == STATE_RELEARNING)),
            total(and_(active, CardState.state == STATE_REVIEW)),
            total(and_(suspended, or_(not_(is_drill), CardState.state != STATE_NEW))),
            total(and_(new, _not_buried())),  # (no state row: buried_until is NULL)
            total(due),
            # Mastery: the curve evaluated by the database (quiz.progress.curve).
            func.coalesce(
                func.sum(case((and_(not_(is_drill), CardState.reps > 0), recall_now()))), 0.0
            ),
        )
        .select_from(Topic)
        .join(Card, and_(Card.topic_id == Topic.id, Card.retired.is_(False)))
        .join(
            CardState,
            and_(CardState.card_id == Card.id, CardState.user_id == _user()),
            isouter=True,
        )
        .where(Topic.retired.is_(False))
        .group_by(Topic.id)
    )


def card_figures(
    session: Session, user_id: int, *, now: datetime, today: date, decay: float
) -> CardFigures:
    """Live cards by state (suspended ones count only as suspended), cards due at `now`
    (learning steps included; not suspended or buried), the new flashcards available today,
    and per topic the flashcards and the sum of their retrievability at `now` (on the curve
    with this `decay`), from one grouped statement.

    A drill card has no state until its drill is solved, so unsolved drills are not "new".
    """
    params = {"user_id": user_id, "today": today, **recall_params(now, decay)}
    sums = [0] * 7
    flashcards: dict[int, int] = {}
    recall_sums: dict[int, float] = {}
    for topic_id, cards, *counts, recall in _run(session, _card_figures_statement(), params):
        flashcards[topic_id] = int(cards)
        recall_sums[topic_id] = float(recall)
        for i, count in enumerate(counts):
            sums[i] += int(count)
    return CardFigures(
        states=dict(zip(STATE_KEYS, sums[:5], strict=True)),
        new_available=sums[5],
        due_now=sums[6],
        flashcards=flashcards,
        recall_sums=recall_sums,
    )


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
def _buried_statement() -> Select[datetime, date | None]:
    return (
        select(CardState.due, CardState.buried_until)
        .join(Card, Card.id == CardState.card_id)
        .join(Topic, Topic.id == Card.topic_id)
        .where(
            CardState.user_id == _user(),
            # A card due after the window stays out of it whenever it was buried until: the
            # bound makes this a range of the (user, due) index instead of every state.
            CardState.due < _instant("until"),
            _scheduled(),
            _live(),
            CardState.buried_until > _today(),
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
    params = {"user_id": user_id, "today": today, **_range_params(session, lows, "forecast_days")}
    counts = [0] * n
    for i, count in _run(session, _forecast_statement(n), params).all():
        counts[i] = count
    # Buried cards are rare (siblings of today's answers): place them one by one.
    params = {"user_id": user_id, "today": today, "until": bounds[-1]}
    buried = _run(session, _buried_statement(), params)
    for due, buried_until in buried:
        index = max(bisect_right(bounds, due) - 1, (buried_until - today).days, 0)
        if index < n:
            counts[index] += 1
    return counts
