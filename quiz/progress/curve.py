"""The forgetting curve in SQL: retrievability of every card state, computed by the database.

The same curve as `quiz.scheduling.card_retrievability` (fractional elapsed days, FSRS-6), from
the same constants (`quiz.scheduling.curve_factor` and the user's decay, bound as parameters),
so the dashboard can sum and rank thousands of cards without loading them into Python. Elapsed
days need the one dialect-specific piece, written for each database the app runs on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, and_, bindparam, case, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from quiz.models import CardState
from quiz.progress.days import _instant
from quiz.scheduling import curve_factor


class days_between(FunctionElement[float]):
    """days_between(later, earlier): fractional days from `earlier` to `later`."""

    type = Float()
    inherit_cache = True
    name = "days_between"


def _arguments(element: days_between, compiler: SQLCompiler, **kw: Any) -> tuple[str, str]:
    later, earlier = list(element.clauses)
    return compiler.process(later, **kw), compiler.process(earlier, **kw)


@compiles(days_between, "sqlite")
def _days_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = _arguments(element, compiler, **kw)
    return f"(julianday({later}) - julianday({earlier}))"


@compiles(days_between)
def _days_default(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    # PostgreSQL (and the SQL standard's EXTRACT): seconds of the interval, in days.
    later, earlier = _arguments(element, compiler, **kw)
    return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400.0)"


class at_least_zero(FunctionElement[float]):
    """at_least_zero(x): x, or 0 when x is negative; x is evaluated once (a CASE on x > 0
    evaluated it twice, and with it the date parsing)."""

    type = Float()
    inherit_cache = True
    name = "at_least_zero"


@compiles(at_least_zero, "sqlite")
def _at_least_zero_sqlite(element: at_least_zero, compiler: SQLCompiler, **kw: Any) -> str:
    return f"max({compiler.process(element.clauses, **kw)}, 0.0)"  # SQLite's scalar max


@compiles(at_least_zero)
def _at_least_zero_default(element: at_least_zero, compiler: SQLCompiler, **kw: Any) -> str:
    return f"GREATEST({compiler.process(element.clauses, **kw)}, 0.0)"


def _elapsed_days() -> ColumnElement[float]:
    # A last review "after" now (a clock step) counts as no time elapsed, as in Python.
    return at_least_zero(days_between(_instant("now"), CardState.last_review))


def _reviewed() -> ColumnElement[bool]:
    return and_(CardState.stability > 0, CardState.last_review.is_not(None))


def recall_now() -> ColumnElement[float]:
    """A card state's retrievability at the bound `now`, with the bound `factor` and `decay`
    (see `recall_params`); 0 for a card never reviewed, as card_retrievability answers."""
    factor = bindparam("curve_factor", type_=Float())
    power = bindparam("curve_power", type_=Float())
    curve = func.power(1 + factor * _elapsed_days() / CardState.stability, power, type_=Float())
    return case((_reviewed(), curve), else_=0.0)


# Above any real elapsed/stability ratio: where a card never reviewed (recall 0) ranks.
NEVER_REVIEWED = 1e300


def staleness_now() -> ColumnElement[float]:
    """Elapsed days at the bound `now` over the card's stability: retrievability falls as this
    rises (R = (1 + factor * t / S) ** -decay), so ranking and thresholds on recall can be
    written on it, without the power function; NEVER_REVIEWED for a card never reviewed."""
    return case((_reviewed(), _elapsed_days() / CardState.stability), else_=NEVER_REVIEWED)


def staleness_where_recall_is(recall: float, decay: float) -> float:
    """The staleness at which retrievability on the curve with `decay` equals `recall`:
    R < recall exactly when staleness_now() > this (the curve solved for t / S)."""
    return float((recall ** (-1 / decay) - 1) / curve_factor(decay))


def recall_params(now: datetime, decay: float) -> dict[str, Any]:
    """The bound values `recall_now` needs: the moment and the user's curve."""
    return {"now": now, "curve_factor": curve_factor(decay), "curve_power": -decay}
