"""Progress figures on a known history (New York time, across the 2025 DST change)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from fsrs import Card as FsrsCard
from fsrs import Scheduler

from quiz import progress, scheduling
from tests.factories import api_token, login, make_user
from tests.factories.history import (
    EXPECTED,
    NOW,
    TODAY,
    TZ,
    build_history,
    build_other_user,
    log,
    make_deck,
    state,
    utc,
)


@pytest.fixture
def session(empty_app: Flask) -> Any:
    from quiz.db import db

    return db.session


@pytest.fixture
def deck(session: Any) -> Any:
    return make_deck(session)


@pytest.fixture
def alice(session: Any, deck: Any) -> Any:
    return build_history(session, deck)


@pytest.fixture
def dash(session: Any, alice: Any) -> progress.Dashboard:
    return progress.dashboard(session, alice.id, now=NOW)


def fsrs_recall(stability: float, days: float) -> float:
    card = FsrsCard(
        card_id=1, stability=stability, difficulty=5.0, last_review=NOW - timedelta(days=days)
    )
    return Scheduler().get_card_retrievability(card, NOW)


def test_today_figures(dash: progress.Dashboard) -> None:
    assert dash.today == TODAY
    assert dash.due_now == EXPECTED["due_now"]
    assert dash.done_today == EXPECTED["done_today"]
    assert dash.new_introduced_today == EXPECTED["new_introduced_today"]
    assert dash.new_available == EXPECTED["new_available"]
    assert dash.new_left_today == EXPECTED["new_left_today"]
    assert dash.streak_days == EXPECTED["streak_days"]


def test_heatmap_buckets_by_local_study_day_across_dst(dash: progress.Dashboard) -> None:
    assert len(dash.heatmap) == 365
    assert dash.heatmap[0].day == date(2024, 3, 11)
    assert dash.heatmap[-1].day == TODAY
    nonzero = {d.day: d.reviews for d in dash.heatmap if d.reviews}
    assert nonzero == EXPECTED["heatmap"]
    assert dash.reviews_last_year == 19
    assert dash.active_days_last_year == 6


def test_true_retention_windows(dash: progress.Dashboard) -> None:
    got = {key: (r.passed, r.total) for key, r in dash.retention.items()}
    assert got == EXPECTED["retention"]
    assert dash.retention["7d"].rate == 0.5
    assert dash.settings.desired_retention == 0.85


def test_states_and_forecast(dash: progress.Dashboard) -> None:
    assert dash.states == EXPECTED["states"]
    assert [f.reviews for f in dash.forecast] == EXPECTED["forecast"]
    assert dash.forecast[0].day == TODAY and dash.forecast[-1].day == TODAY + timedelta(days=29)


def test_topic_mastery_and_drills(dash: progress.Dashboard) -> None:
    alpha, beta = dash.topics  # the retired topic is left out
    assert (alpha.slug, alpha.cards, beta.slug, beta.cards) == ("alpha", 5, "beta", 3)
    assert alpha.mastery == pytest.approx((fsrs_recall(10, 5) + fsrs_recall(20, 2)) / 5)
    # b/q3 was answered ten minutes ago: fractional days make that a little under 100%.
    ten_minutes = scheduling.forgetting_curve(10 / 1440, 1.0, progress.FSRS_DEFAULT_DECAY)
    assert 0.998 < ten_minutes < 1.0
    assert beta.mastery == pytest.approx((ten_minutes + fsrs_recall(2, 1) + fsrs_recall(15, 3)) / 3)
    assert (alpha.drills_total, alpha.drills_attempted, alpha.drills_solved) == (1, 1, 1)
    assert alpha.attempts_to_first_accept == 2.0
    assert (beta.drills_total, beta.drills_attempted, beta.drills_solved) == (2, 1, 0)
    assert beta.attempts_to_first_accept is None


def test_weakest_cards(dash: progress.Dashboard) -> None:
    assert [w.key for w in dash.weakest] == EXPECTED["weakest"]
    first = dash.weakest[0]
    assert (first.lapses, first.suspended, first.leech) == (3, True, True)
    assert first.retrievability == pytest.approx(fsrs_recall(2, 1))
    assert all(w.retrievability < 0.995 for w in dash.weakest)


def test_weakest_lists_only_what_was_forgotten(session: Any, deck: Any) -> None:
    """Again on a new card is no lapse and recall right after it is ~100%: never listed."""
    user = make_user(session, "fresh")
    c = deck.cards
    just_again = dict(state=1, stability=0.2, last_review=NOW - timedelta(minutes=1), reps=1)
    state(session, user.id, c["a/q1"], **just_again)
    lapsed_sure = dict(state=2, stability=30.0, last_review=NOW, lapses=1, reps=4)
    state(session, user.id, c["a/q2"], **lapsed_sure)
    lapsed = dict(state=2, stability=2.0, last_review=NOW - timedelta(days=3), lapses=1, reps=4)
    state(session, user.id, c["b/q3"], **lapsed)
    fading = dict(state=2, stability=1.0, last_review=NOW - timedelta(days=4), reps=2)
    state(session, user.id, c["b/q5"], **fading)
    session.commit()
    weakest = progress.dashboard(session, user.id, now=NOW).weakest
    assert [w.key for w in weakest] == ["b/q3", "b/q5"]


def test_retrievability_matches_fsrs() -> None:
    # Whole days only: py-fsrs's get_card_retrievability counts whole elapsed days, ours (one
    # function, quiz.scheduling.card_retrievability, for study and dashboard) counts fractional
    # days, so the two agree exactly when a whole number of days has passed.
    for stability, days in [(0.5, 0), (1.0, 1), (3.3, 7), (120.0, 400)]:
        got = progress.retrievability(
            stability, NOW - timedelta(days=days), NOW, progress.FSRS_DEFAULT_DECAY
        )
        assert got == pytest.approx(fsrs_recall(stability, days), rel=1e-12)
    assert progress.retrievability(None, None, NOW, 0.1542) == 0.0


def test_dashboard_and_study_share_one_fractional_retrievability() -> None:
    """Part of a day counts: 7.9 days after the review, recall is below the 7-day figure and
    above the 8-day one, and the dashboard says what the scheduler says."""
    last = NOW - timedelta(days=7.9)
    decay = progress.FSRS_DEFAULT_DECAY
    got = progress.retrievability(3.3, last, NOW, decay)
    assert fsrs_recall(3.3, 8) < got < fsrs_recall(3.3, 7)
    assert got == pytest.approx(scheduling.forgetting_curve(7.9, 3.3, decay), rel=1e-12)
    memory = scheduling.MemoryState(state=2, stability=3.3, difficulty=5.0, last_review=last)
    assert scheduling.retrievability(memory, now=NOW) == got
    assert progress.retrievability is scheduling.card_retrievability


def test_the_databases_curve_is_the_schedulers(session: Any, deck: Any) -> None:
    """The dashboard ranks and sums retrievability in SQL: the same curve, fractional days."""
    from sqlalchemy import select

    from quiz.models import CardState
    from quiz.progress.curve import recall_now, recall_params

    user = make_user(session, "curve")
    cases = {
        "a/q1": (3.3, timedelta(days=7.9)),
        "a/q2": (0.4, timedelta(minutes=10)),
        "a/k1": (120.0, timedelta(days=400, hours=5)),
        "b/q3": (2.0, timedelta(0)),
        "b/q4": (5.0, -timedelta(hours=2)),  # answered "after" now (a clock step): R = 1
    }
    for key, (stability, ago) in cases.items():
        state(
            session,
            user.id,
            deck.cards[key],
            state=2,
            stability=stability,
            last_review=NOW - ago,
            reps=1,
        )
    state(session, user.id, deck.cards["b/q5"], state=0)  # never reviewed: 0
    session.commit()
    for decay in (progress.FSRS_DEFAULT_DECAY, 0.5):
        rows = session.execute(
            select(CardState.stability, CardState.last_review, recall_now()).where(
                CardState.user_id == user.id
            ),
            recall_params(NOW, decay),
        ).all()
        assert len(rows) == 6
        for stability, last_review, in_sql in rows:
            expected = scheduling.card_retrievability(stability, last_review, NOW, decay)
            assert in_sql == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_staleness_thresholds_are_the_curve_solved_for_elapsed_over_stability() -> None:
    """The weakest cards are filtered on elapsed/stability: the threshold for a recall level is
    where the scheduler's curve reaches that level, whatever the stability."""
    from quiz.progress.curve import staleness_where_recall_is

    for decay in (progress.FSRS_DEFAULT_DECAY, 0.5):
        for recall in (progress.SURE_RECALL, 0.9, 0.7):
            limit = staleness_where_recall_is(recall, decay)
            for stability in (0.2, 3.3, 120.0):
                at = scheduling.forgetting_curve(limit * stability, stability, decay)
                assert at == pytest.approx(recall, rel=1e-12)
    assert staleness_where_recall_is(0.9, progress.FSRS_DEFAULT_DECAY) == pytest.approx(1.0)


