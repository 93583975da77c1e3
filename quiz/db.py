"""Database wiring: the declarative base, a UTC datetime type, and SQLite pragmas."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, cast

from flask import Flask, current_app, g, has_app_context, has_request_context, request
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, Table, event
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Stable constraint names so Alembic autogenerate produces the same migrations everywhere.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    if TYPE_CHECKING:
        # Every model maps one Table (DeclarativeBase allows any FromClause).
        __table__: ClassVar[Table]


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: SQLite drops tzinfo and fsrs rejects naive times."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()

# Services are annotated with sqlalchemy.orm.Session; `db.session` is flask_sqlalchemy's
# scoped_session (a proxy), so views pass `db.session()`, the request's own Session.
# `db.Model` is built at run time from Base (plus query helpers we do not use), so mypy cannot
# see it: the type checker is shown Base, which declares the same mapping.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL for concurrent readers, enforced foreign keys, and waiting instead of 'locked'."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        # pysqlite's own transaction handling (BEGIN only before DML, COMMIT before DDL) breaks
        # SAVEPOINT and lets reads run outside the transaction: turn it off and BEGIN ourselves
        # (the recipe in SQLAlchemy's SQLite dialect documentation).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection: Any) -> None:
    """Every transaction starts with an explicit BEGIN; a writing request's with IMMEDIATE.

    A deferred transaction that read first and writes later fails at once with SQLITE_BUSY
    when another connection committed in between (WAL snapshots cannot be upgraded, and the
    busy timeout does not apply): a request that may write takes the write lock up front and
    waits its turn instead. Reads (GET) never block anyone.
    """
    if connection.dialect.name != "sqlite":
        return
    if not _may_write():
        connection.exec_driver_sql("BEGIN")
        return
    # Writers of this process queue on a lock first: a waiting thread wakes the moment the
    # previous writer ends, where SQLite's own busy handler polls with sleeps of up to 100 ms
    # (seconds of tail latency under load). Bounded: after the busy timeout SQLite decides.
    acquired = _writer_lock.acquire(timeout=WRITER_WAIT_SECONDS)
    connection.info["writer_lock"] = acquired
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        _release_writer(connection)
        raise


WRITER_WAIT_SECONDS = 5.0
_writer_lock = threading.Lock()


def _release_writer(connection: Any) -> None:
    if connection.info.pop("writer_lock", False):
        _writer_lock.release()


@event.listens_for(Engine, "commit")
def _after_commit(connection: Any) -> None:
    _release_writer(connection)


@event.listens_for(Engine, "rollback")
def _after_rollback(connection: Any) -> None:
    _release_writer(connection)


def _may_write() -> bool:
    if not has_request_context():
        # CLI, migrations, tests: one writer. Grader workers (quiz.worker) write in every
        # transaction, several threads at once: they set SQLITE_BEGIN_IMMEDIATE.
        return has_app_context() and bool(current_app.config.get("SQLITE_BEGIN_IMMEDIATE"))
    return request.method not in SAFE_METHODS and not g.get("deferred_transaction", False)


def init_app(app: Flask) -> None:
    from quiz import models  # noqa: F401  (register the tables on the metadata)

    db.init_app(app)
    migrate.init_app(app, db, directory=_migrations_dir(), render_as_batch=True, compare_type=True)


def _migrations_dir() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parent.parent / "migrations")


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE matched. Session.execute is annotated as returning a Result; for
    those statements it is a CursorResult, which has the count."""
    return cast("CursorResult[Any]", result).rowcount


def utcnow() -> datetime:
    """The one clock read of the web side (views and CLI call it, domain code receives it)."""
    return datetime.now(UTC)
