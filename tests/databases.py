"""Test databases: SQLite files by default, PostgreSQL databases when TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
import queue
import shutil
import threading
import uuid
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

# Set (by `make test`'s second pass, see tests/services.py) to a PostgreSQL server's URL: every
# test then runs on a database of its own there instead of on an SQLite file.
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")


def admin() -> Engine:
    # CREATE/DROP DATABASE cannot run inside a transaction.
    return create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def pg_url(name: str) -> str:
    return make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)


class DbTemplate:
    """A migrated database that each test clones: a file copy on SQLite, a template on PostgreSQL.

    CREATE DATABASE takes a few hundred milliseconds, so on PostgreSQL a background thread keeps
    a couple of clones ready (the server does the copying while the previous test runs) and
    another drops the used ones.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._ready: queue.Queue[str] = queue.Queue(maxsize=3)
        for _ in range(2 if ON_POSTGRES else 0):
            threading.Thread(target=self._fill, daemon=True).start()

    def _fill(self) -> None:
        source = make_url(self.url).database
        engine = admin()
        while True:
            clone = f"t_{uuid.uuid4().hex}"
            with engine.connect() as connection:
                # FILE_COPY copies the few megabytes directly; WAL_LOG (default) logs every page.
                connection.exec_driver_sql(
                    f'CREATE DATABASE "{clone}" TEMPLATE "{source}" STRATEGY FILE_COPY'
                )
            self._ready.put(clone)

    def clone(self, folder: Path, name: str = "quiz", *, per_test: bool = True) -> str:
        """A fresh copy; per_test=False for longer-lived fixtures, which call drop() themselves."""
        if not ON_POSTGRES:
            target = folder / f"{name}.sqlite3"
            shutil.copyfile(make_url(self.url).database or "", target)
            return f"sqlite:///{target}"
        clone = self._ready.get(timeout=120)
        if per_test:
            _PG_CLONES.append(clone)
        return pg_url(clone)


_PG_CLONES: list[str] = []
_TO_DROP: queue.Queue[str] = queue.Queue()


def _drop_forever() -> None:
    engine = admin()
    while True:
        clone = _TO_DROP.get()
        with engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{clone}" WITH (FORCE)')


if ON_POSTGRES:
    threading.Thread(target=_drop_forever, daemon=True).start()


def create_database(name: str) -> str:
    with admin().connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    return pg_url(name)


def drop_clones() -> None:
    """Hand this test's databases to the dropping thread (WITH FORCE ends stray connections)."""
    while _PG_CLONES:
        _TO_DROP.put(_PG_CLONES.pop())


def drop(url: str) -> None:
    """Drop a database made with clone(per_test=False); SQLite files go with their folder."""
    if ON_POSTGRES:
        _TO_DROP.put(make_url(url).database or "")
