"""The user's study day: it starts at the rollover hour in the user's time zone (Anki's habit).

Pure functions of their arguments; callers pass `now`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# A new user's study day (UserSettings' defaults), and every fallback when a user has no settings.
DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_ROLLOVER_HOUR = 4


class DaySettings(Protocol):
    timezone: str
    rollover_hour: int


def zone_and_rollover(settings: DaySettings | None) -> tuple[str, int]:
    """The user's time zone and rollover hour, or the defaults when they have no settings yet."""
    if settings is None:
        return DEFAULT_TIMEZONE, DEFAULT_ROLLOVER_HOUR
    return settings.timezone, settings.rollover_hour


def zone(name: str) -> ZoneInfo:
    """The named zone, or UTC when the name is unknown (settings validate names on input)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def study_day(now: datetime, tz_name: str, rollover_hour: int) -> date:
    """The calendar date of the study day containing `now` (before the rollover hour counts as yesterday)."""
    local = now.astimezone(zone(tz_name))
    return (local - timedelta(hours=rollover_hour)).date()


def day_bounds(day: date, tz_name: str, rollover_hour: int) -> tuple[datetime, datetime]:
    """UTC start (inclusive) and end (exclusive) of a study day; DST-aware."""
    tz = zone(tz_name)
    start = datetime.combine(day, time(rollover_hour), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(rollover_hour), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def today_bounds(now: datetime, tz_name: str, rollover_hour: int) -> tuple[datetime, datetime]:
    return day_bounds(study_day(now, tz_name, rollover_hour), tz_name, rollover_hour)
