"""The whole dashboard in one call, and the streak."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from quiz.progress.cards import due_now, forecast, new_introduced, state_counts
from quiz.progress.days import _run, day_boundaries, retention, review_counts
from quiz.progress.figures import (
    FORECAST_DAYS,
    HEATMAP_DAYS,
    RETENTION_WINDOWS,
    Dashboard,
    DayCount,
    ProgressSettings,
    load_settings,
    retrievability,
)
from quiz.progress.topics import _studied_statement, topic_progress, weakest_cards
from quiz.studyday import day_bounds, study_day


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
    # The streak is older than the heatmap: walk back a year at a time, after a cheap look at
    # the single day before (most long streaks started inside the window after all).
    first = today - timedelta(days=len(heatmap) - 1)
    while open_ended:
        start, end = day_bounds(
            first - timedelta(days=1), settings.timezone, settings.rollover_hour
        )
        if not review_counts(session, user_id, [start, end])[0]:
            break
        first -= timedelta(days=HEATMAP_DAYS)
        counts = review_counts(session, user_id, day_boundaries(first, HEATMAP_DAYS, settings))
        more = 0
        for count in reversed(counts):
            if count == 0:
                break
            more += 1
        days += more
        open_ended = more == len(counts)
    return days


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
    states, available = state_counts(session, user_id, today=today)
    forecast_bounds = day_boundaries(today, FORECAST_DAYS, settings)
    upcoming = forecast(session, user_id, forecast_bounds, today=today)

    # One pass over the user's card states (unpacked: named access on result rows is slow).
    recall: dict[int, float] = {}
    kinds: dict[int, tuple[int, str]] = {}
    history: list[tuple[int, int, int]] = []
    studied = _run(session, _studied_statement(), {"user_id": user_id}).all()
    for card_id, topic_id, kind, stability, last_review, lapses, reps in studied:
        recall[card_id] = retrievability(stability, last_review, now, settings.decay)
        kinds[card_id] = (topic_id, kind)
        history.append((card_id, lapses, reps))
    return Dashboard(
        today=today,
        settings=settings,
        due_now=due_now(session, user_id, now=now, today=today),
        done_today=counts[-1],
        new_introduced_today=introduced,
        new_available=available,
        new_left_today=max(0, min(settings.new_per_day - introduced, available)),
        streak_days=_streak(session, user_id, counts, today, settings),
        heatmap=[DayCount(first + timedelta(days=i), n) for i, n in enumerate(counts)],
        retention=retention(session, user_id, starts, today_end),
        forecast=[DayCount(today + timedelta(days=i), n) for i, n in enumerate(upcoming)],
        states=states,
        topics=topic_progress(session, user_id, recall, kinds),
        weakest=weakest_cards(session, user_id, history, recall, target=settings.desired_retention),
    )
