"""Application factory: `flask --app app run` finds `create_app` here."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent


def _secret_key(instance_path: Path) -> str:
    """Return SECRET_KEY from the environment, else one generated once into instance/."""
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then instance/config.py, then environment, then test_config."""
    from quiz.transaction import TransactionalFlask

    app = TransactionalFlask(
        "quiz",
        root_path=str(ROOT / "quiz"),
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
    )
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    secure_cookies = os.environ.get("SESSION_COOKIE_SECURE", "").lower() in ("1", "true", "yes")
    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{instance / 'quiz.sqlite3'}",
        CONTENT_DIR=str(ROOT / "content"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=256 * 1024,
        WTF_CSRF_TIME_LIMIT=None,
        # Flask-Limiter: memory:// for one process; a shared store (redis://host:6379) when
        # several workers or hosts must count together; unset with a Redis GRADER_BROKER_URL,
        # that Redis (quiz.ratelimit). See README "Configuration" and "Scaling out".
        RATELIMIT_STORAGE_URI=os.environ.get("RATELIMIT_STORAGE_URI"),
        LOGIN_RATE_LIMIT="5 per 5 minutes",  # per account and address
        LOGIN_ADDRESS_RATE_LIMIT="100 per 15 minutes",  # failures per address, any account
        SIGNUP_RATE_LIMIT="10 per hour",  # per address
        API_TOKEN_DAYS=90,
        # Behind HTTPS set SESSION_COOKIE_SECURE=1: the browser then never sends the cookies
        # over plain HTTP (README "Configuration").
        SESSION_COOKIE_SECURE=secure_cookies,
        REMEMBER_COOKIE_SECURE=secure_cookies,
        SUBMISSION_RATE_PER_MINUTE=30,
        JSON_AS_ASCII=False,
    )
    app.config.from_pyfile("config.py", silent=True)
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(instance)
    from quiz import auth, cli, db, edge, grading, i18n, ratelimit, security

    edge.init_app(app)  # before the blueprints: their URL rules use the bounded int converter
    from quiz.views import register_blueprints

    db.init_app(app)
    auth.init_app(app)
    ratelimit.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    grading.init_app(app)
    cli.init_app(app)
    register_blueprints(app)
    return app
