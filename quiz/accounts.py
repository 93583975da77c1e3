"""Accounts: registration, password checks, API tokens and failed-login throttling.

Services take the session first and flush; the request (or CLI command) commits.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from quiz.errors import ServiceError
from quiz.models import ApiToken, AuthFailure, User, UserSettings

USERNAME_RE = re.compile(r"^[A-Za-z0-9_\-.\u4e00-\u9fff]{3,40}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 200
# Checked against when the user does not exist, so both paths cost one scrypt.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


class AccountError(ServiceError):
    """A user-facing problem with account input; the message is in Chinese."""


def validate_credentials(username: object, password: object) -> tuple[str, str]:
    if not isinstance(username, str) or not isinstance(password, str):
        raise AccountError("需要用户名和密码（字符串）。")
    username = username.strip()
    if not USERNAME_RE.match(username):
        raise AccountError("用户名需 3–40 个字符，只能包含字母、数字、汉字、下划线、连字符或点。")
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(f"密码长度需在 {MIN_PASSWORD}–{MAX_PASSWORD} 个字符之间。")
    return username, password


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.username) == username.lower()))


def create_user(session: Session, username: object, password: object) -> User:
    name, pw = validate_credentials(username, password)
    if find_user(session, name) is not None:
        raise AccountError("该用户名已被注册。", status=409)
    user = User(username=name, password_hash=generate_password_hash(pw, method="scrypt"))
    user.settings = UserSettings()
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: object, password: object) -> User | None:
    """The user when the password matches, else None (same cost whether or not the user exists)."""
    if not isinstance(username, str) or not isinstance(password, str):
        return None
    user = find_user(session, username.strip())
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User) -> str:
    """A new bearer token; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_token_hash(token)))
    session.flush()
    return token


# last_used_at is informational: writing it on every request would take SQLite's write lock
# for every API call, reads included.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)


def user_for_token(
    session: Session, token: str, *, now: datetime, touch: bool = True
) -> User | None:
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == _token_hash(token))
    ).first()
    if row is None:
        return None
    api_token, user = row
    if touch and (
        api_token.last_used_at is None or now - api_token.last_used_at >= TOKEN_TOUCH_INTERVAL
    ):
        api_token.last_used_at = now
    return user


def revoke_token(session: Session, token: str) -> bool:
    """Forget one bearer token; True when it existed."""
    return (
        session.execute(delete(ApiToken).where(ApiToken.token_hash == _token_hash(token))).rowcount
        > 0
    )


def end_all_sessions(session: Session, user: User) -> None:
    """Log the user out everywhere: every session cookie and every API token stop working."""
    user.session_version += 1
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    session.flush()


def throttle_keys(username: str, ip: str | None) -> list[str]:
    return [f"user:{username.strip().lower()[:100]}", f"ip:{ip or '?'}"]


def login_blocked(
    session: Session, keys: list[str], *, now: datetime, limit: int, window: int
) -> bool:
    """True when any key has `limit` failures within the last `window` seconds."""
    since = now - timedelta(seconds=window)
    for key in keys:
        count = session.scalar(
            select(func.count()).where(AuthFailure.key == key, AuthFailure.at >= since)
        )
        if (count or 0) >= limit:
            return True
    return False


def record_failure(session: Session, keys: list[str], *, now: datetime, window: int) -> None:
    session.execute(delete(AuthFailure).where(AuthFailure.at < now - timedelta(seconds=window)))
    session.add_all(AuthFailure(key=key, at=now) for key in keys)
    session.flush()


def clear_failures(session: Session, keys: list[str]) -> None:
    """After a good login, forget that user's failures; the address's stay (keys[0] is the user)."""
    session.execute(delete(AuthFailure).where(AuthFailure.key == keys[0]))
