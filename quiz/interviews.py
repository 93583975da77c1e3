"""Mock interview services: start, answer, confirm, skip, submit code, finish, history.

Functions take the session first and flush, never commit; `now` is passed in (the views read
the clock), so tests move time by passing a later `now`. The drawing, the clock, key points and
scores are the pure `quiz.interview` package; grading is the drills service's (`drills.grade`
and `drills.record_submission`), never a copy of it.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from quiz import drills, scheduling, study
from quiz.interview import errors, keypoints, plan, scoring
from quiz.interview.errors import InterviewError as InterviewError  # callers catch it here
from quiz.models import (
    STATE_NEW,
    STATE_RELEARNING,
    Card,
    CardState,
    DrillProgress,
    Interview,
    InterviewItem,
    Submission,
    Topic,
)

MAX_ANSWER_CHARS = 20_000


# ---------------------------------------------------------------------------------------------
# Starting


def _card_candidates(
    session: Session, user_id: int, topic_ids: list[int] | None, *, now: datetime
) -> list[plan.CardCandidate]:
    query = (
        select(Card, CardState)
        .outerjoin(CardState, (CardState.card_id == Card.id) & (CardState.user_id == user_id))
        .where(Card.kind.in_(("question", "knowledge")), Card.retired.is_(False))
    )
    if topic_ids is not None:
        query = query.where(Card.topic_id.in_(topic_ids))
    config = study.scheduler_config(study.user_settings(session, user_id), fuzz=False)
    out = []
    for card, state in session.execute(query):
        if state is not None and state.suspended:
            continue  # the learner set it aside on purpose
        seen = state is not None and state.state != STATE_NEW
        memory = study.memory_of(state)
        out.append(
            plan.CardCandidate(
                card_id=card.id,
                interview_question=card.kind == "question",
                seen=seen,
                retrievability=scheduling.retrievability(memory, now=now, config=config)
                if seen
                else 0.0,
                lapses=state.lapses if state else 0,
                relearning=bool(state and state.state == STATE_RELEARNING),
            )
        )
    return out


def _drill_candidates(
    session: Session, user_id: int, topic_slugs: set[str] | None, *, now: datetime
) -> list[plan.DrillCandidate]:
    rows = drills.list_drills(session, user_id, now=now)
    progress = {
        p.drill_id: p
        for p in session.scalars(select(DrillProgress).where(DrillProgress.user_id == user_id))
    }
    accepted = dict(
        session.execute(
            select(Submission.drill_id, func.max(Submission.created_at))
            .where(
                Submission.user_id == user_id,
                Submission.mode == "submit",
                Submission.verdict == "accepted",
            )
            .group_by(Submission.drill_id)
        ).all()
    )
    out = []
    for row in rows:
        if topic_slugs is not None and row.topic_slug not in topic_slugs:
            continue
        p = progress.get(row.drill.id)
        last = accepted.get(row.drill.id)
        out.append(
            plan.DrillCandidate(
                drill_id=row.drill.id,
                solved_at=p.solved_at if p else None,
                last_accepted_at=last,
                attempted=row.status == "attempted",
                due=row.status == "due",
            )
        )
    return out


def start(
    session: Session,
    user_id: int,
    minutes: object,
    topics: object = None,
    *,
    now: datetime,
    rng: random.Random,
    scale: float = 1.0,
) -> Interview:
    """Draw and store a new interview; its first item's clock starts now."""
    if isinstance(minutes, bool) or minutes not in plan.LENGTHS:
        raise errors.InvalidInput(_("“minutes” 必须是 15、30 或 45（分钟）。"))
    assert isinstance(minutes, int)
    slugs = _topic_slugs(session, topics)
    topic_ids = None
    if slugs:
        topic_ids = list(session.scalars(select(Topic.id).where(Topic.slug.in_(slugs))))
    cards = _card_candidates(session, user_id, topic_ids, now=now)
    drill_pool = _drill_candidates(session, user_id, set(slugs) if slugs else None, now=now)
    planned = plan.draw(minutes, cards, drill_pool, now=now, rng=rng, scale=scale)
    if not planned:
        raise errors.Conflict(_("所选主题下没有可用的面试题或练习：请换几个主题，或先同步笔记。"))
    interview = Interview(
        user_id=user_id,
        minutes=minutes,
        topics=slugs,
        started_at=now,
        ends_at=now + timedelta(seconds=sum(p.seconds for p in planned)),
    )
    interview.items = [
        InterviewItem(
            position=p.index,
            kind=p.kind,
            card_id=p.card_id,
            drill_id=p.drill_id,
            seconds=p.seconds,
            status="pending",
            late=False,
            submits=0,
            failed_submits=0,
            passed=0,
            total=0,
        )
        for p in planned
    ]
    session.add(interview)
    session.flush()
    return interview


