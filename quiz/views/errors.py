"""Error pages: JSON under /api/, a Chinese HTML page elsewhere. One handler per error family."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from quiz.errors import ServiceError, Unavailable
from quiz.views.api import api_http_error, error_response

TITLES = {
    400: _l("请求无效"),
    401: _l("需要登录"),
    403: _l("没有权限"),
    404: _l("页面不存在"),
    405: _l("不支持的请求"),
    409: _l("操作冲突"),
    413: _l("内容过大"),
    422: _l("内容无法处理"),
    429: _l("请求过于频繁"),
    500: _l("服务器出错了"),
    503: _l("服务繁忙"),
}


def _handle(error: HTTPException) -> Response | tuple[str, int]:
    if request.path.startswith("/api/"):
        return api_http_error(error)
    code = error.code or 500
    message = (
        _("表单已过期或缺少安全令牌，请刷新页面后重试。") if isinstance(error, CSRFError) else None
    )
    return render_template(
        "error.html", code=code, title=TITLES.get(code, _("出错了")), message=message
    ), code


def handle_service_error(error: ServiceError) -> Response | tuple[str, int]:
    """Every refusal of a service: the transaction is already rolled back (TransactionalFlask)."""
    retry_after = error.extra.get("retry_after")
    response: Response
    if request.path.startswith("/api/"):
        response = error_response(error.status, error.message, **error.extra)
    else:
        page = render_template(
            "error.html",
            code=error.status,
            title=TITLES.get(error.status, _("出错了")),
            message=error.message,
        )
        response = Response(page, status=error.status, mimetype="text/html")
    if isinstance(retry_after, int):
        response.headers["Retry-After"] = str(retry_after)
    return response


def handle_database_busy(error: OperationalError) -> Response | tuple[str, int]:
    """SQLite still locked after the busy timeout: ask to retry, never a bare 500."""
    if "locked" not in str(error) and "busy" not in str(error):
        raise error
    return handle_service_error(
        Unavailable(_("服务繁忙，没有保存任何更改，请稍后重试。"), retry_after=2)
    )


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _handle)
    app.register_error_handler(ServiceError, handle_service_error)
    app.register_error_handler(OperationalError, handle_database_busy)
