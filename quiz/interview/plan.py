"""Drawing an interview's items and running its clock (pure: `now` and `rng` come in)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, TypeVar

Kind = Literal["question", "drill"]

LENGTHS = (15, 30, 45)
# minutes -> (conceptual questions, drills, seconds per drill); questions share the rest.
SHAPES = {15: (4, 1, 420), 30: (7, 2, 480), 45: (12, 2, 600)}
RECENT_SOLVE = timedelta(days=7)  # a drill solved this recently is not drawn (if others are left)

# Weights: a card never seen is worth asking; a seen one by how likely it is forgotten.
NEW_WEIGHT = 1.0
INTERVIEW_QUESTION_BONUS = 1.5  # 面试高频题 over knowledge points: they are what is asked


@dataclass(frozen=True)
class CardCandidate:
    """A conceptual card and what this learner's FSRS state says about it."""

    card_id: int
    interview_question: bool  # a 面试高频题 (else a knowledge point)
    seen: bool
    retrievability: float = 0.0  # now; 0 when never reviewed
    lapses: int = 0
    relearning: bool = False


@dataclass(frozen=True)
class DrillCandidate:
    drill_id: str
    solved_at: datetime | None
    last_accepted_at: datetime | None
    attempted: bool
    due: bool


@dataclass(frozen=True)
class PlannedItem:
    index: int
    kind: Kind
    card_id: int | None
    drill_id: str | None
    seconds: int


def card_weight(c: CardCandidate) -> float:
    """How much a card deserves a place: the weaker the memory, the heavier."""
    if not c.seen:
        weight = NEW_WEIGHT
    else:
        weight = 0.1 + 1.5 * (1.0 - c.retrievability) + 0.25 * min(c.lapses, 4)
        weight += 0.5 if c.relearning else 0.0
    return weight * (INTERVIEW_QUESTION_BONUS if c.interview_question else 1.0)


def drill_weight(d: DrillCandidate) -> float:
    if d.due:
        return 1.5
    if d.attempted and d.solved_at is None:
        return 1.3  # started and not solved: the skill is shakiest
    return 1.0 if d.solved_at is None else 0.7


T = TypeVar("T")
Phase = Literal["done", "review", "timeout", "current", "upcoming"]


def _weighted_sample(items: list[tuple[float, T]], k: int, rng: random.Random) -> list[T]:
    """k items without replacement, each drawn in proportion to its weight (Efraimidis–Spirakis)."""
    keyed = sorted(items, key=lambda pair: -(rng.random() ** (1.0 / max(pair[0], 1e-9))))
    return [item for _, item in keyed[:k]]


def draw(
    minutes: int,
    cards: list[CardCandidate],
    drills: list[DrillCandidate],
    *,
    now: datetime,
    rng: random.Random,
    scale: float = 1.0,
) -> list[PlannedItem]:
    """The interview's items: questions weighted to the weakest, then drills not recently solved.

    Two drills split the questions in half (coding in the middle and at the end), one drill
    closes the interview. `scale` shortens every clock (tests run a 15-minute interview in
    seconds); the shape stays the same.
    """
    if minutes not in SHAPES:
        raise ValueError(f"minutes must be one of {LENGTHS}")
    n_questions, n_drills, drill_seconds = SHAPES[minutes]
    question_seconds = (minutes * 60 - n_drills * drill_seconds) // n_questions
    chosen_cards = _weighted_sample([(card_weight(c), c) for c in cards], n_questions, rng)
    fresh = [
        d for d in drills if d.last_accepted_at is None or now - d.last_accepted_at >= RECENT_SOLVE
    ]
    pool = fresh if len(fresh) >= n_drills else drills
    chosen_drills = _weighted_sample([(drill_weight(d), d) for d in pool], n_drills, rng)
    slots: list[tuple[Kind, CardCandidate | DrillCandidate]] = [
        ("question", c) for c in chosen_cards
    ]
    if len(chosen_drills) == 2:
        half = (len(slots) + 1) // 2
        slots = [*slots[:half], ("drill", chosen_drills[0]), *slots[half:]]
        slots.append(("drill", chosen_drills[1]))
    else:
        slots.extend(("drill", d) for d in chosen_drills)
    items = []
    for index, (kind, what) in enumerate(slots):
        base = drill_seconds if kind == "drill" else question_seconds
        items.append(
            PlannedItem(
                index=index,
                kind=kind,
                card_id=what.card_id if isinstance(what, CardCandidate) else None,
                drill_id=what.drill_id if isinstance(what, DrillCandidate) else None,
                seconds=max(1, round(base * scale)),
            )
        )
    return items


# ---------------------------------------------------------------------------------------------
# The clock


@dataclass(frozen=True)
class Slot:
    """Where one item stands on the interview's timeline at `now`."""

    index: int
    started_at: datetime | None  # None: not reached yet
    deadline: datetime | None
    phase: Phase


def timeline(
    start: datetime,
    ends_at: datetime,
    seconds: list[int],
    answered_at: list[datetime | None],
    released_at: list[datetime | None],
    now: datetime,
) -> list[Slot]:
    """Each item starts when the previous one was let go, or when it ran out of time.

    `answered_at[i]` is when item i's answer arrived (a drill: when it was accepted); an answer
    after the item's deadline is late and does not move the timeline, which had already moved
    on. `released_at[i]` is when the learner let the item go (points confirmed, skipped, drill
    accepted): between the two, a question is in "review" — its clock stopped, the next one not
    started — so reading the model answer costs no question its time. The session clock
    `ends_at` bounds everything: once it has passed, whatever is not done has timed out.
    """
    slots: list[Slot] = []
    begin: datetime | None = start
    items = zip(seconds, answered_at, released_at, strict=True)
    for index, (length, answered, released) in enumerate(items):
        if begin is None or begin > now:
            phase: Phase = "timeout" if now >= ends_at else "upcoming"
            slots.append(Slot(index, None, None, phase))
            begin = None
            continue
        deadline = min(begin + timedelta(seconds=length), max(ends_at, begin))
        if answered is not None and answered <= deadline:
            if released is None:
                slots.append(Slot(index, begin, deadline, "review"))
                begin = None
            else:
                slots.append(Slot(index, begin, deadline, "done"))
                begin = max(released, begin)
        elif released is not None and released <= deadline:
            slots.append(Slot(index, begin, deadline, "done"))  # skipped
            begin = max(released, begin)
        elif now >= deadline:
            slots.append(Slot(index, begin, deadline, "timeout"))
            begin = deadline
        else:
            slots.append(Slot(index, begin, deadline, "current"))
            begin = None
    return slots


def current_index(slots: list[Slot]) -> int | None:
    """The item on screen: one in review, else the one whose clock runs."""
    return next((s.index for s in slots if s.phase in ("review", "current")), None)
