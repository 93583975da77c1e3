"""FSRS-6 scheduling as pure functions: no Flask, no database, no clock reads.

The `fsrs` package does the memory model; this module adds what the app needs around it:
our NEW state (a card never answered), rep and lapse counts, deterministic fuzz (so the
interval shown on a button is exactly the interval the answer gets), and Chinese labels.

Intervals follow Anki's FSRS scheduler, so a card behaves as Anki users expect (checked
against the real `anki` package in tests/quiz/test_anki_interop.py):
- Button order: on a review card Hard >= 1 day, Good >= Hard + 1, Easy >= Good + 1; from
  (re)learning, Easy >= Good + 1. fsrs alone can show Hard = Good and then drift.
- Short lapses: without relearning steps, an answer whose FSRS interval is under half a day
  keeps the card in (re)learning for that interval (stability x 1440 minutes at 90 %
  retention, say 315 minutes) instead of rounding it up to a whole day.
- A (re)learning delay that ends after the study day is due when a later study day starts.
- Rounding is half away from zero; fuzz keeps each button's lower bound; the memory state is
  kept to 4 (stability) and 3 (difficulty) decimals, as Anki stores it.
`previews` runs `review`'s own code for all four buttons, so the buttons never lie.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from functools import lru_cache

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from fsrs import Card as FsrsCard
from fsrs import Rating as FsrsRating
from fsrs import Scheduler
from fsrs import State as FsrsState
from fsrs.scheduler import (
    DEFAULT_PARAMETERS,
    FUZZ_RANGES,
    LOWER_BOUNDS_PARAMETERS,
    UPPER_BOUNDS_PARAMETERS,
)

from quiz.studyday import day_bounds, study_day

# Same numbers as quiz.models (0 is ours: never answered; 1-3 are FSRS's).
NEW, LEARNING, REVIEW, RELEARNING = 0, 1, 2, 3
STATE_NAMES = {NEW: "new", LEARNING: "learning", REVIEW: "review", RELEARNING: "relearning"}


class Rating(IntEnum):
    AGAIN = 1
    HARD = 2
    GOOD = 3
    EASY = 4


RATING_NAMES: dict[int, str] = {
    Rating.AGAIN: "again",
    Rating.HARD: "hard",
    Rating.GOOD: "good",
    Rating.EASY: "easy",
}
# What the user sees on the buttons, in the CSV and in messages (the pages pass them to the JS).
RATING_LABELS: dict[int, str] = {
    Rating.AGAIN: _l("重来"),
    Rating.HARD: _l("困难"),
    Rating.GOOD: _l("良好"),
    Rating.EASY: _l("简单"),
}
STATE_LABELS: dict[int, str] = {
    NEW: _l("新卡"),
    LEARNING: _l("学习中"),
    REVIEW: _l("复习"),
    RELEARNING: _l("重新学习"),
}


def parse_rating(value: object) -> Rating | None:
    """The rating a JSON value names, or None (booleans are not ratings, though they are ints)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4:
        return None
    return Rating(value)


# fsrs's own defaults, for a bare SchedulerConfig. Users start from UserSettings' defaults.
DEFAULT_LEARNING_STEPS = (timedelta(minutes=1), timedelta(minutes=10))
DEFAULT_RELEARNING_STEPS = (timedelta(minutes=10),)
MIN_RETENTION, MAX_RETENTION = 0.70, 0.97
MAX_STEPS = 10


