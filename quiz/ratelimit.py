"""Rate limits and the login throttle, on Flask-Limiter (storage: memory://, or redis://...).

One process: the default `memory://` storage. Several workers or hosts: point
RATELIMIT_STORAGE_URI at a shared store (e.g. `redis://127.0.0.1:6379`) so every worker counts
the same attempts; a scaled-out site whose GRADER_BROKER_URL is a Redis needs no setting, its
counters go to that Redis (`storage_uri`). The other per-user limits (submissions per minute,
submissions in flight) are counted in the database, so they are shared too. Counters are test-and-increment in the storage itself, so concurrent
guesses cannot all slip through between a check and a record.
"""

from __future__ import annotations

import math
import os
import time

from flask import Flask, current_app, request
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse

from quiz.errors import TooManyRequests

limiter = Limiter(key_func=get_remote_address, default_limits=[])


def _item(config_key: str) -> RateLimitItem:
    return parse(current_app.config[config_key])


def signup_limit() -> str:
    return str(current_app.config["SIGNUP_RATE_LIMIT"])


def _address() -> str:
    return request.remote_addr or "?"


def _retry_after(item: RateLimitItem, *keys: str) -> int:
    stats = limiter.limiter.get_window_stats(item, *keys)
    return max(1, math.ceil(stats.reset_time - time.time()))


def begin_login(username: str) -> None:
    """Count one login attempt for this account from this address, or refuse it (429).

    Per account and address: a few attempts per window (LOGIN_RATE_LIMIT), counted before the
    password is checked and forgotten after a success, so one user's typos never lock anyone
    else out and a guesser gets exactly that many checks however many requests race. Per
    address (LOGIN_ADDRESS_RATE_LIMIT, far above one user's mistakes): failures of every
    account, so one address cannot sweep many names.
    """
    account = ("login", username.strip().lower()[:100], _address())
    per_address = _item("LOGIN_ADDRESS_RATE_LIMIT")
    if not limiter.limiter.test(per_address, "login-address", _address()):
        wait = _retry_after(per_address, "login-address", _address())
        raise TooManyRequests(
            _("这个网络地址登录失败次数过多，请 %(wait)s 秒后再试。", wait=wait), retry_after=wait
        )
    per_account = _item("LOGIN_RATE_LIMIT")
    if not limiter.limiter.hit(per_account, *account):
        wait = _retry_after(per_account, *account)
        raise TooManyRequests(
            _(
                "该账号登录失败次数过多，请 %(max)s 分钟后再试（%(wait)s 秒）。",
                max=max(1, wait // 60),
                wait=wait,
            ),
            retry_after=wait,
        )


def login_failed() -> None:
    limiter.limiter.hit(_item("LOGIN_ADDRESS_RATE_LIMIT"), "login-address", _address())


def login_succeeded(username: str) -> None:
    limiter.limiter.clear(
        _item("LOGIN_RATE_LIMIT"), "login", username.strip().lower()[:100], _address()
    )


def storage_uri(configured: str | None, broker: str | None) -> str:
    """Where the counters live: as configured; else the grading broker's Redis, which every web
    process of a scaled-out site already shares; else this process's memory (`make run`)."""
    if configured:
        return configured
    if broker and broker.startswith(("redis://", "rediss://")):
        return broker
    return "memory://"


def init_app(app: Flask) -> None:
    broker = app.config.get("GRADER_BROKER_URL") or os.environ.get("GRADER_BROKER_URL")
    app.config["RATELIMIT_STORAGE_URI"] = storage_uri(
        app.config.get("RATELIMIT_STORAGE_URI"), broker
    )
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
