"""Study services: the daily queue, answering, undo, suspend/bury and leeches.

Functions take the session first, flush, and never commit: the request (or CLI command)
commits once, so a state change and its review-log row land in one transaction. When one
raises `StudyError`, the caller rolls the session back. Only `now` tells them the time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import (
    Date,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quiz import scheduling, studyday
from quiz.db import UTCDateTime
from quiz.errors import ServiceError
from quiz.models import (
    STATE_LEARNING,
    STATE_NEW,
    STATE_RELEARNING,
    STATE_REVIEW,
    Card,
    CardState,
    ReviewLog,
    Topic,
    UserSettings,
)
from quiz.scheduling import STATE_NAMES, MemoryState, Rating, SchedulerConfig

LEECH_THRESHOLD = 8  # lapses that make a leech (Anki's default) ...
LEECH_REPEAT = 4  # ... and again every this many lapses after it was unsuspended
# A learning card due within this window is shown early when nothing else is left (Anki's
# "learn ahead"), so a 1-minute step does not end the session with "come back in 40 s".
LEARN_AHEAD = timedelta(minutes=20)
MAX_REQUEST_ID = 64


class StudyError(ServiceError):
    """A refusal with an HTTP-like status and a Chinese message for the user."""

    status = 400


class InvalidAnswer(StudyError):
    status = 400


class NotFound(StudyError):
    status = 404


class Conflict(StudyError):
    status = 409


# ---------------------------------------------------------------------------------------------
# Settings


def user_settings(session: Session, user_id: int, *, create: bool = False) -> UserSettings:
    """The user's settings row; when it is missing, the defaults (added only with `create`,
    so that reading pages never write)."""
    settings = session.get(UserSettings, user_id)
    if settings is None:
        settings = default_settings(user_id)
        if create:
            session.add(settings)
            session.flush()
    return settings


def default_settings(user_id: int) -> UserSettings:
    """A settings row with the model's column defaults filled in (not added to any session)."""
    values = {
        column.key: column.default.arg
        for column in UserSettings.__table__.columns
        if column.default is not None and not callable(column.default.arg)
    }
    return UserSettings(user_id=user_id, **values)


def _steps(text: str | None, default: tuple[timedelta, ...]) -> tuple[timedelta, ...]:
    try:
        return scheduling.parse_steps(text) if text is not None else default
    except ValueError:  # validated on input; an old bad value must not break studying
        return default


def scheduler_config(settings: Any, *, fuzz: bool = True) -> SchedulerConfig:
    """The scheduler a user's answers go through: their retention, steps and fitted weights."""
    return SchedulerConfig(
        desired_retention=settings.desired_retention,
        learning_steps=_steps(settings.learning_steps, scheduling.DEFAULT_LEARNING_STEPS),
        relearning_steps=_steps(settings.relearning_steps, scheduling.DEFAULT_RELEARNING_STEPS),
        # Weights fsrs would refuse (say, from another version) fall back to the defaults.
        parameters=scheduling.valid_parameters(settings.fsrs_parameters),
        enable_fuzzing=fuzz,
        timezone=settings.timezone,
        rollover_hour=settings.rollover_hour,
    )


def _kind_config(kind: str, settings: Any, fuzz: bool) -> SchedulerConfig:
    config = scheduler_config(settings, fuzz=fuzz)
    # A drill's practice happens on the drill page: its card goes straight to day intervals.
    return config.without_steps() if kind == "drill" else config


def fuzz_seed(card_id: int, reps: int) -> int:
    """One fuzz point per card and rep: the preview on the button equals the answer."""
    return card_id * 1_000_003 + reps


# ---------------------------------------------------------------------------------------------
# State snapshots


_MEMORY_FIELDS = (
    "state",
    "step",
    "stability",
    "difficulty",
    "due",
    "last_review",
    "reps",
    "lapses",
)


def _memory(columns: dict[str, Any]) -> MemoryState:
    return MemoryState(**{name: columns[name] for name in _MEMORY_FIELDS})


def _expire_state(session: Session, state_id: int) -> None:
    """After a Core UPDATE, make any loaded copy of the row reload instead of lying."""
    loaded = session.identity_map.get(session.identity_key(CardState, state_id))
    if loaded is not None:
        session.expire(loaded)


