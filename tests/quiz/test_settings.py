"""Settings page validation, and fitting per-user FSRS parameters (page button and CLI)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from quiz import optimizer, scheduling, study
from quiz.models import Card, ReviewLog

VALID = {
    "desired_retention": "0.85",
    "new_per_day": "15",
    "reviews_per_day": "150",
    "timezone": "Europe/Berlin",
    "rollover_hour": "5",
    "learning_steps": "30s 5m 1h",
    "relearning_steps": "",
    "reveal_all": "y",
}


def test_settings_page_needs_login(client: FlaskClient) -> None:
    response = client.get("/settings")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_settings_page_shows_defaults(auth_client: FlaskClient) -> None:
    page = auth_client.get("/settings").get_data(as_text=True)
    assert "学习设置" in page and 'value="0.90"' in page and 'value="Asia/Shanghai"' in page
    assert 'value="10m"' in page and "还需要 400 条才能优化" in page


def test_valid_settings_are_saved(auth_client: FlaskClient, session: Any, user: Any) -> None:
    response = auth_client.post("/settings", data=VALID)
    assert response.status_code == 302
    settings = study.user_settings(session, user.id)
    session.refresh(settings)
    assert settings.desired_retention == pytest.approx(0.85)
    assert (settings.new_per_day, settings.reviews_per_day) == (15, 150)
    assert (settings.timezone, settings.rollover_hour) == ("Europe/Berlin", 5)
    assert (settings.learning_steps, settings.relearning_steps) == ("30s 5m 1h", "")
    assert settings.reveal_all is True
    assert "设置已保存" in auth_client.get("/settings").get_data(as_text=True)
    config = study.scheduler_config(settings)
    assert config.learning_steps == (
        timedelta(seconds=30),
        timedelta(minutes=5),
        timedelta(hours=1),
    )
    assert config.relearning_steps == () and config.desired_retention == pytest.approx(0.85)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("desired_retention", "0.5", "0.70 到 0.97"),
        ("desired_retention", "0.98", "0.70 到 0.97"),
        ("desired_retention", "abc", "请填写一个数字"),
        ("desired_retention", "sNaN", "请填写一个数字"),
        ("desired_retention", "nan", "0.70 到 0.97"),
        ("desired_retention", "inf", ""),
        ("desired_retention", "1e999", ""),
        ("new_per_day", "99999999999999999999999", "0 到 9999"),
        ("new_per_day", "-1", "0 到 9999"),
        ("reviews_per_day", "", "请填写每天复习上限"),
        ("timezone", "Mars/Olympus", "未知的时区"),
        ("rollover_hour", "24", "0 到 23"),
        ("learning_steps", "1m ten", "无法识别"),
        ("relearning_steps", "3d", "超出范围"),
    ],
)
def test_invalid_settings_are_refused_in_chinese(
    auth_client: FlaskClient, session: Any, user: Any, field: str, value: str, message: str
) -> None:
    response = auth_client.post("/settings", data={**VALID, field: value})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and 'aria-invalid="true"' in page
    settings = study.user_settings(session, user.id)
    session.refresh(settings)
    assert settings.new_per_day == 20 and settings.timezone == "Asia/Shanghai"


# --- the optimizer ----------------------------------------------------------------------------


def synthetic_history(
    card_ids: list[int], *, reviews_per_card: int, seed: int = 7
) -> list[optimizer.LogEntry]:
    """Answers from a forgetful learner: FSRS-6 memory with a quarter of the default stabilities."""
    rng = random.Random(seed)
    learner = scheduling.SchedulerConfig(
        enable_fuzzing=False,
        parameters=(0.1, 0.3, 0.6, 2.0, *scheduling.DEFAULT_PARAMETERS[4:]),
    )
    app_config = scheduling.SchedulerConfig(enable_fuzzing=False)
    entries = []
    start = datetime(2024, 1, 1, 1, 0, tzinfo=UTC)
    for n, card_id in enumerate(card_ids):
        shown, truth = scheduling.MemoryState(), scheduling.MemoryState()
        now = start + timedelta(days=n % 20)
        for _ in range(reviews_per_card):
            if shown.state == scheduling.NEW:
                rating = rng.choice([1, 2, 3, 3, 3, 4])
            else:
                recall = scheduling.retrievability(truth, now=now, config=learner)
                rating = 1 if rng.random() > recall else rng.choice([2, 3, 3, 3, 3, 4])
            entries.append(optimizer.LogEntry(card_id, now, rating, shown.state))
            shown, _ = scheduling.review(shown, rating, now=now, config=app_config)
            truth, _ = scheduling.review(truth, rating, now=now, config=learner)
            now = max(shown.due or now, now + timedelta(minutes=1))
    return entries


def store(session: Any, user_id: int, entries: list[optimizer.LogEntry]) -> None:
    for e in entries:
        session.add(
            ReviewLog(
                user_id=user_id,
                card_id=e.card_id,
                rating=e.rating,
                reviewed_at=e.reviewed_at,
                state_before=e.state_before,
                state_after=2,
                before={},
                after={},
            )
        )
    session.commit()


def test_build_items_counts_study_days_and_skips_incomplete_histories() -> None:
    t = datetime(2025, 1, 1, 21, 0, tzinfo=UTC)  # 05:00 Jan 2 in Shanghai
    entries = [
        optimizer.LogEntry(1, t, 3, 0),
        optimizer.LogEntry(1, t + timedelta(minutes=10), 3, 1),  # same day: no item
        optimizer.LogEntry(1, t + timedelta(hours=22), 3, 2),  # 03:00 Jan 3 = still study day Jan 2
        optimizer.LogEntry(1, t + timedelta(days=3), 1, 2),
        optimizer.LogEntry(2, t, 3, 2),  # no first answer recorded: skipped
    ]
    items = optimizer.build_items(entries, tz_name="Asia/Shanghai", rollover_hour=4)
    assert len(items) == 1
    assert [repr(r) for r in items[0].reviews] == [
        repr(x)
        for x in [
            optimizer.FSRSReview(3, 0),
            optimizer.FSRSReview(3, 0),
            optimizer.FSRSReview(3, 0),
            optimizer.FSRSReview(1, 3),
        ]
    ]


def test_fit_lowers_the_log_loss_on_a_learner_unlike_the_defaults() -> None:
    entries = synthetic_history(list(range(1, 121)), reviews_per_card=8)
    items = optimizer.build_items(entries, tz_name="UTC", rollover_hour=0)
    result = optimizer.fit(items)
    assert len(result.parameters) == 21 and result.items == len(items)
    assert result.loss_after < result.loss_before and result.adopted
    scheduling.SchedulerConfig(parameters=tuple(result.parameters))  # py-fsrs accepts them
    assert scheduling.review(
        scheduling.MemoryState(),
        3,
        now=datetime(2025, 1, 1, tzinfo=UTC),
        config=scheduling.SchedulerConfig(parameters=tuple(result.parameters)),
    )


def test_optimize_needs_enough_reviews(auth_client: FlaskClient, session: Any, user: Any) -> None:
    with pytest.raises(optimizer.NotEnoughReviews) as error:
        optimizer.optimize_user(session, user.id, now=datetime.now(UTC))
    assert error.value.have == 0 and "400" in error.value.message
    response = auth_client.post("/settings/optimize", follow_redirects=True)
    assert "需要至少 400 条复习记录" in response.get_data(as_text=True)
    assert study.user_settings(session, user.id).fsrs_parameters is None


def _card_ids(session: Any) -> list[int]:
    return list(session.scalars(select(Card.id).where(Card.kind != "drill").order_by(Card.id)))


def test_optimize_button_fits_and_shows_the_loss(
    auth_client: FlaskClient, session: Any, user: Any
) -> None:
    ids = _card_ids(session)
    store(session, user.id, synthetic_history(ids, reviews_per_card=max(12, 480 // len(ids) + 1)))
    page = auth_client.post("/settings/optimize", follow_redirects=True).get_data(as_text=True)
    assert "对数损失" in page and "优化前对数损失" in page
    settings = study.user_settings(session, user.id)
    session.refresh(settings)
    assert settings.fsrs_optimized_at is not None
    assert settings.fsrs_loss_before is not None and settings.fsrs_loss_after is not None
    if settings.fsrs_loss_after < settings.fsrs_loss_before:
        assert settings.fsrs_parameters is not None and len(settings.fsrs_parameters) == 21
        assert "你的个人参数" in page
        reset = auth_client.post("/settings/reset-parameters", follow_redirects=True)
        assert "已恢复 FSRS 默认参数" in reset.get_data(as_text=True)


def test_cli_fsrs_optimize(app: Flask, session: Any, user: Any) -> None:
    runner = app.test_cli_runner()
    too_few = runner.invoke(args=["fsrs", "optimize", "--user", "alice"])
    assert too_few.exit_code == 1 and "跳过" in too_few.output
    missing = runner.invoke(args=["fsrs", "optimize", "--user", "nobody"])
    assert missing.exit_code != 0 and "找不到用户" in missing.output
    ids = _card_ids(session)
    store(session, user.id, synthetic_history(ids, reviews_per_card=max(12, 480 // len(ids) + 1)))
    done = runner.invoke(args=["fsrs", "optimize", "--user", "alice"])
    assert done.exit_code == 0, done.output
    assert "alice:" in done.output and "对数损失" in done.output and "→" in done.output
    every = runner.invoke(args=["fsrs", "optimize"])
    assert every.exit_code == 0 and "alice:" in every.output
