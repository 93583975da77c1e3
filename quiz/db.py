"""Database wiring: the declarative base, a UTC datetime type, SQLite pragmas, and the cache of
compiled SQL."""

from __future__ import annotations

import fcntl
import os
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from flask import Flask, current_app, g, has_app_context, has_request_context, request
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, Table, event
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.compiler import Compiled
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import LRUCache

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
    # Writers queue before SQLite's lock: on a thread lock within this process, then on a file
    # lock shared by every process of the site. A waiter is woken the moment the previous
    # writer ends, where SQLite's own busy handler polls with sleeps of up to 100 ms: with two
    # gunicorn workers, the sleeping one lost every race to the other's next thread (p99 of an
    # answer above a second with 32 learners). The thread lock is bounded (after the busy
    # timeout SQLite decides); the file lock is not, but its holder is a writer that is running
    # and releases it with its transaction, and a process that dies releases it too.
    acquired = _writer_lock.acquire(timeout=WRITER_WAIT_SECONDS)
    connection.info["writer_lock"] = acquired
    try:
        if acquired and (queue := _writers_file(connection.engine.url.database)) is not None:
            fcntl.flock(queue, fcntl.LOCK_EX)
            connection.info["writers_file"] = queue
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        _release_writer(connection)
        raise


WRITER_WAIT_SECONDS = 5.0
_writer_lock = threading.Lock()
# (pid, database, descriptor) of the writers file this process last locked. Forked workers open
# their own (a lock on a file description inherited from the parent would be shared with the
# parent's other forks); one at a time, since a process uses one database (tests use many).
_writers: tuple[int, str, int] | None = None


def _writers_file(database: str | None) -> int | None:
    """This process's descriptor of `DATABASE-writers`, the file every writer locks; None for
    an in-memory database or when the file cannot be opened (then SQLite alone decides).
    Called with the writer lock held: no other thread of ours has a writers file locked."""
    global _writers
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    pid = os.getpid()
    if _writers is not None and _writers[:2] == (pid, database):
        return _writers[2]
    if _writers is not None and _writers[0] == pid:
        os.close(_writers[2])
    fd = _open_writers_file(database + "-writers")
    _writers = None if fd is None else (pid, database, fd)
    return fd


def _open_writers_file(path: str) -> int | None:
    # Like SQLite's -wal and -shm files: the database's permissions and, created by root (a
    # command run by the administrator), its owner, so that the web user can open it too.
    try:
        db_stat = os.stat(path.removesuffix("-writers"))
        # Read access is all flock needs.
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, db_stat.st_mode & 0o666)
        if os.geteuid() == 0 and os.fstat(fd).st_uid != db_stat.st_uid:
            os.fchown(fd, db_stat.st_uid, db_stat.st_gid)
    except OSError:
        return None
    return fd


def _release_writer(connection: Any) -> None:
    queue = connection.info.pop("writers_file", None)
    if queue is not None:
        fcntl.flock(queue, fcntl.LOCK_UN)
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
    with app.app_context():
        for engine in db.engines.values():
            engine.update_execution_options(compiled_cache=CompiledSQL())
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


# Statements built once (at first use, then kept for the life of the process), by the identity
# of their cache key, which SQLAlchemy memoizes on the statement: the key object holds its id.
_built_once: dict[int, tuple[Any, ...]] = {}

_E = TypeVar("_E", bound=ClauseElement)


def built_once(statement: _E) -> _E:
    """Marks a statement that is built once and kept (module-level, or from an `lru_cache`d
    builder) and executed with its values as bound parameters: `CompiledSQL` then finds its
    compiled SQL by identity rather than by hashing it. Returns the statement."""
    key = statement._generate_cache_key()  # memoized on the statement: the same tuple each time
    if key is not None:
        _built_once[id(key.key)] = key.key  # kept alive here: its id is never reused
    return statement


class CompiledSQL:
    """Every engine's cache of compiled SQL (SQLAlchemy's `compiled_cache`).

    SQLAlchemy looks a statement's compiled SQL up by hashing the statement's cache key, a
    nested tuple of every column, clause, type and option in it, on every execution: for the
    study queue's statement a walk over thousands of objects, cold in each request. A statement
    marked `built_once` is found by the identity of its key instead (0.2-0.3 ms CPU less per
    study round trip, 4-9%: `bench/compiled_cache.py`); any other goes through SQLAlchemy's
    own LRU cache.
    """

    def __init__(self, size: int = 500) -> None:  # (SQLAlchemy's default query_cache_size)
        self._by_hash: LRUCache[tuple[Any, ...], Compiled] = LRUCache(size)
        # (id of dialect, id of cache key, column keys, schema translated, executemany)
        self._by_identity: dict[tuple[Any, ...], Compiled] = {}

    @staticmethod
    def _identity(key: tuple[Any, ...]) -> tuple[Any, ...] | None:
        # SQLAlchemy's key: (dialect, cache key, column keys, schema translated, executemany).
        dialect, cache_key, *rest = key
        if id(cache_key) not in _built_once:
            return None
        # The dialect lives as long as its engine, which holds this cache.
        return (id(dialect), id(cache_key), *rest)

    def get(self, key: tuple[Any, ...], default: Compiled | None = None) -> Compiled | None:
        identity = self._identity(key)
        if identity is None:
            return self._by_hash.get(key, default)
        return self._by_identity.get(identity, default)

    def __setitem__(self, key: tuple[Any, ...], compiled: Compiled) -> None:
        identity = self._identity(key)
        if identity is None:
            self._by_hash[key] = compiled
        else:
            self._by_identity[identity] = compiled
