"""Study-day boundaries, shared SQL pieces, reviews per day and retention."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    CTE,
    Date,
    Integer,
    Select,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import CursorResult, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.types import TypeDecorator

from quiz.db import UTCDateTime, built_once
from quiz.models import (
    STATE_LEARNING,
    STATE_RELEARNING,
    STATE_REVIEW,
    Card,
    CardState,
    ReviewLog,
    Topic,
)
from quiz.progress.figures import AGAIN, RECALLED, ProgressSettings, Retention
from quiz.studyday import day_bounds


def _live() -> ColumnElement[bool]:
    """Cards still in the notes (retired ones keep their history but leave the figures)."""
    return and_(Card.retired.is_(False), Topic.retired.is_(False))


def day_boundaries(first: date, days: int, settings: ProgressSettings) -> tuple[datetime, ...]:
    """UTC instants where each of `days` study days starts, plus the end of the last one."""
    return _boundaries(first, days, settings.timezone, settings.rollover_hour)


@lru_cache(maxsize=64)
def _boundaries(first: date, days: int, tz_name: str, rollover: int) -> tuple[datetime, ...]:
    # The same for every request of a study day (and for every user in the zone): cached.
    starts = [day_bounds(first + timedelta(days=i), tz_name, rollover)[0] for i in range(days)]
    return (*starts, day_bounds(first + timedelta(days=days - 1), tz_name, rollover)[1])


class _PreparedInstant(TypeDecorator[Any]):
    """A UTC instant bound as it arrives: already converted for the database by UTCDateTime
    (see `_range_params`), so hundreds of day boundaries are not converted on every request."""

    impl = UTCDateTime
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> None:
        return None


def _day_ranges(n: int, name: str) -> CTE:
    """A CTE of n rows (i, lo, hi) between bind parameters `{name}_0` .. `{name}_{n}`.

    A UNION ALL of one-row selects rather than VALUES: SQLAlchemy cannot cache a VALUES
    construct, and compiling a 365-row one on every request costs ~100 ms, ten times what
    SQLite needs to run the query. Built once per size (see the lru_caches below); the values
    come from `_range_params`.
    """
    kind = _PreparedInstant()
    edges = [bindparam(f"{name}_{i}", type_=kind) for i in range(n + 1)]
    rows = [
        select(
            literal_column(str(i), Integer).label("i"),
            edges[i].label("lo"),
            edges[i + 1].label("hi"),  # the same parameter as the next row's lo
        )
        for i in range(n)
    ]
    return union_all(*rows).cte(name)


def _range_params(session: Session, bounds: Sequence[datetime], name: str) -> dict[str, Any]:
    """The values of `_day_ranges`' parameters, converted as UTCDateTime would convert them.

    Cached: the boundaries are the same for every request of a study day (and every user in
    the time zone), and converting 366 of them cost more than SQLite's part of the heatmap.
    """
    return _prepared(session.get_bind().dialect, tuple(bounds), name)


@lru_cache(maxsize=64)
def _prepared(dialect: Dialect, bounds: tuple[datetime, ...], name: str) -> dict[str, Any]:
    # The dialect's own type (SQLite's DATETIME formats the text stored), not the generic one,
    # which left the formatting of 400 values per request to the driver's adapter.
    convert = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    if convert is None:
        return {f"{name}_{i}": instant for i, instant in enumerate(bounds)}
    return {f"{name}_{i}": convert(instant) for i, instant in enumerate(bounds)}


@lru_cache(maxsize=8)
def _review_counts_statement(n: int) -> Select[int, int]:
    days = _day_ranges(n, "days")
    count = (
        select(func.count())
        .select_from(ReviewLog)
        .where(
            ReviewLog.user_id == bindparam("user_id", type_=Integer),
            ReviewLog.reviewed_at >= days.c.lo,
            ReviewLog.reviewed_at < days.c.hi,
        )
        .scalar_subquery()
    )
    return built_once(select(days.c.i, count))


def review_counts(session: Session, user_id: int, bounds: Sequence[datetime]) -> list[int]:
    """Review-log rows in each [bounds[i], bounds[i+1]).

    One correlated count per range: each is an index range scan on (user_id, reviewed_at),
    which in SQLite is several times faster than a join followed by GROUP BY, and needs no
    date function of any database.
    """
    n = len(bounds) - 1
    params = {"user_id": user_id, **_range_params(session, bounds, "days")}
    counts = [0] * n
    for i, count in _run(session, _review_counts_statement(n), params).all():
        counts[i] = count
    return counts


def _ratings_in(ratings: tuple[int, ...]) -> ColumnElement[bool]:
    """`rating IN (1, 2, 3, 4)` written into the SQL: an IN of bound values is expanded by
    SQLAlchemy on every execution. The list lets the outcome index serve the time range."""
    return ReviewLog.rating.in_([literal_column(str(int(r)), Integer) for r in ratings])


def _outcomes(start: str, end: str, ratings: tuple[int, ...]) -> ColumnElement[int]:
    """Answers to review-state cards with one of `ratings` in [start, end): a count over
    ranges of the outcome index (user, state before, rating, time), nothing else read."""
    return (
        select(func.count())
        .select_from(ReviewLog)
        .where(
            ReviewLog.user_id == _user(),
            ReviewLog.state_before == STATE_REVIEW,
            _ratings_in(ratings),
            ReviewLog.reviewed_at >= _instant(start),
            ReviewLog.reviewed_at < _instant(end),
        )
        .scalar_subquery()
    )


@lru_cache(maxsize=4)
def _retention_statement(n: int) -> Select[*tuple[int, ...]]:
    # The windows share their end: cut into n disjoint pieces (the oldest first), each answer
    # is counted once, where a count per window counted the last week three times and a
    # GROUP BY rating took twice the SQLite instructions per answer. One statement, 2n counts.
    columns = []
    for i in range(n):
        start, end = f"piece_{i}", f"piece_{i + 1}"
        columns += [_outcomes(start, end, RECALLED), _outcomes(start, end, AGAIN)]
    return built_once(select(*columns))


def retention(
    session: Session, user_id: int, starts: dict[str, datetime], end: datetime
) -> dict[str, Retention]:
    """True retention per window: reviews of review-state cards, and those not answered Again.

    The windows all end at `end`; each is the sum of the disjoint pieces from its start on.
    """
    edges = sorted(set(starts.values()))
    params: dict[str, Any] = {"user_id": user_id, f"piece_{len(edges)}": end}
    params.update((f"piece_{i}", start) for i, start in enumerate(edges))
    row = _run(session, _retention_statement(len(edges)), params).one()
    recalled, forgotten = row[0::2], row[1::2]
    out = {}
    for key, start in starts.items():
        first = edges.index(start)
        passed = sum(recalled[first:])
        out[key] = Retention(passed, passed + sum(forgotten[first:]))
    return out


def _run(
    session: Session, statement: Executable, params: dict[str, Any] | None = None
) -> CursorResult[*tuple[Any, ...]]:
    """Execute on the session's connection, past the ORM layer: these are plain column reads,
    and the ORM's result machinery costs more than SQLite's work for a few thousand rows.
    Pending changes are flushed first, as the session itself would."""
    session.flush()
    return session.connection().execute(statement, params or {})


def _user() -> BindParameter[int]:
    return bindparam("user_id", type_=Integer)


def _instant(name: str) -> BindParameter[datetime]:
    return bindparam(name, type_=UTCDateTime())


def _today() -> BindParameter[date]:
    return bindparam("today", type_=Date)


def _not_buried() -> ColumnElement[bool]:
    return or_(CardState.buried_until.is_(None), CardState.buried_until <= _today())


# Every state but new (backups are validated to states 0-3), written into the SQL: as an IN
# list the (user, state, due, card, suspended, buried) index serves a due range per state and
# covers the tests, where `state != 0` walked the (user, due) index and read each state's row.
_SCHEDULED_STATES = (STATE_LEARNING, STATE_REVIEW, STATE_RELEARNING)


def _scheduled() -> ColumnElement[bool]:
    states = [literal_column(str(state), Integer) for state in _SCHEDULED_STATES]
    return and_(CardState.state.in_(states), CardState.suspended.is_(False))
