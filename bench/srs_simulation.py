"""Scheduling quality by simulation: FSRS (the app's own code) against SM-2 on the same learner.

    .venv/bin/python bench/srs_simulation.py            # 1,000 cards, 365 days (a few minutes)
    .venv/bin/python bench/srs_simulation.py --quick    # 300 cards, 120 days

The learner's memory follows FSRS-6 with the default parameters: each card carries a true
(stability, difficulty) that every answer updates by the FSRS-6 formulas, and a review at
elapsed time t is recalled with probability R = (1 + F t/S)^-w20. Ratings: a new card's first
rating from fsrs-rs's default first-rating mix; afterwards Again when forgotten, else Hard/Good/
Easy in fsrs-rs's default review mix.

Both schedulers are driven through the app's own queue (`quiz.study.study_queue`, on a fresh
migrated SQLite database: daily limits of 20 new / 200 reviews, the default steps (10m; no relearning step), the
user's study day from 04:00 in Asia/Shanghai, sibling and learn-ahead rules). The learner sits
down at 09:00 every day and studies until the queue is empty, waiting for learning cards.
- FSRS: answers go through `quiz.study.answer` exactly as the API's do (fuzz on).
- SM-2 baseline: Anki's variant (ease 2.5, graduating 1 d, easy 4 d, hard x1.2, easy bonus
  1.3, lapse: ease -0.2 and interval reset to 1 d after 10m relearning, overdue credit as in
  Anki), implemented here; it writes the same CardState/ReviewLog rows so the queue works
  unchanged.

Reported: retention at review (share of review-state cards recalled), minutes spent (8 s per
review, 20 s per new card), cards memorised at the end (sum of true R over all cards) and
memorised per minute; FSRS runs at the default desired retention 0.90 and, as a user could set
it, at 0.85 and 0.80 (`--retention`). Targets: retention within +-2 points of the desired one,
and memorised per minute >= 15% above SM-2; each FSRS run prints its own verdict.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from quiz import scheduling  # noqa: E402
from quiz.scheduling import NEW, RELEARNING, REVIEW, MemoryState, SchedulerConfig  # noqa: E402

FIRST_RATING = (0.24, 0.094, 0.495, 0.171)  # fsrs-rs default_simulator_config
RECALL_RATING = (0.224, 0.631, 0.145)  # Hard, Good, Easy when recalled
SECONDS_NEW, SECONDS_REVIEW = 20, 8
START = datetime(2025, 1, 6, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
# The learner's memory counts elapsed time in study days like FSRS does (same zone as the user).
LEARNER = SchedulerConfig(
    enable_fuzzing=False,
    learning_steps=(),
    relearning_steps=(),
    timezone="Asia/Shanghai",
    rollover_hour=4,
)


@dataclass
class Learner:
    """The simulated memory: true FSRS-6 state per card, and the dice."""

    seed: int
    truth: dict[int, MemoryState] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def recall_probability(self, card_id: int, now: datetime) -> float:
        state = self.truth.get(card_id)
        if state is None:
            return 0.0
        return scheduling.retrievability(state, now=now, config=LEARNER)

    def answer(self, card_id: int, now: datetime) -> tuple[int, bool | None]:
        """(rating, recalled) — recalled is None for a card seen for the first time."""
        if card_id not in self.truth:
            rating = self.rng.choices((1, 2, 3, 4), FIRST_RATING)[0]
            recalled = None
        else:
            recalled = self.rng.random() < self.recall_probability(card_id, now)
            rating = self.rng.choices((2, 3, 4), RECALL_RATING)[0] if recalled else 1
        # The memory itself moves by FSRS-6, whatever the scheduler did.
        self.truth[card_id], _ = scheduling.review(
            self.truth.get(card_id, MemoryState()), rating, now=now, config=LEARNER
        )
        return rating, recalled


@dataclass
class Tally:
    reviews: int = 0
    new: int = 0
    review_state_seen: int = 0
    review_state_recalled: int = 0
    expected_recall: float = 0.0
    seconds: int = 0
    max_day_reviews: int = 0


# ---------------------------------------------------------------------------------------------
# SM-2, Anki's variant, writing CardState/ReviewLog rows like the app's answers do


@dataclass
class Sm2Card:
    ease: float = 2.5
    interval: float = 0.0  # days


class Sm2:
    steps = (timedelta(minutes=1), timedelta(minutes=10))
    relearn = (timedelta(minutes=10),)

    def __init__(self) -> None:
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
            graduate_days: float | None = None
            if rating == 1:
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
                    graduate_days = 1.0 if phase == LEARNING_PHASE else max(1.0, sm.interval)
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
            sm.interval = 1.0  # new interval multiplier 0, minimum 1 day, after relearning
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


LEARNING_PHASE = -1


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


# ---------------------------------------------------------------------------------------------


def build_database(directory: Path, cards: int) -> tuple[Any, int, list[int]]:
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from quiz import accounts
    from quiz.db import db
    from quiz.models import Card, Document, Topic

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'sim.sqlite3'}", "SECRET_KEY": "sim"}
    )
    context = app.app_context()
    context.push()
    upgrade()
    user = accounts.create_user(db.session, "learner", "learner-password")
    doc = Document(path="sim.md", sha256="0" * 64)
    db.session.add(doc)
    db.session.flush()
    topic = Topic(document_id=doc.id, slug="sim", title="模拟", position=0)
    db.session.add(topic)
    db.session.flush()
    now = START
    db.session.execute(
        insert(Card),
        [
            {
                "key": f"sim/{i}",
                "kind": "question",
                "topic_id": topic.id,
                "sibling_key": f"sim/{i}",
                "position": i,
                "front_md": "",
                "back_md": "",
                "front_html": "",
                "back_html": "",
                "short_html": "",
                "created_at": now,
                "updated_at": now,
            }
            for i in range(cards)
        ],
    )
    db.session.commit()
    ids = list(db.session.scalars(select(Card.id).order_by(Card.id)))
    return context, user.id, ids


def run(
    name: str,
    days: int,
    cards: int,
    answer_with: str,
    seed: int,
    desired: float = 0.9,
    steps: tuple[str, str] | None = None,
) -> dict[str, Any]:
    from quiz import study
    from quiz.db import db

    with tempfile.TemporaryDirectory(prefix=f"sim-{name}-") as tmp:
        context, user_id, card_ids = build_database(Path(tmp), cards)
        try:
            # As a user would on the settings page; everything else stays at the defaults.
            settings = study.user_settings(db.session, user_id)
            settings.desired_retention = desired
            if steps is not None:
                settings.learning_steps, settings.relearning_steps = steps
            db.session.commit()
            learner = Learner(seed)
            tally = Tally()
            sm2 = Sm2()
            sm2_apply = sm2_answer(sm2) if answer_with == "sm2" else None
            session = db.session
            for day in range(days):
                now = START + timedelta(days=day)
                day_reviews = 0
                while True:
                    queue = study.study_queue(session, user_id, now=now)
                    if queue.card is None:
                        if queue.next_learning_due is None:
                            break
                        now = max(now, queue.next_learning_due - study.LEARN_AHEAD)
                        continue
                    card_id = queue.card.card.id
                    was = queue.card.state.state if queue.card.state else NEW
                    if was == REVIEW:
                        tally.expected_recall += learner.recall_probability(card_id, now)
                    rating, recalled = learner.answer(card_id, now)
                    if was == REVIEW:
                        tally.review_state_seen += 1
                        tally.review_state_recalled += bool(recalled)
                    cost = SECONDS_NEW if was == NEW else SECONDS_REVIEW
                    tally.new += was == NEW
                    tally.reviews += 1
                    day_reviews += 1
                    tally.seconds += cost
                    if sm2_apply is None:
                        study.answer(
                            session,
                            user_id,
                            card_id,
                            rating,
                            now=now,
                            version=queue.card.version,
                            duration_ms=cost * 1000,
                        )
                    else:
                        sm2_apply(session, user_id, card_id, rating, now=now)
                    now += timedelta(seconds=cost)
                session.commit()
                tally.max_day_reviews = max(tally.max_day_reviews, day_reviews)
            end = START + timedelta(days=days)
            memorised = sum(learner.recall_probability(c, end) for c in card_ids)
        finally:
            db.session.remove()
            db.engine.dispose()
            context.pop()
    minutes = tally.seconds / 60
    return {
        "scheduler": name,
        "desired_retention": desired,
        "answers": tally.reviews,
        "new_cards": tally.new,
        "review_state_answers": tally.review_state_seen,
        "retention_at_review": tally.review_state_recalled / max(1, tally.review_state_seen),
        "expected_retention_at_review": tally.expected_recall / max(1, tally.review_state_seen),
        "minutes": minutes,
        "memorised": memorised,
        "memorised_per_minute": memorised / minutes if minutes else math.nan,
        "busiest_day_answers": tally.max_day_reviews,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="300 cards, 120 days")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument(
        "--retention",
        type=float,
        nargs="+",
        default=[0.90, 0.85, 0.80],
        help="desired retentions to run FSRS at (the first is the app's default, 0.90)",
    )
    args = parser.parse_args()
    cards, days = (300, 120) if args.quick else (1000, 365)

    runs: list[tuple[str, dict[str, Any]]] = []
    for label, scheduler, desired in [
        ("SM-2 baseline", "sm2", 0.9),
        *((f"FSRS @ {r:.2f}", "fsrs", r) for r in args.retention),
    ]:
        t = time.perf_counter()
        result = run(scheduler, days, cards, scheduler, args.seed, desired)
        result["wall_seconds"] = time.perf_counter() - t
        runs.append((label, result))
    baseline = runs[0][1]
    print(
        f"{cards} cards, {days} days; learner: FSRS-6 default memory; app defaults otherwise "
        f"(20 new / 200 reviews a day, learning step 10m, no relearning step, fuzz on)"
    )
    print(f"{'':24}" + "".join(f"{label:>15}" for label, _ in runs))
    rows = [
        ("retention at review", "retention_at_review", "{:.3f}"),
        ("  expected (mean R)", "expected_retention_at_review", "{:.3f}"),
        ("answers", "answers", "{:d}"),
        ("minutes spent", "minutes", "{:.0f}"),
        ("cards memorised", "memorised", "{:.1f}"),
        ("memorised per minute", "memorised_per_minute", "{:.3f}"),
        ("busiest day (answers)", "busiest_day_answers", "{:d}"),
        ("wall time (s)", "wall_seconds", "{:.0f}"),
    ]
    for title, key, fmt in rows:
        print(f"{title:24}" + "".join(f"{fmt.format(r[key]):>15}" for _, r in runs))
    for label, result in runs[1:]:
        gain = result["memorised_per_minute"] / baseline["memorised_per_minute"] - 1
        retention_ok = abs(result["retention_at_review"] - result["desired_retention"]) <= 0.02
        result["gain_vs_sm2"] = gain
        result["targets_met"] = retention_ok and gain >= 0.15
        print(
            f"{label}: retention {result['retention_at_review']:.3f} vs desired "
            f"{result['desired_retention']:.2f} ({'within' if retention_ok else 'OUTSIDE'} "
            f"+-0.02); memorised per minute {gain:+.1%} vs SM-2 "
            f"({'meets' if gain >= 0.15 else 'below'} the +15% target)"
        )
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    payload = {"cards": cards, "days": days, "runs": {label: r for label, r in runs}}
    (out / "srs_simulation.json").write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