def _topic_slugs(session: Session, topics: object) -> list[str]:
    if topics is None or topics == []:
        return []
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise errors.InvalidInput(_("“topics” 必须是主题 slug 的列表（不填表示全部主题）。"))
    known = set(
        session.scalars(select(Topic.slug).where(Topic.slug.in_(topics), Topic.retired.is_(False)))
    )
    unknown = [t for t in topics if t not in known]
    if unknown:
        raise errors.InvalidInput(
            _("找不到主题：%(names)s。", names="、".join(t[:60] for t in unknown[:5]))
        )
    return list(dict.fromkeys(topics))


# ---------------------------------------------------------------------------------------------
# Reading


def get(session: Session, user_id: int, interview_id: int) -> Interview:
    """The user's own interview; another user's is as absent as a missing one (404)."""
    interview = session.scalar(
        select(Interview)
        .where(Interview.id == interview_id)
        .options(selectinload(Interview.items).selectinload(InterviewItem.card))
    )
    if interview is None or interview.user_id != user_id:
        raise errors.NotFound(_("找不到这次模拟面试。"))
    return interview


def slots(interview: Interview, now: datetime) -> list[plan.Slot]:
    items = interview.items
    return plan.timeline(
        interview.started_at,
        interview.ends_at,
        [i.seconds for i in items],
        [i.answered_at for i in items],
        [i.resolved_at for i in items],
        now,
    )


def is_over(interview: Interview, now: datetime) -> bool:
    """Finished, out of session time, or every item let go or out of time."""
    if interview.finished_at is not None or now >= interview.ends_at:
        return True
    return all(s.phase in ("done", "timeout") for s in slots(interview, now))


def _item(interview: Interview, index: int) -> InterviewItem:
    if not 0 <= index < len(interview.items):
        raise errors.NotFound(_("这次面试没有第 %(index_1)s 题。", index_1=index + 1))
    return interview.items[index]


def _open_item(interview: Interview, index: int, now: datetime) -> tuple[InterviewItem, bool]:
    """The item to answer and whether the answer is late; refuses finished or future items."""
    if interview.finished_at is not None:
        raise errors.Conflict(_("这次面试已经结束，不能再作答。"))
    item = _item(interview, index)
    slot = slots(interview, now)[index]
    if slot.phase == "upcoming":
        raise errors.Conflict(_("还没到这一题：请先回答或跳过当前的题目。"))
    late = slot.phase == "timeout" or now > interview.ends_at
    return item, late


# ---------------------------------------------------------------------------------------------
# Questions


def card_points(card: Card) -> list[keypoints.KeyPoint]:
    """The checklist of a conceptual card: 一句话答案 + 深入回答, or a knowledge point's body."""
    if card.kind == "question":
        short, deep = keypoints.split_model_answer(card.back_md)
        return keypoints.key_points(short, deep)
    return keypoints.key_points("", card.back_md)