@dataclass(frozen=True)
class SchedulerConfig:
    """Everything that shapes an interval. Hashable, so built schedulers can be cached."""

    desired_retention: float = 0.9
    learning_steps: tuple[timedelta, ...] = DEFAULT_LEARNING_STEPS
    relearning_steps: tuple[timedelta, ...] = DEFAULT_RELEARNING_STEPS
    parameters: tuple[float, ...] | None = None  # None: FSRS-6 defaults
    maximum_interval: int = 36500
    enable_fuzzing: bool = True
    # Anki's short-term rule (see `_short_term`); off for drills, which go straight to days.
    short_term: bool = True
    # Elapsed time counts in the user's study days (as Anki and fsrs-rs count it), not in
    # 24-hour spans: a card answered at 09:00 and again at 08:59 the next day is a day later.
    # A bare config (pure tests, simulations) counts UTC days; a user's config always carries
    # the user's zone (`quiz.study.scheduler_config`), whose fallback is `studyday`'s default.
    timezone: str = "UTC"
    rollover_hour: int = 0

    def without_steps(self) -> SchedulerConfig:
        """For drill cards: the drill itself is the short-term practice, so go straight to days."""
        return replace(self, learning_steps=(), relearning_steps=(), short_term=False)


@dataclass(frozen=True)
class MemoryState:
    """One card's scheduling state for one user (mirrors the CardState columns)."""

    state: int = NEW
    step: int | None = None
    stability: float | None = None
    difficulty: float | None = None
    due: datetime | None = None
    last_review: datetime | None = None
    reps: int = 0
    lapses: int = 0


@dataclass(frozen=True)
class ReviewOutcome:
    """What one answer did: the log row's facts."""

    rating: int
    reviewed_at: datetime
    state_before: int
    state_after: int
    interval: timedelta = field(compare=False)
    lapsed: bool

    @property
    def interval_seconds(self) -> int:
        return int(self.interval.total_seconds())


def valid_parameters(parameters: object) -> tuple[float, ...] | None:
    """The 21 FSRS-6 weights if they are usable by fsrs, else None (use the defaults)."""
    if not isinstance(parameters, list | tuple) or len(parameters) != len(DEFAULT_PARAMETERS):
        return None
    try:
        values = tuple(float(p) for p in parameters)
    except (TypeError, ValueError):
        return None
    bounds = zip(values, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS, strict=True)
    return values if all(low <= v <= high for v, low, high in bounds) else None


@lru_cache(maxsize=128)
def _scheduler(config: SchedulerConfig) -> Scheduler:
    # Fuzz is applied by this module (seeded per card), never by fsrs's global `random`.
    return Scheduler(
        parameters=config.parameters or DEFAULT_PARAMETERS,
        desired_retention=config.desired_retention,
        learning_steps=config.learning_steps,
        relearning_steps=config.relearning_steps,
        maximum_interval=config.maximum_interval,
        enable_fuzzing=False,
    )


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware UTC time")
    # fsrs insists on tzinfo == timezone.utc exactly (ZoneInfo("UTC") is refused).
    return moment.astimezone(UTC)


def elapsed_days(last_review: datetime, now: datetime, config: SchedulerConfig) -> int:
    """Whole study days between two answers (0 on the same study day)."""
    days = study_day(now, config.timezone, config.rollover_hour) - study_day(
        last_review, config.timezone, config.rollover_hour
    )
    return max(0, days.days)


def _to_fsrs(state: MemoryState, now: datetime, config: SchedulerConfig) -> FsrsCard:
    if state.state == NEW:
        return FsrsCard(card_id=0, state=FsrsState.Learning, step=0, due=now)
    last = None
    if state.last_review is not None:
        # fsrs counts (now - last_review).days; hand it the study-day count instead.
        last = now - timedelta(days=elapsed_days(_utc(state.last_review), now, config))
    return FsrsCard(
        card_id=0,
        state=FsrsState(state.state),
        step=state.step,
        stability=state.stability,
        difficulty=state.difficulty,
        due=_utc(state.due) if state.due else now,
        last_review=last,
    )


def round_days(days: float) -> int:
    """Round half away from zero, as Anki does (Rust's `f32::round`); Python's round() goes
    to the even neighbour, which would make 2.5 days two days here and three in Anki."""
    return math.floor(days + 0.5)


