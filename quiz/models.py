"""Typed SQLAlchemy models. Schema changes go through Alembic (migrations/)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    event,
    false,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Mapper, Session, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from quiz.db import Model, UTCDateTime, utcnow
from quiz.studyday import DEFAULT_ROLLOVER_HOUR, DEFAULT_TIMEZONE


def session_id(user_id: int, session_version: int) -> str:
    """What a session cookie stores for its user: bumping the version ends every such cookie."""
    return f"{user_id}:{session_version}"


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    # username.lower(): names are unique regardless of case (Alice and alice are one account).
    username_key: Mapped[str] = mapped_column(String(40), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of the login cookie's user id, checked on every request: logging out (here or
    # everywhere) bumps it, so a copy of an old cookie no longer logs anyone in.
    session_version: Mapped[int] = mapped_column(Integer, default=0)

    settings: Mapped[UserSettings | None] = relationship(back_populates="user", uselist=False)

    def get_id(self) -> str:
        return session_id(self.id, self.session_version)


class ApiToken(Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(
        String(64), unique=True
    )  # sha256 hex; the token itself is never stored
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UserSettings(Model):
    __tablename__ = "user_settings"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    desired_retention: Mapped[float] = mapped_column(Float, default=0.9)
    new_per_day: Mapped[int] = mapped_column(Integer, default=20)
    reviews_per_day: Mapped[int] = mapped_column(Integer, default=200)
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    rollover_hour: Mapped[int] = mapped_column(Integer, default=DEFAULT_ROLLOVER_HOUR)
    # One short learning step and no relearning step: FSRS already schedules a lapsed card by
    # its post-lapse stability, and extra same-day reviews barely move it. bench/srs_simulation.py:
    # these defaults vs Anki's (1m 10m / 10m) +19% memorised per minute; FSRS vs SM-2 at equal
    # steps only +6% (ours) to +9% (Anki's) — most of the gain is the steps, not the model.
    learning_steps: Mapped[str] = mapped_column(String(100), default="10m")
    relearning_steps: Mapped[str] = mapped_column(String(100), default="")
    reveal_all: Mapped[bool] = mapped_column(Boolean, default=False)  # both answers on one Space
    # Interface language ("zh", "en"); None follows the browser's Accept-Language.
    locale: Mapped[str | None] = mapped_column(String(8))
    # "system" follows prefers-color-scheme; "light"/"dark" set Pico's data-theme.
    theme: Mapped[str] = mapped_column(String(8), default="system", server_default="system")
    fsrs_parameters: Mapped[list[float] | None] = mapped_column(
        JSON
    )  # fitted per user; None = defaults
    fsrs_optimized_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fsrs_loss_before: Mapped[float | None] = mapped_column(Float)
    fsrs_loss_after: Mapped[float | None] = mapped_column(Float)

    user: Mapped[User] = relationship(back_populates="settings")


class Document(Model):
    """One file of content/, as last imported."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(255), unique=True)  # relative to content/
    sha256: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Topic(Model):
    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)  # identity, part of card keys
    # The readable address (/topics/<path>, pinyin of the title); the slug redirects to it.
    path: Mapped[str | None] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(Integer)  # order across all documents
    retired: Mapped[bool] = mapped_column(Boolean, default=False)

    sections: Mapped[list[Section]] = relationship(
        back_populates="topic", order_by="Section.position"
    )


class Section(Model):
    __tablename__ = "sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), index=True)
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    number: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(Integer)
    body_html: Mapped[str] = mapped_column(Text, default="")
    has_diagram: Mapped[bool] = mapped_column(Boolean, default=False)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)

    topic: Mapped[Topic] = relationship(back_populates="sections")


class Card(Model):
    """A flashcard: a question, a knowledge point, or a drill to re-implement."""

    __tablename__ = "cards"
    __table_args__ = (
        # Live cards per topic (topic lists, the dashboard) from the index alone: card rows are
        # wide (the rendered answer), and reading them cost more than the counting.
        Index("ix_cards_topic_live", "topic_id", "retired", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)  # stable identity across syncs
    kind: Mapped[str] = mapped_column(String(16))  # "question" | "knowledge" | "drill"
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), index=True)
    section_id: Mapped[int | None] = mapped_column(ForeignKey("sections.id"), index=True)
    sibling_key: Mapped[str] = mapped_column(
        String(255)
    )  # cards of one note are not shown the same day
    position: Mapped[int] = mapped_column(Integer)  # document order, for the new-card queue
    front_md: Mapped[str] = mapped_column(Text)
    back_md: Mapped[str] = mapped_column(Text)
    front_html: Mapped[str] = mapped_column(Text)
    back_html: Mapped[str] = mapped_column(Text)  # the whole answer
    short_html: Mapped[str] = mapped_column(Text, default="")  # first reveal (一句话答案), if any
    drill_id: Mapped[str | None] = mapped_column(String(64))
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    topic: Mapped[Topic] = relationship()
    section: Mapped[Section | None] = relationship()


