"""Dates shown to the learner are in their zone and study day (the card browser, exports)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from quiz import study
from quiz.db import utcnow
from quiz.models import Card, CardState
from quiz.studyday import study_day


def _due_card(session: Any, user: Any, due: datetime) -> Card:
    card = session.scalars(select(Card).where(Card.kind == "question").order_by(Card.id)).first()
    session.add(
        CardState(
            user_id=user.id,
            card_id=card.id,
            state=2,
            stability=3.0,
            difficulty=5.0,
            due=due,
            last_review=due,
            reps=2,
        )
    )
    session.commit()
    return card


def test_card_browser_shows_the_due_day_in_the_users_zone(
    auth_client: FlaskClient, session: Any, user: Any
) -> None:
    # 22:56 UTC on 11-30 is 06:56 on 12-01 in Shanghai, after the 04:00 rollover: due 12-01.
    card = _due_card(session, user, datetime(2026, 11, 30, 22, 56, tzinfo=UTC))
    page = auth_client.get(f"/cards?q={card.front_md[:6]}").get_data(as_text=True)
    assert "到期 2026年12月1日" in page and "2026年11月30日" not in page
    english = auth_client.get(
        f"/cards?q={card.front_md[:6]}", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)
    assert "Due Dec 1, 2026" in english


def test_an_early_morning_due_counts_for_the_previous_study_day(
    auth_client: FlaskClient, session: Any, user: Any
) -> None:
    # 18:30 UTC on 11-30 is 02:30 on 12-01 in Shanghai: before the rollover, so study day 11-30.
    card = _due_card(session, user, datetime(2026, 11, 30, 18, 30, tzinfo=UTC))
    page = auth_client.get(f"/cards?q={card.front_md[:6]}").get_data(as_text=True)
    assert "到期 2026年11月30日" in page


def test_export_names_carry_the_users_day(
    auth_client: FlaskClient, session: Any, user: Any
) -> None:
    now = utcnow()
    # One of these two zones is on another calendar day than UTC at any hour.
    zone = next(
        z for z in ("Pacific/Kiritimati", "Pacific/Pago_Pago") if study_day(now, z, 0) != now.date()
    )
    settings = study.user_settings(session, user.id)
    settings.timezone, settings.rollover_hour = zone, 0
    session.commit()
    expected = study_day(utcnow(), zone, 0).isoformat()
    for url, pattern in (
        ("/progress/reviews.csv", r"mlquiz-reviews-(\d{4}-\d\d-\d\d)\.csv"),
        ("/progress/backup.json", r"mlquiz-backup-(\d{4}-\d\d-\d\d)\.json"),
    ):
        header = auth_client.get(url).headers["Content-Disposition"]
        assert re.search(pattern, header).group(1) == expected, (zone, header)