def answer_question(
    session: Session, user_id: int, interview_id: int, index: int, answer: object, *, now: datetime
) -> InterviewItem:
    """Record the typed answer (late if after its clock) and pre-tick the points it covers."""
    if not isinstance(answer, str):
        raise errors.InvalidInput(_("“answer” 必须是文字。"))
    if len(answer) > MAX_ANSWER_CHARS:
        raise errors.TooLarge(
            _(
                "回答太长：%(len)s 字，上限 %(MAX_ANSWER_CHARS)s 字。",
                len=len(answer),
                MAX_ANSWER_CHARS=MAX_ANSWER_CHARS,
            ),
        )
    item, late = _open_item(get(session, user_id, interview_id), index, now)
    if item.kind != "question":
        raise errors.InvalidInput(_("这一题是编程练习：请提交 “code”。"))
    if item.answered_at is not None or item.resolved_at is not None:
        raise errors.Conflict(_("这一题已经作答或跳过了。"))
    assert item.card is not None
    points = card_points(item.card)
    suggested = keypoints.suggest(points, answer)
    item.answer = answer
    item.points = [
        {**p.to_json(), "suggested": s, "covered": s}
        for p, s in zip(points, suggested, strict=True)
    ]
    item.status, item.late, item.answered_at = "answered", late, now
    session.flush()
    return item


def confirm_points(
    session: Session, user_id: int, interview_id: int, index: int, points: object, *, now: datetime
) -> InterviewItem:
    """The learner's own ticks: `points` lists the indexes of the points they covered."""
    interview = get(session, user_id, interview_id)
    if interview.finished_at is not None:
        raise errors.Conflict(_("这次面试已经结束，不能再修改要点。"))
    item = _item(interview, index)
    if item.kind != "question" or item.points is None:
        raise errors.Conflict(_("先提交回答，看到参考答案后再确认要点。"))
    if (
        not isinstance(points, list)
        or any(isinstance(p, bool) or not isinstance(p, int) for p in points)
        or any(not 0 <= p < len(item.points) for p in points)
    ):
        raise errors.InvalidInput(
            _("“points” 必须是要点序号的列表（0 到 %(len)s）。", len=len(item.points) - 1)
        )
    chosen = set(points)
    item.points = [{**p, "covered": i in chosen} for i, p in enumerate(item.points)]
    item.status = "confirmed"
    item.resolved_at = item.resolved_at or now  # the next question's clock starts now
    session.flush()
    return item


def skip(
    session: Session, user_id: int, interview_id: int, index: int, *, now: datetime
) -> InterviewItem:
    """Move on without answering (a drill keeps the submissions it already had)."""
    item, _late = _open_item(get(session, user_id, interview_id), index, now)
    if item.answered_at is not None or item.resolved_at is not None:
        raise errors.Conflict(_("这一题已经作答或跳过了。"))
    item.status, item.resolved_at = "skipped", now
    session.flush()
    return item


# ---------------------------------------------------------------------------------------------
# Drills


def keep_code(
    session: Session, user_id: int, interview_id: int, index: int, code: object, *, now: datetime
) -> tuple[InterviewItem, str]:
    """Check the code and keep it on the item before grading: nothing typed is ever lost."""
    try:
        text = drills.validate_code(code)
    except drills.DrillError as error:
        raise InterviewError(error.message, error.status) from error
    item, _late = _open_item(get(session, user_id, interview_id), index, now)
    if item.kind != "drill":
        raise errors.InvalidInput(_("这一题是问答题：请提交 “answer”。"))
    if item.verdict == "accepted":
        raise errors.Conflict(_("这道练习已经通过了。"))
    if item.status == "skipped":
        raise errors.Conflict(_("这一题已经跳过了。"))
    item.answer = text
    session.flush()
    return item, text


def record_graded_code(
    session: Session,
    user_id: int,
    interview_id: int,
    index: int,
    code: str,
    result: dict[str, Any],
    *,
    now: datetime,
) -> tuple[InterviewItem, Submission]:
    """Record code graded in this process (`now`: when it was submitted) as a normal
    submission. An accepted submission ends the item; a failed one leaves it open under its
    clock. Grading itself happens outside: it must not run inside the request's transaction.
    """
    item, late = _open_item(get(session, user_id, interview_id), index, now)
    assert item.drill_id is not None
    outcome = drills.record_submission(
        session, user_id, item.drill_id, code, mode="submit", result=result, now=now
    )
    _attach(item, outcome.submission, code, late=late)
    _apply_verdict(item, outcome.submission, outcome.proposal, now=now)
    session.flush()
    return item, outcome.submission


def _attach(item: InterviewItem, submission: Submission, code: str, *, late: bool) -> None:
    item.submits += 1
    item.submission_id = submission.id
    item.answer = code
    item.late = item.late or late