def memory_of(state: CardState | None) -> MemoryState:
    """The scheduling part of a state row (a card never answered when there is none)."""
    if state is None:
        return MemoryState()
    return _memory({name: getattr(state, name) for name in _MEMORY_FIELDS})


# Every column of a user's card state: undo restores them, backups carry them.
SNAPSHOT_FIELDS = (*_MEMORY_FIELDS, "suspended", "leech", "buried_until", "version")


def _snapshot(values: dict[str, Any]) -> dict[str, Any]:
    """A JSON-safe copy of a CardState's columns (what undo restores)."""
    out: dict[str, Any] = {}
    for name in SNAPSHOT_FIELDS:
        value = values.get(name)
        out[name] = value.isoformat() if isinstance(value, datetime | date) else value
    return out


def _state_values(state: CardState) -> dict[str, Any]:
    return {name: getattr(state, name) for name in SNAPSHOT_FIELDS}


def _restore(snapshot: dict[str, Any]) -> dict[str, Any]:
    """Column values from a snapshot (everything but version, which only ever goes up)."""
    values = {name: snapshot.get(name) for name in SNAPSHOT_FIELDS if name != "version"}
    for name in ("due", "last_review"):
        if values[name] is not None:
            values[name] = datetime.fromisoformat(values[name])
    if values["buried_until"] is not None:
        values["buried_until"] = date.fromisoformat(values["buried_until"])
    return values


# ---------------------------------------------------------------------------------------------
# The queue


@dataclass(frozen=True)
class Counts:
    """What is left today, as the bar above the card shows it."""

    new: int
    learning: int
    review: int

    @property
    def total(self) -> int:
        return self.new + self.learning + self.review


@dataclass(frozen=True)
class QueueCard:
    card: Card
    state: CardState | None
    queue: str  # "learning" | "review" | "new"
    topic_title: str = ""
    topic_slug: str = ""

    @property
    def version(self) -> int:
        return self.state.version if self.state else 0

    @property
    def memory(self) -> MemoryState:
        return memory_of(self.state)


@dataclass(frozen=True)
class StudyQueue:
    card: QueueCard | None
    counts: Counts
    done_today: int
    next_learning_due: datetime | None  # the earliest learning card due later today


@dataclass(frozen=True)
class _Day:
    today: date
    start: datetime
    end: datetime


def _day(settings: Any, now: datetime) -> _Day:
    today = studyday.study_day(now, settings.timezone, settings.rollover_hour)
    start, end = studyday.day_bounds(today, settings.timezone, settings.rollover_hour)
    return _Day(today, start, end)


def topic_id_for(session: Session, slug: str | None) -> int | None:
    """The live topic's id; NotFound for an unknown slug, None when no topic was asked for."""
    if not slug:
        return None
    topic_id = session.scalar(select(Topic.id).where(Topic.slug == slug, Topic.retired.is_(False)))
    if topic_id is None:
        raise NotFound(_("找不到该主题。"))
    return topic_id


@dataclass(frozen=True)
class _Statements:
    done_today: Select[Any]
    today: Select[Any]
    queue: Select[Any]
    new_pick: Select[Any]
    ahead_pick: Select[Any]
    load: Select[Any]


