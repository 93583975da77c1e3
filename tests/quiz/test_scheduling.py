"""The pure scheduling module: fixed datetimes, fuzz off unless a test is about fuzz."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from quiz import scheduling
from quiz.scheduling import (
    LEARNING,
    NEW,
    RELEARNING,
    REVIEW,
    MemoryState,
    Rating,
    SchedulerConfig,
    interval_label,
    previews,
    review,
)

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
NO_FUZZ = SchedulerConfig(enable_fuzzing=False)
MINUTE, DAY = timedelta(minutes=1), timedelta(days=1)


def labels(state: MemoryState, now: datetime, config: SchedulerConfig = NO_FUZZ) -> dict[str, str]:
    return {
        r.name.lower(): interval_label(v.total_seconds())
        for r, v in previews(state, now=now, config=config).items()
    }


def graduated(now: datetime = T0) -> MemoryState:
    """A new card answered Good twice (1m/10m steps): in review, due in days."""
    first, _ = review(MemoryState(), Rating.GOOD, now=now, config=NO_FUZZ)
    second, _ = review(first, Rating.GOOD, now=now + 10 * MINUTE, config=NO_FUZZ)
    return second


def test_new_card_previews_follow_the_learning_steps() -> None:
    assert labels(MemoryState(), T0) == {
        "again": "1分钟",
        "hard": "6分钟",
        "good": "10分钟",
        "easy": "8天",
    }


def test_review_of_a_new_card_returns_new_state_and_log() -> None:
    before = MemoryState()
    after, log = review(before, Rating.GOOD, now=T0, config=NO_FUZZ)
    assert before == MemoryState()  # the input is not mutated
    assert (after.state, after.step, after.reps, after.lapses) == (LEARNING, 1, 1, 0)
    assert after.due == T0 + 10 * MINUTE and after.last_review == T0
    assert after.stability == pytest.approx(2.3065) and after.difficulty is not None
    assert (log.rating, log.reviewed_at, log.state_before, log.state_after) == (
        3,
        T0,
        NEW,
        LEARNING,
    )
    assert log.interval_seconds == 600 and not log.lapsed


def test_graduating_and_review_intervals_in_days() -> None:
    card = graduated()
    assert card.state == REVIEW and card.step is None and card.reps == 2
    assert card.due == T0 + 10 * MINUTE + 2 * DAY
    assert labels(card, card.due) == {
        "again": "10分钟",
        "hard": "8天",
        "good": "11天",
        "easy": "19天",
    }


def test_again_on_a_review_card_is_a_lapse_into_relearning() -> None:
    card = graduated()
    lapsed, log = review(card, Rating.AGAIN, now=card.due, config=NO_FUZZ)
    assert (lapsed.state, lapsed.step, lapsed.lapses, lapsed.reps) == (RELEARNING, 0, 1, 3)
    assert log.lapsed and log.state_before == REVIEW and log.state_after == RELEARNING
    assert lapsed.due == card.due + 10 * MINUTE
    assert lapsed.stability is not None and card.stability is not None
    assert lapsed.stability < card.stability
    back, log = review(lapsed, Rating.GOOD, now=lapsed.due, config=NO_FUZZ)
    assert back.state == REVIEW and not log.lapsed and back.lapses == 1


def test_again_in_learning_is_not_a_lapse() -> None:
    first, _ = review(MemoryState(), Rating.GOOD, now=T0, config=NO_FUZZ)
    again, log = review(first, Rating.AGAIN, now=first.due, config=NO_FUZZ)
    assert again.state == LEARNING and again.step == 0 and again.lapses == 0 and not log.lapsed


def test_previews_equal_the_answer_with_fuzz_on() -> None:
    config = SchedulerConfig()  # production: fuzz on, made deterministic by the seed
    card = graduated()
    for now in (card.due, card.due + 5 * DAY):
        shown = previews(card, now=now, config=config, fuzz_seed=1234)
        for rating, interval in shown.items():
            _, log = review(card, rating, now=now, config=config, fuzz_seed=1234)
            assert log.interval == interval


def test_fuzz_is_seeded_bounded_and_keeps_button_order() -> None:
    card = graduated()
    long_card = replace(card, stability=60.0)
    plain = previews(long_card, now=card.due, config=NO_FUZZ)[Rating.GOOD].days
    seen = set()
    for seed in range(200):
        fuzzed = previews(long_card, now=card.due, config=SchedulerConfig(), fuzz_seed=seed)
        # Anki's order holds after fuzz: Good >= Hard + 1 day, Easy >= Good + 1 day.
        assert fuzzed[Rating.HARD] + DAY <= fuzzed[Rating.GOOD]
        assert fuzzed[Rating.GOOD] + DAY <= fuzzed[Rating.EASY]
        # Fuzzed around the plain interval, or around Hard + 1 when that is larger (as Anki).
        centre = max(plain, fuzzed[Rating.HARD].days + 1)
        assert abs(fuzzed[Rating.GOOD].days - centre) <= 0.05 * centre + 3
        seen.add(fuzzed[Rating.GOOD].days)
        again = previews(long_card, now=card.due, config=SchedulerConfig(), fuzz_seed=seed)
        assert again == fuzzed
    assert len(seen) > 3  # it does spread


def test_fuzz_leaves_short_intervals_alone() -> None:
    assert scheduling.fuzz_days(1, 0.99) == 1 and scheduling.fuzz_days(2, 0.0) == 2
    assert 2 <= scheduling.fuzz_days(3, 0.0) <= scheduling.fuzz_days(3, 0.999) <= 5


def test_desired_retention_changes_review_intervals() -> None:
    card = graduated()
    low = previews(card, now=card.due, config=replace(NO_FUZZ, desired_retention=0.80))
    high = previews(card, now=card.due, config=replace(NO_FUZZ, desired_retention=0.95))
    assert low[Rating.GOOD] > high[Rating.GOOD]


def test_custom_parameters_are_used() -> None:
    params = list(scheduling.DEFAULT_PARAMETERS)
    params[2] = 10.0  # initial stability after Good
    custom = replace(NO_FUZZ, learning_steps=(), parameters=tuple(params))
    plain = replace(NO_FUZZ, learning_steps=())
    _, with_custom = review(MemoryState(), Rating.GOOD, now=T0, config=custom)
    _, with_default = review(MemoryState(), Rating.GOOD, now=T0, config=plain)
    assert with_custom.interval > with_default.interval


def test_config_without_steps_goes_straight_to_days() -> None:
    drill = NO_FUZZ.without_steps()
    card, log = review(MemoryState(), Rating.AGAIN, now=T0, config=drill)
    assert card.state == REVIEW and log.interval == DAY
    card, log = review(MemoryState(), Rating.GOOD, now=T0, config=drill)
    assert card.state == REVIEW and log.interval == 2 * DAY


def test_retrievability_at_the_due_date_is_the_desired_retention() -> None:
    card = replace(graduated(), stability=30.0)
    after, _ = review(card, Rating.GOOD, now=card.due, config=NO_FUZZ)
    r = scheduling.retrievability(after, now=after.due, config=NO_FUZZ)
    assert r == pytest.approx(0.9, abs=0.01)
    assert scheduling.retrievability(MemoryState(), now=T0) == 0.0


def test_times_must_be_aware_and_are_normalised_to_utc() -> None:
    with pytest.raises(ValueError):
        review(MemoryState(), Rating.GOOD, now=datetime(2025, 3, 1, 9), config=NO_FUZZ)
    shanghai = T0.astimezone(ZoneInfo("Asia/Shanghai"))
    card, _ = review(MemoryState(), Rating.GOOD, now=shanghai, config=NO_FUZZ)
    assert card.last_review == T0 and card.due.tzinfo == UTC


def test_rating_outside_one_to_four_is_refused() -> None:
    for bad in (0, 5):
        with pytest.raises(ValueError):
            review(MemoryState(), bad, now=T0, config=NO_FUZZ)


@pytest.mark.parametrize(
    ("seconds", "label"),
    [
        (1, "1分钟"),
        (60, "1分钟"),
        (330, "6分钟"),
        (600, "10分钟"),
        (3599, "1小时"),
        (3600, "1小时"),
        (5 * 3600, "5小时"),
        (86399, "1天"),
        (86400, "1天"),
        (3 * 86400, "3天"),
        (29 * 86400, "29天"),
        (30 * 86400, "1.0月"),
        (63 * 86400, "2.1月"),
        (364 * 86400, "12.1月"),
        (365 * 86400, "1.0年"),
        (548 * 86400, "1.5年"),
    ],
)
def test_interval_labels_in_chinese(seconds: float, label: str) -> None:
    assert interval_label(seconds) == label


def test_parse_and_format_steps() -> None:
    assert scheduling.parse_steps("1m 10m") == (MINUTE, 10 * MINUTE)
    assert scheduling.parse_steps(" 30s, 1h，1d ") == (
        timedelta(seconds=30),
        timedelta(hours=1),
        DAY,
    )
    assert scheduling.parse_steps("5") == (5 * MINUTE,)
    assert scheduling.parse_steps("") == ()
    assert scheduling.format_steps((MINUTE, 10 * MINUTE, timedelta(hours=2), DAY)) == "1m 10m 2h 1d"
    assert scheduling.format_steps(scheduling.parse_steps("90s")) == "90s"


@pytest.mark.parametrize("text", ["abc", "10x", "0m", "2d", "-1m", " ".join(["1m"] * 11)])
def test_bad_steps_say_why_in_chinese(text: str) -> None:
    with pytest.raises(ValueError) as error:
        scheduling.parse_steps(text)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(error.value))


def test_elapsed_time_counts_in_study_days_not_24_hour_spans() -> None:
    """Answered, then again 23 h 59 min later on the next study day: one day, as Anki counts."""
    config = replace(NO_FUZZ, timezone="Asia/Shanghai", rollover_hour=4)
    card = replace(graduated(), stability=1.0, last_review=T0)  # T0 is 17:00 in Shanghai
    next_morning = T0 + timedelta(hours=23, minutes=59)
    late_same_day = T0 + timedelta(hours=10)  # 03:00 local: still the same study day
    assert scheduling.elapsed_days(T0, next_morning, config) == 1
    assert scheduling.elapsed_days(T0, late_same_day, config) == 0
    grown, _ = review(card, Rating.GOOD, now=next_morning, config=config)
    short, _ = review(card, Rating.GOOD, now=late_same_day, config=config)
    assert grown.stability is not None and short.stability is not None
    assert grown.stability > 3 * short.stability  # long-term growth, not the same-day bump
    assert grown.last_review == next_morning  # the real time is kept


def test_unusable_parameters_fall_back_to_defaults() -> None:
    good = list(scheduling.DEFAULT_PARAMETERS)
    assert scheduling.valid_parameters(good) == tuple(good)
    assert scheduling.valid_parameters(good[:19]) is None  # FSRS-5 has 19
    assert scheduling.valid_parameters([*good[:20], 5.0]) is None  # out of bounds
    assert scheduling.valid_parameters(None) is None and scheduling.valid_parameters("x") is None


# Our defaults (UserSettings): one 10-minute learning step, no relearning step.
DEFAULTS = replace(NO_FUZZ, learning_steps=(10 * MINUTE,), relearning_steps=())


def answer_each_when_due(ratings: list[int], config: SchedulerConfig = DEFAULTS) -> list:
    state, now, out = MemoryState(), T0, []
    for rating in ratings:
        state, log = review(state, rating, now=now, config=config)
        out.append(log)
        now = state.due
    return out


def test_buttons_keep_ankis_order_after_a_lapse() -> None:
    """3,1,3,3,3: fsrs alone gives Hard = Good after the lapse, and then drifts (2d 1d 2d 6d
    15d); with Anki's rule Good >= Hard + 1 the card follows Anki: 2d 1d 3d 7d 17d."""
    logs = answer_each_when_due([3, 1, 3, 3, 3])
    assert [log.interval.days for log in logs] == [2, 1, 3, 7, 17]
    lapsed, _ = review(MemoryState(), 3, now=T0, config=DEFAULTS)
    lapsed, _ = review(lapsed, 1, now=lapsed.due, config=DEFAULTS)
    shown = previews(lapsed, now=lapsed.due, config=DEFAULTS)
    assert shown[Rating.HARD] + DAY <= shown[Rating.GOOD]
    assert shown[Rating.GOOD] + DAY <= shown[Rating.EASY]


