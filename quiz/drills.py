"""Coding drills on the web side: statuses, drafts, submissions, reveal, review ratings.

Services take the session first and flush, never commit; callers pass `now`. Grading itself is
`engine.grader.grade`, a function of plain values that sends the code to the sandbox runners:
nothing here executes user code.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import i18n as engine_i18n
from engine import statements_en
from quiz import studyday
from quiz.errors import ServiceError
from quiz.models import (
    STATE_NEW,
    Card,
    CardState,
    Draft,
    DrillProgress,
    GradingTicket,
    ReviewLog,
    Section,
    Submission,
    Topic,
    UserSettings,
)
from quiz.rendering import render_markdown

if TYPE_CHECKING:
    from engine.drills import Drill

AGAIN, HARD, GOOD, EASY = 1, 2, 3, 4
RATING_LABELS = {AGAIN: _l("重来"), HARD: _l("困难"), GOOD: _l("良好"), EASY: _l("简单")}
STATUS_LABELS = {
    "new": _l("未开始"),
    "attempted": _l("尝试中"),
    "solved": _l("已解决"),
    "due": _l("待复习"),
}
VERDICT_LABELS = {
    "accepted": _l("通过"),
    "wrong_answer": _l("答案错误"),
    "syntax_error": _l("语法错误"),
    "runtime_error": _l("运行错误"),
    "time_limit_exceeded": _l("超出时间限制"),
    "memory_limit_exceeded": _l("超出内存限制"),
    "output_limit_exceeded": _l("输出超出限制"),
    "internal_error": _l("评测系统内部错误"),
}
MODES = ("run", "submit")
REVEAL_AFTER_FAILURES = 3
# The review draft lives in the same table under a suffixed id, so review mode starts blank
# without touching the everyday draft, and code typed during a review is still never lost.
REVIEW_SUFFIX = "@review"


class DrillError(ServiceError):
    """A request the drill services refuse; `status` maps onto HTTP, `message` is for the user."""

    def __init__(self, status: int, message: str, *, retry_after: int | None = None) -> None:
        extra = {} if retry_after is None else {"retry_after": retry_after}
        super().__init__(message, status, **extra)
        self.retry_after = retry_after


# ---------------------------------------------------------------------------------------------
# The catalogue


def all_drills() -> list[Drill]:
    from engine.drills import DRILLS

    return list(DRILLS.values())


def find_drill(drill_id: str) -> Drill | None:
    from engine.drills import DRILLS

    return DRILLS.get(drill_id)


def require_drill(drill_id: str) -> Drill:
    drill = find_drill(drill_id)
    if drill is None:
        raise DrillError(404, _("找不到练习“%(drill_id)s”。", drill_id=drill_id[:64]))
    return drill


def max_source_bytes() -> int:
    from engine.grader import MAX_SOURCE_BYTES

    return int(MAX_SOURCE_BYTES)


@cache
def statement_html(drill_id: str, locale: str = "zh") -> str:
    """The statement rendered once per process and language (drills change with a deploy)."""
    drill = require_drill(drill_id)
    english = statements_en.statement_md(drill_id) if locale == "en" else None
    return render_markdown(english or drill.statement_md)


def display_title(drill: Drill, locale: str) -> str:
    return statements_en.title(drill.id, drill.title) if locale == "en" else drill.title


def display_difficulty(drill: Drill, locale: str) -> str:
    if locale == "en":
        return statements_en.DIFFICULTY.get(drill.difficulty, drill.difficulty)
    return drill.difficulty


@cache
def hints_html(drill_id: str, locale: str = "zh") -> tuple[str, ...]:
    hints = engine_i18n.drill_hints(require_drill(drill_id), locale)
    return tuple(render_markdown(str(h)) for h in hints)


@cache
def solution_html(drill_id: str) -> dict[str, str]:
    """Explanation and highlighted reference solution, for solvers and revealers only."""
    drill = require_drill(drill_id)
    return {
        "explanation_html": render_markdown(drill.explanation_md),
        "solution_html": render_markdown(f"```python\n{drill.solution_code.rstrip()}\n```"),
        "solution_code": drill.solution_code,
    }


def examples_json(drill: Drill) -> list[Any]:
    """The visible examples as plain JSON values (whatever shape the catalogue gives them)."""
    return [_plain(e) for e in drill.examples]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in value.__dataclass_fields__}
    return str(value)


# ---------------------------------------------------------------------------------------------
# Statuses and the drill list


@dataclass(frozen=True)
class DrillRow:
    drill: Drill
    status: str  # new | attempted | solved | due
    revealed: bool  # 看过答案 (before solving)
    topic_slug: str | None
    section_slug: str | None


@dataclass(frozen=True)
class TopicGroup:
    title: str
    slug: str | None
    rows: list[DrillRow]


def drill_cards(session: Session) -> dict[str, Card]:
    """The review card of each drill (content sync attaches it to the section it practises)."""
    cards = session.scalars(select(Card).where(Card.kind == "drill", Card.retired.is_(False)))
    return {c.drill_id: c for c in cards if c.drill_id}


def section_topics(session: Session) -> dict[str, str]:
    """Each live notes section's anchor and the slug of its topic page (to link diagnoses)."""
    rows = session.execute(
        select(Section.slug, Topic.slug)
        .join(Topic, Section.topic_id == Topic.id)
        .where(Section.retired.is_(False), Topic.retired.is_(False))
    )
    return {section: topic for section, topic in rows}