@lru_cache(maxsize=1)
def _statements() -> _Statements:
    """The queue's queries, built once with bound parameters.

    Three round trips per card in the usual case: what was done today (it sets the room left
    under the daily limits), then the counts and the pick in one statement, then the card
    itself. Every part walks an index or a small set and stops early (LIMIT); sorting whole
    card rows, or building SQLAlchemy expressions per request, would cost more than the
    answer itself.
    """
    user_id = bindparam("user_id", type_=Integer())
    topic_id = bindparam("topic_id", type_=Integer())
    start, end = bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime())
    now, ahead = bindparam("now", type_=UTCDateTime()), bindparam("ahead", type_=UTCDateTime())
    today = bindparam("today", type_=Date())
    new_room = bindparam("new_room", type_=Integer())
    review_room = bindparam("review_room", type_=Integer())

    in_topic = or_(topic_id.is_(None), Card.topic_id == topic_id)
    shown = and_(
        CardState.suspended.is_(False),
        or_(CardState.buried_until.is_(None), CardState.buried_until <= today),
    )
    # Any card answered today hides the other cards of its note until tomorrow.
    seen_today = (
        select(Card.sibling_key)
        .join(ReviewLog, ReviewLog.card_id == Card.id)
        .where(ReviewLog.user_id == user_id, ReviewLog.reviewed_at >= start)
    )
    fresh = Card.sibling_key.not_in(seen_today)

    def from_states(*columns: Any) -> Select[Any]:
        return (
            select(*columns)
            .select_from(CardState)
            .join(Card, Card.id == CardState.card_id)
            .where(CardState.user_id == user_id, Card.retired.is_(False), in_topic, shown)
        )

    is_learning = CardState.state.in_((STATE_LEARNING, STATE_RELEARNING))
    learning_summary = from_states(
        func.count().label("learning"), func.min(CardState.due).label("learning_next")
    ).where(is_learning, CardState.due < end)
    introduced = and_(ReviewLog.state_before == STATE_NEW, Card.kind != "drill")
    done_today = (
        select(
            func.count().label("done"),
            func.coalesce(func.sum(case((introduced, 1), else_=0)), 0).label("new_done"),
            func.coalesce(
                func.sum(case((ReviewLog.state_before == STATE_REVIEW, 1), else_=0)), 0
            ).label("reviews_done"),
        )
        .select_from(ReviewLog)
        .join(Card, Card.id == ReviewLog.card_id)
        .where(ReviewLog.user_id == user_id, ReviewLog.reviewed_at >= start)
    )
    done_sq, learning_sq = done_today.subquery(), learning_summary.subquery()
    today_stmt = select(
        done_sq.c.done,
        done_sq.c.new_done,
        done_sq.c.reviews_done,
        learning_sq.c.learning,
        learning_sq.c.learning_next,
    ).select_from(done_sq.join(learning_sq, true()))

    reviews = from_states(CardState.card_id.label("card_id")).where(
        CardState.state == STATE_REVIEW, CardState.due < end, fresh
    )
    # New: no state row, or a NEW row that is not suspended or buried. Probed per card through
    # the (user, card) unique index, so a scan can stop as soon as it has what it needs.
    has_progress = (
        select(CardState.id)
        .where(
            CardState.user_id == user_id,
            CardState.card_id == Card.id,
            or_(
                CardState.state != STATE_NEW,
                CardState.suspended.is_(True),
                CardState.buried_until > today,
            ),
        )
        .exists()
    )
    new = select(Card.id.label("card_id")).where(
        Card.retired.is_(False), Card.kind != "drill", in_topic, ~has_progress, fresh
    )

    def waiting(candidates: Select[Any], room: Any, *, newest_first: bool = False) -> Any:
        # One card per note a day, so siblings waiting together count once; the LIMIT stops
        # counting at what today's limit lets through. The count does not depend on order;
        # newest first reaches unseen cards without walking past every studied one.
        keys = candidates.with_only_columns(Card.sibling_key)
        if newest_first:
            keys = keys.order_by(Card.id.desc())
        inner = keys.subquery()
        limited = select(inner.c.sibling_key).distinct().limit(room).subquery()
        return select(func.count()).select_from(limited).scalar_subquery()

    def ranked(rank: int, candidates: Select[Any]) -> Select[Any]:
        one = candidates.limit(1).subquery()
        return select(literal(rank).label("rank"), one.c.card_id)

    learning = from_states(CardState.card_id.label("card_id")).where(is_learning)
    by_due = (CardState.due, CardState.card_id)
    # Learning cards due now, else the first review due today: both walk the (user, due)
    # index and stop at the first hit. New cards (a sort over all of them) are asked for
    # separately, only once reviews are done.
    picks = union_all(
        ranked(0, learning.where(CardState.due <= now).order_by(*by_due)),
        ranked(1, reviews.where(review_room > 0).order_by(*by_due)),
    ).subquery()
    queue_stmt = select(
        waiting(new, new_room, newest_first=True).label("new"),
        waiting(reviews, review_room).label("review"),
        select(picks.c.card_id).order_by(picks.c.rank).limit(1).scalar_subquery().label("pick"),
    )
    new_pick = (
        new.join(Topic, Topic.id == Card.topic_id)
        .order_by(Topic.position, Card.position, Card.id)
        .limit(1)
    )
    ahead_pick = learning.where(CardState.due <= ahead).order_by(*by_due).limit(1)
    load = (
        select(Card, CardState, Topic.title, Topic.slug)
        .select_from(Card)
        .outerjoin(CardState, and_(CardState.card_id == Card.id, CardState.user_id == user_id))
        .join(Topic, Topic.id == Card.topic_id)
        .where(Card.id == bindparam("card_id", type_=Integer()))
    )
    return _Statements(done_today, today_stmt, queue_stmt, new_pick, ahead_pick, load)