def _apply_verdict(
    item: InterviewItem, submission: Submission, proposal: Any, *, now: datetime
) -> None:
    if submission.verdict == "internal_error":
        pass  # ours, not the learner's: neither a failure nor a result
    elif submission.verdict == "accepted":
        item.verdict, item.passed, item.total = "accepted", submission.passed, submission.total
        item.status = "answered"
        item.answered_at = item.answered_at or now
        item.resolved_at = item.resolved_at or now
        if proposal is not None and proposal.log_id is not None:
            # A first solve already scheduled the drill card by the drill rule: that review is
            # this item's, so finishing must not review the card a second time.
            item.rating, item.review_log_id = proposal.rating, proposal.log_id
    else:
        item.failed_submits += 1
        if submission.passed >= item.passed or item.verdict is None:
            item.verdict, item.passed, item.total = (
                submission.verdict,
                submission.passed,
                submission.total,
            )


# ---------------------------------------------------------------------------------------------
# Finishing and the report


def outcome_of(item: InterviewItem, used: float | None) -> scoring.ItemOutcome:
    points = item.points or []
    return scoring.ItemOutcome(
        index=item.position,
        kind="drill" if item.kind == "drill" else "question",
        answered=(item.answer is not None and item.kind == "question") or item.submits > 0,
        late=item.late,
        seconds=item.seconds,
        used_seconds=used,
        points_total=len(points),
        points_covered=sum(1 for p in points if p.get("covered")),
        accepted=item.verdict == "accepted",
        failed_submits=item.failed_submits,
        passed=item.passed,
        total=item.total,
    )


def used_seconds(item: InterviewItem, slot: plan.Slot) -> float | None:
    if slot.started_at is None:
        return None
    end = slot.deadline
    if slot.phase in ("done", "review"):
        end = item.answered_at or item.resolved_at or slot.deadline
    return max(0.0, ((end or slot.started_at) - slot.started_at).total_seconds())


def finish(session: Session, user_id: int, interview_id: int, *, now: datetime) -> Interview:
    """Score the interview and feed each item to FSRS once; finishing again changes nothing.

    Items never reached or left open count as skipped (or timed out, if their clock ran out).
    A drill the learner has never solved gets no review: drill cards join FSRS only when first
    solved (the drill pages' rule), and the report's "study next" sends them to it instead.
    """
    interview = get(session, user_id, interview_id)
    if interview.finished_at is not None:
        return interview
    outcomes = []
    for item, slot in zip(interview.items, slots(interview, now), strict=True):
        if item.status == "pending" and not (item.kind == "question" and item.answer):
            item.status = "timeout" if slot.phase == "timeout" else "skipped"
        outcome = outcome_of(item, used_seconds(item, slot))
        outcomes.append(outcome)
        item.score = scoring.item_score(outcome)
        if item.review_log_id is None:
            _feed_fsrs(session, user_id, item, scoring.item_rating(outcome), outcome, now=now)
    interview.score = scoring.overall_score(outcomes)
    interview.study_next = scoring.study_next(outcomes)
    interview.finished_at = now
    session.flush()
    return interview


def _feed_fsrs(
    session: Session,
    user_id: int,
    item: InterviewItem,
    rating: int,
    outcome: scoring.ItemOutcome,
    *,
    now: datetime,
) -> None:
    card_id = item.card_id
    if item.kind == "drill":
        assert item.drill_id is not None
        card = drills.drill_card(session, item.drill_id)
        progress = drills.get_progress(session, user_id, item.drill_id)
        if card is None or progress is None or progress.solved_at is None:
            return
        card_id = card.id
    if card_id is None:
        return
    duration = int(outcome.used_seconds * 1000) if outcome.used_seconds is not None else None
    try:
        # The study service's "review this card with this rating now", which any card kind
        # takes (drill cards skip learning steps there): the interview counts as practice.
        result = study.schedule_drill_review(
            session, user_id, card_id, rating, now=now, duration_ms=duration
        )
    except study.NotFound:
        return  # the card was retired since the interview was drawn
    item.rating, item.review_log_id = rating, result.log_id
