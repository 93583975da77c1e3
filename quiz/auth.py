"""Who is asking: Flask-Login for pages, bearer tokens for /api/v1."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from flask import Flask, abort, g, request
from flask_babel import gettext
from flask_login import LoginManager, current_user
from sqlalchemy import Integer, Select, bindparam, select

from quiz import accounts
from quiz.db import SAFE_METHODS, built_once, db, utcnow
from quiz.i18n import N_
from quiz.models import User, UserSettings, session_id

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = N_("请先登录。")
# Flask-Login flashes the message: translate it when flashed (a lazy string cannot be stored).
login_manager.localize_callback = gettext
login_manager.session_protection = "basic"


@dataclass(frozen=True)
class SessionUser:
    """The account a session cookie speaks for, as every request needs it: its id, name and
    settings row. Columns, not the ORM User: loading the user and its settings as objects
    cost ~0.15 ms more per request. Views that change the account load the User itself
    (`signed_in_account`)."""

    id: int
    username: str
    session_version: int
    # Held here for the request: the session's identity map keeps objects only while
    # something refers to them, and the locale, the study queue and the pages read this row.
    settings: UserSettings | None
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        return session_id(self.id, self.session_version)


@lru_cache(maxsize=1)
def _user_statement() -> Select[int, str, int, UserSettings]:
    return built_once(
        select(User.id, User.username, User.session_version, UserSettings)
        .outerjoin(UserSettings, UserSettings.user_id == User.id)
        .where(User.id == bindparam("user_id", type_=Integer()))
    )


@login_manager.user_loader
def _load_user(user_id: str) -> SessionUser | None:
    # The id carries the session version: a cookie from an older version no longer loads.
    try:
        raw_id, raw_version = user_id.split(":")
        row = db.session.execute(_user_statement(), {"user_id": int(raw_id)}).first()
    except ValueError:
        return None
    if row is None or str(row.session_version) != raw_version:
        return None
    return SessionUser(*row)


def signed_in_account() -> User:
    """The signed-in user's account as an ORM object, for the views that change it."""
    account = db.session.get(User, current_user.id)
    if account is None:  # deleted since this request loaded the session user
        abort(401)
    return account


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


# Who made an API request: the login request's own user, a session cookie's, or a token's.
Caller = User | SessionUser | accounts.TokenUser


def current_api_user() -> Caller | None:
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
    user: Caller | None = g.api_user
    return user


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