_QUEUE_NAMES = {
    STATE_NEW: "new",
    STATE_LEARNING: "learning",
    STATE_RELEARNING: "learning",
    STATE_REVIEW: "review",
}


def _done_today(session: Session, user_id: int, day: _Day) -> tuple[int, int, int]:
    """(all answers, new cards introduced, review-state answers) since the day began."""
    params = {"user_id": user_id, "start": day.start}
    row = session.connection().execute(_statements().done_today, params).one()
    return int(row[0]), int(row[1]), int(row[2])


def study_queue(
    session: Session, user_id: int, *, now: datetime, topic_id: int | None = None
) -> StudyQueue:
    """The next card and today's counts.

    Order: learning cards that are due, then reviews due today (up to the daily limit), then
    new cards in document order (up to the daily limit); a learning card due within
    LEARN_AHEAD comes last. Drill cards never enter as new cards; retired, suspended and buried
    cards never show; a card whose sibling was answered today waits for tomorrow.
    """
    settings = user_settings(session, user_id)
    day = _day(settings, now)
    sql = _statements()
    # Ids and counts go through Core: the ORM's per-row machinery would cost more than SQLite.
    conn = session.connection()
    params: dict[str, Any] = {
        "user_id": user_id,
        "topic_id": topic_id,
        "start": day.start,
        "end": day.end,
        "today": day.today,
    }
    done, new_done, reviews_done, learning_left, learning_next = conn.execute(
        sql.today, params
    ).one()
    queue_params = {
        **params,
        "now": now,
        "ahead": now + LEARN_AHEAD,
        "new_room": max(0, settings.new_per_day - new_done),
        "review_room": max(0, settings.reviews_per_day - reviews_done),
    }
    new_left, review_left, card_id = conn.execute(sql.queue, queue_params).one()
    if card_id is None and new_left:
        card_id = conn.execute(sql.new_pick, queue_params).scalar()
    if card_id is None:
        card_id = conn.execute(sql.ahead_pick, queue_params).scalar()
    counts = Counts(new=new_left, learning=learning_left, review=review_left)
    pick = None
    if card_id is not None:
        card, state, title, slug = session.execute(
            sql.load, {"user_id": user_id, "card_id": card_id}
        ).one()
        pick = QueueCard(
            card, state, _QUEUE_NAMES[state.state if state else STATE_NEW], title, slug
        )
    later = learning_next if learning_next is not None and learning_next > now else None
    return StudyQueue(pick, counts, int(done), later)


def card_previews(
    session: Session,
    user_id: int,
    item: QueueCard,
    *,
    now: datetime,
    fuzz: bool = True,
    settings: UserSettings | None = None,
) -> dict[Rating, timedelta]:
    """The four buttons' intervals for this card, exactly as answering would set them."""
    settings = settings or user_settings(session, user_id)
    memory = item.memory
    return scheduling.previews(
        memory,
        now=now,
        config=_kind_config(item.card.kind, settings, fuzz),
        fuzz_seed=fuzz_seed(item.card.id, memory.reps),
    )


@dataclass(frozen=True)
class DaySummary:
    """For the empty state: how much is waiting tomorrow, and when learning cards return."""

    done_today: int
    due_tomorrow: int
    learning_later: int
    next_learning_due: datetime | None


