"""Scores, the FSRS rating each item earns, and what to study next (pure).

Rating mapping (each item is one FSRS review of its card or drill card):

=========================================================  ========
outcome                                                    rating
=========================================================  ========
not answered (skipped, or the clock ran out with nothing)   1 重来
question: under half of the key points covered              1 重来
question: half or more, under 80 %                          2 困难
question: 80 % or more                                      3 良好
question: every point, in at most half the item's time     4 简单
drill: not accepted                                         1 重来
drill: accepted after failed submissions                    2 困难
drill: accepted on the first submission                     3 良好
any late answer (after its item's clock ran out)            at most 2 困难
=========================================================  ========

The score of an item is its share of key points (questions) or of passed tests (drills, 1 when
accepted); the interview's score is the weighted mean × 100, a drill weighing `DRILL_WEIGHT`
questions because it takes several questions' time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AGAIN, HARD, GOOD, EASY = 1, 2, 3, 4
DRILL_WEIGHT = 2.0
GOOD_COVERAGE = 0.8
HARD_COVERAGE = 0.5
STUDY_NEXT_LIMIT = 8

Status = Literal["pending", "answered", "confirmed", "skipped", "timeout"]


@dataclass(frozen=True)
class ItemOutcome:
    """What happened to one item, in plain values."""

    index: int
    kind: Literal["question", "drill"]
    answered: bool  # an answer (question) or at least one submission (drill) arrived
    late: bool
    seconds: int  # the item's clock
    used_seconds: float | None
    points_total: int = 0
    points_covered: int = 0
    accepted: bool = False
    failed_submits: int = 0
    passed: int = 0
    total: int = 0


def item_score(o: ItemOutcome) -> float:
    if not o.answered:
        return 0.0
    if o.kind == "question":
        return o.points_covered / o.points_total if o.points_total else 0.0
    if o.accepted:
        return 1.0
    return o.passed / o.total if o.total else 0.0


def item_rating(o: ItemOutcome) -> int:
    """The FSRS rating an item earns (the table in this module's docstring)."""
    if not o.answered:
        return AGAIN
    if o.kind == "drill":
        rating = AGAIN if not o.accepted else (GOOD if o.failed_submits == 0 else HARD)
    else:
        share = item_score(o)
        if share < HARD_COVERAGE:
            rating = AGAIN
        elif share < GOOD_COVERAGE:
            rating = HARD
        elif share == 1.0 and o.used_seconds is not None and o.used_seconds <= o.seconds / 2:
            rating = EASY
        else:
            rating = GOOD
    return min(rating, HARD) if o.late else rating


def overall_score(outcomes: list[ItemOutcome]) -> int:
    """0–100: the weighted mean of the item scores."""
    weights = [DRILL_WEIGHT if o.kind == "drill" else 1.0 for o in outcomes]
    if not outcomes:
        return 0
    total = sum(w * item_score(o) for w, o in zip(weights, outcomes, strict=True))
    return round(100 * total / sum(weights))


def study_next(outcomes: list[ItemOutcome], limit: int = STUDY_NEXT_LIMIT) -> list[int]:
    """Indexes of the items to study now: those rated 重来 or 困难, weakest first.

    Drills before questions at equal score: a failed implementation costs more in a real
    interview than a thin explanation.
    """
    weak = [o for o in outcomes if item_rating(o) <= HARD]
    weak.sort(key=lambda o: (item_score(o), o.kind != "drill", o.index))
    return [o.index for o in weak[:limit]]


def reason(o: ItemOutcome) -> str:
    """Why an item is weak, as a code the templates and API clients translate."""
    if not o.answered:
        return "not_answered"
    if o.kind == "drill":
        return "accepted_after_failures" if o.accepted else "not_accepted"
    return "late" if o.late and item_score(o) >= GOOD_COVERAGE else "missed_points"
