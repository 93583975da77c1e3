"""Schema changes go only through Alembic: one head, and the models match the migrations."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import inspect

ROOT = Path(__file__).resolve().parents[2]


def test_single_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_models_match_migrations(empty_app: Flask) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from quiz.db import db

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_upgrade_builds_schema_from_empty_file(empty_app: Flask) -> None:
    from quiz.db import db

    tables = set(inspect(db.engine).get_table_names())
    assert {
        "users",
        "cards",
        "card_states",
        "review_logs",
        "submissions",
        "alembic_version",
    } <= tables


def test_sqlite_pragmas(empty_app: Flask) -> None:
    from quiz.db import db

    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