def test_fitted_decay_is_used(session: Any, alice: Any) -> None:
    from fsrs.scheduler import DEFAULT_PARAMETERS

    from quiz.models import UserSettings

    params = list(DEFAULT_PARAMETERS)
    params[20] = 0.5
    session.get(UserSettings, alice.id).fsrs_parameters = params
    session.commit()
    settings = progress.load_settings(session, alice.id)
    assert settings.decay == 0.5
    card = FsrsCard(card_id=1, stability=10.0, difficulty=5.0, last_review=NOW - timedelta(days=5))
    expected = Scheduler(parameters=params).get_card_retrievability(card, NOW)
    assert progress.retrievability(10.0, NOW - timedelta(days=5), NOW, 0.5) == pytest.approx(
        expected
    )


def test_before_rollover_today_is_yesterday(session: Any, alice: Any) -> None:
    # 03:30 EDT on the 11th: still the study day of the 10th.
    dash = progress.dashboard(session, alice.id, now=utc(2025, 3, 11, 7, 30))
    assert dash.today == TODAY
    assert dash.done_today == 4
    # 04:30 EDT: a new day with nothing done yet; the streak still counts through yesterday.
    dash = progress.dashboard(session, alice.id, now=utc(2025, 3, 11, 8, 30))
    assert dash.today == TODAY + timedelta(days=1)
    assert (dash.done_today, dash.streak_days, dash.new_introduced_today) == (0, 4, 0)
    assert dash.new_left_today == 2  # min(3, 2 still new)


