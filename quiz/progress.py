"""Progress figures for the dashboard and `GET /api/v1/progress`.

Every figure over the review log is an SQL aggregate; nothing loads the log into Python. Study
days follow the user's time zone and rollover hour exactly, DST included: their UTC boundaries
are computed here (`quiz.studyday.day_bounds`) and the database counts rows between them, one
index range per day, so no database date function (and no dialect-specific SQL) is needed.

Retrievability needs a power function that SQLite lacks, so it is computed in Python over the
user's card_states rows only (at most a few thousand), never over review logs.

Services take the session first and `now` as an argument; they only read.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from fsrs.scheduler import FSRS_DEFAULT_DECAY
from sqlalchemy import (
    CTE,
    Date,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    not_,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from quiz.db import UTCDateTime
from quiz.models import (
    STATE_LEARNING,
    STATE_NEW,
    STATE_RELEARNING,
    STATE_REVIEW,
    Card,
    CardState,
    DrillProgress,
    ReviewLog,
    Topic,
    UserSettings,
)
from quiz.scheduling import forgetting_curve
from quiz.studyday import day_bounds, study_day

RATINGS = (1, 2, 3, 4)

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

    timezone: str = "Asia/Shanghai"
    rollover_hour: int = 4
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


def retrievability(
    stability: float | None, last_review: datetime | None, now: datetime, decay: float
) -> float:
    """FSRS-6 probability of recall now; 0 for a card never reviewed (as py-fsrs answers).

    Elapsed time is counted in whole days like `fsrs.Scheduler.get_card_retrievability`.
    """
    if stability is None or last_review is None or stability <= 0:
        return 0.0
    return forgetting_curve(max(0, (now - last_review).days), stability, decay)


@dataclass(frozen=True)
class DayCount:
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

    @property
    def reviews_last_year(self) -> int:
        return sum(d.reviews for d in self.heatmap)

    @property
    def active_days_last_year(self) -> int:
        return sum(1 for d in self.heatmap if d.reviews)


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


def _day_ranges(n: int, name: str) -> CTE:
    """A CTE of n rows (i, lo, hi) between bind parameters `{name}_0` .. `{name}_{n}`.

    A UNION ALL of one-row selects rather than VALUES: SQLAlchemy cannot cache a VALUES
    construct, and compiling a 365-row one on every request costs ~100 ms, ten times what
    SQLite needs to run the query. Built once per size (see the lru_caches below).
    """
    kind = UTCDateTime()
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


def _range_params(bounds: Sequence[datetime], name: str) -> dict[str, datetime]:
    return {f"{name}_{i}": instant for i, instant in enumerate(bounds)}


@lru_cache(maxsize=4)
def _review_counts_statement(n: int) -> Select[tuple[int, int]]:
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
    return select(days.c.i, count)


def review_counts(session: Session, user_id: int, bounds: Sequence[datetime]) -> list[int]:
    """Review-log rows in each [bounds[i], bounds[i+1]).

    One correlated count per range: each is an index range scan on (user_id, reviewed_at),
    which in SQLite is several times faster than a join followed by GROUP BY, and needs no
    date function of any database.
    """
    n = len(bounds) - 1
    params = {"user_id": user_id, **_range_params(bounds, "days")}
    counts = [0] * n
    for i, count in _run(session, _review_counts_statement(n), params).all():
        counts[i] = count
    return counts


@lru_cache(maxsize=1)
def _retention_statement() -> Select[tuple[int, int]]:
    return (
        select(ReviewLog.rating, func.count())
        .where(
            ReviewLog.user_id == _user(),
            ReviewLog.state_before == STATE_REVIEW,
            ReviewLog.rating.in_(RATINGS),
            ReviewLog.reviewed_at >= _instant("start"),
            ReviewLog.reviewed_at < _instant("end"),
        )
        .group_by(ReviewLog.rating)
    )


def retention(
    session: Session, user_id: int, starts: dict[str, datetime], end: datetime
) -> dict[str, Retention]:
    """True retention per window: reviews of review-state cards, and those not answered Again.

    Per window, a count per rating: with `rating IN (...)` each is a range of the outcome index.
    """
    out = {}
    for key, start in starts.items():
        params = {"user_id": user_id, "start": start, "end": end}
        by_rating = dict(_run(session, _retention_statement(), params).all())
        total = sum(by_rating.values())
        out[key] = Retention(total - by_rating.get(1, 0), total)
    return out


def _run(
    session: Session, statement: Executable, params: dict[str, Any] | None = None
) -> CursorResult[Any]:
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


def _scheduled() -> ColumnElement[bool]:
    return and_(CardState.state != STATE_NEW, CardState.suspended.is_(False))


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


@lru_cache(maxsize=1)
def _studied_statement() -> Select[tuple[int, int, str, float, datetime, int, int]]:
    return (
        select(
            Card.id,
            Card.topic_id,
            Card.kind,
            CardState.stability,
            CardState.last_review,
            CardState.lapses,
            CardState.reps,
        )
        .join(CardState, and_(CardState.card_id == Card.id, CardState.user_id == _user()))
        .join(Topic, Topic.id == Card.topic_id)
        .where(_live(), CardState.reps > 0)
    )


@lru_cache(maxsize=1)
def _flashcards_statement() -> Select[tuple[int, int]]:
    return (
        select(Card.topic_id, func.count())
        .join(Topic, Topic.id == Card.topic_id)
        .where(_live(), Card.kind != "drill")
        .group_by(Card.topic_id)
    )


@lru_cache(maxsize=1)
def _drills_statement() -> Select[tuple[int, int, int, int, float | None]]:
    progress = DrillProgress
    solved = progress.solved_at.is_not(None)
    return (
        select(
            Card.topic_id,
            func.count(),
            func.coalesce(func.sum(case((progress.submits > 0, 1), else_=0)), 0),
            func.coalesce(func.sum(case((solved, 1), else_=0)), 0),
            func.avg(case((solved, progress.attempts_to_first_accept))),
        )
        .join(Topic, Topic.id == Card.topic_id)
        .join(
            progress,
            and_(progress.drill_id == Card.drill_id, progress.user_id == _user()),
            isouter=True,
        )
        .where(_live(), Card.kind == "drill")
        .group_by(Card.topic_id)
    )


@lru_cache(maxsize=1)
def _topics_statement() -> Select[tuple[int, str, str]]:
    return (
        select(Topic.id, Topic.slug, Topic.title)
        .where(Topic.retired.is_(False))
        .order_by(Topic.position)
    )


def topic_progress(
    session: Session, user_id: int, recall: dict[int, float], kinds: dict[int, tuple[int, str]]
) -> list[TopicProgress]:
    """Per live topic: flashcards and their mean retrievability, and drill figures.

    `recall` maps card id to retrievability now; `kinds` maps card id to (topic id, kind).
    Flashcards never answered count as 0 towards mastery.
    """
    flashcards = dict(_run(session, _flashcards_statement()).all())
    drills = {
        topic_id: (total, attempted, solved, mean_attempts)
        for topic_id, total, attempted, solved, mean_attempts in _run(
            session, _drills_statement(), {"user_id": user_id}
        )
    }
    recall_sum: dict[int, float] = {}
    for card_id, value in recall.items():
        topic_id, kind = kinds[card_id]
        if kind != "drill":
            recall_sum[topic_id] = recall_sum.get(topic_id, 0.0) + value
    out = []
    for topic_id, slug, title in _run(session, _topics_statement()):
        cards = flashcards.get(topic_id, 0)
        total, attempted, solved, mean_attempts = drills.get(topic_id, (0, 0, 0, None))
        out.append(
            TopicProgress(
                topic_id=topic_id,
                slug=slug,
                title=title,
                cards=cards,
                mastery=recall_sum.get(topic_id, 0.0) / cards if cards else None,
                drills_total=int(total),
                drills_attempted=int(attempted),
                drills_solved=int(solved),
                attempts_to_first_accept=None if mean_attempts is None else float(mean_attempts),
            )
        )
    return out


@lru_cache(maxsize=1)
def _weak_details_statement() -> Select[tuple[Any, ...]]:
    return (
        select(
            Card.id,
            Card.key,
            Card.kind,
            Card.front_md,
            Card.front_html,
            Topic.slug,
            Topic.title,
            CardState.lapses,
            CardState.reps,
            CardState.suspended,
            CardState.leech,
        )
        .join(CardState, and_(CardState.card_id == Card.id, CardState.user_id == _user()))
        .join(Topic, Topic.id == Card.topic_id)
        .where(Card.id.in_(bindparam("ids", expanding=True)))
    )


# Rounds to 100% on the page: such a card is not weak, whatever its history.
SURE_RECALL = 0.995


def weakest_cards(
    session: Session,
    user_id: int,
    rows: Sequence[tuple[int, int, int]],
    recall: dict[int, float],
    limit: int = WEAKEST_LIMIT,
    *,
    target: float = 0.9,
) -> list[WeakCard]:
    """The cards the learner forgot: most lapses first, then the lowest retrievability.

    `rows` are (card id, lapses, reps) for the user's live cards. A card qualifies once it has
    reviews and either lapsed or dropped below the target retention; a card the learner is
    all but sure to recall (shown as 100%) never does, even right after an "Again" on a new card.
    """
    studied = [
        (cid, lapses)
        for cid, lapses, reps in rows
        if reps > 0 and recall[cid] < SURE_RECALL and (lapses > 0 or recall[cid] < target)
    ]
    chosen = heapq.nsmallest(limit, studied, key=lambda r: (-r[1], recall[r[0]], r[0]))
    if not chosen:
        return []
    ids = [cid for cid, _ in chosen]
    found = {
        row[0]: row
        for row in _run(session, _weak_details_statement(), {"user_id": user_id, "ids": ids})
    }
    out = []
    for cid in ids:
        _, key, kind, front_md, front_html, slug, title, lapses, reps, suspended, leech = found[cid]
        out.append(
            WeakCard(
                card_id=cid,
                key=key,
                kind=kind,
                front_md=front_md,
                front_html=front_html,
                topic_slug=slug,
                topic_title=title,
                lapses=lapses,
                reps=reps,
                retrievability=recall[cid],
                suspended=suspended,
                leech=leech,
            )
        )
    return out


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
