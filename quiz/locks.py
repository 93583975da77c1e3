"""Per-user serialisation of read-then-write services, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from quiz.models import User


def lock_user(session: Session, user_id: int) -> None:
    """Hold the user's row until the transaction ends: SELECT … FOR UPDATE.

    Services that count or pick rows and then write on that basis (admission counts, "undo
    the latest answer") call this first, so a second request of the same user waits until the
    first commits and then reads what it wrote — under PostgreSQL's READ COMMITTED two
    transactions would otherwise read the same rows and both act. On SQLite, quiz.db's BEGIN
    IMMEDIATE already runs writers one at a time: no statement at all there.
    """
    if session.get_bind().dialect.name == "sqlite":
        return  # nothing to lock (and no statement to spend): writers already run one at a time
    session.execute(select(User.id).where(User.id == user_id).with_for_update())