def test_fall_back_day_has_25_hours(session: Any, deck: Any) -> None:
    from tests.factories import make_user

    user = make_user(session, "carol")
    user.settings.timezone = TZ
    user.settings.rollover_hour = 4
    card = deck.cards["a/q1"]
    n = [0]
    # Study day 2025-11-01 runs 04:00 EDT (08:00 UTC) to 04:00 EST on the 2nd (09:00 UTC).
    for at in (utc(2025, 11, 1, 8, 0), utc(2025, 11, 2, 8, 30), utc(2025, 11, 2, 9, 0)):
        log(session, user.id, card, at, 3, 2, n)
    session.commit()
    dash = progress.dashboard(session, user.id, now=utc(2025, 11, 2, 12))
    assert [(d.day, d.reviews) for d in dash.heatmap[-2:]] == [
        (date(2025, 11, 1), 2),
        (date(2025, 11, 2), 1),
    ]


def test_streak_rules() -> None:
    assert progress.streak([1, 0, 2, 3, 0]) == (2, False)  # nothing yet today: counts to yesterday
    assert progress.streak([0, 2, 3, 1]) == (3, False)
    assert progress.streak([1, 0, 0]) == (0, False)  # two idle days break it
    assert progress.streak([1, 1]) == (2, True)  # reaches the window start: look further back
    assert progress.streak([]) == (0, False)


def test_streak_longer_than_the_heatmap(session: Any, deck: Any) -> None:
    from tests.factories import make_user

    user = make_user(session, "dave")
    user.settings.timezone = "UTC"
    user.settings.rollover_hour = 0
    n = [0]
    for i in range(400):
        log(session, user.id, deck.cards["a/q1"], NOW - timedelta(days=i), 3, 2, n)
    session.commit()
    assert progress.dashboard(session, user.id, now=NOW).streak_days == 400


