"""Progress figures for the dashboard and `GET /api/v1/progress`.

Every figure over the review log is an SQL aggregate; nothing loads the log into Python. Study
days follow the user's time zone and rollover hour exactly, DST included: their UTC boundaries
are computed here (`quiz.studyday.day_bounds`) and the database counts rows between them, one
index range per day, so no database date function (and no dialect-specific SQL) is needed.

Retrievability needs a power function that SQLite lacks, so it is computed in Python over the
user's card_states rows only (at most a few thousand), never over review logs.

Services take the session first and `now` as an argument; they only read.

- `figures`: settings, retrievability and the result values;
- `days`: study-day boundaries, reviews per day, retention;
- `cards`: counts of new, due, per-state and per-topic cards, the forecast;
- `topics`: per-topic progress, the weakest cards;
- `dashboard`: everything in one call, the streak."""

from fsrs.scheduler import FSRS_DEFAULT_DECAY

from quiz.progress.cards import CardFigures, card_figures, forecast, new_introduced
from quiz.progress.dashboard import dashboard, streak
from quiz.progress.days import day_boundaries, retention, review_counts
from quiz.progress.figures import (
    FORECAST_DAYS,
    HEATMAP_DAYS,
    RATINGS,
    RETENTION_WINDOWS,
    STATE_KEYS,
    WEAKEST_LIMIT,
    Dashboard,
    DayCount,
    ProgressSettings,
    Retention,
    TopicProgress,
    WeakCard,
    load_settings,
    retrievability,
)
from quiz.progress.topics import SURE_RECALL, topic_progress, weakest_cards

__all__ = [
    "CardFigures",
    "card_figures",
    "FSRS_DEFAULT_DECAY",
    "Dashboard",
    "DayCount",
    "FORECAST_DAYS",
    "HEATMAP_DAYS",
    "ProgressSettings",
    "RATINGS",
    "RETENTION_WINDOWS",
    "Retention",
    "STATE_KEYS",
    "SURE_RECALL",
    "TopicProgress",
    "WEAKEST_LIMIT",
    "WeakCard",
    "dashboard",
    "day_boundaries",
    "forecast",
    "load_settings",
    "new_introduced",
    "retention",
    "retrievability",
    "review_counts",
    "streak",
    "topic_progress",
    "weakest_cards",
]
