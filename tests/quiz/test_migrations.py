"""Schema changes go only through Alembic: one head, and the models match the migrations."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import inspect

from tests.databases import ON_POSTGRES

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


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite pragmas")
def test_sqlite_pragmas(empty_app: Flask) -> None:
    from quiz.db import db

    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_username_migration_resolves_case_duplicates_safely(tmp_path: Path) -> None:
    """Accounts differing only by case: the oldest keeps its name, later ones are renamed
    (never deleted or merged), and the unique key then holds; tokens get a 90-day expiry."""
    import sqlite3

    from flask_migrate import downgrade, upgrade

    from app import create_app
    from quiz.db import db

    path = tmp_path / "old.sqlite3"
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}
    )
    with app.app_context():
        upgrade(revision="a6ad4322999b")
        db.engine.dispose()
    with sqlite3.connect(path) as raw:
        for name in ("Alice", "alice", "ALICE", "bob", "a" * 40, "A" * 40):
            raw.execute(
                "INSERT INTO users (username, password_hash, created_at, session_version)"
                " VALUES (?, 'h', '2026-01-01 00:00:00.000000', 0)",
                (name,),
            )
        raw.execute(
            "INSERT INTO api_tokens (user_id, token_hash, created_at)"
            " VALUES (1, 'f', '2026-01-01 00:00:00.000000')"
        )
    with app.app_context():
        upgrade()
        db.engine.dispose()
    with sqlite3.connect(path) as raw:
        names = raw.execute("SELECT id, username, username_key FROM users ORDER BY id").fetchall()
        expires = raw.execute("SELECT expires_at FROM api_tokens").fetchone()[0]
    assert [n for _, n, _ in names] == [
        "Alice",
        "alice-2",
        "ALICE-3",
        "bob",
        "a" * 40,
        "A" * 38 + "-6",
    ]
    assert all(key == name.lower() for _, name, key in names)
    assert expires.startswith("2026-04-01")
    with app.app_context():  # and back down, for a rollback of the release
        downgrade(revision="a6ad4322999b")
        db.engine.dispose()


def test_card_state_copies_are_backfilled(tmp_path: Path) -> None:
    """Existing state rows get their card's topic and liveness (retired and drill cards are
    not live), and the upgrade goes back down."""
    import sqlite3

    from flask_migrate import downgrade, upgrade

    from app import create_app
    from quiz.db import db

    path = tmp_path / "old.sqlite3"
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}
    )
    with app.app_context():
        upgrade(revision="d3a8f61c0b72")
        db.engine.dispose()
    at = "'2026-01-01 00:00:00.000000'"
    with sqlite3.connect(path) as raw:
        raw.execute(
            "INSERT INTO users (id, username, username_key, password_hash, created_at,"
            f" session_version) VALUES (1, 'a', 'a', 'h', {at}, 0)"
        )
        raw.execute(
            f"INSERT INTO documents (id, path, sha256, imported_at) VALUES (1, 'd', 's', {at})"
        )
        for topic in (1, 2):
            raw.execute(
                "INSERT INTO topics (id, document_id, slug, title, position, retired)"
                f" VALUES ({topic}, 1, 't{topic}', 'T', {topic}, 0)"
            )
        for card, topic, kind, retired in (
            (1, 1, "question", 0),
            (2, 2, "question", 1),
            (3, 2, "drill", 0),
        ):
            raw.execute(
                "INSERT INTO cards (id, key, kind, topic_id, sibling_key, position, front_md,"
                " back_md, front_html, back_html, short_html, retired, created_at, updated_at)"
                f" VALUES ({card}, 'k{card}', '{kind}', {topic}, 'k{card}', {card}, '', '', '',"
                f" '', '', {retired}, {at}, {at})"
            )
            raw.execute(
                "INSERT INTO card_states (user_id, card_id, state, due, reps, lapses, suspended,"
                f" leech, version) VALUES (1, {card}, 0, {at}, 0, 0, 0, 0, 0)"
            )
    with app.app_context():
        upgrade()
        db.engine.dispose()
    with sqlite3.connect(path) as raw:
        copies = raw.execute(
            "SELECT card_id, topic_id, card_live FROM card_states ORDER BY card_id"
        ).fetchall()
    assert copies == [(1, 1, 1), (2, 2, 0), (3, 2, 0)]
    with app.app_context():
        downgrade(revision="d3a8f61c0b72")
        db.engine.dispose()