def test_streak_stops_at_a_gap_before_the_heatmap(session: Any, deck: Any) -> None:
    """A year of daily study, a day off just before the window, older study before that."""
    from tests.factories import make_user

    user = make_user(session, "gail")
    user.settings.timezone = "UTC"
    user.settings.rollover_hour = 0
    n = [0]
    for i in [*range(365), *range(366, 420)]:
        log(session, user.id, deck.cards["a/q1"], NOW - timedelta(days=i), 3, 2, n)
    session.commit()
    assert progress.dashboard(session, user.id, now=NOW).streak_days == 365


def test_empty_account(session: Any, deck: Any) -> None:
    from tests.factories import make_user

    user = make_user(session, "erin")
    dash = progress.dashboard(session, user.id, now=NOW)
    assert (dash.due_now, dash.done_today, dash.streak_days, dash.reviews_last_year) == (0, 0, 0, 0)
    assert dash.states == {"new": 8, "learning": 0, "relearning": 0, "review": 0, "suspended": 0}
    assert (dash.new_available, dash.new_left_today) == (8, 8)  # new_per_day is 20
    assert all(r.rate is None for r in dash.retention.values())
    assert [t.mastery for t in dash.topics] == [0.0, 0.0]
    assert dash.weakest == []


def test_card_counts_skip_drills_reset_to_new_and_cards_no_longer_live(
    session: Any, deck: Any
) -> None:
    """A drill's card reset to new is neither new nor suspended; states of a retired card or
    of a card in a retired topic count nowhere; a suspended drill counts as suspended."""
    user = make_user(session, "frank")
    c = deck.cards
    day_ago = NOW - timedelta(days=1)
    reviewed = dict(stability=5.0, last_review=day_ago, reps=2, due=day_ago)
    state(session, user.id, c["drill/d1"], state=0)
    state(session, user.id, c["drill/d2"], state=0, suspended=True)
    state(session, user.id, c["drill/d3"], state=2, suspended=True, **reviewed)
    state(session, user.id, c["a/old"], state=2, **reviewed)
    state(session, user.id, c["g/q1"], state=1, **reviewed)
    state(session, user.id, c["b/q3"], state=0, suspended=True)
    state(session, user.id, c["b/q4"], state=3, **reviewed)
    session.commit()
    dash = progress.dashboard(session, user.id, now=NOW)
    assert dash.states == {"new": 6, "learning": 0, "relearning": 1, "review": 0, "suspended": 2}
    assert (dash.new_available, dash.due_now) == (6, 1)
    alpha, beta = dash.topics
    assert (alpha.cards, beta.cards) == (5, 3)
    assert alpha.mastery == 0.0
    assert beta.mastery == pytest.approx(fsrs_recall(5.0, 1) / 3)


def test_other_users_never_leak(session: Any, deck: Any, alice: Any) -> None:
    bob = build_other_user(session, deck)
    test_today_figures(progress.dashboard(session, alice.id, now=NOW))
    dash = progress.dashboard(session, alice.id, now=NOW)
    assert dash.states == EXPECTED["states"]
    assert [w.key for w in dash.weakest] == EXPECTED["weakest"]
    assert {d.day: d.reviews for d in dash.heatmap if d.reviews} == EXPECTED["heatmap"]
    assert dash.topics[1].drills_solved == 0
    theirs = progress.dashboard(session, bob.id, now=NOW)
    assert (theirs.due_now, theirs.done_today) == (1, 6)
    assert theirs.retention["7d"].total == 6 and theirs.retention["7d"].passed == 0
    assert theirs.topics[1].drills_solved == 1
    # drill/d2 never lapsed and Bob still recalls it at ~97%: not weak; a/k1 shows as 100%.
    assert [w.key for w in theirs.weakest] == []  # a/k1 lapsed but is recalled at ~100% now


