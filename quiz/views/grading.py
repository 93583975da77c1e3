"""The one way a request grades code: counted first, graded outside any transaction, fairly.

Shared by the drills API and the mock interview, so neither can slip past the per-user rate
limit, the in-flight cap or the bounded gate of request threads waiting on the grader. Which
path runs is quiz.grading's choice: `grade_admitted` when this process grades (its pool or the
grader service), `queue_admitted` + `CeleryBackend.deliver` when grader workers do.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from quiz import drills, grading
from quiz.drills import errors as drill_errors
from quiz.locks import lock_user
from quiz.models import Submission
from quiz.transaction import commit_early

if TYPE_CHECKING:
    from engine.grader import Mode as GradeMode


def grade_admitted(
    session: Session, user_id: int, drill_id: str, code: str, *, mode: GradeMode, now: datetime
) -> tuple[dict[str, Any], int]:
    """Grade `code` for `user_id`; returns (result, ticket id). The caller has flushed the
    user's code (a draft): it is committed first, so it is never lost whatever follows. The
    caller then records the result and calls `drills.close_ticket`; the request's own commit
    stores both.

    The grading path brings the request's commit forward (`commit_early`): the code and the
    ticket are kept before grading (so concurrent requests count it), and grading runs with no
    transaction open. Raises DrillError 429 (limits) or 503 (grader busy); the ticket is then
    already closed.
    """
    from engine.sandbox import QueueFull

    commit_early()  # the learner's code
    config = current_app.config
    backend = grading.backend(current_app)
    assert isinstance(backend, grading.InProcessBackend)  # workers grade when there is a broker
    # The feedback's language, read now: looking up the user's setting later would open a
    # transaction while grading, which must run with none open.
    lang = str(get_locale() or "zh")
    # A refusal propagates; the request's rollback drops only the ticket row taken for counting.
    ticket = drills.open_ticket(
        session,
        user_id,
        now=now,
        per_minute=config["SUBMISSION_RATE_PER_MINUTE"],
        max_in_flight=config.get("SUBMISSIONS_IN_FLIGHT_PER_USER", drills.MAX_IN_FLIGHT),
    )
    commit_early()
    try:
        gate = drills.grader_gate(config.get("GRADER_MAX_WAITING", drills.MAX_WAITING), user_id)
        with gate as admitted:
            if not admitted:
                raise QueueFull(retry_after=2)
            result = drills.grade(
                drill_id, code, mode=mode, sandbox=backend.sandbox, user=user_id, lang=lang
            )
    except QueueFull as full:
        drills.close_ticket(session, ticket)
        commit_early()
        wait = max(1, int(full.retry_after))
        raise drill_errors.Unavailable(
            _("评测队列已满，请 %(wait)s 秒后再试。代码已保存为草稿，不会丢失。", wait=wait),
            retry_after=wait,
        ) from None
    except BaseException:
        drills.close_ticket(session, ticket)
        commit_early()
        raise
    return result, ticket


def queue_admitted(
    backend: grading.CeleryBackend,
    session: Session,
    user_id: int,
    drill_id: str,
    code: str,
    *,
    mode: str,
    now: datetime,
    review: bool = False,
    attach: Callable[[Submission], None] | None = None,
) -> int:
    """The queue path's admission: the rate limit, the per-user cap on unfinished submissions
    (both counted in the database, so every web process sees the same), then the submission,
    recorded queued and committed; returns its id for `backend.deliver`. The caller has
    flushed the learner's code: it is committed first. `attach` links the new submission to
    what it answers (a mock-interview item) in the same transaction.
    """
    commit_early()  # the learner's code, before the queue can refuse
    config = current_app.config
    # Counted and recorded one request at a time per user, in every web process (as open_ticket).
    lock_user(session, user_id)
    wait = drills.submission_retry_after(
        session, user_id, now=now, per_minute=config["SUBMISSION_RATE_PER_MINUTE"]
    )
    if wait is not None:
        raise drill_errors.TooManyRequests(
            _("提交太频繁了，请 %(wait)s 秒后再试。代码已保存为草稿。", wait=wait),
            retry_after=wait,
        )
    try:
        submission = backend.queue(
            session,
            user_id,
            drill_id,
            code,
            mode=mode,
            review=review,
            now=now,
            lang=str(get_locale() or "zh"),  # the worker has no request to ask
        )
    except grading.QueueBusy as busy:
        raise drill_errors.TooManyRequests(
            _(
                "你已有 %(waiting)s 个提交正在排队评测，请等它们完成后再提交。代码已保存为草稿。",
                waiting=busy.waiting,
            ),
            retry_after=busy.retry_after,
        ) from None
    if attach is not None:
        attach(submission)
    submission_id = submission.id
    commit_early()  # recorded before it is enqueued: a lost message is swept up later
    return submission_id
