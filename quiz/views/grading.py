"""The one way a request grades code: counted first, graded outside any transaction, fairly.

Shared by the drills API and the mock interview, so neither can slip past the per-user rate
limit, the in-flight cap or the bounded gate of request threads waiting on the grader.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from quiz import drills
from quiz.drills import errors as drill_errors
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
            # DRILL_SANDBOX: a stand-in sandbox for tests; None means the process-wide pool.
            result = drills.grade(
                drill_id,
                code,
                mode=mode,
                sandbox=config.get("DRILL_SANDBOX"),
                user=user_id,
                lang=lang,
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