def drill_card(session: Session, drill_id: str) -> Card | None:
    return session.scalar(
        select(Card).where(Card.kind == "drill", Card.drill_id == drill_id, Card.retired.is_(False))
    )


def review_horizon(session: Session, user_id: int, *, now: datetime) -> datetime:
    """End of the user's study day: a drill due before then is due for review today."""
    settings = session.get(UserSettings, user_id)
    tz, hour = (settings.timezone, settings.rollover_hour) if settings else ("Asia/Shanghai", 4)
    return studyday.today_bounds(now, tz, hour)[1]


def _is_due(state: CardState | None, horizon: datetime) -> bool:
    return (
        state is not None
        and state.state != STATE_NEW
        and not state.suspended
        and state.due < horizon
    )


def status_of(progress: DrillProgress | None, state: CardState | None, horizon: datetime) -> str:
    if progress is not None and progress.solved_at is not None:
        return "due" if _is_due(state, horizon) else "solved"
    return "new" if progress is None else "attempted"


def list_drills(session: Session, user_id: int | None, *, now: datetime) -> list[DrillRow]:
    """Every drill in catalogue order, with the user's status (all "new" for a visitor)."""
    cards = drill_cards(session)
    progress: dict[str, DrillProgress] = {}
    states: dict[int, CardState] = {}
    horizon = now
    if user_id is not None:
        progress = {
            p.drill_id: p
            for p in session.scalars(select(DrillProgress).where(DrillProgress.user_id == user_id))
        }
        card_ids = [c.id for c in cards.values()]
        states = {
            s.card_id: s
            for s in session.scalars(
                select(CardState).where(
                    CardState.user_id == user_id, CardState.card_id.in_(card_ids)
                )
            )
        }
        horizon = review_horizon(session, user_id, now=now)
    rows = []
    for drill in all_drills():
        card = cards.get(drill.id)
        p = progress.get(drill.id)
        state = states.get(card.id) if card else None
        rows.append(
            DrillRow(
                drill=drill,
                status=status_of(p, state, horizon),
                revealed=bool(
                    p and p.revealed_at and (p.solved_at is None or p.revealed_at <= p.solved_at)
                ),
                topic_slug=card.topic.slug if card else None,
                section_slug=card.section.slug if card and card.section else None,
            )
        )
    return rows


def group_by_topic(rows: list[DrillRow]) -> list[TopicGroup]:
    """Rows grouped by topic, topics in the order their first drill appears."""
    groups: dict[str, TopicGroup] = {}
    for row in rows:
        group = groups.get(row.drill.topic)
        if group is None:
            group = groups[row.drill.topic] = TopicGroup(row.drill.topic, row.topic_slug, [])
        group.rows.append(row)
    return list(groups.values())


