"""Shared fixtures: app -> client -> session, each test on its own copy of a migrated database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient

from app import create_app
from quiz.i18n import compile_catalogues
from tests.databases import ON_POSTGRES, DbTemplate, create_database, drop_clones
from tests.factories import login, make_user

ROOT = Path(__file__).resolve().parent.parent

# `make test` compiles the catalogues; a bare `pytest` from a fresh clone needs them too.
compile_catalogues()


class FreshContextClient(FlaskClient):
    """A test client whose every request runs in an app context of its own, as in production.

    The fixtures keep one app context open for the whole test (for `session`), and Flask would
    reuse it for each request: `g` (Flask-Login's user, the API caller) and the request's
    database session would then outlive the request. The test's own session commits first, as
    another process would have to, and reads what the request wrote afterwards.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        from quiz.db import db

        if has_app_context():
            db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


def _test_app(url: str, **extra: Any) -> Flask:
    app = create_app(_config(url, **extra))
    app.test_client_class = FreshContextClient
    return app


def _config(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        **extra,
    }


@pytest.fixture(autouse=ON_POSTGRES)
def _drop_pg_clones() -> Iterator[None]:
    """Drop this test's PostgreSQL databases once its apps are gone (autouse runs it first)."""
    yield
    drop_clones()


def _migrated_db(folder: Path, name: str, *, sync: bool) -> DbTemplate:
    from flask_migrate import upgrade

    from quiz.db import db
    from quiz.importer import sync_content

    if ON_POSTGRES:
        url = create_database(f"tpl_{name}_{uuid.uuid4().hex[:12]}")
    else:
        url = f"sqlite:///{folder / f'{name}.sqlite3'}"
    app = create_app(_config(url))
    with app.app_context():
        upgrade()
        if sync:
            sync_content(db.session, ROOT / "content")
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return DbTemplate(url)


@pytest.fixture(scope="session")
def empty_db_template(tmp_path_factory: pytest.TempPathFactory) -> DbTemplate:
    return _migrated_db(tmp_path_factory.mktemp("db"), "empty", sync=False)


@pytest.fixture(scope="session")
def synced_db_template(tmp_path_factory: pytest.TempPathFactory) -> DbTemplate:
    return _migrated_db(tmp_path_factory.mktemp("db"), "synced", sync=True)


@pytest.fixture
def app(synced_db_template: DbTemplate, tmp_path: Path) -> Iterator[Flask]:
    """The app on a fresh copy of a migrated database with the owner's notes imported."""
    app = _test_app(synced_db_template.clone(tmp_path))
    with app.app_context():
        yield app
        from quiz.db import db

        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def empty_app(empty_db_template: DbTemplate, tmp_path: Path) -> Iterator[Flask]:
    """The app on a migrated database with no content."""
    app = _test_app(empty_db_template.clone(tmp_path))
    with app.app_context():
        yield app
        from quiz.db import db

        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def session(app: Flask) -> Any:
    from quiz.db import db

    return db.session


@pytest.fixture
def user(session: Any) -> Any:
    return make_user(session)


@pytest.fixture
def auth_client(client: FlaskClient, user: Any) -> FlaskClient:
    """A client logged in as alice."""
    assert login(client).status_code == 302
    return client
