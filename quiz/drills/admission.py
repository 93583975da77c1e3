"""Admission to grading: rate limits, grading tickets, the per-process grader gate, grade()."""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from quiz.models import (
    GradingTicket,
    Submission,
)

if TYPE_CHECKING:
    from engine.grader import Mode as GradeMode

from quiz.drills import errors
from quiz.locks import lock_user

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

    Concurrent submissions of one user are counted one after another, so together they never
    pass either limit: `lock_user` holds the user's row on PostgreSQL (READ COMMITTED would
    let two transactions count the same rows), and on SQLite the ticket insert takes the write
    lock. Either lasts until the caller commits or rolls back; the caller commits at once (the
    ticket then counts everywhere) and grades outside any transaction.
    """
    lock_user(session, user_id)
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
        raise errors.TooManyRequests(
            _(
                "你已有 %(max_in_flight)s 个提交正在评测，请等它们完成后再提交。代码已保存为草稿。",
                max_in_flight=max_in_flight,
            ),
            retry_after=2,
        )
    # Our own ticket is already in the count: more than per_minute means this one is over.
    # (0 turns the limit off, as in submission_retry_after: it must not become 1.)
    counted = per_minute + 1 if per_minute > 0 else 0
    wait = submission_retry_after(session, user_id, now=now, per_minute=counted)
    if wait is not None:
        raise errors.TooManyRequests(
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
    mode: GradeMode,
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
