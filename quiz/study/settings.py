"""A user's study settings and the scheduler configuration they make."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnDefault
from sqlalchemy.orm import Session

from quiz import scheduling
from quiz.models import (
    UserSettings,
)
from quiz.scheduling import SchedulerConfig


def user_settings(session: Session, user_id: int, *, create: bool = False) -> UserSettings:
    """The user's settings row; when it is missing, the defaults (added only with `create`,
    so that reading pages never write)."""
    settings = session.get(UserSettings, user_id)
    if settings is None:
        settings = default_settings(user_id)
        if create:
            session.add(settings)
            session.flush()
    return settings


def default_settings(user_id: int) -> UserSettings:
    """A settings row with the model's column defaults filled in (not added to any session)."""
    values = {
        column.key: column.default.arg
        for column in UserSettings.__table__.columns
        if isinstance(column.default, ColumnDefault) and not callable(column.default.arg)
    }
    return UserSettings(user_id=user_id, **values)


def _steps(text: str | None, default: tuple[timedelta, ...]) -> tuple[timedelta, ...]:
    try:
        return scheduling.parse_steps(text) if text is not None else default
    except ValueError:  # validated on input; an old bad value must not break studying
        return default


def scheduler_config(settings: Any, *, fuzz: bool = True) -> SchedulerConfig:
    """The scheduler a user's answers go through: their retention, steps and fitted weights."""
    return SchedulerConfig(
        desired_retention=settings.desired_retention,
        learning_steps=_steps(settings.learning_steps, scheduling.DEFAULT_LEARNING_STEPS),
        relearning_steps=_steps(settings.relearning_steps, scheduling.DEFAULT_RELEARNING_STEPS),
        # Weights fsrs would refuse (say, from another version) fall back to the defaults.
        parameters=scheduling.valid_parameters(settings.fsrs_parameters),
        enable_fuzzing=fuzz,
        timezone=settings.timezone,
        rollover_hour=settings.rollover_hour,
    )


def _kind_config(kind: str, settings: Any, fuzz: bool) -> SchedulerConfig:
    config = scheduler_config(settings, fuzz=fuzz)
    # A drill's practice happens on the drill page: its card goes straight to day intervals.
    return config.without_steps() if kind == "drill" else config


def fuzz_seed(card_id: int, reps: int) -> int:
    """One fuzz point per card and rep: the preview on the button equals the answer."""
    return card_id * 1_000_003 + reps