def day_summary(
    session: Session, user_id: int, *, now: datetime, topic_id: int | None = None
) -> DaySummary:
    settings = user_settings(session, user_id)
    day = _day(settings, now)
    tomorrow_end = studyday.day_bounds(
        day.today + timedelta(days=1), settings.timezone, settings.rollover_hour
    )[1]
    live = [Card.retired.is_(False), CardState.suspended.is_(False), CardState.user_id == user_id]
    if topic_id is not None:
        live.append(Card.topic_id == topic_id)
    due_tomorrow = session.scalar(
        select(func.count())
        .select_from(CardState)
        .join(Card, Card.id == CardState.card_id)
        .where(*live, CardState.state != STATE_NEW, CardState.due < tomorrow_end)
        # Learning cards still due today are reported below, not as tomorrow's.
        .where(
            ~and_(CardState.state.in_((STATE_LEARNING, STATE_RELEARNING)), CardState.due < day.end)
        )
    )
    learning = session.execute(
        select(func.count(), func.min(CardState.due))
        .select_from(CardState)
        .join(Card, Card.id == CardState.card_id)
        .where(
            *live, CardState.state.in_((STATE_LEARNING, STATE_RELEARNING)), CardState.due < day.end
        )
    ).one()
    done = _done_today(session, user_id, day)[0]
    return DaySummary(done, int(due_tomorrow or 0), int(learning[0]), learning[1])


# ---------------------------------------------------------------------------------------------
# Answering


@dataclass(frozen=True)
class AnswerResult:
    card_id: int
    due: datetime
    state: int
    interval_seconds: int
    version: int
    leech: bool
    log_id: int
    replayed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "card_id": self.card_id,
            "due": self.due.isoformat(),
            "state": STATE_NAMES[self.state],
            "interval_seconds": self.interval_seconds,
            "version": self.version,
            "leech": self.leech,
        }


def _result_from_log(log: ReviewLog, *, replayed: bool) -> AnswerResult:
    after = log.after
    due = datetime.fromisoformat(after["due"])
    return AnswerResult(
        card_id=log.card_id,
        due=due,
        state=log.state_after,
        interval_seconds=int((due - log.reviewed_at).total_seconds()),
        version=int(after["version"]),
        leech=bool(after.get("leech")) and not bool(log.before.get("leech")),
        log_id=log.id,
        replayed=replayed,
    )


def is_leech_lapse(lapses: int) -> bool:
    """True on the lapse that makes (or, after an unsuspend, re-makes) a card a leech."""
    return lapses == LEECH_THRESHOLD or (
        lapses > LEECH_THRESHOLD and (lapses - LEECH_THRESHOLD) % LEECH_REPEAT == 0
    )


def validate_rating(rating: object) -> Rating:
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 4:
        raise InvalidAnswer(_("rating 必须是 1–4 的整数（1 重来、2 困难、3 良好、4 简单）。"))
    return Rating(rating)


def _live_card(session: Session, card_id: int) -> Card:
    card = session.get(Card, card_id)
    if card is None or card.retired:
        raise NotFound(_("找不到该卡片。"))
    return card


def _get_state(session: Session, user_id: int, card_id: int) -> CardState | None:
    return session.scalar(
        select(CardState).where(CardState.user_id == user_id, CardState.card_id == card_id)
    )


def _ensure_state(session: Session, user_id: int, card_id: int, *, now: datetime) -> CardState:
    state = _get_state(session, user_id, card_id)
    if state is not None:
        return state
    state = CardState(
        user_id=user_id,
        card_id=card_id,
        state=STATE_NEW,
        due=now,
        reps=0,
        lapses=0,
        suspended=False,
        leech=False,
        version=0,
    )
    session.add(state)
    try:
        session.flush()
    except IntegrityError as error:  # another request created it first: what we saw is stale
        raise Conflict(_("这张卡片刚刚在别处被回答过，请刷新。")) from error
    return state


_SETTINGS_FIELDS = (
    "desired_retention",
    "timezone",
    "rollover_hour",
    "learning_steps",
    "relearning_steps",
    "fsrs_parameters",
)


@lru_cache(maxsize=1)
def _answer_context() -> Select[Any]:
    """Card, this user's state and settings in one row: everything an answer needs to read."""
    user_id = bindparam("user_id", type_=Integer())
    return (
        select(
            Card.kind.label("kind"),
            Card.retired.label("retired"),
            Card.topic_id.label("topic_id"),
            CardState.id.label("state_id"),
            *(getattr(CardState, name).label(name) for name in SNAPSHOT_FIELDS),
            UserSettings.user_id.label("settings_user"),
            *(getattr(UserSettings, name).label(name) for name in _SETTINGS_FIELDS),
        )
        .select_from(Card)
        .outerjoin(CardState, and_(CardState.card_id == Card.id, CardState.user_id == user_id))
        .outerjoin(UserSettings, UserSettings.user_id == user_id)
        .where(Card.id == bindparam("card_id", type_=Integer()))
    )


