"""Error pages: JSON under /api/, a Chinese HTML page elsewhere."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from quiz.views.api import ApiError, api_http_error, handle_api_error

TITLES = {
    400: "请求无效",
    401: "需要登录",
    403: "没有权限",
    404: "页面不存在",
    405: "不支持的请求",
    413: "内容过大",
    429: "请求过于频繁",
    500: "服务器出错了",
}


def _handle(error: HTTPException) -> Response | tuple[str, int]:
    if request.path.startswith("/api/"):
        return api_http_error(error)
    code = error.code or 500
    message = (
        "表单已过期或缺少安全令牌，请刷新页面后重试。" if isinstance(error, CSRFError) else None
    )
    return render_template(
        "error.html", code=code, title=TITLES.get(code, "出错了"), message=message
    ), code


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _handle)
    app.register_error_handler(ApiError, handle_api_error)
