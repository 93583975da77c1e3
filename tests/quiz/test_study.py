"""Study services: the queue's rules, answering, undo, leeches, suspend/bury, drill reviews."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from quiz import study
from quiz.models import (
    STATE_LEARNING,
    STATE_NEW,
    STATE_RELEARNING,
    STATE_REVIEW,
    Card,
    CardState,
    Document,
    ReviewLog,
    Topic,
)

# 09:00 in Shanghai (the default zone), well inside the study day of 2025-03-03.
T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
MINUTE, DAY = timedelta(minutes=1), timedelta(days=1)


def make_topic(
    session: Any, specs: list[tuple[str, str]], slug: str = "study-test"
) -> tuple[int, list[Card]]:
    """A topic of our own with cards (kind, sibling_key), in this order."""
    doc = Document(path=f"{slug}.md", sha256="0" * 64)
    session.add(doc)
    session.flush()
    topic = Topic(document_id=doc.id, slug=slug, title=f"测试主题 {slug}", position=100)
    session.add(topic)
    session.flush()
    cards = []
    for i, (kind, sibling) in enumerate(specs):
        card = Card(
            key=f"{slug}/{i}",
            kind=kind,
            topic_id=topic.id,
            sibling_key=sibling,
            position=i,
            front_md=f"问题 {i}",
            back_md=f"答案 {i}",
            front_html=f"<p>问题 {i}</p>",
            back_html=f"<p>答案 {i}</p>",
            short_html=f"<p>短答 {i}</p>" if kind == "question" else "",
            drill_id=f"drill{i}" if kind == "drill" else None,
        )
        session.add(card)
        cards.append(card)
    session.commit()
    return topic.id, cards


@pytest.fixture(autouse=True)
def anki_steps(session: Any, user: Any) -> None:
    """Learning and relearning steps, so the queue's learning-card rules have cards to act on
    (the app's default is a single 10m step and no relearning step)."""
    configure(session, user, learning_steps="1m 10m", relearning_steps="10m")


def configure(session: Any, user: Any, **values: Any) -> None:
    settings = study.user_settings(session, user.id)
    for name, value in values.items():
        setattr(settings, name, value)
    session.commit()


def review_state(session: Any, user: Any, card: Card, *, due: datetime, **extra: Any) -> CardState:
    """A card already in review: stability 10 days, last seen 10 days before `due`."""
    values: dict[str, Any] = {
        "state": STATE_REVIEW,
        "stability": 10.0,
        "difficulty": 5.0,
        "due": due,
        "last_review": due - 10 * DAY,
        "reps": 3,
        "lapses": 0,
        "suspended": False,
        "leech": False,
        "version": 0,
        **extra,
    }
    state = CardState(user_id=user.id, card_id=card.id, **values)
    session.add(state)
    session.commit()
    return state


def next_id(session: Any, user: Any, now: datetime, topic_id: int | None) -> int | None:
    queue = study.study_queue(session, user.id, now=now, topic_id=topic_id)
    return queue.card.card.id if queue.card else None


def drain(session: Any, user: Any, now: datetime, topic_id: int, rating: int = 3) -> list[int]:
    """Answer whatever the queue offers until it is empty (time frozen)."""
    seen = []
    for _ in range(100):
        queue = study.study_queue(session, user.id, now=now, topic_id=topic_id)
        if queue.card is None or queue.card.queue == "learning":
            return seen
        seen.append(queue.card.card.id)
        study.answer(
            session,
            user.id,
            queue.card.card.id,
            rating,
            now=now,
            version=queue.card.version,
            fuzz=False,
        )
        session.commit()
    raise AssertionError("queue never ran out")


def logs(session: Any, user_id: int | None = None) -> int:
    stmt = select(func.count()).select_from(ReviewLog)
    if user_id is not None:
        stmt = stmt.where(ReviewLog.user_id == user_id)
    return session.scalar(stmt)


# --- the queue --------------------------------------------------------------------------------


def test_new_cards_in_document_order_up_to_the_daily_limit(session, user) -> None:
    topic_id, cards = make_topic(session, [("question", f"s{i}") for i in range(6)])
    configure(session, user, new_per_day=4)
    queue = study.study_queue(session, user.id, now=T0, topic_id=topic_id)
    assert queue.counts == study.Counts(new=4, learning=0, review=0)
    assert drain(session, user, T0, topic_id) == [c.id for c in cards[:4]]
    queue = study.study_queue(session, user.id, now=T0, topic_id=topic_id)
    assert queue.counts.new == 0 and queue.done_today == 4
    # The next study day brings the rest.
    assert next_id(session, user, T0 + DAY, topic_id) in {cards[0].id, cards[4].id}


def test_learning_then_reviews_then_new(session, user) -> None:
    topic_id, cards = make_topic(session, [("question", f"s{i}") for i in range(3)])
    review_state(session, user, cards[2], due=T0 - DAY)
    study.answer(
        session, user.id, cards[1].id, 1, now=T0 - 2 * MINUTE, fuzz=False
    )  # learning, due in 1m
    session.commit()
    order = []
    for _ in range(3):
        queue = study.study_queue(session, user.id, now=T0, topic_id=topic_id)
        assert queue.card is not None
        order.append((queue.card.queue, queue.card.card.id))
        study.answer(
            session, user.id, queue.card.card.id, 3, now=T0, version=queue.card.version, fuzz=False
        )
        session.commit()
    assert order == [("learning", cards[1].id), ("review", cards[2].id), ("new", cards[0].id)]


def test_reviews_due_today_up_to_the_daily_limit(session, user) -> None:
    topic_id, cards = make_topic(session, [("question", f"s{i}") for i in range(5)])
    configure(session, user, reviews_per_day=3, new_per_day=0)
    for i, card in enumerate(cards[:4]):
        review_state(session, user, card, due=T0 - (4 - i) * DAY)
    # Due later today (still before tomorrow's 04:00 in Shanghai) counts as due today.
    review_state(session, user, cards[4], due=T0 + 12 * 3600 * timedelta(seconds=1))
    queue = study.study_queue(session, user.id, now=T0, topic_id=topic_id)
    assert queue.counts.review == 3
    assert drain(session, user, T0, topic_id) == [
        cards[0].id,
        cards[1].id,
        cards[2].id,
    ]  # oldest first


def test_rollover_hour_in_a_non_utc_zone(session, user) -> None:
    """New York, day starts at 04:00 local: 03:30 local still belongs to yesterday."""
    topic_id, cards = make_topic(session, [("question", f"s{i}") for i in range(3)])
    configure(session, user, timezone="America/New_York", rollover_hour=4, new_per_day=1)
    evening = datetime(2025, 3, 12, 1, 0, tzinfo=UTC)  # 21:00 EDT on Mar 11: study day Mar 11
    assert drain(session, user, evening, topic_id) == [cards[0].id]
    before = datetime(2025, 3, 12, 7, 30, tzinfo=UTC)  # 03:30 EDT Mar 12: still Mar 11
    assert study.study_queue(session, user.id, now=before, topic_id=topic_id).counts.new == 0
    after = datetime(2025, 3, 12, 8, 30, tzinfo=UTC)  # 04:30 EDT Mar 12: a new study day
    assert study.study_queue(session, user.id, now=after, topic_id=topic_id).counts.new == 1
    # A review due at 03:00 local on the 13th is due on study day Mar 12, not before.
    review_state(session, user, cards[2], due=datetime(2025, 3, 13, 7, 0, tzinfo=UTC))
    assert study.study_queue(session, user.id, now=before, topic_id=topic_id).counts.review == 0
    assert study.study_queue(session, user.id, now=after, topic_id=topic_id).counts.review == 1


def test_rollover_across_a_dst_change(session, user) -> None:
    """Berlin springs forward on 2025-03-30: that study day is 23 hours long."""
    topic_id, cards = make_topic(session, [("question", "a"), ("question", "b")])
    configure(session, user, timezone="Europe/Berlin", rollover_hour=4, new_per_day=1)
    assert drain(session, user, datetime(2025, 3, 29, 12, 0, tzinfo=UTC), topic_id, rating=4) == [
        cards[0].id
    ]
    # 04:30 CEST (UTC+2) on Mar 30 = 02:30 UTC: already the new day.
    assert next_id(session, user, datetime(2025, 3, 30, 2, 30, tzinfo=UTC), topic_id) == cards[1].id
    # 03:30 CET... does not exist; 01:59 UTC = 03:59 CEST is still Mar 29's study day.
    assert next_id(session, user, datetime(2025, 3, 30, 1, 59, tzinfo=UTC), topic_id) is None


def test_siblings_wait_for_the_next_day(session, user) -> None:
    topic_id, cards = make_topic(
        session,
        [("knowledge", "note"), ("knowledge", "note"), ("question", "q"), ("knowledge", "other")],
    )
    queue = study.study_queue(session, user.id, now=T0, topic_id=topic_id)
    assert queue.counts.new == 3  # two cards of one note count once
    shown = drain(session, user, T0, topic_id, rating=4)  # easy: straight to days
    assert shown == [cards[0].id, cards[2].id, cards[3].id]
    assert drain(session, user, T0 + DAY, topic_id) == [cards[1].id]


def test_review_sibling_is_hidden_after_a_card_of_its_note_was_answered(session, user) -> None:
    topic_id, cards = make_topic(session, [("knowledge", "note"), ("knowledge", "note")])
    review_state(session, user, cards[1], due=T0 - DAY)
    configure(session, user, reviews_per_day=0)  # so the new sibling goes first
    drain(session, user, T0, topic_id)
    configure(session, user, reviews_per_day=200)
    queue = study.study_queue(session, user.id, now=T0, topic_id=topic_id)
    assert queue.card is None or queue.card.card.id != cards[1].id
    assert queue.counts.review == 0


def test_suspended_buried_and_retired_cards_never_show(session, user) -> None:
    topic_id, cards = make_topic(session, [("question", f"s{i}") for i in range(4)])
    study.set_suspended(session, user.id, cards[0].id, True, now=T0)
    study.bury(session, user.id, cards[1].id, now=T0)
    cards[2].retired = True
    review_state(session, user, cards[3], due=T0 - DAY, suspended=True)
    session.commit()
    assert next_id(session, user, T0, topic_id) is None
    # Buried comes back the next study day; the others stay away.
    assert drain(session, user, T0 + DAY, topic_id) == [cards[1].id]


def test_drill_cards_only_join_through_schedule_drill_review(session, user) -> None:
    topic_id, cards = make_topic(session, [("drill", "d0")])
    drill = cards[0]
    assert next_id(session, user, T0, topic_id) is None
    result = study.schedule_drill_review(session, user.id, drill.id, 3, now=T0)
    session.commit()
    state = session.scalars(select(CardState).where(CardState.card_id == drill.id)).one()
    assert state.state == STATE_REVIEW and state.reps == 1  # no learning steps for drills
    assert result.interval_seconds == 2 * 86400
    assert logs(session, user.id) == 1
    queue = study.study_queue(session, user.id, now=state.due, topic_id=topic_id)
    assert (
        queue.card is not None and queue.card.card.id == drill.id and queue.card.queue == "review"
    )
    previews = study.card_previews(session, user.id, queue.card, now=state.due, fuzz=False)
    assert previews[study.Rating.AGAIN] == DAY  # no relearning steps either


def test_learn_ahead_shows_a_learning_card_early_when_nothing_else_is_left(session, user) -> None:
    topic_id, cards = make_topic(session, [("question", "a")])
    study.answer(session, user.id, cards[0].id, 3, now=T0, fuzz=False)  # learning, due in 10 min
    session.commit()
    queue = study.study_queue(session, user.id, now=T0 + MINUTE, topic_id=topic_id)
    assert queue.card is not None and queue.card.queue == "learning"
    assert queue.counts.learning == 1
    # With a 1-hour step it is not shown early; the summary says when it is due.
    configure(session, user, learning_steps="1h")
    study.undo_last(session, user.id, now=T0)
    study.answer(session, user.id, cards[0].id, 1, now=T0, fuzz=False)
    session.commit()
    assert next_id(session, user, T0 + MINUTE, topic_id) is None
    summary = study.day_summary(session, user.id, now=T0 + MINUTE, topic_id=topic_id)
    assert summary.learning_later == 1 and summary.next_learning_due == T0 + timedelta(hours=1)
    assert summary.due_tomorrow == 0  # reported once, as later today, not also as tomorrow's


def test_a_learning_card_shown_early_can_be_answered_without_a_version(session, user) -> None:
    topic_id, cards = make_topic(session, [("question", "a")])
    study.answer(session, user.id, cards[0].id, 3, now=T0, fuzz=False)  # learning, due in 10 min
    session.commit()
    early = T0 + MINUTE
    assert next_id(session, user, early, topic_id) == cards[0].id  # handed out 9 minutes early
    result = study.answer(session, user.id, cards[0].id, 3, now=early, fuzz=False)
    session.commit()
    assert result.card_id == cards[0].id and logs(session, user.id) == 2
    # Beyond the learn-ahead window it is still stale without a version.
    state = session.scalars(select(CardState).where(CardState.card_id == cards[0].id)).one()
    if state.state != STATE_REVIEW:
        with pytest.raises(study.Conflict):
            study.answer(session, user.id, cards[0].id, 3, now=state.due - 2 * study.LEARN_AHEAD)


def test_day_summary_counts_cards_due_tomorrow(session, user) -> None:
    topic_id, cards = make_topic(session, [("question", f"s{i}") for i in range(3)])
    review_state(session, user, cards[0], due=T0 + DAY)
    review_state(session, user, cards[1], due=T0 + 5 * DAY)
    review_state(session, user, cards[2], due=T0 + DAY, suspended=True)
    summary = study.day_summary(session, user.id, now=T0, topic_id=topic_id)
    assert summary.due_tomorrow == 1


def test_unknown_topic_is_not_found(session) -> None:
    with pytest.raises(study.NotFound):
        study.topic_id_for(session, "no-such-topic")
    assert study.topic_id_for(session, None) is None


def test_topics_filter_the_queue(session, user) -> None:
    topic_a, cards_a = make_topic(session, [("question", "a")], slug="topic-a")
    topic_b, cards_b = make_topic(session, [("question", "b")], slug="topic-b")
    assert next_id(session, user, T0, topic_a) == cards_a[0].id
    assert next_id(session, user, T0, topic_b) == cards_b[0].id
    assert next_id(session, user, T0, None) not in {
        None,
        cards_a[0].id,
        cards_b[0].id,
    }  # owner's notes first


# --- answering --------------------------------------------------------------------------------


def test_answer_writes_state_and_log_together(session, user) -> None:
    topic_id, cards = make_topic(session, [("question", "a")])
    result = study.answer(
        session,
        user.id,
        cards[0].id,
        3,
        now=T0,
        duration_ms=4200,
        request_id="r-1",
        version=0,
        fuzz=False,
    )
    session.commit()
    state = session.scalars(select(CardState).where(CardState.card_id == cards[0].id)).one()
    log = session.scalars(select(ReviewLog)).one()
    assert (state.state, state.step, state.reps, state.version) == (STATE_LEARNING, 1, 1, 1)
    assert state.due == T0 + 10 * MINUTE == result.due
    assert (log.rating, log.duration_ms, log.request_id, log.reviewed_at) == (3, 4200, "r-1", T0)
    assert (log.state_before, log.state_after) == (STATE_NEW, STATE_LEARNING)
    assert log.before["state"] == STATE_NEW and log.before["version"] == 0
    assert log.after["state"] == STATE_LEARNING and log.after["version"] == 1
    assert result.to_json() == {
        "card_id": cards[0].id,
        "due": (T0 + 10 * MINUTE).isoformat(),
        "state": "learning",
        "interval_seconds": 600,
        "version": 1,
        "leech": False,
    }


def test_same_request_id_is_recorded_once(session, user) -> None:
    topic_id, cards = make_topic(session, [("question", "a"), ("question", "b")])
    first = study.answer(session, user.id, cards[0].id, 3, now=T0, request_id="once", fuzz=False)
    session.commit()
    again = study.answer(
        session, user.id, cards[0].id, 3, now=T0 + MINUTE, request_id="once", fuzz=False
    )
    assert again.replayed and again.to_json() == first.to_json()
    assert logs(session) == 1
    with pytest.raises(study.Conflict):
        study.answer(session, user.id, cards[1].id, 3, now=T0, request_id="once", fuzz=False)


def test_stale_version_is_refused_and_writes_nothing(session, user) -> None:
    topic_id, cards = make_topic(session, [("question", "a")])
    study.answer(session, user.id, cards[0].id, 3, now=T0, version=0, fuzz=False)
    session.commit()
    with pytest.raises(study.Conflict):
        study.answer(session, user.id, cards[0].id, 3, now=T0, version=0, fuzz=False)
    session.rollback()
    assert logs(session) == 1


def test_without_version_only_a_due_card_can_be_answered(session, user) -> None:
    topic_id, cards = make_topic(session, [("question", "a"), ("question", "b")])
    study.answer(session, user.id, cards[0].id, 1, now=T0, fuzz=False)  # learning, due in 1 min
    session.commit()
    with pytest.raises(study.Conflict):  # a second tab answering what it saw before
        study.answer(
            session, user.id, cards[0].id, 3, now=T0 + 30 * timedelta(seconds=1), fuzz=False
        )
    session.rollback()
    study.answer(
        session, user.id, cards[0].id, 3, now=T0 + 2 * MINUTE, fuzz=False
    )  # due again: fine
    review_state(session, user, cards[1], due=T0 + 3 * DAY)
    with pytest.raises(study.Conflict):
        study.answer(session, user.id, cards[1].id, 3, now=T0, fuzz=False)


def test_the_update_is_guarded_by_the_version_column(session, user) -> None:
    """Two workers that both passed the version check: only one UPDATE can match."""
    topic_id, cards = make_topic(session, [("question", "a")])
    state = review_state(session, user, cards[0], due=T0 - DAY)
    assert state.version == 0
    # Another worker's answer lands; this session's identity map still says version 0.
    session.execute(
        update(CardState)
        .where(CardState.id == state.id)
        .values(version=1)
        .execution_options(synchronize_session=False)
    )
    with pytest.raises(study.Conflict):
        study.answer(session, user.id, cards[0].id, 3, now=T0, version=0, fuzz=False)
    session.rollback()
    assert logs(session) == 0


def test_invalid_rating_unknown_and_retired_cards(session, user) -> None:
    topic_id, cards = make_topic(session, [("question", "a")])
    for bad in (0, 5, "3", 3.0, True, None):
        with pytest.raises(study.InvalidAnswer):
            study.answer(session, user.id, cards[0].id, bad, now=T0)  # type: ignore[arg-type]
    with pytest.raises(study.NotFound):
        study.answer(session, user.id, 999_999, 3, now=T0)
    cards[0].retired = True
    session.commit()
    with pytest.raises(study.NotFound):
        study.answer(session, user.id, cards[0].id, 3, now=T0)
    assert logs(session) == 0


def test_users_are_isolated(session, user) -> None:
    from tests.factories import make_user

    bob = make_user(session, "bob", "bob-password")
    topic_id, cards = make_topic(session, [("question", "a")])
    study.answer(session, user.id, cards[0].id, 3, now=T0, request_id="shared", fuzz=False)
    session.commit()
    assert next_id(session, bob, T0, topic_id) == cards[0].id  # still new for bob
    study.answer(session, bob.id, cards[0].id, 4, now=T0, request_id="shared", fuzz=False)
    session.commit()
    states = {s.user_id: s for s in session.scalars(select(CardState))}
    assert states[user.id].state == STATE_LEARNING and states[bob.id].state == STATE_REVIEW
    study.undo_last(session, bob.id, now=T0)
    session.commit()
    assert logs(session, user.id) == 1 and logs(session, bob.id) == 0
    session.refresh(states[user.id])
    assert states[user.id].state == STATE_LEARNING


# --- undo -------------------------------------------------------------------------------------


def _columns(state: CardState) -> dict[str, Any]:
    return {name: getattr(state, name) for name in study.SNAPSHOT_FIELDS if name != "version"}


def test_undo_restores_state_and_removes_the_log(session, user) -> None:
    topic_id, cards = make_topic(session, [("question", "a")])
    state = review_state(session, user, cards[0], due=T0 - DAY, lapses=2)
    before = _columns(state)
    study.answer(session, user.id, cards[0].id, 1, now=T0, version=0, fuzz=False)
    session.commit()
    session.refresh(state)
    assert state.state == STATE_RELEARNING and state.lapses == 3
    restored = study.undo_last(session, user.id, now=T0 + MINUTE)
    session.commit()
    session.refresh(restored)
    assert _columns(restored) == before
    assert restored.version == 2  # versions only go up: what was shown before the undo is stale
    assert logs(session) == 0
    with pytest.raises(study.NotFound):
        study.undo_last(session, user.id, now=T0 + MINUTE)


def test_undo_of_a_new_card_makes_it_new_again(session, user) -> None:
    topic_id, cards = make_topic(session, [("question", "a"), ("question", "b")])
    drain(session, user, T0, topic_id)
    study.undo_last(session, user.id, now=T0)
    study.undo_last(session, user.id, now=T0)
    session.commit()
    queue = study.study_queue(session, user.id, now=T0, topic_id=topic_id)
    assert queue.counts.new == 2 and queue.done_today == 0
    assert queue.card is not None and queue.card.card.id == cards[0].id and queue.card.version == 2


def test_undo_refuses_when_the_card_changed_since(session, user) -> None:
    topic_id, cards = make_topic(session, [("question", "a")])
    study.answer(session, user.id, cards[0].id, 3, now=T0, fuzz=False)
    study.set_suspended(session, user.id, cards[0].id, True, now=T0)
    session.commit()
    with pytest.raises(study.Conflict):
        study.undo_last(session, user.id, now=T0)


def test_undo_is_limited_to_the_current_study_day(session, user) -> None:
    topic_id, cards = make_topic(session, [("question", "a")])
    study.answer(session, user.id, cards[0].id, 3, now=T0, fuzz=False)
    session.commit()
    with pytest.raises(study.NotFound):
        study.undo_last(session, user.id, now=T0 + DAY)


# --- leeches, suspend, bury ----------------------------------------------------------------------


def test_eighth_lapse_suspends_and_tags_a_leech(session, user) -> None:
    topic_id, cards = make_topic(session, [("question", "a")])
    review_state(session, user, cards[0], due=T0 - DAY, lapses=7)
    result = study.answer(session, user.id, cards[0].id, 1, now=T0, version=0, fuzz=False)
    session.commit()
    assert result.leech and result.to_json()["leech"] is True
    state = session.scalars(select(CardState)).one()
    assert state.suspended and state.leech and state.lapses == 8
    assert next_id(session, user, T0 + DAY, topic_id) is None
    # The browser unsuspends it: it comes back, still tagged; the next lapse does not re-suspend.
    study.set_suspended(session, user.id, cards[0].id, False, now=T0)
    session.commit()
    session.refresh(state)
    assert not state.suspended and state.leech
    assert next_id(session, user, state.due, topic_id) == cards[0].id
    study.answer(session, user.id, cards[0].id, 3, now=state.due, fuzz=False)
    session.commit()
    session.refresh(state)
    again = study.answer(session, user.id, cards[0].id, 1, now=state.due, fuzz=False)
    assert not again.leech


def test_leech_rule_repeats_every_four_lapses() -> None:
    assert [n for n in range(1, 21) if study.is_leech_lapse(n)] == [8, 12, 16, 20]


def test_undo_of_the_leech_answer_unsuspends(session, user) -> None:
    topic_id, cards = make_topic(session, [("question", "a")])
    review_state(session, user, cards[0], due=T0 - DAY, lapses=7)
    study.answer(session, user.id, cards[0].id, 1, now=T0, fuzz=False)
    session.commit()
    state = study.undo_last(session, user.id, now=T0)
    session.commit()
    session.refresh(state)
    assert not state.suspended and not state.leech and state.lapses == 7


def test_bury_hides_until_the_next_study_day(session, user) -> None:
    topic_id, cards = make_topic(session, [("question", "a")])
    review_state(session, user, cards[0], due=T0 - DAY)
    state = study.bury(session, user.id, cards[0].id, now=T0)
    session.commit()
    assert state.buried_until == date(2025, 3, 4) and state.version == 1
    assert next_id(session, user, T0, topic_id) is None
    assert next_id(session, user, T0 + DAY, topic_id) == cards[0].id
    study.unbury(session, user.id, cards[0].id)
    assert next_id(session, user, T0, topic_id) == cards[0].id


def test_suspend_a_new_card_by_hand(session, user) -> None:
    topic_id, cards = make_topic(session, [("question", "a")])
    state = study.set_suspended(session, user.id, cards[0].id, True, now=T0)
    session.commit()
    assert state.state == STATE_NEW and state.suspended and state.version == 1
    assert next_id(session, user, T0, topic_id) is None
    with pytest.raises(study.Conflict):
        study.answer(session, user.id, cards[0].id, 3, now=T0)
    session.rollback()
    with pytest.raises(study.Conflict):
        study.answer(session, user.id, cards[0].id, 3, now=T0, version=1)
    session.rollback()
    with pytest.raises(study.NotFound):
        study.set_suspended(session, user.id, 999_999, True, now=T0)


def test_fitted_parameters_drive_the_scheduler(session, user) -> None:
    from quiz.scheduling import DEFAULT_PARAMETERS

    topic_id, cards = make_topic(session, [("question", "a")])
    configure(session, user, learning_steps="")
    item = study.queue_card(session, user.id, cards[0].id)
    default = study.card_previews(session, user.id, item, now=T0, fuzz=False)
    params = list(DEFAULT_PARAMETERS)
    params[2] = 20.0
    configure(session, user, fsrs_parameters=params, desired_retention=0.9)
    fitted = study.card_previews(session, user.id, item, now=T0, fuzz=False)
    assert fitted[study.Rating.GOOD] > default[study.Rating.GOOD]


@pytest.mark.parametrize("action", ["bury", "suspend"])
@pytest.mark.parametrize("kind", ["new", "review"])
def test_bury_or_suspend_then_undo_restores_the_card_and_counts(
    session, user, action: str, kind: str
) -> None:
    """B then U, S then U: the same card comes next again, with the same counts and memory."""
    topic_id, cards = make_topic(session, [("question", "a"), ("question", "b"), ("question", "c")])
    if kind == "review":
        for card in cards:
            review_state(session, user, card, due=T0 - DAY)
    before = study.study_queue(session, user.id, now=T0, topic_id=topic_id)
    assert before.card is not None
    card_id, memory = before.card.card.id, before.card.memory
    if action == "bury":
        state = study.bury(session, user.id, card_id, now=T0)
    else:
        state = study.set_suspended(session, user.id, card_id, True, now=T0)
    session.commit()
    hidden = study.study_queue(session, user.id, now=T0, topic_id=topic_id)
    assert hidden.card is not None and hidden.card.card.id != card_id
    assert hidden.counts.total == before.counts.total - 1

    study.undo_card_action(session, user.id, card_id, action, version=state.version)
    session.commit()
    after = study.study_queue(session, user.id, now=T0, topic_id=topic_id)
    assert after.card is not None and after.card.card.id == card_id
    assert after.counts == before.counts and after.done_today == before.done_today
    # A new card gets a state row on its first bury/suspend; it is still new, intervals alike.
    restored_memory = after.card.memory
    if kind == "new":
        restored_memory = replace(restored_memory, due=None)
    assert restored_memory == memory
    assert study.card_previews(session, user.id, after.card, now=T0) == study.card_previews(
        session, user.id, before.card, now=T0
    )
    restored = study.queue_card(session, user.id, card_id)
    assert restored.state is not None
    assert restored.state.buried_until is None and not restored.state.suspended
    # Undone once: a second undo of the same action is refused, and changes nothing.
    with pytest.raises(study.Conflict):
        study.undo_card_action(session, user.id, card_id, action, version=state.version)
    session.rollback()


def test_undo_of_a_bury_is_refused_once_the_card_changed(session, user) -> None:
    topic_id, cards = make_topic(session, [("question", "a")])
    buried_version = study.bury(session, user.id, cards[0].id, now=T0).version
    session.commit()
    study.set_suspended(session, user.id, cards[0].id, True, now=T0)  # changed since
    session.commit()
    with pytest.raises(study.Conflict):
        study.undo_card_action(session, user.id, cards[0].id, "bury", version=buried_version)
    session.rollback()
    with pytest.raises(study.InvalidAnswer):
        study.undo_card_action(session, user.id, cards[0].id, "delete", version=buried_version)
    with pytest.raises(study.NotFound):
        study.undo_card_action(session, user.id, 999_999, "bury", version=1)