def get_progress(session: Session, user_id: int, drill_id: str) -> DrillProgress | None:
    return session.scalar(
        select(DrillProgress).where(
            DrillProgress.user_id == user_id, DrillProgress.drill_id == drill_id
        )
    )


def _progress(session: Session, user_id: int, drill_id: str) -> DrillProgress:
    progress = get_progress(session, user_id, drill_id)
    if progress is None:
        progress = DrillProgress(user_id=user_id, drill_id=drill_id, submits=0, failed_submits=0)
        if not _inserted(session, progress):
            progress = get_progress(session, user_id, drill_id)  # another request created it
            assert progress is not None
    return progress


def _inserted(session: Session, row: Any) -> bool:
    """Insert a row unique per user and drill; False when a concurrent request won the race.

    The debounced autosave and a submission can both create the first draft at once.
    """
    try:
        with session.begin_nested():
            session.add(row)
        return True
    except IntegrityError:
        return False


def can_reveal(progress: DrillProgress | None) -> bool:
    """Solvers see the answer; others after three failed submissions."""
    if progress is None:
        return False
    return progress.solved_at is not None or progress.failed_submits >= REVEAL_AFTER_FAILURES


def shows_solution(progress: DrillProgress | None) -> bool:
    return progress is not None and (
        progress.solved_at is not None or progress.revealed_at is not None
    )


def progress_json(
    session: Session, user_id: int, drill_id: str, *, now: datetime
) -> dict[str, Any]:
    progress = get_progress(session, user_id, drill_id)
    card = drill_card(session, drill_id)
    state = _state(session, user_id, card.id) if card else None
    status = status_of(progress, state, review_horizon(session, user_id, now=now))
    return {
        "status": status,
        "status_label": STATUS_LABELS[status],
        "solved": bool(progress and progress.solved_at),
        "revealed": bool(progress and progress.revealed_at),
        "submits": progress.submits if progress else 0,
        "failed_submits": progress.failed_submits if progress else 0,
        "can_reveal": can_reveal(progress),
        "due": state.due.isoformat() if state is not None and state.state != STATE_NEW else None,
    }


def _state(session: Session, user_id: int, card_id: int) -> CardState | None:
    return session.scalar(
        select(CardState).where(CardState.user_id == user_id, CardState.card_id == card_id)
    )


# ---------------------------------------------------------------------------------------------
# Code and drafts


def validate_code(code: object, *, allow_empty: bool = False) -> str:
    """The code as text, or a DrillError saying in Chinese what is wrong with it."""
    if not isinstance(code, str):
        raise DrillError(400, _("缺少代码：请求中的 “code” 必须是字符串。"))
    try:
        size = len(code.encode("utf-8"))
    except UnicodeEncodeError as error:
        raise DrillError(
            400, _("代码包含无法编码的字符（孤立的代理字符），请删除后重试。")
        ) from error
    limit = max_source_bytes()
    if size > limit:
        raise DrillError(
            413,
            _(
                "代码太长：%(size_1024)s KB，上限是 %(limit_1024)s KB。",
                size_1024=size // 1024,
                limit_1024=limit // 1024,
            ),
        )
    if not allow_empty and not code.strip():
        raise DrillError(400, _("代码为空：请先写出函数再运行或提交。"))
    return code


def _draft_key(drill_id: str, review: bool) -> str:
    return drill_id + REVIEW_SUFFIX if review else drill_id


def load_draft(
    session: Session, user_id: int, drill_id: str, *, review: bool = False
) -> Draft | None:
    key = _draft_key(drill_id, review)
    return session.scalar(select(Draft).where(Draft.user_id == user_id, Draft.drill_id == key))


