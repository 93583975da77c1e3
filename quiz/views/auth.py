"""Register, log in, log out."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required, login_user, logout_user
from werkzeug.wrappers import Response

from quiz import accounts, ratelimit
from quiz.auth import signed_in_account
from quiz.db import db
from quiz.errors import TooManyRequests
from quiz.forms import LoginForm, RegisterForm
from quiz.ratelimit import limiter, signup_limit
from quiz.transaction import use_deferred_transaction
from quiz.urls import is_local_path

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: an open redirect would make phishing links look like ours."""
    return target if target and is_local_path(target) else url_for("notes.home")


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(signup_limit, methods=["POST"])
def register() -> ResponseReturnValue:
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(db.session(), form.username.data, form.password.data)
        except accounts.AccountError as error:
            form.username.errors = [*form.username.errors, error.message]
        else:
            login_user(user)
            flash(_("注册成功，欢迎！"), "success")
            return redirect(url_for("notes.home"))
    return render_template("auth/register.html", form=form), 400 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    use_deferred_transaction()  # a login only reads: no write lock while the hash is checked
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data or ""
        try:
            ratelimit.begin_login(username)
        except TooManyRequests as error:
            form.password.errors = [error.message]
            page = render_template("auth/login.html", form=form)
            return page, 429, {"Retry-After": str(error.extra["retry_after"])}
        user = accounts.authenticate(db.session(), username, form.password.data)
        if user is None:
            ratelimit.login_failed()
            form.password.errors = [_("用户名或密码错误。")]
            return render_template("auth/login.html", form=form), 401
        ratelimit.login_succeeded(username)
        login_user(user)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form), 400 if form.errors else 200


@bp.post("/logout")
@login_required
def logout() -> Response:
    """Log out: this cookie (and any copy of it) stops working on the server, not just here."""
    accounts.end_sessions(db.session(), signed_in_account())
    logout_user()
    flash(_("已退出登录。"), "info")
    return redirect(url_for("auth.login"))


@bp.post("/logout-everywhere")
@login_required
def logout_everywhere() -> Response:
    """End every session of this account (other browsers too) and revoke its API tokens."""
    accounts.end_all_sessions(db.session(), signed_in_account())
    logout_user()
    flash(_("已在所有设备上退出登录，API 令牌也已全部作废。"), "info")
    return redirect(url_for("auth.login"))
