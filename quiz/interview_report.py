"""Mock interview read side: history, the dashboard summary, and the JSON the API and pages use.

Reads only (no writes); `now` comes in like everywhere else. The write side is `quiz.interviews`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import Integer, Select, bindparam, func, or_, select
from sqlalchemy.orm import Session, selectinload

from quiz import drills, studyday
from quiz.db import UTCDateTime, built_once
from quiz.interview import plan, scoring
from quiz.interview.labels import REASON_LABELS, STATUS_LABELS
from quiz.interviews import is_over, outcome_of, slots, used_seconds
from quiz.models import Card, Interview, InterviewItem, UserSettings

HISTORY_LIMIT = 50


@dataclass(frozen=True)
class Previous:
    id: int
    finished_at: datetime
    minutes: int
    score: int


@lru_cache(maxsize=1)
def _previous_statement() -> Select[int, datetime | None, int, int | None]:
    before = bindparam("before", type_=UTCDateTime())
    return built_once(
        select(Interview.id, Interview.finished_at, Interview.minutes, Interview.score)
        .where(
            Interview.user_id == bindparam("user_id", type_=Integer()),
            Interview.finished_at.is_not(None),
            or_(before.is_(None), Interview.finished_at <= before),
        )
        .order_by(Interview.finished_at.desc())
        .limit(bindparam("limit", type_=Integer()))
    )


def previous(
    session: Session, user_id: int, *, before: datetime | None = None, limit: int = 20
) -> list[Previous]:
    """Finished interviews, oldest first (the trend), up to `before` when given."""
    params = {"user_id": user_id, "before": before, "limit": limit}
    rows = session.execute(_previous_statement(), params).all()
    return [
        Previous(interview_id, finished_at, minutes, score or 0)
        for interview_id, finished_at, minutes, score in reversed(rows)
        if finished_at is not None
    ]


def history(session: Session, user_id: int) -> list[Interview]:
    return list(
        session.scalars(
            select(Interview)
            .where(Interview.user_id == user_id)
            .options(selectinload(Interview.items))
            .order_by(Interview.started_at.desc(), Interview.id.desc())
            .limit(HISTORY_LIMIT)
        )
    )


def _local_day(session: Session, user_id: int, moment: datetime) -> str:
    """The user's study day of a UTC moment (what the learner calls "that day")."""
    settings = session.get(UserSettings, user_id)
    zone, hour = (settings.timezone, settings.rollover_hour) if settings else ("Asia/Shanghai", 4)
    return studyday.study_day(moment, zone, hour).isoformat()


TREND_LIMIT = 10  # finished interviews in the dashboard panel's trend


def summary(session: Session, user_id: int) -> dict[str, Any]:
    """The dashboard panel: how many finished, the last score, the recent trend."""
    trend = previous(session, user_id, limit=TREND_LIMIT)
    # Fewer than the limit is every finished interview: counted without a second query.
    count = len(trend)
    if count == TREND_LIMIT:
        total = session.scalar(
            select(func.count())
            .select_from(Interview)
            .where(Interview.user_id == user_id, Interview.finished_at.is_not(None))
        )
        count = int(total or 0)
    return {
        "count": count,
        "last_score": trend[-1].score if trend else None,
        "trend": [
            {"id": p.id, "date": _local_day(session, user_id, p.finished_at), "score": p.score}
            for p in trend
        ],
    }


# ---------------------------------------------------------------------------------------------
# JSON shapes (the API's and the page's)


def item_brief(item: InterviewItem) -> dict[str, Any]:
    body: dict[str, Any] = {"index": item.position, "kind": item.kind, "seconds": item.seconds}
    body["card_id" if item.kind == "question" else "drill_id"] = (
        item.card_id if item.kind == "question" else item.drill_id
    )
    return body


def _model_answer(card: Card) -> dict[str, str]:
    return {"short_html": card.short_html, "back_html": card.back_html}


def item_state(item: InterviewItem, slot: plan.Slot, *, finished: bool) -> dict[str, Any]:
    """Everything the page needs to show an item again after a reload."""
    body = item_brief(item)
    body.update(
        status=item.status,
        status_label=STATUS_LABELS.get(item.status, item.status),
        phase=slot.phase,
        started_at=slot.started_at.isoformat() if slot.started_at else None,
        deadline=slot.deadline.isoformat() if slot.deadline else None,
        late=item.late,
    )
    reached = slot.phase != "upcoming" or finished
    if item.kind == "question" and item.card is not None and reached:
        body["question_html"] = item.card.front_html
        body["answer"] = item.answer
        if item.points is not None:
            body["model_answer"] = _model_answer(item.card)
            body["points"] = points_json(item.points)
    elif item.kind == "drill" and item.drill_id and reached:
        drill = drills.require_drill(item.drill_id)
        body.update(
            title=drill.title,
            statement_html=drills.statement_html(drill.id),
            starter_code=drill.starter_code,
            code=item.answer,
            submits=item.submits,
            verdict=item.verdict,
            passed=item.passed,
            total=item.total,
        )
    return body