def save_draft(
    session: Session, user_id: int, drill_id: str, code: str, *, now: datetime, review: bool = False
) -> Draft:
    """Insert or overwrite the user's draft (the review draft in review mode)."""
    draft = load_draft(session, user_id, drill_id, review=review)
    if draft is None:
        draft = Draft(
            user_id=user_id, drill_id=_draft_key(drill_id, review), code=code, updated_at=now
        )
        if _inserted(session, draft):
            return draft
        draft = load_draft(session, user_id, drill_id, review=review)
        assert draft is not None
    draft.code, draft.updated_at = code, now
    session.flush()
    return draft


def discard_review_draft(session: Session, user_id: int, drill_id: str) -> None:
    """A finished review starts the next one from a blank editor again."""
    draft = load_draft(session, user_id, drill_id, review=True)
    if draft is not None:
        session.delete(draft)
        session.flush()


def initial_code(
    session: Session, user_id: int, drill: Drill, *, review: bool, locale: str = "zh"
) -> tuple[str, datetime | None]:
    """What the editor opens with, and when that draft was saved (None: the starter code,
    its docstring in the user's language)."""
    draft = load_draft(session, user_id, drill.id, review=review)
    if draft is not None:
        return draft.code, draft.updated_at
    return engine_i18n.starter_code(drill, locale), None


# ---------------------------------------------------------------------------------------------
# Submissions


MAX_IN_FLIGHT = 2  # submissions of one user being graded at once (SUBMISSIONS_IN_FLIGHT_PER_USER)
# Request threads of one process that may wait on the grader at once (GRADER_MAX_WAITING);
# gunicorn runs 8 threads per worker, so the pages always keep two of them.
MAX_WAITING = 6
# A ticket older than this belongs to a worker that died mid-grading: it no longer counts.
# (Grading ends within the wall limit plus the runner's grace, well under a minute.)
TICKET_TTL = timedelta(minutes=2)


def submission_retry_after(
    session: Session, user_id: int, *, now: datetime, per_minute: int
) -> int | None:
    """Seconds to wait when the user has used up the last minute's submissions, else None.

    Counted from the database so every worker process shares one budget: stored submissions
    of the last minute plus those still being graded (their tickets).
    """
    if per_minute <= 0:
        return None
    since = now - timedelta(minutes=1)
    stored = session.scalars(
        select(Submission.created_at)
        .where(Submission.user_id == user_id, Submission.created_at > since)
        .order_by(Submission.created_at.desc())
        .limit(per_minute)
    ).all()
    pending = session.scalars(
        select(GradingTicket.created_at).where(
            GradingTicket.user_id == user_id, GradingTicket.created_at > now - TICKET_TTL
        )
    ).all()
    if len(stored) + len(pending) < per_minute:
        return None
    if len(pending) >= per_minute:
        return 5  # everything is still being graded: a few seconds frees the first one
    # The window frees up when the oldest stored submission that still counts turns a minute old.
    oldest = sorted(stored, reverse=True)[per_minute - len(pending) - 1]
    return max(1, math.ceil((oldest + timedelta(minutes=1) - now).total_seconds()))


def open_ticket(
    session: Session, user_id: int, *, now: datetime, per_minute: int, max_in_flight: int
) -> int:
    """Count a submission before it is graded; returns the ticket id, or raises DrillError 429.

    The ticket is inserted before anything is counted: on SQLite the insert takes the write
    lock until the caller commits or rolls back, so concurrent submissions of any worker are
    counted one after another and together never pass either limit. The caller commits at
    once (the ticket then counts everywhere) and grades outside any transaction.
    """
    ticket = GradingTicket(user_id=user_id, created_at=now)
    session.add(ticket)
    session.flush()
    in_flight = session.scalar(
        select(func.count()).where(
            GradingTicket.user_id == user_id,
            GradingTicket.created_at > now - TICKET_TTL,
            GradingTicket.id != ticket.id,
        )
    )
    if max_in_flight > 0 and (in_flight or 0) >= max_in_flight:
        raise DrillError(
            429,
            _(
                "你已有 %(max_in_flight)s 个提交正在评测，请等它们完成后再提交。代码已保存为草稿。",
                max_in_flight=max_in_flight,
            ),
            retry_after=2,
        )
    # Our own ticket is already in the count: more than per_minute means this one is over.
    wait = submission_retry_after(session, user_id, now=now, per_minute=per_minute + 1)
    if wait is not None:
        raise DrillError(
            429,
            _("提交太频繁了，请 %(wait)s 秒后再试。代码已保存为草稿。", wait=wait),
            retry_after=wait,
        )
    return ticket.id


