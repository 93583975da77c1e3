"""JSON API under /api/v1: bearer tokens (or the browser session plus its CSRF token)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import Blueprint, Response, abort, current_app, jsonify, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException

from quiz import accounts, catalog, errors, ratelimit
from quiz.auth import Caller, bearer_token, current_api_user
from quiz.db import db, utcnow
from quiz.inputs import MAX_PAGE, bounded_int
from quiz.ratelimit import limiter, signup_limit
from quiz.schemas import CredentialsIn, first_error
from quiz.security import csrf

P = ParamSpec("P")
R = TypeVar("R")

ERROR_MESSAGES = {
    400: _l("请求无效。"),
    401: _l("需要登录或有效的令牌。"),
    403: _l("没有权限。"),
    404: _l("找不到该资源。"),
    405: _l("不支持该请求方法。"),
    409: _l("请求与当前状态冲突。"),
    413: _l("请求内容过大。"),
    415: _l("请求体必须是 JSON。"),
    429: _l("请求过于频繁，请稍后再试。"),
    500: _l("服务器内部错误。"),
    503: _l("服务繁忙，请稍后再试。"),
}


def error_response(status: int, message: str | None = None, **extra: Any) -> Response:
    response = jsonify({"error": message or ERROR_MESSAGES.get(status, _("请求失败。")), **extra})
    response.status_code = status
    return response


class ApiError(errors.ServiceError):
    """A refusal raised by an API view itself; without a message, the status's usual one."""

    def __init__(self, message: str | None = None, status: int | None = None, **extra: Any) -> None:
        status = self.status if status is None else status
        super().__init__(message or ERROR_MESSAGES.get(status, _("请求失败。")), status, **extra)


class InvalidRequest(ApiError, errors.InvalidInput):
    """A body or parameter the API cannot take as sent (400)."""


class Unauthorized(ApiError):
    """No valid token or session (401)."""

    status = 401


class NotFound(ApiError, errors.NotFound):
    """No such thing for this user (404)."""


class Conflict(ApiError, errors.Conflict):
    """The request collides with what is stored (409)."""


def _csrf_for_cookie_sessions() -> None:
    # Browsers attach the session cookie on their own but never a bearer token: only requests
    # that the cookie authenticates need the CSRF token.
    if (
        current_app.config.get("WTF_CSRF_ENABLED", True)
        and request.method not in ("GET", "HEAD", "OPTIONS")
        and bearer_token() is None
        and current_user.is_authenticated
    ):
        csrf.protect()


def api_blueprint(name: str) -> Blueprint:
    """A blueprint under /api/v1 with token-or-session auth; each feature has its own."""
    blueprint = Blueprint(name, __name__, url_prefix="/api/v1")
    csrf.exempt(blueprint)
    blueprint.before_request(_csrf_for_cookie_sessions)
    return blueprint


bp = api_blueprint("api")


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 400 that says what is wrong with it."""
    data = request.get_json(silent=True)
    if data is None:
        raise InvalidRequest(_("请求体不是有效的 JSON。"))
    if not isinstance(data, dict):
        raise InvalidRequest(_("请求体必须是 JSON 对象。"))
    return data


M = TypeVar("M", bound=BaseModel)


def parse_body(model: type[M], data: dict[str, Any] | None = None) -> M:
    """The JSON body checked against its schema; a 400 names the first wrong field."""
    try:
        return model.model_validate(json_body() if data is None else data)
    except ValidationError as error:
        field, reason = first_error(error)
        raise InvalidRequest(f"{field} {reason}。") from None


def login_required(view: Callable[P, R]) -> Callable[P, R]:
    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if current_api_user() is None:
            raise Unauthorized()
        return view(*args, **kwargs)

    return wrapper


def api_user() -> Caller:
    """The caller: the session's user, or the account of a bearer token (views read its id)."""
    user = current_api_user()
    if user is None:
        abort(401)
    return user


@bp.post("/users")
@limiter.limit(signup_limit)
def create_user() -> tuple[Response, int]:
    body = parse_body(CredentialsIn)
    user = accounts.create_user(db.session(), body.username, body.password)
    return jsonify({"id": user.id, "username": user.username}), 201


@bp.post("/tokens")
def create_token() -> tuple[Response, int]:
    body = parse_body(CredentialsIn)
    ratelimit.begin_login(body.username)
    user = accounts.authenticate(db.session(), body.username, body.password)
    if user is None:
        ratelimit.login_failed()
        raise Unauthorized(_("用户名或密码错误。"))
    ratelimit.login_succeeded(body.username)
    days = int(current_app.config["API_TOKEN_DAYS"])
    token = accounts.issue_token(db.session(), user, now=utcnow(), days=days)
    return jsonify({"token": token, "expires_in_days": days}), 201


@bp.delete("/tokens/current")
@login_required
def revoke_current_token() -> tuple[str, int]:
    """Revoke the bearer token this request carries (a script's "log out")."""
    token = bearer_token()
    if token is None:
        raise InvalidRequest(_("只能撤销请求所带的令牌（Authorization: Bearer …）。"))
    accounts.revoke_token(db.session(), token)
    return "", 204


@bp.get("/topics")
@login_required
def topics() -> Response:
    rows = catalog.topic_summaries(db.session(), api_user().id, now=utcnow())
    return jsonify(
        {
            "topics": [
                {"slug": t.slug, "title": t.title, "cards": t.cards, "due": t.due, "new": t.new}
                for t in rows
            ]
        }
    )


@bp.get("/cards")
@login_required
def cards() -> Response:
    page = catalog.search_cards(
        db.session(),
        api_user().id,
        query=request.args.get("q", ""),
        topic_slug=request.args.get("topic"),
        page=bounded_int(request.args.get("page"), 1, low=1, high=MAX_PAGE),
        per_page=bounded_int(request.args.get("per_page"), 100, low=1, high=500),
    )
    return jsonify({"cards": [catalog.card_json(c) for c in page.cards], "total": page.total})


def api_http_error(error: HTTPException) -> Response:
    """App-wide: any HTTP error under /api/ answers JSON, never an HTML page."""
    return error_response(error.code or 500, None if error.code != 400 else _describe(error))


def _describe(error: HTTPException) -> str:
    description = error.description or ""
    if "CSRF" in description:
        return _("缺少或无效的 CSRF 令牌。")
    return ERROR_MESSAGES[400]
