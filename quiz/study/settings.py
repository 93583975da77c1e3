"""A user's study settings and the scheduler configuration they make."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
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
    parameters = settings.fsrs_parameters
    key = (
        settings.desired_retention,
        settings.learning_steps,
        settings.relearning_steps,
        tuple(parameters) if isinstance(parameters, list) else parameters,
        fuzz,
        settings.timezone,
        settings.rollover_hour,
    )
    try:
        return _config(*key)
    except TypeError:  # unhashable stored weights (not a flat list): refused by the check anyway
        return _config.__wrapped__(*key)


@lru_cache(maxsize=256)
def _config(
    desired_retention: float,
    learning_steps: str | None,
    relearning_steps: str | None,
    parameters: Any,
    fuzz: bool,
    timezone: str,
    rollover_hour: int,
) -> SchedulerConfig:
    # Built once per distinct settings (an answer and its next card's previews both ask, and
    # parsing the steps and checking 21 weights cost more than the lookup). The key is the
    # settings' values themselves, so an edited setting is simply another entry.
    return SchedulerConfig(
        desired_retention=desired_retention,
        learning_steps=_steps(learning_steps, scheduling.DEFAULT_LEARNING_STEPS),
        relearning_steps=_steps(relearning_steps, scheduling.DEFAULT_RELEARNING_STEPS),
        # Weights fsrs would refuse (say, from another version) fall back to the defaults.
        parameters=scheduling.valid_parameters(parameters),
        enable_fuzzing=fuzz,
        timezone=timezone,
        rollover_hour=rollover_hour,
    )


@lru_cache(maxsize=256)
def _kind_config_cached(config: SchedulerConfig, drill: bool) -> SchedulerConfig:
    # A drill's practice happens on the drill page: its card goes straight to day intervals.
    return config.without_steps() if drill else config


def _kind_config(kind: str, settings: Any, fuzz: bool) -> SchedulerConfig:
    return _kind_config_cached(scheduler_config(settings, fuzz=fuzz), kind == "drill")


def fuzz_seed(card_id: int, reps: int) -> int:
    """One fuzz point per card and rep: the preview on the button equals the answer."""
    return card_id * 1_000_003 + reps