def close_ticket(session: Session, ticket_id: int) -> None:
    """The submission is stored (or was refused): it no longer counts as being graded."""
    session.execute(delete(GradingTicket).where(GradingTicket.id == ticket_id))


_gate_lock = threading.Lock()
_gate_users: dict[int, int] = {}  # user id -> request threads of this process in grading


@contextlib.contextmanager
def grader_gate(max_waiting: int, user_id: int) -> Iterator[bool]:
    """Admit at most `max_waiting` request threads of this process into grading at once.

    Fair between users: once half the gate is taken, only users with nothing in it yet get in,
    so a few accounts with submissions in flight cannot fill it for everyone. Yields False
    when refused: the caller answers 503 at once instead of tying up another request thread
    (the rest of the site keeps its threads whatever the grader does).
    """
    with _gate_lock:
        total = sum(_gate_users.values())
        mine = _gate_users.get(user_id, 0)
        admitted = total < max_waiting and (mine == 0 or total < max_waiting // 2)
        if admitted:
            _gate_users[user_id] = mine + 1
    if not admitted:
        yield False
        return
    try:
        yield True
    finally:
        with _gate_lock:
            left = _gate_users[user_id] - 1
            if left:
                _gate_users[user_id] = left
            else:
                del _gate_users[user_id]


def grade(
    drill_id: str,
    code: str,
    *,
    mode: str,
    sandbox: Any = None,
    user: Any = None,
    lang: str = "zh",
) -> dict[str, Any]:
    """Grade in the sandbox; raises engine.sandbox.QueueFull when every runner is busy.

    `user` (the account id) lets the runner pool serve users fairly; `lang` ("zh" or "en") is
    the learner's language at submission time, the language of the feedback.
    """
    from engine.grader import grade as engine_grade

    result = engine_grade(drill_id, code, mode=mode, sandbox=sandbox, user=user, lang=lang)
    return result.to_dict()


@dataclass
class Proposal:
    """A review rating suggested by the outcome; `log_id` is set once it was applied."""

    rating: int
    reason: str
    log_id: int | None = None
    due: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "rating": self.rating,
            "label": RATING_LABELS[self.rating],
            "reason": self.reason,
            "scheduled": self.log_id is not None,
            "log_id": self.log_id,
            "due": self.due.isoformat() if self.due else None,
        }


@dataclass
class SubmitOutcome:
    submission: Submission
    progress: DrillProgress
    first_solve: bool
    proposal: Proposal | None


def rating_for(*, accepted: bool, failures: int, gave_up: bool = False) -> int:
    """The drill review rule: first-try accept Good, accept after failures Hard, else Again."""
    if gave_up or not accepted:
        return AGAIN
    return GOOD if failures == 0 else HARD


def _reason(rating: int, failures: int, *, revealed: bool) -> str:
    if revealed:
        return _("看过答案 → 重来")
    if rating == GOOD:
        return _("第一次提交就通过 → 良好")
    if rating == HARD:
        return _("失败 %(failures)s 次后通过 → 困难", failures=failures)
    return _("没有通过 → 重来")