def _answerable_now(kind: str, state: Any, settings: Any, now: datetime) -> bool:
    """Without a version, only a card that is due right now may be answered (else: stale)."""
    if state is None or state.state == STATE_NEW:
        return kind != "drill" and not (
            state and (state.suspended or _buried(state, settings, now))
        )
    if state.suspended or _buried(state, settings, now):
        return False
    if state.state == STATE_REVIEW:
        return state.due < _day(settings, now).end
    return state.due <= now


def _handed_out_early(
    session: Session,
    user_id: int,
    card_id: int,
    topic_id: int,
    state: Any,
    *,
    now: datetime,
    request_id: str | None,
) -> bool:
    """A learning card the queue shows now although it is due only within LEARN_AHEAD.

    Without a version, the only way to tell it from a second tab's stale answer is to ask the
    queue: it hands such a card out only when nothing else is left (for all topics or the
    card's own). A retry of an answer already recorded is a replay, never early.
    """
    if state is None or state.state not in (STATE_LEARNING, STATE_RELEARNING):
        return False
    if state.suspended or state.due > now + LEARN_AHEAD:
        return False
    if request_id is not None and find_replay(session, user_id, request_id) is not None:
        return False
    for scope in (None, topic_id):
        head = study_queue(session, user_id, now=now, topic_id=scope).card
        if head is not None and head.card.id == card_id:
            return True
    return False


def _buried(state: Any, settings: Any, now: datetime) -> bool:
    return state.buried_until is not None and state.buried_until > _day(settings, now).today


def answer(
    session: Session,
    user_id: int,
    card_id: int,
    rating: int,
    *,
    now: datetime,
    duration_ms: int | None = None,
    request_id: str | None = None,
    version: int | None = None,
    fuzz: bool = True,
) -> AnswerResult:
    """Apply one answer: new state plus a review-log row, under an optimistic lock.

    A `version` other than the card's current one, or without a version a card that is not
    due now, raises Conflict: the answer was given to a stale card. A retry with a
    `request_id` already recorded (a lost response) returns the recorded result instead; when
    the retry meets the unique index rather than a stale state, Conflict is raised and the
    caller, after rolling back, answers with `find_replay` (as the API view does).
    """
    rating = validate_rating(rating)
    # One read for card, state and settings: this is the hot path of every answer.
    row = (
        session.connection()
        .execute(_answer_context(), {"user_id": user_id, "card_id": card_id})
        .first()
    )
    if row is None or row.retired:
        raise NotFound(_("找不到该卡片。"))
    settings: Any = row if row.settings_user is not None else user_settings(session, user_id)
    state = row if row.state_id is not None else None
    stale = None
    if version is not None:
        if (state.version if state else 0) != version:
            stale = _("这张卡片在显示后已被回答或修改，请刷新后再答。")
        elif state is not None and state.suspended:
            stale = _("这张卡片已暂停。")
    elif not _answerable_now(row.kind, state, settings, now) and not _handed_out_early(
        session, user_id, card_id, row.topic_id, state, now=now, request_id=request_id
    ):
        stale = _("这张卡片现在不需要复习（可能已在别处回答过），请刷新。")
    if stale is not None:
        # Looked up only now: the common answer costs no extra query for idempotency.
        replay = find_replay(session, user_id, request_id) if request_id else None
        if replay is not None and replay.card_id == card_id:
            return replay
        raise Conflict(stale)
    current = None
    if state is not None:
        current = (row.state_id, {name: getattr(row, name) for name in SNAPSHOT_FIELDS})
    return _apply(
        session,
        user_id,
        card_id,
        rating,
        now=now,
        config=_kind_config(row.kind, settings, fuzz),
        duration_ms=duration_ms,
        request_id=request_id,
        current=current,
        expect_new=current is None,
    )


def find_replay(session: Session, user_id: int, request_id: str) -> AnswerResult | None:
    """The recorded result of an answer sent with this request_id, if there was one."""
    log = session.scalar(
        select(ReviewLog).where(ReviewLog.user_id == user_id, ReviewLog.request_id == request_id)
    )
    return _result_from_log(log, replayed=True) if log else None


