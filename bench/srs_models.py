"""The simulated learners and the SM-2 baseline for bench/srs_simulation.py.

Learners:
- "model": memory that *is* FSRS-6 with the default parameters, every card alike. The app's
  scheduler predicts it exactly, so its retention error is ~0 by construction: a sanity check of
  the queue and the scheduler wiring, not evidence that the scheduler fits people.
- "population": each learner (one per seed) has their own FSRS-6 parameters, drawn around the
  defaults (lognormal, sd 0.3 on each weight; initial difficulty w4 +- 1; clipped to fsrs's
  bounds), and each card its own hidden difficulty: an offset N(0, 1.5) on the true difficulty
  after the first answer and a matching factor exp(-offset / 3) on the first stability. The
  scheduler sees none of this except through the ratings.

Ratings: a new card's first rating from fsrs-rs's default first-rating mix; afterwards Again
when forgotten, else Hard/Good/Easy in fsrs-rs's default review mix.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from fsrs.scheduler import DEFAULT_PARAMETERS, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS

from quiz import scheduling
from quiz.scheduling import NEW, RELEARNING, REVIEW, MemoryState, SchedulerConfig

FIRST_RATING = (0.24, 0.094, 0.495, 0.171)  # fsrs-rs default_simulator_config
RECALL_RATING = (0.224, 0.631, 0.145)  # Hard, Good, Easy when recalled
PARAMETER_SD = 0.3  # lognormal spread of each weight around its default
INITIAL_DIFFICULTY_SD = 1.0  # w4, additive
CARD_DIFFICULTY_SD = 1.5  # per-card offset on the true difficulty (FSRS's 1-10 scale)


def learner_parameters(seed: int) -> tuple[float, ...]:
    """One learner's true FSRS-6 weights, drawn around the defaults."""
    rng = random.Random(f"parameters-{seed}")
    drawn = []
    for i, (default, low, high) in enumerate(
        zip(DEFAULT_PARAMETERS, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS, strict=True)
    ):
        if i == 4:
            value = default + rng.gauss(0, INITIAL_DIFFICULTY_SD)
        else:
            value = default * math.exp(rng.gauss(0, PARAMETER_SD))
        drawn.append(min(max(value, low), high))
    return tuple(drawn)


@dataclass
class Learner:
    """The simulated memory: a true FSRS-6 state per card, its own weights, and the dice."""

    seed: int
    kind: str  # "model" | "population"
    card_spread: float = CARD_DIFFICULTY_SD
    truth: dict[int, MemoryState] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        population = self.kind == "population"
        # The learner's memory counts elapsed time in study days like FSRS does (the user's zone).
        self.config = SchedulerConfig(
            parameters=learner_parameters(self.seed) if population else None,
            enable_fuzzing=False,
            learning_steps=(),
            relearning_steps=(),
            timezone="Asia/Shanghai",
            rollover_hour=4,
        )
        self.card_rng = random.Random(f"cards-{self.seed}")
        self.spread = self.card_spread if population else 0.0
        self.offsets: dict[int, float] = {}

    def recall_probability(self, card_id: int, now: datetime) -> float:
        state = self.truth.get(card_id)
        if state is None:
            return 0.0
        return scheduling.retrievability(state, now=now, config=self.config)

    def _offset(self, card_id: int) -> float:
        # Drawn in card order from its own stream, so every arm meets the same cards.
        if card_id not in self.offsets:
            self.offsets[card_id] = random.Random(f"{self.seed}-{card_id}").gauss(0, self.spread)
        return self.offsets[card_id]

    def answer(self, card_id: int, now: datetime) -> tuple[int, bool | None]:
        """(rating, recalled) — recalled is None for a card seen for the first time."""
        first = card_id not in self.truth
        if first:
            rating = self.rng.choices((1, 2, 3, 4), FIRST_RATING)[0]
            recalled = None
        else:
            recalled = self.rng.random() < self.recall_probability(card_id, now)
            rating = self.rng.choices((2, 3, 4), RECALL_RATING)[0] if recalled else 1
        # The memory itself moves by FSRS-6 with the learner's weights, whatever the scheduler did.
        state, _ = scheduling.review(
            self.truth.get(card_id, MemoryState()), rating, now=now, config=self.config
        )
        if first and self.spread:
            offset = self._offset(card_id)
            assert state.difficulty is not None and state.stability is not None
            state = replace(
                state,
                difficulty=min(10.0, max(1.0, state.difficulty + offset)),
                stability=max(0.01, state.stability * math.exp(-offset / 3)),
            )
        self.truth[card_id] = state
        return rating, recalled


# ---------------------------------------------------------------------------------------------
# SM-2, Anki's variant, writing CardState/ReviewLog rows like the app's answers do

LEARNING_PHASE = -1


@dataclass
class Sm2Card:
    ease: float = 2.5
    interval: float = 0.0  # days


