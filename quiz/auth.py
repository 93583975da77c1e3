"""Who is asking: Flask-Login for pages, bearer tokens for /api/v1."""

from __future__ import annotations

from functools import lru_cache

from flask import Flask, g, request
from flask_babel import gettext
from flask_login import LoginManager, current_user
from sqlalchemy import Integer, Select, bindparam, select
from sqlalchemy.orm import joinedload

from quiz import accounts
from quiz.db import SAFE_METHODS, db, utcnow
from quiz.i18n import N_
from quiz.models import User

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = N_("请先登录。")
# Flask-Login flashes the message: translate it when flashed (a lazy string cannot be stored).
login_manager.localize_callback = gettext
login_manager.session_protection = "basic"


@lru_cache(maxsize=1)
def _user_statement() -> Select[User]:
    # With the settings row in the same query: the locale, the study queue and the pages read
    # it on nearly every request, and then find it in the session instead of asking again.
    return (
        select(User)
        .options(joinedload(User.settings))
        .where(User.id == bindparam("user_id", type_=Integer()))
    )


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    # The id carries the session version: a cookie from an older version no longer loads.
    try:
        raw_id, raw_version = user_id.split(":")
        user = db.session.scalars(_user_statement(), {"user_id": int(raw_id)}).first()
    except ValueError:
        return None
    if user is None or str(user.session_version) != raw_version:
        return None
    return user


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def current_api_user() -> User | accounts.TokenUser | None:
    """The user of an API request: a valid bearer token, else the logged-in session."""
    if "api_user" not in g:
        token = bearer_token()
        if token is not None:
            # Reading requests never write: last_used_at is refreshed by writing ones only.
            g.api_user = accounts.user_for_token(
                db.session(), token, now=utcnow(), touch=request.method not in SAFE_METHODS
            )
        else:
            g.api_user = current_user if current_user.is_authenticated else None
    user: User | accounts.TokenUser | None = g.api_user
    return user


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