def _places(value: float | None, places: int) -> float | None:
    if value is None:
        return None
    scale = 10.0**places
    return round_days(value * scale) / scale


def fuzz_days(days: float, factor: float, maximum_interval: int = 36500, minimum: int = 1) -> int:
    """Spread a review interval over FSRS's fuzz range; `factor` in [0, 1) picks the point.

    The range is first kept within [minimum, maximum_interval] (as Anki's fuzz does), so a
    button's lower bound (say, Good >= Hard + 1) survives the fuzz.
    """
    minimum = min(max(minimum, 1), maximum_interval)
    days = min(max(days, float(minimum)), float(maximum_interval))
    if days < 2.5:
        return round_days(days)
    delta = 1.0
    for band in FUZZ_RANGES:
        delta += band["factor"] * max(min(days, band["end"]) - band["start"], 0.0)
    low = min(max(max(2, round_days(days - delta)), minimum), maximum_interval)
    high = min(max(round_days(days + delta), minimum), maximum_interval)
    if high == low and 2 < high < maximum_interval:
        high = low + 1
    return low + min(int(factor * (high - low + 1)), high - low)


def fuzz_factor(seed: int) -> float:
    """The fuzz point of one card at one rep: the same for the preview and the answer."""
    return random.Random(seed).random()


def fsrs_interval(stability: float, config: SchedulerConfig) -> float:
    """FSRS's interval in days (unrounded) at which recall falls to the desired retention."""
    decay = -float(_scheduler(config).parameters[20])
    factor = 0.9 ** (1 / decay) - 1
    return float(stability / factor * (config.desired_retention ** (1 / decay) - 1))


class _Answers:
    """fsrs's raw result for each rating of one card at one moment, computed when first asked.

    The buttons depend on each other (Good >= Hard + 1 ...), so one answer may need the
    others' intervals; `previews` shares one instance across the four buttons.
    """

    def __init__(self, state: MemoryState, now: datetime, config: SchedulerConfig) -> None:
        self.state, self.now, self.config = state, now, config
        self._before: FsrsCard | None = None
        self._cards: dict[Rating, FsrsCard] = {}

    def card(self, rating: Rating) -> FsrsCard:
        if rating not in self._cards:
            if self._before is None:  # fsrs copies the card it is given: one serves all four
                self._before = _to_fsrs(self.state, self.now, self.config)
            self._cards[rating] = _scheduler(self.config).review_card(
                self._before, FsrsRating(int(rating)), self.now
            )[0]
        return self._cards[rating]

    def interval(self, rating: Rating) -> float:
        stability = self.card(rating).stability
        assert stability is not None  # fsrs sets it on every answer
        return fsrs_interval(stability, self.config)


def _short_term(before: int, rating: Rating, days: float, config: SchedulerConfig) -> bool:
    """Anki keeps a card in (re)learning for `days` x 1440 minutes, instead of rounding up to
    a whole day, when it leaves its steps (or has none) with an FSRS interval under half a day."""
    if not config.short_term or days >= 0.5 or rating == Rating.EASY:
        return False
    if before == REVIEW:
        return rating == Rating.AGAIN and not config.relearning_steps
    if before == RELEARNING:
        return not config.relearning_steps
    return not config.learning_steps