def record_submission(
    session: Session,
    user_id: int,
    drill_id: str,
    code: str,
    *,
    mode: str,
    result: dict[str, Any],
    now: datetime,
    review: bool = False,
) -> SubmitOutcome:
    """Store a graded submission, update the user's progress and, when due, the review card.

    The first accepted submission ever schedules the drill card with the rule's rating at once;
    in review mode the first accepted submission only proposes a rating for the user to confirm.
    """
    submission = Submission(
        user_id=user_id,
        drill_id=drill_id,
        mode=mode,
        code=code,
        verdict=str(result.get("verdict", "internal_error")),
        passed=int(result.get("passed", 0)),
        total=int(result.get("total", 0)),
        time_ms=float(result.get("time_ms", 0.0)),
        sandboxed=bool(result.get("sandboxed", True)),
        result=result,
        created_at=now,
    )
    session.add(submission)
    progress = _progress(session, user_id, drill_id)
    accepted = submission.verdict == "accepted"
    first_solve, proposal = False, None
    if mode == "submit":
        progress.submits += 1
        # An internal error is ours, not the user's: it must not count toward revealing.
        if not accepted and submission.verdict != "internal_error":
            progress.failed_submits += 1
        if accepted and progress.solved_at is None:
            first_solve = True
            progress.solved_at = now
            progress.attempts_to_first_accept = progress.submits
    session.flush()
    card = drill_card(session, drill_id) if mode == "submit" and accepted else None
    if card is not None and first_solve:
        failures = progress.submits - 1
        revealed = progress.revealed_at is not None
        rating = rating_for(accepted=True, failures=failures, gave_up=revealed)
        proposal = Proposal(rating, _reason(rating, failures, revealed=revealed))
        _apply(session, user_id, card.id, proposal, now=now)
    elif card is not None and review:
        proposal = _review_proposal(session, user_id, card, submission, now=now)
    return SubmitOutcome(submission, progress, first_solve, proposal)


def _review_proposal(
    session: Session, user_id: int, card: Card, submission: Submission, *, now: datetime
) -> Proposal | None:
    """In review mode: the first accept of a due drill proposes Good or Hard by the failures."""
    state = _state(session, user_id, card.id)
    if not _is_due(state, review_horizon(session, user_id, now=now)):
        return None
    assert state is not None
    since = state.last_review or state.due
    attempts = session.scalars(
        select(Submission.verdict).where(
            Submission.user_id == user_id,
            Submission.drill_id == submission.drill_id,
            Submission.mode == "submit",
            Submission.created_at > since,  # the accept that scheduled it is not part of it
            Submission.id != submission.id,
        )
    ).all()
    if "accepted" in attempts:
        return None  # this review already had its accept (and its proposal)
    failures = sum(1 for v in attempts if v != "internal_error")
    rating = rating_for(accepted=True, failures=failures)
    return Proposal(rating, _reason(rating, failures, revealed=False))


def list_submissions(
    session: Session, user_id: int, drill_id: str, *, limit: int = 50
) -> list[Submission]:
    return list(
        session.scalars(
            select(Submission)
            .where(Submission.user_id == user_id, Submission.drill_id == drill_id)
            .order_by(Submission.created_at.desc(), Submission.id.desc())
            .limit(limit)
        )
    )


def get_submission(session: Session, user_id: int, submission_id: int) -> Submission | None:
    """The user's own submission; another user's is as absent as a missing one."""
    submission = session.get(Submission, submission_id)
    return submission if submission is not None and submission.user_id == user_id else None


def submission_summary(submission: Submission) -> dict[str, Any]:
    return {
        "id": submission.id,
        "drill": submission.drill_id,
        "mode": submission.mode,
        "verdict": submission.verdict,
        "verdict_label": VERDICT_LABELS.get(submission.verdict, submission.verdict),
        "passed": submission.passed,
        "total": submission.total,
        "time_ms": submission.time_ms,
        "created_at": submission.created_at.isoformat(),
    }


def submission_json(submission: Submission) -> dict[str, Any]:
    """The grader's whole result plus the stored fields and the code."""
    result = submission.result or {}
    return {
        **submission_summary(submission),
        "tests": result.get("tests", []),
        "stdout": result.get("stdout", ""),
        # The grader's named mistake (engine.diagnosis), or None; older results have none.
        "diagnosis": result.get("diagnosis"),
        "sandboxed": submission.sandboxed,
        "code": submission.code,
    }


