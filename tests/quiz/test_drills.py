"""Drill services: the rating rule, statuses, drafts, progress, reveal, ratings, rate limit.

No grading here: results are plain dicts shaped like the grader's, so these tests stay fast.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from quiz import drills
from quiz.models import CardState, ReviewLog, Submission
from tests.factories import grader_result, make_user

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def submit(session: Any, user: Any, verdict: str, *, at: datetime = NOW, **kw: Any) -> Any:
    outcome = drills.record_submission(
        session,
        user.id,
        "softmax",
        "code",
        mode="submit",
        result=grader_result(verdict),
        now=at,
        **kw,
    )
    session.commit()
    return outcome


def card_state(session: Any, user: Any, drill_id: str = "softmax") -> CardState:
    card = drills.drill_card(session, drill_id)
    assert card is not None
    session.expire_all()
    state = session.scalar(
        select(CardState).where(CardState.user_id == user.id, CardState.card_id == card.id)
    )
    assert state is not None
    return state


def logs(session: Any, user: Any) -> list[ReviewLog]:
    session.expire_all()
    return list(session.scalars(select(ReviewLog).where(ReviewLog.user_id == user.id)))


@pytest.mark.parametrize(
    ("accepted", "failures", "gave_up", "rating"),
    [
        (True, 0, False, drills.GOOD),
        (True, 1, False, drills.HARD),
        (True, 5, False, drills.HARD),
        (True, 0, True, drills.AGAIN),
        (False, 0, False, drills.AGAIN),
        (False, 3, True, drills.AGAIN),
    ],
)
def test_rating_rule(accepted: bool, failures: int, gave_up: bool, rating: int) -> None:
    assert drills.rating_for(accepted=accepted, failures=failures, gave_up=gave_up) == rating


def test_every_drill_has_a_card_on_its_notes_section(session: Any) -> None:
    cards = drills.drill_cards(session)
    assert set(cards) == {d.id for d in drills.all_drills()}
    activation = {k for k, c in cards.items() if c.section and c.section.title == "激活函数"}
    assert activation == {"sigmoid", "relu", "leaky_relu", "softmax"}


def test_statuses_new_attempted_solved_due(session: Any, user: Any) -> None:
    def status(now: datetime = NOW) -> str:
        rows = drills.list_drills(session, user.id, now=now)
        return next(r.status for r in rows if r.drill.id == "softmax")

    assert status() == "new"
    submit(session, user, "wrong_answer")
    assert status() == "attempted"
    first = submit(session, user, "accepted", at=NOW + timedelta(minutes=1))
    assert first.first_solve and status() == "solved"
    # Due within the user's study day (as the study queue counts it) means due for review.
    assert status(card_state(session, user).due + timedelta(minutes=1)) == "due"
    assert drills.list_drills(session, None, now=NOW)[0].status == "new"


def test_first_solve_schedules_by_the_rule(session: Any, user: Any) -> None:
    submit(session, user, "wrong_answer")
    submit(session, user, "internal_error")  # our fault: not a failure
    outcome = submit(session, user, "accepted", at=NOW + timedelta(minutes=2))
    progress = drills.get_progress(session, user.id, "softmax")
    assert progress is not None
    assert (progress.submits, progress.failed_submits, progress.attempts_to_first_accept) == (
        3,
        1,
        3,
    )
    assert progress.solved_at == NOW + timedelta(minutes=2)
    proposal = outcome.proposal
    assert proposal is not None and proposal.rating == drills.HARD and proposal.log_id is not None
    assert [log.rating for log in logs(session, user)] == [drills.HARD]
    # A later accept is not a first solve and schedules nothing.
    again = submit(session, user, "accepted", at=NOW + timedelta(minutes=3))
    assert not again.first_solve and again.proposal is None
    assert len(logs(session, user)) == 1


def test_first_try_accept_is_good(session: Any, user: Any) -> None:
    outcome = submit(session, user, "accepted")
    assert outcome.proposal is not None and outcome.proposal.rating == drills.GOOD
    assert card_state(session, user).due > NOW


def test_runs_do_not_count_as_submissions(session: Any, user: Any) -> None:
    drills.record_submission(
        session,
        user.id,
        "softmax",
        "c",
        mode="run",
        result=grader_result("accepted", total=3),
        now=NOW,
    )
    progress = drills.get_progress(session, user.id, "softmax")
    assert progress is not None and progress.submits == 0 and progress.solved_at is None


def test_reveal_needs_three_failures_and_marks_revealed(session: Any, user: Any) -> None:
    with pytest.raises(drills.DrillError) as refused:
        drills.reveal(session, user.id, "softmax", now=NOW)
    assert refused.value.status == 403 and "3 次" in refused.value.message
    for _ in range(3):
        submit(session, user, "wrong_answer")
    outcome = drills.reveal(session, user.id, "softmax", now=NOW)
    assert outcome.newly_revealed and outcome.proposal is None
    row = next(r for r in drills.list_drills(session, user.id, now=NOW) if r.drill.id == "softmax")
    assert row.revealed and row.status == "attempted"
    # Solving after looking at the answer is rated Again.
    solved = submit(session, user, "accepted", at=NOW + timedelta(minutes=5))
    assert solved.proposal is not None and solved.proposal.rating == drills.AGAIN


def test_rating_can_be_changed_without_a_second_review(session: Any, user: Any) -> None:
    first = submit(session, user, "accepted")
    assert first.proposal is not None
    changed = drills.rate(
        session, user.id, "softmax", drills.EASY, now=NOW, replaces=first.proposal.log_id
    )
    session.commit()
    assert [log.rating for log in logs(session, user)] == [drills.EASY]
    assert card_state(session, user).due == changed.due
    later = drills.rate(session, user.id, "softmax", drills.GOOD, now=changed.due)
    session.commit()
    # Only the latest rating can be replaced: an older one is a stale page.
    with pytest.raises(drills.DrillError) as stale:
        drills.rate(
            session, user.id, "softmax", drills.HARD, now=changed.due, replaces=changed.log_id
        )
    assert stale.value.status == 409 and later.log_id != changed.log_id
    with pytest.raises(drills.DrillError):
        drills.rate(session, user.id, "softmax", 7, now=NOW)


def test_rating_an_unsolved_drill_is_refused(session: Any, user: Any) -> None:
    with pytest.raises(drills.DrillError) as refused:
        drills.rate(session, user.id, "relu", drills.GOOD, now=NOW)
    assert refused.value.status == 409


def test_review_mode_proposes_by_failures_since_last_review(session: Any, user: Any) -> None:
    submit(session, user, "accepted")
    due = card_state(session, user).due
    later = due + timedelta(hours=1)
    failed = submit(session, user, "wrong_answer", at=later, review=True)
    assert failed.proposal is None
    accepted = submit(session, user, "accepted", at=later + timedelta(minutes=1), review=True)
    assert accepted.proposal is not None
    assert (accepted.proposal.rating, accepted.proposal.log_id) == (drills.HARD, None)
    # One proposal per review: a second accept in the same review proposes nothing.
    assert (
        submit(session, user, "accepted", at=later + timedelta(minutes=2), review=True).proposal
        is None
    )
    drills.rate(session, user.id, "softmax", drills.HARD, now=later + timedelta(minutes=3))
    session.commit()
    assert [log.rating for log in logs(session, user)] == [drills.GOOD, drills.HARD]


def test_review_of_a_drill_not_due_proposes_nothing(session: Any, user: Any) -> None:
    submit(session, user, "accepted")
    outcome = submit(session, user, "accepted", at=NOW + timedelta(minutes=1), review=True)
    assert outcome.proposal is None


def test_giving_up_in_review_proposes_again(session: Any, user: Any) -> None:
    submit(session, user, "accepted")
    later = card_state(session, user).due + timedelta(hours=1)
    outcome = drills.reveal(session, user.id, "softmax", now=later, review=True)
    assert outcome.proposal is not None and outcome.proposal.rating == drills.AGAIN
    assert not outcome.newly_revealed  # solvers may always look: no 看过答案 mark


def test_drafts_are_per_user_and_review_draft_is_separate(session: Any, user: Any) -> None:
    bob = make_user(session, "bob", "another password")
    drills.save_draft(session, user.id, "softmax", "alice v1", now=NOW)
    drills.save_draft(session, user.id, "softmax", "alice v2", now=NOW + timedelta(seconds=5))
    drills.save_draft(session, bob.id, "softmax", "bob", now=NOW)
    drills.save_draft(session, user.id, "softmax", "review try", now=NOW, review=True)
    session.commit()
    alice = drills.load_draft(session, user.id, "softmax")
    assert alice is not None and alice.code == "alice v2"
    assert drills.load_draft(session, bob.id, "softmax").code == "bob"  # type: ignore[union-attr]
    review = drills.load_draft(session, user.id, "softmax", review=True)
    assert review is not None and review.code == "review try"
    assert drills.load_draft(session, bob.id, "softmax", review=True) is None
    drills.discard_review_draft(session, user.id, "softmax")
    assert drills.load_draft(session, user.id, "softmax", review=True) is None
    assert drills.load_draft(session, user.id, "softmax") is not None  # the draft is kept


def test_validate_code() -> None:
    assert drills.validate_code("x = 1\n") == "x = 1\n"
    assert drills.validate_code("", allow_empty=True) == ""
    cases = [(None, 400, "字符串"), ("  \n", 400, "代码为空"), ("\ud800", 400, "无法编码")]
    cases.append(("#" * (64 * 1024 + 1), 413, "上限是 64 KB"))
    for code, status, words in cases:
        with pytest.raises(drills.DrillError) as error:
            drills.validate_code(code)
        assert error.value.status == status and words in error.value.message


def test_submission_rate_limit_window(session: Any, user: Any) -> None:
    for seconds in (0, 10, 20):
        session.add(
            Submission(
                user_id=user.id, drill_id="relu", mode="run", code="c", verdict="accepted",
                passed=1, total=1, time_ms=1.0, result={}, created_at=NOW + timedelta(seconds=seconds),
            )
        )  # fmt: skip
    session.commit()
    at = NOW + timedelta(seconds=30)
    assert drills.submission_retry_after(session, user.id, now=at, per_minute=4) is None
    assert drills.submission_retry_after(session, user.id, now=at, per_minute=3) == 30
    assert drills.submission_retry_after(session, user.id, now=at, per_minute=2) == 40
    assert drills.submission_retry_after(session, user.id, now=at, per_minute=0) is None
    bob = make_user(session, "bob", "another password")
    assert drills.submission_retry_after(session, bob.id, now=at, per_minute=1) is None


def test_first_draft_race_updates_instead_of_failing(
    session: Any, user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    drills.save_draft(session, user.id, "softmax", "saved by the autosave", now=NOW)
    session.commit()
    real = drills.load_draft
    calls = iter([None])  # the submission looked before the autosave committed

    def stale_then_real(*args: Any, **kwargs: Any) -> Any:
        return next(calls, real(*args, **kwargs))

    # save_draft looks the draft up through its own module.
    monkeypatch.setattr(drills.drafts, "load_draft", stale_then_real)
    draft = drills.save_draft(session, user.id, "softmax", "submitted code", now=NOW)
    session.commit()
    assert draft.code == "submitted code"
    assert real(session, user.id, "softmax").code == "submitted code"  # type: ignore[union-attr]