def _review_days(answers: _Answers, rating: Rating, factor: float | None) -> int:
    """Whole days for an answer that leaves the steps, with Anki's button order:
    on a review card Hard >= 1, Good >= Hard + 1, Easy >= Good + 1; from (re)learning
    Easy >= Good + 1. With fuzz, an interval that grew never fuzzes below the last one + 1."""
    config, state = answers.config, answers.state
    maximum = config.maximum_interval

    def constrain(days: float, minimum: int, fuzz: bool = True) -> int:
        minimum = min(max(minimum, 1), maximum)
        if factor is None or not fuzz:
            return min(max(round_days(days), minimum), maximum)
        return fuzz_days(days, factor, maximum, minimum)

    if state.state == REVIEW and rating == Rating.AGAIN:
        return constrain(answers.interval(rating), 1, fuzz=False)  # Anki fuzzes lapses later
    if state.state == REVIEW:
        last = 0
        if state.due is not None and state.last_review is not None:
            last = round_days((_utc(state.due) - _utc(state.last_review)) / timedelta(days=1))

        def above_last(days: float) -> int:
            return last + 1 if round_days(days) > last else 0

        minimum = 1
        for button in (Rating.HARD, Rating.GOOD, Rating.EASY):
            days = answers.interval(button)
            chosen = constrain(days, max(above_last(days), minimum))
            if button == rating:
                return chosen
            minimum = chosen + 1
    if rating == Rating.EASY:
        good = constrain(answers.interval(Rating.GOOD), 1)
        return constrain(round_days(answers.interval(Rating.EASY)), good + 1)
    return constrain(answers.interval(rating), 1)


def _answer(answers: _Answers, rating: Rating, fuzz_seed: int) -> tuple[MemoryState, ReviewOutcome]:
    state, now, config = answers.state, answers.now, answers.config
    card = answers.card(rating)
    phase, step, due = int(card.state), card.step, card.due
    if card.state == FsrsState.Review:
        days = answers.interval(rating)
        if _short_term(state.state, rating, days, config):
            phase = RELEARNING if state.state in (REVIEW, RELEARNING) else LEARNING
            step = 0
            due = now + timedelta(seconds=int(days * 86400))
        else:
            factor = fuzz_factor(fuzz_seed) if config.enable_fuzzing else None
            due = now + timedelta(days=_review_days(answers, rating, factor))
    if phase in (LEARNING, RELEARNING):
        due = _day_learning_due(now, due, config)
    lapsed = state.state == REVIEW and rating == Rating.AGAIN
    new_state = MemoryState(
        state=phase,
        step=step,
        # Stored as Anki stores them (4 and 3 decimals), so long runs do not drift apart.
        stability=_places(card.stability, 4),
        difficulty=_places(card.difficulty, 3),
        due=due,
        last_review=now,
        reps=state.reps + 1,
        lapses=state.lapses + (1 if lapsed else 0),
    )
    outcome = ReviewOutcome(
        rating=int(rating),
        reviewed_at=now,
        state_before=state.state,
        state_after=phase,
        interval=due - now,
        lapsed=lapsed,
    )
    return new_state, outcome


def _day_learning_due(now: datetime, due: datetime, config: SchedulerConfig) -> datetime:
    """A (re)learning delay that ends after today's study day ends is due at the start of a
    later study day, counted as Anki counts it, rather than at the same minute tomorrow."""
    today = study_day(now, config.timezone, config.rollover_hour)
    end = day_bounds(today, config.timezone, config.rollover_hour)[1]
    if due < end:
        return due
    days = (due - end) // timedelta(days=1) + 1
    return day_bounds(today + timedelta(days=days), config.timezone, config.rollover_hour)[0]


def review(
    state: MemoryState,
    rating: int,
    *,
    now: datetime,
    config: SchedulerConfig = SchedulerConfig(),
    fuzz_seed: int = 0,
) -> tuple[MemoryState, ReviewOutcome]:
    """Answer a card: the new state and the facts for the review log. Pure."""
    return _answer(_Answers(state, _utc(now), config), Rating(rating), fuzz_seed)


def previews(
    state: MemoryState,
    *,
    now: datetime,
    config: SchedulerConfig = SchedulerConfig(),
    fuzz_seed: int = 0,
) -> dict[Rating, timedelta]:
    """The interval each of the four buttons would give: `review`'s own code, one fsrs pass."""
    answers = _Answers(state, _utc(now), config)
    return {r: _answer(answers, r, fuzz_seed)[1].interval for r in Rating}


