"""Behaviour that differs between SQLite and PostgreSQL, checked on whichever one the run uses.

`make test` runs the whole suite twice (SQLite, then PostgreSQL), so each test here holds on both.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from tests.databases import ON_POSTGRES


def test_the_run_uses_the_database_it_was_given(session: Any) -> None:
    assert session.get_bind().dialect.name == ("postgresql" if ON_POSTGRES else "sqlite")


def test_times_come_back_aware_utc_whatever_zone_went_in(session: Any, user: Any) -> None:
    from quiz.models import Draft

    beijing = timezone(timedelta(hours=8))
    written = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=beijing)
    session.add(Draft(user_id=user.id, drill_id="softmax", code="x", updated_at=written))
    session.commit()
    session.expire_all()
    read = session.scalar(select(Draft.updated_at).where(Draft.user_id == user.id))
    assert read == written and read.tzinfo == UTC and read.hour == 0


def test_naive_times_are_refused_before_they_reach_the_database(session: Any, user: Any) -> None:
    from sqlalchemy.exc import StatementError

    from quiz.models import Draft

    session.add(
        Draft(user_id=user.id, drill_id="softmax", code="x", updated_at=datetime(2026, 1, 1))
    )
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()
    session.rollback()


def test_comparing_times_in_sql_orders_them_as_instants(session: Any, user: Any) -> None:
    from quiz.models import Draft

    base = datetime(2026, 5, 1, 12, tzinfo=UTC)
    # Written in different zones, compared in SQL: only the instant may count.
    for drill, when in [
        ("a", base.astimezone(timezone(timedelta(hours=-7)))),
        ("b", base + timedelta(seconds=1)),
        ("c", (base - timedelta(microseconds=1)).astimezone(timezone(timedelta(hours=9)))),
    ]:
        session.add(Draft(user_id=user.id, drill_id=drill, code="", updated_at=when))
    session.commit()
    later = session.scalars(
        select(Draft.drill_id).where(Draft.updated_at >= base).order_by(Draft.updated_at)
    ).all()
    assert later == ["a", "b"]


def test_username_lookup_ignores_case_and_the_name_stays_unique(session: Any, user: Any) -> None:
    from quiz.accounts import AccountError, create_user, find_user

    assert find_user(session, "ALICE").id == user.id
    with pytest.raises(AccountError):
        create_user(session, "Alice", "another long password")


def test_unicode_and_json_round_trip(session: Any, user: Any) -> None:
    from quiz.models import Submission

    result = {"message": "数值稳定性 ✓", "cases": [{"max_abs_err": 1e-300, "ok": True}]}
    session.add(
        Submission(
            user_id=user.id,
            drill_id="softmax",
            mode="run",
            code="# 中文注释\n",
            verdict="accepted",
            passed=1,
            total=1,
            time_ms=1.5,
            sandboxed=True,
            result=result,
        )
    )
    session.commit()
    session.expire_all()
    stored = session.scalar(select(Submission).where(Submission.user_id == user.id))
    assert stored.result == result and stored.code == "# 中文注释\n" and stored.sandboxed is True
