"""The review log as CSV (streamed in batches)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from quiz.backup.format import RATING_NAMES, STATE_NAMES
from quiz.models import (
    Card,
    ReviewLog,
    Topic,
    UserSettings,
)
from quiz.studyday import study_day, zone, zone_and_rollover

CSV_HEADER = [
    "reviewed_at_utc",
    "reviewed_at_local",
    "study_day",
    "card_key",
    "card_kind",
    "topic",
    "rating",
    "rating_name",
    "state_before",
    "state_after",
    "duration_ms",
]


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # Spreadsheets run cells that start like a formula; a leading quote keeps them text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def review_log_csv(session: Session, user_id: int, *, batch: int = 2000) -> Iterator[str]:
    """The user's review log, oldest first, as CSV text chunks (streamed, never all in memory)."""
    settings = session.get(UserSettings, user_id)
    tz_name, rollover = zone_and_rollover(settings)
    tz = zone(tz_name)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    # The BOM makes Excel read the file as UTF-8 (Chinese text otherwise turns to mojibake).
    buffer.write("\ufeff")
    writer.writerow(CSV_HEADER)
    rows = session.execute(
        select(
            ReviewLog.reviewed_at,
            Card.key,
            Card.kind,
            Topic.title,
            ReviewLog.rating,
            ReviewLog.state_before,
            ReviewLog.state_after,
            ReviewLog.duration_ms,
        )
        .join(Card, Card.id == ReviewLog.card_id)
        .join(Topic, Topic.id == Card.topic_id)
        .where(ReviewLog.user_id == user_id)
        .order_by(ReviewLog.reviewed_at, ReviewLog.id)
        .execution_options(yield_per=batch)
    )
    for n, (at, key, kind, topic, rating, before, after, duration) in enumerate(rows, 1):
        writer.writerow(
            [
                at.isoformat(),
                at.astimezone(tz).isoformat(),
                study_day(at, tz_name, rollover).isoformat(),
                _cell(key),
                kind,
                _cell(topic),
                rating,
                RATING_NAMES.get(rating, ""),
                STATE_NAMES.get(before, before),
                STATE_NAMES.get(after, after),
                "" if duration is None else duration,
            ]
        )
        if n % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