class Sm2:
    """Anki's SM-2: ease 2.5, graduating 1 d, easy 4 d, hard x1.2, easy bonus 1.3; a lapse
    takes 0.2 ease and resets the interval to 1 d (after the relearning steps, if any); overdue
    credit as in Anki. The learning and relearning steps are given, as a deck's options would."""

    def __init__(self, steps: tuple[timedelta, ...], relearn: tuple[timedelta, ...]) -> None:
        self.steps, self.relearn = steps, relearn
        self.cards: dict[int, Sm2Card] = {}

    def schedule(
        self, card_id: int, state: MemoryState, rating: int, now: datetime
    ) -> tuple[MemoryState, timedelta]:
        sm = self.cards.setdefault(card_id, Sm2Card())
        phase = LEARNING_PHASE if state.state in (NEW, scheduling.LEARNING) else state.state
        step = state.step or 0
        lapses = state.lapses
        if phase in (LEARNING_PHASE, RELEARNING):
            steps = self.steps if phase == LEARNING_PHASE else self.relearn
            graduate = 1.0 if phase == LEARNING_PHASE else max(1.0, sm.interval)
            graduate_days: float | None = None
            if not steps:
                graduate_days = graduate if rating < 4 else graduate + 3
            elif rating == 1:
                step, delay = 0, steps[0]
            elif rating == 2:
                delay = (
                    (steps[0] + steps[1]) / 2
                    if step == 0 and len(steps) > 1
                    else steps[step] * (1.5 if len(steps) == 1 else 1)
                )
            elif rating == 3:
                step += 1
                if step >= len(steps):
                    graduate_days = graduate
                else:
                    delay = steps[step]
            else:
                graduate_days = 4.0 if phase == LEARNING_PHASE else max(1.0, sm.interval) + 1
            if graduate_days is None:
                new_state = scheduling.LEARNING if phase == LEARNING_PHASE else RELEARNING
                return self._state(state, new_state, step, now, delay, lapses), delay
            sm.interval = graduate_days
            return self._review(state, card_id, now, lapses)
        # A review card.
        elapsed = (
            (now - state.last_review) / timedelta(days=1) if state.last_review else sm.interval
        )
        late = max(0.0, elapsed - sm.interval)
        if rating == 1:
            sm.ease = max(1.3, sm.ease - 0.2)
            sm.interval = 1.0  # new interval multiplier 0, minimum 1 day
            if not self.relearn:  # no relearning step: straight back to review, due tomorrow
                return self._review(state, card_id, now, lapses + 1)
            delay = self.relearn[0]
            return self._state(state, RELEARNING, 0, now, delay, lapses + 1), delay
        hard = max(sm.interval + 1, sm.interval * 1.2)
        good = max(hard + 1, (sm.interval + late / 2) * sm.ease)
        if rating == 2:
            sm.ease = max(1.3, sm.ease - 0.15)
            sm.interval = hard
        elif rating == 3:
            sm.interval = good
        else:
            sm.interval = max(good + 1, (sm.interval + late) * sm.ease * 1.3)
            sm.ease += 0.15
        return self._review(state, card_id, now, lapses)

    def _review(
        self, state: MemoryState, card_id: int, now: datetime, lapses: int
    ) -> tuple[MemoryState, timedelta]:
        days = min(36500, round(self.cards[card_id].interval))
        days = scheduling.fuzz_days(days, scheduling.fuzz_factor(card_id * 1_000_003 + state.reps))
        delay = timedelta(days=days)
        return self._state(state, REVIEW, None, now, delay, lapses), delay

    @staticmethod
    def _state(
        state: MemoryState,
        phase: int,
        step: int | None,
        now: datetime,
        delay: timedelta,
        lapses: int,
    ) -> MemoryState:
        return MemoryState(
            state=phase,
            step=step,
            stability=None,
            difficulty=None,
            due=now + delay,
            last_review=now,
            reps=state.reps + 1,
            lapses=lapses,
        )


def sm2_answer(sm2: Sm2) -> Callable[..., None]:
    """An answer function with study.answer's effects on the database, scheduled by SM-2."""
    from quiz import study
    from quiz.models import ReviewLog

    def answer(session: Any, user_id: int, card_id: int, rating: int, *, now: datetime) -> None:
        row = study._ensure_state(session, user_id, card_id, now=now)
        before = study.memory_of(row)
        after, _ = sm2.schedule(card_id, before, rating, now)
        for name in ("state", "step", "due", "last_review", "reps", "lapses"):
            setattr(row, name, getattr(after, name))
        row.version = (row.version or 0) + 1
        session.add(
            ReviewLog(
                user_id=user_id,
                card_id=card_id,
                rating=rating,
                reviewed_at=now,
                duration_ms=None,
                state_before=before.state,
                state_after=after.state,
                before={},
                after={},
            )
        )
        session.flush()

    return answer