def test_a_short_lapse_waits_stability_times_1440_minutes() -> None:
    """A lapse whose new stability is under half a day stays in relearning for that long (as
    Anki does without relearning steps) instead of being rounded up to a whole day."""
    logs = answer_each_when_due([1, 2, 1, 4, 1, 1, 3])
    last_lapse = logs[4]
    assert last_lapse.state_before == REVIEW and last_lapse.state_after == RELEARNING
    assert last_lapse.lapsed and round(last_lapse.interval_seconds / 60) == 139  # Anki: 139m
    state, now = MemoryState(), T0
    for rating in [1, 2, 1, 4, 1]:
        state, log = review(state, rating, now=now, config=DEFAULTS)
        now = state.due
    assert state.stability is not None and state.stability < 0.5
    # stability x 1440 minutes (the state keeps 4 decimals of it, the interval all of them)
    expected = scheduling.fsrs_interval(state.stability, DEFAULTS) * 86400
    assert abs(log.interval_seconds - expected) < 10
    # With relearning steps, the steps decide (no short-term rule).
    steps = replace(DEFAULTS, relearning_steps=(10 * MINUTE,))
    assert answer_each_when_due([1, 2, 1, 4, 1], steps)[-1].interval == 10 * MINUTE


def test_a_learning_delay_past_the_study_day_waits_for_the_next_day() -> None:
    late = datetime(2025, 3, 1, 23, 55, tzinfo=UTC)  # the study day ends at midnight (UTC, 0h)
    state, log = review(MemoryState(), Rating.AGAIN, now=late, config=DEFAULTS)
    assert state.state == LEARNING and state.due == datetime(2025, 3, 2, tzinfo=UTC)
    assert log.interval == timedelta(minutes=5)
    # The same answer at noon keeps its ten minutes.
    state, _ = review(MemoryState(), Rating.AGAIN, now=T0, config=DEFAULTS)
    assert state.due == T0 + 10 * MINUTE


