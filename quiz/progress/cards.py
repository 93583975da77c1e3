"""Card counts: new cards introduced, due now, per state and per topic, and the forecast."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Float,
    Integer,
    Select,
    and_,
    case,
    false,
    func,
    literal_column,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from quiz.db import built_once
from quiz.models import (
    STATE_NEW,
    Card,
    CardState,
    ReviewLog,
    Topic,
    card_is_live,
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
from quiz.scheduling import STATE_NAMES

# The statements below are built once and take their values as bind parameters: building a
# select costs about a millisecond of Python on every request otherwise.


@lru_cache(maxsize=1)
def _new_introduced_statement() -> Select[int]:
    return built_once(
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


# The parts of the card figures' statement, in its first column.
_LIVE_FLASHCARDS, _FLASHCARD_STATES, _DRILL_STATES = 0, 1, 2


@lru_cache(maxsize=1)
def _card_figures_statement() -> CompoundSelect[*tuple[Any, ...]]:
    """Rows of (part, topic id, state, rows, suspended, shown, due, recall sum), per live topic:

    - `_LIVE_FLASHCARDS`: its live flashcards, counted on the cards' own index (state NULL);
    - `_FLASHCARD_STATES`: the user's states of them per state, from one range of
      `ix_card_states_user_topic_counts` in (topic, state) order: a state row carries its
      card's topic and liveness, so only the user's own rows are read, no card is joined, and
      grouping needs no sort;
    - `_DRILL_STATES`: the user's states of its drills' review cards, per state: the few state
      rows that are not live flashcards, joined to their cards to tell drills from retired
      flashcards.

    "shown" is not suspended nor buried today; "due" is shown and due at `now`. Grouped by
    state, each row is tested for four things (where one row per live card, joined to its
    state, was tested for nine) and its recall summed.
    """
    state = CardState
    shown = and_(state.suspended.is_(False), _not_buried())

    def per_state(part: int) -> list[ColumnElement[Any]]:
        return [
            literal_column(str(part), Integer),
            state.topic_id.expression,
            state.state.expression,
            func.count(),
            # count(CASE WHEN c THEN 1 END): fewer SQLite instructions per row than
            # sum(CASE WHEN c THEN 1 ELSE 0 END), and 0 rather than NULL for no rows.
            func.count(case((state.suspended.is_(True), 1))),
            func.count(case((shown, 1))),
            func.count(case((and_(shown, state.due <= _instant("now")), 1))),
        ]

    zero = literal_column("0", Integer)
    live_flashcards = (
        select(
            literal_column(str(_LIVE_FLASHCARDS), Integer),
            Topic.id,
            null(),
            select(func.count())
            .select_from(Card)
            .where(Card.topic_id == Topic.id, card_is_live())
            .scalar_subquery(),
            zero,
            zero,
            zero,
            literal_column("0.0", Float),
        )
        .select_from(Topic)
        .where(Topic.retired.is_(False))
    )
    flashcard_states = (
        select(
            *per_state(_FLASHCARD_STATES),
            # Mastery: the curve evaluated by the database (quiz.progress.curve).
            func.coalesce(func.sum(case((state.reps > 0, recall_now()))), 0.0),
        )
        .select_from(Topic)
        .join(
            state,
            and_(
                state.user_id == _user(),
                state.card_live == true(),  # `= 1`/`= true`: an index equality on both databases
                state.topic_id == Topic.id,
            ),
        )
        .where(Topic.retired.is_(False))
        .group_by(state.topic_id, state.state)
    )
    drill_states = (
        select(*per_state(_DRILL_STATES), literal_column("0.0", Float))
        .select_from(state)
        .join(Card, and_(Card.id == state.card_id, Card.retired.is_(False), Card.kind == "drill"))
        .join(Topic, and_(Topic.id == Card.topic_id, Topic.retired.is_(False)))
        .where(state.user_id == _user(), state.card_live == false())
        .group_by(state.topic_id, state.state)
    )
    return built_once(union_all(live_flashcards, flashcard_states, drill_states))


def card_figures(
    session: Session, user_id: int, *, now: datetime, today: date, decay: float
) -> CardFigures:
    """Live cards by state (suspended ones count only as suspended), cards due at `now`
    (learning steps included; not suspended or buried), the new flashcards available today,
    and per topic the flashcards and the sum of their retrievability at `now` (on the curve
    with this `decay`), from one statement.

    A drill card has no state until its drill is solved, so unsolved drills are not "new",
    and a drill's state reset to new is counted nowhere.
    """
    params = {"user_id": user_id, "today": today, **recall_params(now, decay)}
    states = dict.fromkeys(STATE_KEYS, 0)
    new_available = due_now = 0
    flashcards: dict[int, int] = {}
    recall_sums: dict[int, float] = {}
    rows = _run(session, _card_figures_statement(), params)
    for part, topic_id, state, count, suspended, shown, due, recall in rows:
        if part == _LIVE_FLASHCARDS:
            flashcards[topic_id] = count
            states["new"] += count  # until the user has a state row for one (taken back below)
            new_available += count
            continue
        if part == _FLASHCARD_STATES:
            recall_sums[topic_id] = recall_sums.get(topic_id, 0.0) + float(recall)
            states["new"] -= count
            new_available -= count
        if state != STATE_NEW:
            states[STATE_NAMES[state]] += count - suspended
            states["suspended"] += suspended
            due_now += due
        elif part == _FLASHCARD_STATES:  # (a drill's state reset to new counts nowhere)
            states["new"] += count - suspended
            states["suspended"] += suspended
            new_available += shown
    return CardFigures(
        states=states,
        new_available=new_available,
        due_now=due_now,
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
    return built_once(select(days.c.i, count))


@lru_cache(maxsize=1)
def _buried_statement() -> Select[datetime, date | None]:
    return built_once(
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