# ---------------------------------------------------------------------------------------------
# Reveal and review ratings


@dataclass
class RevealOutcome:
    newly_revealed: bool
    proposal: Proposal | None


def reveal(
    session: Session, user_id: int, drill_id: str, *, now: datetime, review: bool = False
) -> RevealOutcome:
    """Show the answer: to solvers always, otherwise after three failed submissions.

    Revealing before solving marks the drill 看过答案. In review mode revealing is giving up:
    it proposes Again for the user to confirm.
    """
    progress = get_progress(session, user_id, drill_id)
    if not can_reveal(progress):
        failed = progress.failed_submits if progress else 0
        raise DrillError(
            403,
            _(
                "提交失败 %(REVEAL_AFTER_FAILURES)s 次后才能查看答案（目前 %(failed)s 次）。",
                REVEAL_AFTER_FAILURES=REVEAL_AFTER_FAILURES,
                failed=failed,
            ),
        )
    assert progress is not None
    newly = progress.solved_at is None and progress.revealed_at is None
    if newly:
        progress.revealed_at = now
    proposal = None
    card = drill_card(session, drill_id) if review else None
    if card is not None and _is_due(
        _state(session, user_id, card.id), review_horizon(session, user_id, now=now)
    ):
        proposal = Proposal(AGAIN, _("放弃并查看答案 → 重来"))
    session.flush()
    return RevealOutcome(newly, proposal)


@dataclass
class RatingOutcome:
    rating: int
    log_id: int
    due: datetime


def rate(
    session: Session,
    user_id: int,
    drill_id: str,
    rating: int,
    *,
    now: datetime,
    replaces: int | None = None,
) -> RatingOutcome:
    """Schedule the drill card with the user's rating, or change the rating just given.

    `replaces` names the review log the new rating supersedes (the automatic one of a first
    solve, or a confirmation the user changes their mind about): it is undone first, so a
    correction never counts as a second review.
    """
    if rating not in RATING_LABELS:
        raise DrillError(400, _("评分必须是 1（重来）、2（困难）、3（良好）或 4（简单）。"))
    card = drill_card(session, drill_id)
    if card is None:
        raise DrillError(409, _("这道练习没有复习卡片（内容尚未同步）。"))
    progress = get_progress(session, user_id, drill_id)
    if progress is None or progress.solved_at is None:
        raise DrillError(409, _("先通过这道练习，它才会加入复习。"))
    if replaces is not None:
        _undo(session, user_id, card.id, replaces)
    proposal = Proposal(rating, "")
    _apply(session, user_id, card.id, proposal, now=now)
    assert proposal.log_id is not None and proposal.due is not None
    discard_review_draft(session, user_id, drill_id)
    return RatingOutcome(rating, proposal.log_id, proposal.due)


def _apply(
    session: Session, user_id: int, card_id: int, proposal: Proposal, *, now: datetime
) -> None:
    from quiz.study import StudyError, schedule_drill_review

    try:
        result = schedule_drill_review(session, user_id, card_id, proposal.rating, now=now)
    except StudyError as error:
        raise DrillError(error.status, error.message) from error
    proposal.log_id, proposal.due = result.log_id, result.due


def _latest_log_id(session: Session, user_id: int, card_id: int) -> int | None:
    return session.scalar(
        select(ReviewLog.id)
        .where(ReviewLog.user_id == user_id, ReviewLog.card_id == card_id)
        .order_by(ReviewLog.reviewed_at.desc(), ReviewLog.id.desc())
        .limit(1)
    )


def _undo(session: Session, user_id: int, card_id: int, log_id: int) -> None:
    from quiz.study import StudyError, undo_review

    # Only the drill card's own latest rating may be replaced, never some other card's answer.
    if _latest_log_id(session, user_id, card_id) != log_id:
        raise DrillError(409, _("这个评分已经不是最新的了，无法修改；请刷新页面。"))
    try:
        undo_review(session, user_id, log_id)
    except StudyError as error:
        raise DrillError(409, error.message) from error
