"""Two ways for bench/srs_simulation.py to study: the app itself, or its rules kept in memory.

- `AppStudy`: a fresh migrated SQLite database, `quiz.study.study_queue` for every card,
  `quiz.study.answer` for FSRS answers, `quiz.optimizer.optimize_user` for the fit. Exact, and
  slow (~3 ms of CPU per answer: a year of 1,000 cards is ~15,000 answers).
- `MemoryStudy`: the same queue rules for this simulation's deck (one topic, one card per note,
  no drills, nothing buried) kept in memory, with the app's own pure code for everything else:
  `quiz.scheduling.review` with `quiz.study`'s config, fuzz seed and leech rule, and
  `quiz.optimizer`'s `build_items` and `fit`. About 50 times faster. `--check-queue` runs one
  arm both ways and requires the same answers, card for card.

Both expose `pick(now) -> Pick` and `answer(card_id, rating, now, version)`, and `fit(now)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bench.srs_models import Sm2, sm2_answer
from quiz import optimizer, scheduling, study, studyday
from quiz.models import UserSettings
from quiz.scheduling import LEARNING, NEW, RELEARNING, REVIEW, MemoryState


@dataclass(frozen=True)
class Pick:
    card_id: int | None
    state: int  # the card's state before the answer (NEW for a card never answered)
    version: int
    next_learning_due: datetime | None  # when nothing is due now: a learning card later today


def default_settings(**overrides: Any) -> SimpleNamespace:
    """A new user's settings (the model's column defaults), as `study.scheduler_config` reads them."""
    columns = UserSettings.__table__.c
    names = (
        "desired_retention",
        "new_per_day",
        "reviews_per_day",
        "timezone",
        "rollover_hour",
        "learning_steps",
        "relearning_steps",
    )
    values = {name: columns[name].default.arg for name in names}
    return SimpleNamespace(**{**values, "fsrs_parameters": None, **overrides})


@dataclass
class _Row:
    memory: MemoryState
    suspended: bool = False
    version: int = 0


@dataclass
class MemoryStudy:
    """`study_queue`'s order and limits for one user, with answers scheduled by the app's code."""

    card_ids: list[int]
    settings: SimpleNamespace
    sm2: Sm2 | None = None
    rows: dict[int, _Row] = field(default_factory=dict)
    log: list[optimizer.LogEntry] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._day: date | None = None
        self._next_new = 0
        self._learning: dict[int, datetime] = {}  # learning and relearning cards, not suspended

    def _start_day(self, now: datetime) -> None:
        today = studyday.study_day(now, self.settings.timezone, self.settings.rollover_hour)
        if today == self._day:
            return
        self._day = today
        self._start, self._end = studyday.day_bounds(
            today, self.settings.timezone, self.settings.rollover_hour
        )
        self._new_done = self._reviews_done = 0
        self._answered: set[int] = set()
        # Review cards due before the day ends, by (due, id): none joins during the day (an
        # interval is at least a day), so one sorted list serves the whole day.
        self._reviews = sorted(
            (row.memory.due, card_id)
            for card_id, row in self.rows.items()
            if row.memory.state == REVIEW and not row.suspended and row.memory.due < self._end
        )
        self._review_at = 0

    def pick(self, now: datetime) -> Pick:
        self._start_day(now)
        learning = sorted((due, card_id) for card_id, due in self._learning.items())
        if learning and learning[0][0] <= now:
            return self._pick(learning[0][1])
        if self.settings.reviews_per_day - self._reviews_done > 0:
            while self._review_at < len(self._reviews):
                card_id = self._reviews[self._review_at][1]
                row = self.rows[card_id]
                if card_id in self._answered or row.suspended or row.memory.state != REVIEW:
                    self._review_at += 1
                    continue
                return self._pick(card_id)
        if self.settings.new_per_day - self._new_done > 0 and self._next_new < len(self.card_ids):
            return self._pick(self.card_ids[self._next_new])
        ahead = now + study.LEARN_AHEAD
        if learning and learning[0][0] <= ahead:
            return self._pick(learning[0][1])
        later = [due for due, _ in learning if due < self._end]
        return Pick(None, NEW, 0, min(later) if later else None)

    def _pick(self, card_id: int) -> Pick:
        row = self.rows.get(card_id)
        return Pick(card_id, row.memory.state if row else NEW, row.version if row else 0, None)

    def answer(self, card_id: int, rating: int, now: datetime, version: int) -> None:
        row = self.rows.get(card_id)
        if row is None:
            row = self.rows[card_id] = _Row(MemoryState(due=now))  # as study._ensure_state
            self._next_new += 1
        assert row.version == version
        before = row.memory
        if self.sm2 is not None:
            row.memory, _ = self.sm2.schedule(card_id, before, rating, now)
        else:
            row.memory, outcome = scheduling.review(
                before,
                rating,
                now=now,
                config=study.scheduler_config(self.settings),
                fuzz_seed=study.fuzz_seed(card_id, before.reps),
            )
            if outcome.lapsed and study.is_leech_lapse(row.memory.lapses):
                row.suspended = True  # as study._apply: a leech is suspended
        row.version += 1
        self._learning.pop(card_id, None)
        if row.memory.state in (LEARNING, RELEARNING) and not row.suspended:
            assert row.memory.due is not None
            self._learning[card_id] = row.memory.due
        self._answered.add(card_id)
        self._new_done += before.state == NEW
        self._reviews_done += before.state == REVIEW
        self.log.append(optimizer.LogEntry(card_id, now, rating, before.state))

    def fit(self, now: datetime) -> optimizer.FitResult:
        """What `optimizer.optimize_user` does, on the log kept here."""
        if len(self.log) < optimizer.MIN_REVIEWS:
            raise optimizer.NotEnoughReviews(len(self.log))
        items = optimizer.build_items(
            self.log, tz_name=self.settings.timezone, rollover_hour=self.settings.rollover_hour
        )
        if not items:
            raise optimizer.NotEnoughReviews(0)
        result = optimizer.fit(items, self.settings.fsrs_parameters)
        if result.adopted:
            self.settings.fsrs_parameters = result.parameters
        return result

    def end_of_day(self) -> None:
        pass

    def close(self) -> None:
        pass


class AppStudy:
    """The app itself on a fresh migrated SQLite database (see bench/srs_simulation.py)."""

    def __init__(self, directory: Path, cards: int, settings: SimpleNamespace, sm2: bool) -> None:
        from bench.srs_simulation import build_database
        from quiz.db import db

        self.context, self.user_id, self.card_ids = build_database(directory, cards)
        self.session = db.session
        row = study.user_settings(self.session, self.user_id, create=True)
        for name, value in vars(settings).items():
            setattr(row, name, value)
        self.session.commit()
        self.sm2_apply = None
        if sm2:
            config = study.scheduler_config(row)
            self.sm2_apply = sm2_answer(Sm2(config.learning_steps, config.relearning_steps))

    def pick(self, now: datetime) -> Pick:
        queue = study.study_queue(self.session, self.user_id, now=now)
        if queue.card is None:
            return Pick(None, NEW, 0, queue.next_learning_due)
        state = queue.card.state.state if queue.card.state else NEW
        return Pick(queue.card.card.id, state, queue.card.version, None)

    def answer(self, card_id: int, rating: int, now: datetime, version: int) -> None:
        if self.sm2_apply is None:
            study.answer(self.session, self.user_id, card_id, rating, now=now, version=version)
        else:
            self.sm2_apply(self.session, self.user_id, card_id, rating, now=now)

    def end_of_day(self) -> None:
        self.session.commit()

    def fit(self, now: datetime) -> optimizer.FitResult:
        result = optimizer.optimize_user(self.session, self.user_id, now=now)
        self.session.commit()
        return result

    def close(self) -> None:
        from quiz.db import db

        db.session.remove()
        db.engine.dispose()
        self.context.pop()