def _apply(
    session: Session,
    user_id: int,
    card_id: int,
    rating: Rating,
    *,
    now: datetime,
    config: SchedulerConfig,
    duration_ms: int | None = None,
    request_id: str | None = None,
    current: tuple[int, dict[str, Any]] | None = None,
    expect_new: bool = False,
) -> AnswerResult:
    """Write one answer; `current` is the state row as read (id, columns), None to create it.

    With `expect_new`, the caller saw no state row: one that another request created (and
    answered) meanwhile makes this answer stale.
    """
    if current is None:
        created = _ensure_state(session, user_id, card_id, now=now)
        current = (created.id, _state_values(created))
        if expect_new and current[1]["version"] != 0:
            raise Conflict(_("这张卡片刚刚在别处被回答过，请刷新。"))
    state_id, columns = current
    before = _snapshot(columns)
    memory, outcome = scheduling.review(
        _memory(columns),
        rating,
        now=now,
        config=config,
        fuzz_seed=fuzz_seed(card_id, columns["reps"]),
    )
    leech = outcome.lapsed and is_leech_lapse(memory.lapses)
    values: dict[str, Any] = {
        "state": memory.state,
        "step": memory.step,
        "stability": memory.stability,
        "difficulty": memory.difficulty,
        "due": memory.due,
        "last_review": memory.last_review,
        "reps": memory.reps,
        "lapses": memory.lapses,
        "suspended": bool(columns["suspended"]) or leech,
        "leech": bool(columns["leech"]) or leech,
        "buried_until": None,
        "version": columns["version"] + 1,
    }
    update_state, insert_log = _write_statements()
    # Core statements: the ORM's flush machinery would cost more than the two writes.
    conn = session.connection()
    # The WHERE on version is the lock: of two workers applying the same shown state, one wins.
    updated = conn.execute(
        update_state, {**values, "b_id": state_id, "b_version": columns["version"]}
    )
    if updated.rowcount != 1:
        raise Conflict(_("这张卡片刚刚在别处被回答过，请刷新。"))
    _expire_state(session, state_id)
    try:
        inserted = conn.execute(
            insert_log,
            {
                "user_id": user_id,
                "card_id": card_id,
                "rating": int(rating),
                "reviewed_at": outcome.reviewed_at,
                "duration_ms": duration_ms,
                "state_before": outcome.state_before,
                "state_after": outcome.state_after,
                "before": before,
                "after": _snapshot({**before, **values}),
                "request_id": request_id,
            },
        )
    except IntegrityError as error:  # the same request_id won a race in another worker
        raise Conflict(_("这个 request_id 已被使用。")) from error
    return AnswerResult(
        card_id=card_id,
        due=memory.due or now,
        state=memory.state,
        interval_seconds=outcome.interval_seconds,
        version=values["version"],
        leech=leech,
        log_id=int(inserted.inserted_primary_key[0]),
    )


@lru_cache(maxsize=1)
def _write_statements() -> tuple[Any, Any]:
    states = CardState.__table__
    update_state = update(states).where(
        states.c.id == bindparam("b_id"), states.c.version == bindparam("b_version")
    )
    return update_state, insert(ReviewLog.__table__)


def schedule_drill_review(
    session: Session,
    user_id: int,
    card_id: int,
    rating: int,
    *,
    now: datetime,
    duration_ms: int | None = None,
) -> AnswerResult:
    """Review a drill card with the rating its drill earned; creates its state if missing.

    Called by the drill pages when the user re-implements a drill: the card then joins the
    review queue like any other, due when FSRS says.
    """
    rating = validate_rating(rating)
    card = _live_card(session, card_id)
    settings = user_settings(session, user_id)
    return _apply(
        session,
        user_id,
        card.id,
        rating,
        now=now,
        config=_kind_config(card.kind, settings, fuzz=True),
        duration_ms=duration_ms,
    )


# ---------------------------------------------------------------------------------------------
# Undo


