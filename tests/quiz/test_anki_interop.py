"""Against the real Anki library (PyPI `anki`): our export imports into a fresh collection and
renders as the app renders it, and our intervals equal those of Anki's own scheduler.

Anki is driven, not quoted: each rating goes through `col.sched.answerCard`, and time moves
by ageing the card (its last review and due date pushed back by the interval it was given),
which is what waiting that long looks like to Anki's scheduler. Our side does the same to
its state, so both see the same elapsed time and the same day boundaries.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from anki import collection as anki_collection  # pinned in requirements-dev.txt
from flask import Flask

from quiz import apkg
from quiz.models import Card, Topic
from quiz.scheduling import (
    DEFAULT_PARAMETERS,
    LEARNING,
    RELEARNING,
    MemoryState,
    SchedulerConfig,
    review,
)
from quiz.study import scheduler_config, user_settings
from quiz.studyday import study_day
from tests.factories import make_user

# Our defaults (UserSettings): one 10-minute learning step, no relearning step.
LEARNING_STEPS_MIN = [10.0]
RELEARNING_STEPS_MIN: list[float] = []

# Rating sequences that exercise the button order (Good >= Hard + 1, Easy >= Good + 1), lapses
# with and without Anki's short-term rule (stability under half a day), and learning steps.
SEQUENCES = [
    (3, 3, 3, 3, 3),
    (3, 1, 3, 3, 3),
    (2, 2, 2, 2, 2),
    (4, 4, 4, 4),
    (3, 2, 3, 2, 3),
    (1, 3, 3, 1, 3, 3),
    (3, 3, 1, 1, 3, 3),
    (2, 3, 4, 2, 3),
    (4, 1, 2, 3, 4),
    (1, 1, 1, 3, 3, 3),
    (3, 4, 2, 1, 1, 3, 2, 4),
    (1, 2, 1, 4, 1, 1, 3),
]


@pytest.fixture
def anki(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """A fresh Anki collection with FSRS on, our steps, FSRS-6 defaults and retention 0.9
    (or the retention a test passes as the fixture's parameter).

    ANKI_TEST_MODE is Anki's own switch for its test suite: it turns review fuzz off. Anki's
    day boundaries follow the local zone: UTC, so years of ageing cross no DST change.
    """
    monkeypatch.setenv("ANKI_TEST_MODE", "1")
    monkeypatch.setenv("TZ", "UTC")  # read by Anki's Rust side
    col = anki_collection.Collection(str(tmp_path / "collection.anki2"))
    col.set_config("fsrs", True)
    # The next day starts 17-18 hours from now, whenever the suite runs, beyond the longest
    # (re)learning delay (under half a day): near the boundary the two still differ (a delay
    # that crosses it is whole days here, seconds in Anki), and a comparison must not depend
    # on the time of day CI happens to run at.
    col.set_config("rollover", (datetime.now(UTC).hour + 18) % 24)
    conf = col.decks.config_dict_for_deck_id(1)
    conf["new"]["delays"] = LEARNING_STEPS_MIN
    conf["lapse"]["delays"] = RELEARNING_STEPS_MIN
    conf["fsrsParams6"] = list(DEFAULT_PARAMETERS)
    conf["desiredRetention"] = getattr(request, "param", 0.9)
    col.decks.update_config(conf)
    try:
        yield col
    finally:
        col.close()


def _age(col: Any, card_id: int, ivl: int) -> None:
    """Make the card due now, as if `ivl` (revlog units: days > 0, -seconds < 0) had passed.

    A learning card given days waits until that day starts; a review card, whole days.
    """
    card = col.get_card(card_id)
    seconds = -ivl if ivl < 0 else ivl * 86400
    if card.queue == 3:  # (re)learning moved to a later day
        seconds = col.sched.day_cutoff + (ivl - 1) * 86400 - time.time()
    card.due = int(time.time()) if card.queue == 1 else col.sched.today
    card.last_review_time = int(card.last_review_time - seconds)
    col.update_card(card)


def anki_intervals(col: Any, ratings: tuple[int, ...]) -> tuple[list[int], list[float]]:
    """Anki's interval for each answer (revlog units), and the moment each answer was given."""
    note = col.new_note(col.models.by_name("Basic"))
    note["Front"], note["Back"] = "q", "a"
    col.add_note(note, 1)
    card_id = col.find_cards(f"nid:{note.id}")[0]
    intervals, moments = [], []
    for rating in ratings:
        card = col.get_card(card_id)
        card.start_timer()
        moments.append(time.time())
        col.sched.answerCard(card, rating)
        ivl = col.db.scalar(
            "select ivl from revlog where cid = ? order by id desc limit 1", card_id
        )
        intervals.append(ivl)
        _age(col, card_id, ivl)
    return intervals, moments


def app_intervals(
    ratings: tuple[int, ...], moments: list[float], config: SchedulerConfig
) -> list[int]:
    """Ours, in the revlog's units, answered at the same moments with the same ageing."""
    state = MemoryState()
    out = []
    for rating, moment in zip(ratings, moments, strict=True):
        state, log = review(state, rating, now=datetime.fromtimestamp(moment, UTC), config=config)
        if log.state_after in (LEARNING, RELEARNING) and log.interval < timedelta(hours=1):
            # Anki counts (re)learning delays in whole seconds from a float32 day count.
            out.append(-round(log.interval_seconds / 60) * 60)
        elif log.state_after in (LEARNING, RELEARNING):
            # Past the day's end: due when a later study day starts; Anki logs those days.
            days = study_day(state.due, config.timezone, config.rollover_hour) - study_day(
                log.reviewed_at, config.timezone, config.rollover_hour
            )
            out.append(days.days if days.days else -round(log.interval_seconds / 60) * 60)
        else:
            assert log.interval % timedelta(days=1) == timedelta(0)
            out.append(log.interval.days)
        assert state.due is not None and state.last_review is not None
        state = replace(
            state, due=state.due - log.interval, last_review=state.last_review - log.interval
        )
    return out


def _minutes(ivl: int) -> int:
    return -round(-ivl / 60) * 60 if ivl < 0 else ivl


@pytest.mark.parametrize("ratings", SEQUENCES, ids=lambda r: "".join(map(str, r)))
def test_intervals_equal_ankis(anki: Any, ratings: tuple[int, ...]) -> None:
    compare(anki, ratings, retention=0.9)


@pytest.mark.parametrize("anki", [0.8, 0.95], indirect=True, ids=["r80", "r95"])
@pytest.mark.parametrize(
    "ratings", SEQUENCES[:2] + SEQUENCES[10:], ids=lambda r: "".join(map(str, r))
)
def test_intervals_equal_ankis_at_other_retentions(anki: Any, ratings: tuple[int, ...]) -> None:
    compare(anki, ratings, retention=anki.decks.config_dict_for_deck_id(1)["desiredRetention"])


def compare(anki: Any, ratings: tuple[int, ...], *, retention: float) -> None:
    # Our default steps (checked below), fuzz off, and Anki's day boundary.
    cutoff = datetime.fromtimestamp(anki.sched.day_cutoff, UTC)
    assert cutoff.minute == 0, "Anki's day starts on the hour in this time zone"
    config = SchedulerConfig(
        desired_retention=retention,
        enable_fuzzing=False,
        learning_steps=tuple(timedelta(minutes=m) for m in LEARNING_STEPS_MIN),
        relearning_steps=tuple(timedelta(minutes=m) for m in RELEARNING_STEPS_MIN),
        timezone="UTC",
        rollover_hour=cutoff.hour,
    )
    theirs, moments = anki_intervals(anki, ratings)
    ours = app_intervals(ratings, moments, config)
    assert ours == [_minutes(i) for i in theirs]


def test_the_app_defaults_are_the_steps_compared(empty_app: Flask) -> None:
    """The comparison above is about what users get: our defaults are its steps."""
    from quiz.db import db

    user = make_user(db.session)
    config = scheduler_config(user_settings(db.session, user.id))
    assert config.learning_steps == tuple(timedelta(minutes=m) for m in LEARNING_STEPS_MIN)
    assert config.relearning_steps == ()
    assert config.desired_retention == 0.9 and config.parameters is None
    assert config.short_term


def test_export_imports_into_anki_and_renders_as_the_app(
    anki: Any, app: Flask, tmp_path: Path
) -> None:
    from anki.import_export_pb2 import ImportAnkiPackageRequest

    from quiz.db import db

    path = tmp_path / "deck.apkg"
    path.write_bytes(apkg.build_apkg(db.session, now=datetime(2026, 11, 30, tzinfo=UTC)))
    anki.import_anki_package(ImportAnkiPackageRequest(package_path=str(path)))
    live = {
        card.key: (card, topic)
        for card, topic in db.session.execute(
            db.select(Card, Topic)
            .join(Topic, Topic.id == Card.topic_id)
            .where(Card.retired.is_(False), Topic.retired.is_(False))
        )
    }
    card_ids = anki.find_cards("")
    assert len(card_ids) == len(live) > 30
    fronts = set()
    for card_id in card_ids:
        imported = anki.get_card(card_id)
        note = imported.note()
        ours, topic = live[note["Key"]]
        assert anki.decks.name(imported.did) == f"{apkg.DECK_NAME}::{topic.title}"
        rendered = imported.render_output(reload=True)
        assert rendered.question_text == f'<div class="topic">{topic.title}</div>{ours.front_html}'
        front = f'<div class="topic">{topic.title}</div>{ours.front_html}'
        assert rendered.answer_text == f'{front}<hr id="answer">{ours.back_html}'
        fronts.add(ours.front_html)
    assert len(fronts) == len(card_ids)  # every front tells its card apart, even out of context
