"""The whole dashboard in one call, and the streak."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache

from sqlalchemy import Integer, Select, bindparam, func, select
from sqlalchemy.orm import Session

from quiz.db import built_once
from quiz.models import ReviewLog
from quiz.progress.cards import card_figures, forecast, new_introduced
from quiz.progress.days import _run, day_boundaries, retention, review_counts
from quiz.progress.figures import (
    FORECAST_DAYS,
    HEATMAP_DAYS,
    RETENTION_WINDOWS,
    Dashboard,
    DayCount,
    ProgressSettings,
    load_settings,
)
from quiz.progress.topics import topic_progress, weakest_cards
from quiz.studyday import study_day


def streak(counts: Sequence[int]) -> tuple[int, bool]:
    """Consecutive study days with reviews up to today (or yesterday if nothing yet today).

    `counts` ends with today. Returns the streak and whether it reaches the window's start
    (the caller then looks further back).
    """
    i = len(counts) - 1
    if i >= 0 and counts[i] == 0:
        i -= 1
    days = 0
    while i >= 0 and counts[i] > 0:
        days += 1
        i -= 1
    return days, i < 0 and days > 0


def _streak(
    session: Session, user_id: int, heatmap: list[int], today: date, settings: ProgressSettings
) -> int:
    days, open_ended = streak(heatmap)
    if not open_ended:
        return days
    # The streak is older than the heatmap: count back from the window's first day, but only
    # over days after the user's first answer (one index probe finds it), never a whole empty
    # year.
    earliest = _run(session, _first_review_statement(), {"user_id": user_id}).scalar()
    if earliest is None:
        return days
    oldest = study_day(earliest, settings.timezone, settings.rollover_hour)
    first = today - timedelta(days=len(heatmap) - 1)
    while open_ended and oldest < first:
        span = min(HEATMAP_DAYS, (first - oldest).days)
        first -= timedelta(days=span)
        counts = review_counts(session, user_id, day_boundaries(first, span, settings))
        more = 0
        for count in reversed(counts):
            if count == 0:
                break
            more += 1
        days += more
        open_ended = more == len(counts)
    return days


@lru_cache(maxsize=1)
def _first_review_statement() -> Select[datetime]:
    return built_once(
        select(func.min(ReviewLog.reviewed_at)).where(
            ReviewLog.user_id == bindparam("user_id", type_=Integer)
        )
    )


def _day_counts(first: date, counts: list[int]) -> list[DayCount]:
    """counts[i] paired with the day `first` + i (days by ordinal: half the cost of adding a
    timedelta per day, for the year's 365)."""
    start = first.toordinal()
    return list(map(DayCount, map(date.fromordinal, range(start, start + len(counts))), counts))


def dashboard(session: Session, user_id: int, *, now: datetime) -> Dashboard:
    """Every figure of the progress page for one user at `now` (UTC-aware)."""
    settings = load_settings(session, user_id)
    today = study_day(now, settings.timezone, settings.rollover_hour)
    first = today - timedelta(days=HEATMAP_DAYS - 1)
    bounds = day_boundaries(first, HEATMAP_DAYS, settings)
    counts = review_counts(session, user_id, bounds)
    today_start, today_end = bounds[-2], bounds[-1]

    starts = {key: bounds[-1 - days] for key, days in RETENTION_WINDOWS.items()}
    introduced = new_introduced(session, user_id, today_start, today_end)
    cards = card_figures(session, user_id, now=now, today=today, decay=settings.decay)
    forecast_bounds = day_boundaries(today, FORECAST_DAYS, settings)
    upcoming = forecast(session, user_id, forecast_bounds, today=today)
    return Dashboard(
        today=today,
        settings=settings,
        due_now=cards.due_now,
        done_today=counts[-1],
        new_introduced_today=introduced,
        new_available=cards.new_available,
        new_left_today=max(0, min(settings.new_per_day - introduced, cards.new_available)),
        streak_days=_streak(session, user_id, counts, today, settings),
        heatmap=_day_counts(first, counts),
        retention=retention(session, user_id, starts, today_end),
        forecast=_day_counts(today, upcoming),
        states=cards.states,
        topics=topic_progress(session, user_id, cards.flashcards, cards.recall_sums),
        weakest=weakest_cards(
            session,
            user_id,
            now=now,
            decay=settings.decay,
            target=settings.desired_retention,
        ),
    )