def undo_review(session: Session, user_id: int, log_id: int) -> CardState:
    """Undo one answer exactly: the card's state as it was before, and the log row removed.

    Only the card's latest answer can be undone, and only if nothing changed the card since.
    """
    log = session.get(ReviewLog, log_id)
    if log is None or log.user_id != user_id:
        raise NotFound(_("没有可撤销的回答。"))
    state = _get_state(session, user_id, log.card_id)
    if state is None or state.version != log.after.get("version"):
        raise Conflict(_("这张卡片在回答后又被修改过，无法撤销。"))
    updated = session.execute(
        update(CardState)
        .where(CardState.id == state.id, CardState.version == state.version)
        .values(**_restore(log.before), version=state.version + 1)
        .execution_options(synchronize_session=False)
    )
    if updated.rowcount != 1:
        raise Conflict(_("这张卡片在回答后又被修改过，无法撤销。"))
    session.execute(delete(ReviewLog).where(ReviewLog.id == log.id))
    session.expire(state)
    session.expunge(log)
    session.flush()
    return state


def undo_last(session: Session, user_id: int, *, now: datetime) -> CardState:
    """Undo the user's most recent answer of the current study day."""
    day = _day(user_settings(session, user_id), now)
    log_id = session.scalar(
        select(ReviewLog.id)
        .where(ReviewLog.user_id == user_id, ReviewLog.reviewed_at >= day.start)
        .order_by(ReviewLog.id.desc())
        .limit(1)
    )
    if log_id is None:
        raise NotFound(_("今天没有可撤销的回答。"))
    return undo_review(session, user_id, log_id)


def queue_card(session: Session, user_id: int, card_id: int) -> QueueCard:
    """A card with this user's state, as the queue would hand it out (for showing it again)."""
    card = _live_card(session, card_id)
    state = _get_state(session, user_id, card_id)
    if state is None or state.state == STATE_NEW:
        queue = "new"
    elif state.state == STATE_REVIEW:
        queue = "review"
    else:
        queue = "learning"
    return QueueCard(card, state, queue)


# ---------------------------------------------------------------------------------------------
# Suspend and bury


def set_suspended(
    session: Session, user_id: int, card_id: int, suspended: bool, *, now: datetime
) -> CardState:
    """Suspend or unsuspend by hand. Unsuspending keeps the leech tag (it still marks the card)."""
    _live_card(session, card_id)
    state = _ensure_state(session, user_id, card_id, now=now)
    state.suspended = suspended
    state.version = CardState.version + 1  # type: ignore[assignment]  (SQL-side, race-free)
    session.flush()
    session.refresh(state)
    return state


def bury(session: Session, user_id: int, card_id: int, *, now: datetime) -> CardState:
    """Hide a card until the next study day."""
    _live_card(session, card_id)
    settings = user_settings(session, user_id)
    state = _ensure_state(session, user_id, card_id, now=now)
    state.buried_until = _day(settings, now).today + timedelta(days=1)
    state.version = CardState.version + 1  # type: ignore[assignment]
    session.flush()
    session.refresh(state)
    return state


UNDOABLE_ACTIONS = ("bury", "suspend")


def undo_card_action(
    session: Session, user_id: int, card_id: int, action: str, *, version: int
) -> CardState:
    """Undo a bury or a suspend given from the study page, on the same undo stack as answers.

    `version` is the card's version the bury or suspend produced: if anything changed the card
    since, nothing is undone (Conflict). Both act only on a card that was being shown, so what
    they undo to is known: not buried, not suspended.
    """
    if action not in UNDOABLE_ACTIONS:
        raise InvalidAnswer(_("action 必须是 bury 或 suspend。"))
    state = _get_state(session, user_id, card_id)
    if state is None:
        raise NotFound(_("没有可撤销的操作。"))
    undone = state.buried_until is not None if action == "bury" else state.suspended
    if state.version != version or not undone:
        raise Conflict(_("这张卡片之后又被修改过，无法撤销。"))
    values: dict[str, Any] = {"buried_until": None} if action == "bury" else {"suspended": False}
    updated = session.execute(
        update(CardState)
        .where(CardState.id == state.id, CardState.version == version)
        .values(**values, version=version + 1)
        .execution_options(synchronize_session=False)
    )
    if updated.rowcount != 1:
        raise Conflict(_("这张卡片之后又被修改过，无法撤销。"))
    session.expire(state)
    session.flush()
    return state


def unbury(session: Session, user_id: int, card_id: int) -> CardState | None:
    state = _get_state(session, user_id, card_id)
    if state is not None and state.buried_until is not None:
        state.buried_until = None
        state.version = CardState.version + 1  # type: ignore[assignment]
        session.flush()
        session.refresh(state)
    return state
