"""The engine's compiled-SQL cache (`quiz.db.CompiledSQL`): statements built once are found by
identity, the rest by SQLAlchemy's hashed key, and each runs with the values given."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import Integer, bindparam, select

from quiz.db import CompiledSQL, built_once, db
from quiz.models import User
from tests.factories import make_user


def _by_id() -> Any:
    return select(User.username).where(User.id == bindparam("user_id", type_=Integer()))


def _run(statement: Any, user_id: int) -> tuple[str | None, bool]:
    """The username found, and whether the compiled SQL came from the cache."""
    result = db.session.connection().execute(statement, {"user_id": user_id})
    dialect = db.engine.dialect
    return result.scalar(), result.context.cache_hit == dialect.CACHE_HIT


def test_every_engine_uses_it(empty_app: Flask) -> None:
    assert isinstance(db.engine.get_execution_options()["compiled_cache"], CompiledSQL)


def test_a_statement_built_once_is_compiled_once_and_runs_with_each_value(
    empty_app: Flask,
) -> None:
    ann, bob = make_user(db.session, "ann"), make_user(db.session, "bob")
    db.session.flush()
    cache = db.engine.get_execution_options()["compiled_cache"]
    before = len(cache._by_identity)
    statement = built_once(_by_id())
    assert _run(statement, ann.id) == ("ann", False)  # compiled on first use
    assert _run(statement, bob.id) == ("bob", True)
    assert _run(statement, -1) == (None, True)
    assert len(cache._by_identity) == before + 1  # one entry, found by identity since


def test_a_statement_built_per_call_is_found_by_its_key(empty_app: Flask) -> None:
    ann = make_user(db.session, "ann")
    db.session.flush()
    cache = db.engine.get_execution_options()["compiled_cache"]
    before = len(cache._by_identity)
    assert _run(_by_id(), ann.id) == ("ann", False)
    # An equal statement built again: the same SQL, found by hashing its key.
    assert _run(_by_id(), ann.id) == ("ann", True)
    assert len(cache._by_identity) == before


def test_a_statement_built_once_and_its_copy_by_key_do_not_mix(empty_app: Flask) -> None:
    """The same structure built once and built per call: both right, each from its own place."""
    ann = make_user(db.session, "ann")
    db.session.flush()
    once = built_once(_by_id().where(User.username != "x"))
    per_call = _by_id().where(User.username != "x")
    assert _run(per_call, ann.id) == ("ann", False)
    assert _run(once, ann.id) == ("ann", False)  # not taken for the per-call one's entry
    assert _run(once, ann.id) == ("ann", True)
    assert _run(_by_id().where(User.username != "x"), ann.id) == ("ann", True)