def points_json(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "index": i,
            "text": p["text"],
            "terms": p["terms"],
            "suggested": p["suggested"],
            "covered": p["covered"],
        }
        for i, p in enumerate(points)
    ]


def summary_json(interview: Interview) -> dict[str, Any]:
    """What every answer about an interview starts with (its state, the history list)."""
    return {
        "id": interview.id,
        "minutes": interview.minutes,
        "topics": interview.topics,
        "started_at": interview.started_at.isoformat(),
        "ends_at": interview.ends_at.isoformat(),
    }


def state_json(interview: Interview, *, now: datetime) -> dict[str, Any]:
    """The interview as it stands at `now` (what a reloaded page resumes from)."""
    timeline = slots(interview, now)
    finished = interview.finished_at is not None
    return {
        **summary_json(interview),
        "now": now.isoformat(),
        "finished": finished,
        "over": is_over(interview, now),
        "current": None if finished else plan.current_index(timeline),
        "items": [
            item_state(item, slot, finished=finished)
            for item, slot in zip(interview.items, timeline, strict=True)
        ],
    }


def report_json(session: Session, interview: Interview) -> dict[str, Any]:
    """The finished interview's report: score, items, what was missed, trend, study next."""
    assert interview.finished_at is not None
    timeline = slots(interview, interview.finished_at)
    items = []
    for item, slot in zip(interview.items, timeline, strict=True):
        outcome = outcome_of(item, used_seconds(item, slot))
        entry = item_brief(item) | {
            "status": item.status,
            "status_label": STATUS_LABELS.get(item.status, item.status),
            "late": item.late,
            "used_seconds": None
            if outcome.used_seconds is None
            else round(outcome.used_seconds, 1),
            "score": round(item.score or 0.0, 3),
            "rating": item.rating,
            "rating_label": drills.RATING_LABELS.get(item.rating or 0),
            "fed_fsrs": item.review_log_id is not None,
        }
        if item.kind == "question" and item.card is not None:
            points = item.points or []
            entry.update(
                title=Markup(item.card.front_html).striptags(),
                question_html=item.card.front_html,
                answer=item.answer,
                points_total=len(points),
                points_covered=sum(1 for p in points if p.get("covered")),
                missed=[p["text"] for p in points if not p.get("covered")],
                model_answer=_model_answer(item.card),
                topic_slug=item.card.topic.slug,
                section_slug=item.card.section.slug if item.card.section else None,
            )
        elif item.drill_id:
            drill = drills.require_drill(item.drill_id)
            card = drills.drill_card(session, item.drill_id)
            entry.update(
                title=drill.title,
                verdict=item.verdict,
                verdict_label=drills.VERDICT_LABELS.get(item.verdict or "", _("未提交")),
                passed=item.passed,
                total=item.total,
                submits=item.submits,
                code=item.answer,
                diagnosis=_diagnosis(session, item),
                topic_slug=card.topic.slug if card else None,
                section_slug=card.section.slug if card and card.section else None,
            )
        items.append(entry)
    by_index = {e["index"]: e for e in items}
    outcomes = {
        item.position: outcome_of(item, by_index[item.position]["used_seconds"])
        for item in interview.items
    }
    study = []
    for index in interview.study_next or []:
        entry = by_index[index]
        code = scoring.reason(outcomes[index])
        study.append(
            {
                key: entry.get(key)
                for key in ("index", "kind", "card_id", "drill_id", "title", "topic_slug")
                if key in entry
            }
            | {
                "section_slug": entry.get("section_slug"),
                "reason": code,
                "reason_label": REASON_LABELS[code],
            }
        )
    return {
        "id": interview.id,
        "minutes": interview.minutes,
        "started_at": interview.started_at.isoformat(),
        "finished_at": interview.finished_at.isoformat(),
        "score": interview.score,
        "items": items,
        "study_next": study,
        "previous": [
            {
                "id": p.id,
                "finished_at": p.finished_at.isoformat(),
                "minutes": p.minutes,
                "score": p.score,
            }
            for p in previous(session, interview.user_id, before=interview.finished_at)
        ],
    }


def _diagnosis(session: Session, item: InterviewItem) -> list[dict[str, Any]]:
    """The last submission's failed tests, as the drill page shows them (names and messages)."""
    if item.submission_id is None:
        return []
    submission = drills.get_submission(session, item.interview.user_id, item.submission_id)
    if submission is None:
        return []
    tests = drills.submission_json(submission)["tests"]
    return [t for t in tests if isinstance(t, dict) and t.get("status") != "passed"][:5]
