"""Answering a card (under an optimistic lock, idempotent by request_id) and undoing it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import (
    Integer,
    Select,
    and_,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quiz import scheduling
from quiz.db import built_once, rowcount
from quiz.locks import lock_user
from quiz.models import (
    STATE_LEARNING,
    STATE_NEW,
    STATE_RELEARNING,
    STATE_REVIEW,
    Card,
    CardState,
    ReviewLog,
    UserSettings,
)
from quiz.scheduling import STATE_NAMES, Rating, SchedulerConfig
from quiz.study.errors import Conflict, InvalidAnswer, NotFound
from quiz.study.queue import LEARN_AHEAD, study_queue
from quiz.study.settings import _kind_config, fuzz_seed, user_settings
from quiz.study.state import (
    SNAPSHOT_FIELDS,
    _day,
    _ensure_state,
    _expire_state,
    _get_state,
    _live_card,
    _memory,
    _restore,
    _snapshot,
    _state_values,
)

LEECH_THRESHOLD = 8  # lapses that make a leech (Anki's default) ...
LEECH_REPEAT = 4  # ... and again every this many lapses after it was unsuspended
MAX_REQUEST_ID = 64


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
    parsed = scheduling.parse_rating(rating)
    if parsed is None:
        raise InvalidAnswer(_("rating 必须是 1–4 的整数（1 重来、2 困难、3 良好、4 简单）。"))
    return parsed


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
    return built_once(
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
        return bool(state.due < _day(settings, now).end)
    return bool(state.due <= now)


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
    if rowcount(updated) != 1:
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
    key = inserted.inserted_primary_key
    if key is None:  # cannot happen for a one-row INSERT; the annotation allows it
        raise RuntimeError("the review log insert returned no primary key")
    return AnswerResult(
        card_id=card_id,
        due=memory.due or now,
        state=memory.state,
        interval_seconds=outcome.interval_seconds,
        version=values["version"],
        leech=leech,
        log_id=int(key[0]),
    )


@lru_cache(maxsize=1)
def _write_statements() -> tuple[Any, Any]:
    states = CardState.__table__
    update_state = update(states).where(
        states.c.id == bindparam("b_id"), states.c.version == bindparam("b_version")
    )
    return built_once(update_state), built_once(insert(ReviewLog.__table__))


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
    if rowcount(updated) != 1:
        raise Conflict(_("这张卡片在回答后又被修改过，无法撤销。"))
    session.execute(delete(ReviewLog).where(ReviewLog.id == log.id))
    session.expire(state)
    session.expunge(log)
    session.flush()
    return state


def undo_last(session: Session, user_id: int, *, now: datetime) -> CardState:
    """Undo the user's most recent answer of the current study day.

    Concurrent undos (a double click, two tabs) run one after another: each undoes the answer
    the previous one left latest, as on SQLite, instead of all picking the same one.
    """
    lock_user(session, user_id)
    day = _day(user_settings(session, user_id), now)
    # The whole row: undo_review then finds it in the session instead of reading it again.
    log = session.scalar(
        select(ReviewLog)
        .where(ReviewLog.user_id == user_id, ReviewLog.reviewed_at >= day.start)
        .order_by(ReviewLog.id.desc())
        .limit(1)
    )
    if log is None:
        raise NotFound(_("今天没有可撤销的回答。"))
    return undo_review(session, user_id, log.id)