def retrievability(
    state: MemoryState, *, now: datetime, config: SchedulerConfig = SchedulerConfig()
) -> float:
    """Predicted probability of recall at `now` (0 for a card never answered)."""
    if state.state == NEW:
        return 0.0
    return card_retrievability(
        state.stability, state.last_review, now, _scheduler(config).parameters[20]
    )


_DAY = timedelta(days=1)


def card_retrievability(
    stability: float | None, last_review: datetime | None, now: datetime, decay: float
) -> float:
    """FSRS-6 probability of recall at `now`; 0 for a card never reviewed (as py-fsrs answers).

    The one retrievability of the app (study, interviews and the dashboard). Elapsed time is
    counted in fractional days, where py-fsrs's `get_card_retrievability` counts whole days:
    the two agree when a whole number of days has passed. `decay` is w20 (positive).
    """
    if stability is None or last_review is None or stability <= 0:
        return 0.0
    if now.tzinfo is None or last_review.tzinfo is None:
        raise ValueError("naive datetime: pass an aware UTC time")
    elapsed = (now - last_review) / _DAY  # aware datetimes subtract in UTC whatever their zone
    return forgetting_curve(elapsed if elapsed > 0 else 0.0, stability, decay)


def forgetting_curve(elapsed_days: float, stability: float, decay: float) -> float:
    """FSRS-6's probability of recall after `elapsed_days`; `decay` is w20 (positive)."""
    return float((1 + curve_factor(decay) * elapsed_days / stability) ** -decay)


def curve_factor(decay: float) -> float:
    """The forgetting curve's scale: R(t) = (1 + factor * t / S) ** -decay, so that R(S) = 0.9.

    Shared with the dashboard's SQL (quiz.progress.curve), which evaluates the same curve."""
    return float(0.9 ** (-1 / decay) - 1)


def interval_label(seconds: float, gettext: Callable[..., str] = _) -> str:
    """Chinese label for a button: "1分钟", "10分钟", "5小时", "3天", "2.1月", "1.5年".

    `gettext` translates: the request's own (flask_babel's, which resolves the locale and the
    domain again on every call) unless the caller looked the catalogue up once for all four.
    """
    _ = gettext
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return str(_("%(minutes)s分钟", minutes=minutes))
    hours = round(seconds / 3600)
    if hours < 24:
        return str(_("%(hours)s小时", hours=hours))
    days = round(seconds / 86400)
    if days < 30:
        return str(_("%(days)s天", days=days))
    if days < 365:
        return str(_("%(days_30)s月", days_30=format(days / 30, ".1f")))
    return str(_("%(days_365)s年", days_365=format(days / 365, ".1f")))


_STEP_RE = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "": 60}


def parse_steps(text: str) -> tuple[timedelta, ...]:
    """Parse "1m 10m" (units s/m/h/d; bare numbers are minutes). ValueError says why, in Chinese."""
    steps = []
    for token in re.split(r"[\s,，]+", text.strip().lower()):
        if not token:
            continue
        match = _STEP_RE.match(token)
        if not match:
            raise ValueError(
                _("无法识别“%(token)s”：请写成 1m、10m、1h 这样的形式，用空格分隔。", token=token)
            )
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        if not 1 <= seconds <= 86400 or not math.isfinite(seconds):
            raise ValueError(
                _("步长“%(token)s”超出范围：每一步需在 1 秒到 1 天之间。", token=token)
            )
        steps.append(timedelta(seconds=round(seconds)))
    if len(steps) > MAX_STEPS:
        raise ValueError(_("最多 %(MAX_STEPS)s 个步长。", MAX_STEPS=MAX_STEPS))
    return tuple(steps)


def format_steps(steps: tuple[timedelta, ...]) -> str:
    """The inverse of parse_steps, in the largest exact unit."""
    out = []
    for step in steps:
        seconds = int(step.total_seconds())
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
            if seconds % size == 0:
                out.append(f"{seconds // size}{unit}")
                break
    return " ".join(out)
