"""The dashboard's figures as values: settings and the result dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property
from typing import NamedTuple

from fsrs.scheduler import FSRS_DEFAULT_DECAY
from sqlalchemy.orm import Session

from quiz.models import (
    UserSettings,
)
from quiz.scheduling import card_retrievability
from quiz.studyday import DEFAULT_ROLLOVER_HOUR, DEFAULT_TIMEZONE

RATINGS = (1, 2, 3, 4)
# True retention: Again counts as forgotten, the other ratings as recalled.
AGAIN = (1,)
RECALLED = (2, 3, 4)

HEATMAP_DAYS = 365
FORECAST_DAYS = 30
WEAKEST_LIMIT = 10
RETENTION_WINDOWS = {"7d": 7, "30d": 30, "365d": 365}
STATE_KEYS = ("new", "learning", "relearning", "review", "suspended")
# The forecast's first day also holds everything overdue: a lower bound before any real date.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ProgressSettings:
    """The user's settings that the figures depend on (defaults match UserSettings)."""

    timezone: str = DEFAULT_TIMEZONE
    rollover_hour: int = DEFAULT_ROLLOVER_HOUR
    new_per_day: int = 20
    desired_retention: float = 0.9
    decay: float = FSRS_DEFAULT_DECAY  # FSRS-6 parameter w20 (positive; R decays as t^-decay)


def load_settings(session: Session, user_id: int) -> ProgressSettings:
    row = session.get(UserSettings, user_id)
    if row is None:
        return ProgressSettings()
    params = row.fsrs_parameters
    # Fitted parameters carry their own decay (w20); the figures must use the same curve.
    decay = float(params[20]) if params and len(params) >= 21 else FSRS_DEFAULT_DECAY
    return ProgressSettings(
        timezone=row.timezone,
        rollover_hour=row.rollover_hour,
        new_per_day=row.new_per_day,
        desired_retention=row.desired_retention,
        decay=decay,
    )


# The app's one retrievability (fractional elapsed days), under the dashboard's old name.
retrievability = card_retrievability


class DayCount(NamedTuple):
    # A tuple: the page builds 400 of them per request, and a frozen dataclass costs several
    # times as much to create.
    day: date
    reviews: int


@dataclass(frozen=True)
class Retention:
    passed: int
    total: int

    @property
    def rate(self) -> float | None:
        return self.passed / self.total if self.total else None


@dataclass(frozen=True)
class TopicProgress:
    topic_id: int
    slug: str
    title: str
    cards: int  # live flashcards (drills are counted apart)
    mastery: float | None  # mean retrievability of those cards now; None without cards
    drills_total: int
    drills_attempted: int
    drills_solved: int
    attempts_to_first_accept: float | None  # mean over solved drills
    path: str | None = None  # the readable address of its notes page (None: by slug)


@dataclass(frozen=True)
class WeakCard:
    card_id: int
    key: str
    kind: str
    front_md: str
    front_html: str
    topic_slug: str
    topic_title: str
    lapses: int
    reps: int
    retrievability: float
    suspended: bool
    leech: bool


@dataclass(frozen=True)
class Dashboard:
    today: date
    settings: ProgressSettings
    due_now: int
    done_today: int
    new_introduced_today: int
    new_available: int
    new_left_today: int
    streak_days: int
    heatmap: list[DayCount]  # oldest first, the last entry is today
    retention: dict[str, Retention]  # keys of RETENTION_WINDOWS
    forecast: list[DayCount]  # today (with everything overdue) and the next 29 days
    states: dict[str, int]  # keys of STATE_KEYS
    topics: list[TopicProgress]
    weakest: list[WeakCard]

    # Cached: the page asks several times, and each is a pass over 365 days.
    @cached_property
    def reviews_last_year(self) -> int:
        return sum(d.reviews for d in self.heatmap)

    @cached_property
    def active_days_last_year(self) -> int:
        return sum(1 for d in self.heatmap if d.reviews)
