"""Accounts: registration, password checks, API tokens and sessions.

Services take the session first and flush; the request (or CLI command) commits.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import ValidationError
from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Table,
    bindparam,
    delete,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from quiz.db import built_once, rowcount
from quiz.errors import Conflict, ServiceError
from quiz.inputs import clean_text
from quiz.models import ApiToken, User, UserSettings
from quiz.schemas import CredentialsIn

USERNAME_RE = re.compile(r"^[A-Za-z0-9_\-.\u4e00-\u9fff]{3,40}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 200
# Checked against when the user does not exist, so both paths cost one scrypt.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


class AccountError(ServiceError):
    """A user-facing problem with account input; the message is in Chinese."""


class UsernameTaken(AccountError, Conflict):
    """Another account has this name, whatever its case (409)."""


def validate_credentials(username: object, password: object) -> tuple[str, str]:
    try:
        creds = CredentialsIn.model_validate({"username": username, "password": password})
    except ValidationError:
        raise AccountError(_("需要用户名和密码（不含无效字符的字符串）。")) from None
    username, password = creds.username.strip(), creds.password
    if not USERNAME_RE.match(username):
        raise AccountError(
            _("用户名需 3–40 个字符，只能包含字母、数字、汉字、下划线、连字符或点。")
        )
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(
            _(
                "密码长度需在 %(MIN_PASSWORD)s–%(MAX_PASSWORD)s 个字符之间。",
                MIN_PASSWORD=MIN_PASSWORD,
                MAX_PASSWORD=MAX_PASSWORD,
            )
        )
    return username, password


def username_key(username: str) -> str:
    """The case-insensitive identity of a name (unique in the schema)."""
    return username.strip().lower()


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username_key == username_key(username)))


TAKEN = _l("该用户名已被注册（用户名不区分大小写）。")


def create_user(session: Session, username: object, password: object) -> User:
    """A new account; 409 when the name, in any case, is taken (even by a concurrent sign-up)."""
    name, pw = validate_credentials(username, password)
    if find_user(session, name) is not None:
        raise UsernameTaken(TAKEN)
    password_hash = generate_password_hash(pw, method="scrypt")
    user = User(username=name, username_key=username_key(name), password_hash=password_hash)
    user.settings = UserSettings()
    try:
        with session.begin_nested():  # the unique key decides between simultaneous sign-ups
            session.add(user)
    except IntegrityError:
        raise UsernameTaken(TAKEN) from None
    return user


def authenticate(session: Session, username: object, password: object) -> User | None:
    """The user when the password matches, else None (same cost whether or not the user exists)."""
    if not isinstance(username, str) or not isinstance(password, str):
        return None
    if not clean_text(username) or not clean_text(password) or len(password) > MAX_PASSWORD:
        return None  # cannot be anyone's password (and would not encode for the hash)
    user = find_user(session, username.strip()[:100])
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, *, now: datetime, days: int = 90) -> str:
    """A new bearer token valid for `days`; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=_token_hash(token),
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
    )
    session.flush()
    return token


def list_tokens(session: Session, user_id: int) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at)
        )
    )


def revoke_token_id(session: Session, user_id: int, token_id: int) -> bool:
    """Revoke one of the user's own tokens by id (the token list page); True when it existed."""
    deleted = session.execute(
        delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)
    )
    return rowcount(deleted) > 0


# last_used_at is informational: writing it on every request would take SQLite's write lock
# for every API call, reads included.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)


@dataclass(frozen=True)
class TokenUser:
    """The account a bearer token speaks for. API views read only its id; the settings row
    (locale, study day) comes with the token's query, so nothing else of the account is
    loaded per request."""

    id: int
    # Held here for the request: the session's identity map keeps objects only while
    # something refers to them, and later reads find the row there instead of asking again.
    settings: UserSettings | None
    is_authenticated: bool = True


@lru_cache(maxsize=1)
def _token_statement() -> Select[int, int, datetime, datetime | None, UserSettings]:
    # The token's columns and the user's settings in one query (built once): every API call
    # asks. Columns, not ORM objects, except the settings row that later reads get from the
    # session: loading the token and the user as objects cost ~45 µs more per request.
    return built_once(
        select(
            ApiToken.id, ApiToken.user_id, ApiToken.expires_at, ApiToken.last_used_at, UserSettings
        )
        .join(User, User.id == ApiToken.user_id)
        .outerjoin(UserSettings, UserSettings.user_id == ApiToken.user_id)
        .where(ApiToken.token_hash == bindparam("token_hash", type_=String()))
    )


def user_for_token(
    session: Session, token: str, *, now: datetime, touch: bool = True
) -> TokenUser | None:
    row = session.execute(_token_statement(), {"token_hash": _token_hash(token)}).first()
    if row is None:
        return None
    token_id, user_id, expires_at, last_used_at, settings = row
    if expires_at <= now:
        return None
    if touch and (last_used_at is None or now - last_used_at >= TOKEN_TOUCH_INTERVAL):
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id)
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
    return TokenUser(user_id, settings)


def revoke_token(session: Session, token: str) -> bool:
    """Forget one bearer token; True when it existed."""
    deleted = session.execute(delete(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    return rowcount(deleted) > 0


def end_sessions(session: Session, user: User) -> None:
    """Logging out: every session cookie of this account stops working (a copy included).

    The cookie carries the account's session version and every request checks it; bumping
    it is what makes a logged-out cookie worthless. API tokens stay (see end_all_sessions).
    """
    user.session_version += 1
    session.flush()


def end_all_sessions(session: Session, user: User) -> None:
    """Log the user out everywhere: every session cookie and every API token stop working."""
    user.session_version += 1
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    session.flush()


def change_password(session: Session, user: User, current: object, new: object) -> None:
    """Set a new password after checking the current one; every other session ends."""
    if not isinstance(current, str) or not check_password_hash(user.password_hash, current):
        raise AccountError(_("当前密码不正确。"), status=403)
    password = validate_credentials(user.username, new)[1]
    user.password_hash = generate_password_hash(password, method="scrypt")
    end_all_sessions(session, user)  # the caller logs this browser in again


def delete_account(session: Session, user: User, password: object) -> None:
    """Remove the user and every row that belongs to them, after checking the password.

    Rows belong to the user when their table has a user_id, or when they point (by foreign
    key) at such rows; walking the metadata keeps tables added later covered too.
    """
    if not isinstance(password, str) or not check_password_hash(user.password_hash, password):
        raise AccountError(_("密码不正确，账号没有删除。"), status=403)
    tables = User.metadata.sorted_tables
    owned: dict[Table, ColumnElement[bool]] = {}
    for table in tables:
        if table.name == User.__tablename__:
            continue
        if "user_id" in table.c:
            owned[table] = table.c.user_id == user.id
            continue
        links = [
            fk.parent.in_(select(fk.column).where(owned[fk.column.table]))
            for fk in table.foreign_keys
            if fk.column.table in owned
        ]
        if links:
            owned[table] = or_(*links)
    for table in reversed(tables):  # children before the rows they point at
        if table in owned:
            session.execute(delete(table).where(owned[table]))
    session.execute(delete(User.__table__).where(User.id == user.id))
    session.expunge(user)
    session.flush()