def card_is_live() -> ColumnElement[bool]:
    """A card counted in topic lists and new-card counts: not retired, not a drill's review
    card (those are scheduled from the drill, not studied from the topic)."""
    return and_(Card.retired.is_(False), Card.kind != "drill")


# FSRS states; 0 is ours: a card the user has never answered but has a row (suspended while new).
STATE_NEW, STATE_LEARNING, STATE_REVIEW, STATE_RELEARNING = 0, 1, 2, 3


class CardState(Model):
    """One user's scheduling state of one card."""

    __tablename__ = "card_states"
    __table_args__ = (
        UniqueConstraint("user_id", "card_id"),
        Index("ix_card_states_user_due", "user_id", "due"),
        # The queue's learning cards and due reviews: a range per state in due order, instead
        # of every due card of the user (nearly all of them reviews) read to test its state.
        # It carries what the queue tests of each state, so counting a day's reviews reads no
        # state rows.
        Index(
            "ix_card_states_user_state_due",
            "user_id",
            "state",
            "due",
            "card_id",
            "suspended",
            "buried_until",
        ),
        # A user's counts per topic (topic lists: due, new) from one range of this index, in
        # topic order: no join to the cards, no read of the state rows.
        Index(
            "ix_card_states_user_topic_counts",
            "user_id",
            "card_live",
            "topic_id",
            "state",
            "due",
            "suspended",
            "buried_until",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    state: Mapped[int] = mapped_column(Integer, default=STATE_NEW)
    step: Mapped[int | None] = mapped_column(Integer)
    stability: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[float | None] = mapped_column(Float)
    due: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_review: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reps: Mapped[int] = mapped_column(Integer, default=0)
    lapses: Mapped[int] = mapped_column(Integer, default=0)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    leech: Mapped[bool] = mapped_column(Boolean, default=False)
    buried_until: Mapped[date | None] = mapped_column(Date)  # study day on which it shows again
    version: Mapped[int] = mapped_column(
        Integer, default=0
    )  # optimistic lock: stale answers get 409
    # Copies of the card's topic and of whether it is live (`card_is_live`), for the topic
    # lists' counts. Written by every ORM insert from the card itself (`_copy_card` below); Core
    # inserts pass `card_copies(...)`; content sync, which alone moves and retires cards,
    # refreshes them (`refresh_card_copies`).
    topic_id: Mapped[int] = mapped_column(Integer)
    card_live: Mapped[bool] = mapped_column(Boolean)

    card: Mapped[Card] = relationship()


@event.listens_for(CardState, "before_insert")
def _copy_card(_mapper: Mapper[CardState], _connection: Any, state: CardState) -> None:
    # SQL in the INSERT itself: the copies come from the card row, whatever the caller set,
    # and cost no extra statement.
    of_card = Card.id == state.card_id
    state.topic_id = select(Card.topic_id).where(of_card).scalar_subquery()
    state.card_live = select(card_is_live()).where(of_card).scalar_subquery()


def card_copies(session: Session) -> dict[int, dict[str, Any]]:
    """The copied columns for Core inserts of state rows (backup restore), per card id: every
    card's (a few thousand small index rows; no bound-parameter limit to mind)."""
    rows = session.execute(select(Card.id, Card.topic_id, card_is_live())).all()
    return {card_id: {"topic_id": topic, "card_live": bool(live)} for card_id, topic, live in rows}


def refresh_card_copies(session: Session) -> int:
    """After content sync moved, retired or revived cards: every state row whose copies no
    longer match its card gets the card's values. Returns the rows changed."""
    live = card_is_live()
    result = session.execute(
        update(CardState)
        .where(
            CardState.card_id == Card.id,
            or_(CardState.topic_id != Card.topic_id, CardState.card_live != live),
        )
        .values(topic_id=Card.topic_id, card_live=live)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


class ReviewLog(Model):
    """One answer. Appended with the state change in one transaction; removed only by undo."""

    __tablename__ = "review_logs"
    __table_args__ = (
        UniqueConstraint("user_id", "request_id"),
        Index("ix_review_logs_user_time", "user_id", "reviewed_at"),
        # True retention and "new cards today" count (state before, rating) within a window:
        # in this order each count is an index range and SQLite never reads the wide rows.
        Index(
            "ix_review_logs_user_outcome_time", "user_id", "state_before", "rating", "reviewed_at"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    rating: Mapped[int] = mapped_column(Integer)  # 1 again, 2 hard, 3 good, 4 easy
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    state_before: Mapped[int] = mapped_column(Integer)  # for true retention without parsing JSON
    state_after: Mapped[int] = mapped_column(Integer)
    before: Mapped[dict[str, Any]] = mapped_column(JSON)  # the whole CardState row, for exact undo
    after: Mapped[dict[str, Any]] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(64))


class Draft(Model):
    """The code a user is typing for a drill, saved as they go."""

    __tablename__ = "drafts"
    __table_args__ = (UniqueConstraint("user_id", "drill_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    drill_id: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Submission(Model):
    __tablename__ = "submissions"
    __table_args__ = (
        Index("ix_submissions_user_drill", "user_id", "drill_id", "created_at"),
        Index("ix_submissions_status_enqueued", "status", "enqueued_at"),  # the sweeper's scan
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    drill_id: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(8))  # "run" | "submit"
    code: Mapped[str] = mapped_column(Text)
    verdict: Mapped[str] = mapped_column(String(32))
    passed: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    time_ms: Mapped[float] = mapped_column(Float)
    sandboxed: Mapped[bool] = mapped_column(Boolean, default=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)  # the grader's whole answer
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # "queued" | "running" | "done": only graders fed by a queue leave a row unfinished.
    status: Mapped[str] = mapped_column(String(16), default="done", server_default="done")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # claims
    review: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last (re-)enqueue
    # The feedback's language for a worker grading it later (no request there to ask); None: zh.
    lang: Mapped[str | None] = mapped_column(String(8))


class GradingTicket(Model):
    """A submission being graded: it counts against the rate limits before its result exists.

    Inserted and committed before grading starts, deleted in the transaction that stores the
    graded submission. A ticket left by a crashed worker stops counting after a few minutes.
    """

    __tablename__ = "grading_tickets"
    __table_args__ = (Index("ix_grading_tickets_user_time", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DrillProgress(Model):
    """Per user and drill: what the drill list and the review rating rule need."""

    __tablename__ = "drill_progress"
    __table_args__ = (UniqueConstraint("user_id", "drill_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    drill_id: Mapped[str] = mapped_column(String(64))
    submits: Mapped[int] = mapped_column(Integer, default=0)
    failed_submits: Mapped[int] = mapped_column(Integer, default=0)
    attempts_to_first_accept: Mapped[int | None] = mapped_column(Integer)
    solved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 看过答案


class Interview(Model):
    """One mock interview: its drawn items, its clock, and once finished its score."""

    __tablename__ = "interviews"
    __table_args__ = (Index("ix_interviews_user_started", "user_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    minutes: Mapped[int] = mapped_column(Integer)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)  # slugs; empty = all
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[int | None] = mapped_column(Integer)  # 0-100, set when finished
    study_next: Mapped[list[int] | None] = mapped_column(JSON)  # item positions, weakest first

    items: Mapped[list[InterviewItem]] = relationship(
        back_populates="interview", order_by="InterviewItem.position", cascade="all, delete-orphan"
    )


class InterviewItem(Model):
    """One question or drill of an interview, with what the learner did with it."""

    __tablename__ = "interview_items"
    __table_args__ = (UniqueConstraint("interview_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # the API's "index"
    kind: Mapped[str] = mapped_column(String(16))  # "question" | "drill"
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))
    drill_id: Mapped[str | None] = mapped_column(String(64))
    seconds: Mapped[int] = mapped_column(Integer)  # the item's clock
    # pending | answered (question revealed, drill accepted) | confirmed | skipped | timeout
    status: Mapped[str] = mapped_column(String(16), default="pending")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # drill: when accepted
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # let go: next item starts
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    answer: Mapped[str | None] = mapped_column(Text)  # the typed answer, or the last code
    # [{text, terms, suggested, covered}]; covered is the learner's tick once confirmed
    points: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    submits: Mapped[int] = mapped_column(Integer, default=0)
    failed_submits: Mapped[int] = mapped_column(Integer, default=0)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))  # the last
    verdict: Mapped[str | None] = mapped_column(String(32))
    passed: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[float | None] = mapped_column(Float)  # 0-1, set when finished
    rating: Mapped[int | None] = mapped_column(Integer)  # the FSRS rating it fed
    review_log_id: Mapped[int | None] = mapped_column(Integer)  # that review (None: not fed)

    interview: Mapped[Interview] = relationship(back_populates="items")
    card: Mapped[Card | None] = relationship()