def test_api_shape_and_values(
    empty_app: Flask, session: Any, deck: Any, alice: Any, monkeypatch: Any
) -> None:
    import quiz.views.api_progress as api_progress

    monkeypatch.setattr(api_progress, "utcnow", lambda: NOW)
    build_other_user(session, deck)
    client = empty_app.test_client()
    assert client.get("/api/v1/progress").status_code == 401
    response = client.get("/api/v1/progress", headers=api_token(client))
    body = response.get_json()
    assert response.status_code == 200, body
    assert {
        "due_now",
        "done_today",
        "new_left_today",
        "streak_days",
        "retention",
        "states",
        "forecast",
        "topics",
    } <= body.keys()
    assert (body["due_now"], body["done_today"], body["new_left_today"], body["streak_days"]) == (
        1,
        4,
        1,
        4,
    )
    assert body["retention"] == {"7d": 0.5, "30d": 0.7, "365d": round(9 / 14, 4)}
    assert body["states"] == EXPECTED["states"]
    assert body["forecast"] == EXPECTED["forecast"] and len(body["forecast"]) == 30
    assert [t["topic"] for t in body["topics"]] == ["Alpha 主题", "Beta 主题"]
    alpha, beta = body["topics"]
    assert {"topic", "cards", "mastery", "drills_solved", "drills_total"} <= alpha.keys()
    assert (alpha["cards"], alpha["drills_solved"], alpha["drills_total"]) == (5, 1, 1)
    assert (beta["cards"], beta["drills_solved"], beta["drills_total"]) == (3, 0, 2)
    assert 0 < alpha["mastery"] < 1
    bob = client.get("/api/v1/progress", headers=api_token(client, "bob")).get_json()
    assert (bob["due_now"], bob["done_today"], bob["topics"][1]["drills_solved"]) == (1, 6, 1)


def test_dashboard_page(empty_app: Flask, alice: Any, monkeypatch: Any) -> None:
    import quiz.views.progress as views

    monkeypatch.setattr(views, "utcnow", lambda: NOW)
    client = empty_app.test_client()
    assert client.get("/progress").status_code == 302  # to the login page
    login(client)
    page = client.get("/progress")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "学习进度" in html and "查看数据" in html
    assert html.count("<canvas") == 4 and html.count("data-chart=") == 4
    assert html.count("<table") >= 5  # every chart has its numbers as a table
    assert "50.0%" in html and "85%" in html  # 7-day retention beside the desired one
    assert "<script>" not in html  # the CSP forbids inline scripts
    assert "问题 b/q4 是什么？</a>" in html
    assert "/cards?q=" in html and "#card-" in html


def test_heatmap_grid_shape() -> None:
    from quiz.views.progress import heatmap_weeks

    days = [
        progress.DayCount(date(2025, 3, 5) + timedelta(days=i), i) for i in range(6)
    ]  # Wed..Mon
    weeks = heatmap_weeks(days)
    assert len(weeks) == 2 and all(len(w) == 7 for w in weeks)
    assert weeks[0][:2] == [None, None] and weeks[0][2].day == date(2025, 3, 5)
    assert [c.level for c in weeks[0][2:]] == [0, 1, 1, 2, 3] and weeks[1][0].level == 4


def test_day_boundaries_are_contiguous() -> None:
    settings = progress.ProgressSettings(timezone=TZ, rollover_hour=4)
    bounds = progress.day_boundaries(date(2025, 3, 1), 40, settings)
    assert all(a < b for a, b in zip(bounds, bounds[1:], strict=False))
    hours = {(b - a) / timedelta(hours=1) for a, b in zip(bounds, bounds[1:], strict=False)}
    assert hours == {23.0, 24.0}
    assert bounds[0] == datetime(2025, 3, 1, 9, tzinfo=UTC)


def test_dashboard_links_topics_by_readable_path(
    empty_app: Flask, session: Any, alice: Any, deck: Any
) -> None:
    """The mastery table links each topic by its readable path (read with the figures); a link
    to a topic the page did not read (a retired one) still gets its path."""
    from flask import url_for

    deck.topics["alpha"].path = "ml/alpha-notes"
    deck.topics["gamma"].path = "ml/gamma-old"
    session.commit()
    client = empty_app.test_client()
    login(client)
    html = client.get("/progress").get_data(as_text=True)
    assert 'href="/topics/ml/alpha-notes"' in html and 'href="/topics/beta"' in html
    with empty_app.test_request_context("/progress"):
        from quiz.views.notes import known_topic_paths

        known_topic_paths({"alpha": "ml/alpha-notes"})
        assert url_for("notes.topic", slug="gamma") == "/topics/ml/gamma-old"
        assert url_for("notes.topic", slug="alpha") == "/topics/ml/alpha-notes"