def test_drill_cards_go_straight_to_days() -> None:
    drills = DEFAULTS.without_steps()
    for log in answer_each_when_due([1, 1, 2, 1, 3], drills):
        assert log.interval % DAY == timedelta(0) and log.interval >= DAY


def test_fuzz_never_shortens_a_growing_interval_below_the_last_one() -> None:
    """As in Anki: when the plain interval grew past the last one, fuzz stays above it."""
    card = MemoryState(state=REVIEW, stability=12.0, difficulty=5.0, last_review=T0, reps=3)
    now = T0 + 11 * DAY
    hard = previews(replace(card, due=now), now=now, config=NO_FUZZ)[Rating.HARD].days
    # The last interval was one day short of what Hard gives now (the card came early).
    card = replace(card, due=T0 + (hard - 1) * DAY)
    assert previews(card, now=now, config=NO_FUZZ)[Rating.HARD].days == hard
    lows = set()
    for seed in range(300):
        fuzzed = previews(card, now=now, config=SchedulerConfig(), fuzz_seed=seed)
        assert fuzzed[Rating.HARD] >= hard * DAY
        assert fuzzed[Rating.HARD] + DAY <= fuzzed[Rating.GOOD]
        assert fuzzed[Rating.GOOD] + DAY <= fuzzed[Rating.EASY]
        lows.add(fuzzed[Rating.HARD].days)
    assert min(lows) == hard and len(lows) > 1  # fuzzed upwards only
