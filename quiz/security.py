"""CSRF, security headers and the Content-Security-Policy."""

from __future__ import annotations

import os

from flask import Flask, Response
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

# Only our own origin; no inline scripts and no eval. CodeMirror and mermaid inject <style>
# elements at run time, hence 'unsafe-inline' for styles only.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def init_app(app: Flask) -> None:
    # The Werkzeug debugger runs code sent from the browser: only in explicit development.
    if app.debug and os.environ.get("QUIZ_ENV") != "development":
        raise RuntimeError(
            "拒绝在非开发环境启用调试器：请设置 QUIZ_ENV=development 或关闭 FLASK_DEBUG。"
        )
    csrf.init_app(app)
    app.after_request(_headers)
