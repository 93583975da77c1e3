"""The account: appearance (language, theme), password change, account deletion."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, SelectField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3, not yet in types-WTForms 3.2
from wtforms.validators import DataRequired, EqualTo, Length

from quiz import accounts, i18n, study
from quiz.auth import signed_in_account
from quiz.db import db

bp = Blueprint("account", __name__)

THEMES = {"system": _l("跟随系统"), "light": _l("浅色"), "dark": _l("深色")}


class AppearanceForm(FlaskForm):
    locale = SelectField(_l("界面语言"))
    theme = SelectField(_l("配色"), choices=[SelectChoice(k, v) for k, v in THEMES.items()])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        browser = [SelectChoice("", _("跟随浏览器"))]
        self.locale.choices = browser + [
            SelectChoice(code, name) for code, (_tag, name) in i18n.LOCALES.items()
        ]


class PasswordForm(FlaskForm):
    current = PasswordField(_l("当前密码"), validators=[DataRequired(_l("请输入当前密码。"))])
    new = PasswordField(
        _l("新密码"),
        validators=[DataRequired(_l("请输入新密码。")), Length(8, 200, _l("密码至少 8 个字符。"))],
    )
    confirm = PasswordField(
        _l("确认新密码"),
        validators=[
            DataRequired(_l("请再次输入新密码。")),
            EqualTo("new", _l("两次输入的密码不一致。")),
        ],
    )


class DeleteForm(FlaskForm):
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请输入密码以确认。"))])


def appearance_form() -> AppearanceForm:
    row = study.user_settings(db.session(), current_user.id)
    return AppearanceForm(formdata=None, locale=row.locale or "", theme=row.theme or "system")


@bp.post("/settings/appearance")
@login_required
def appearance() -> Response:
    form = AppearanceForm()
    if not form.validate_on_submit():
        flash(_("表单已过期或选项无效，请重试。"), "error")
        return redirect(url_for("settings.settings"))
    row = study.user_settings(db.session(), current_user.id)
    row.locale = form.locale.data or None
    row.theme = form.theme.data
    response = redirect(url_for("settings.settings"))
    if row.locale is None:
        response.delete_cookie(i18n.LANG_COOKIE)  # "follow the browser" means the browser
    flash(_("外观已保存。"), "success")
    return response


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password() -> str | Response | tuple[str, int]:
    form = PasswordForm()
    if form.validate_on_submit():
        user = signed_in_account()
        try:
            accounts.change_password(db.session(), user, form.current.data, form.new.data)
        except accounts.AccountError as error:
            field = form.current if error.status == 403 else form.new
            field.errors = [*field.errors, error.message]
        else:
            login_user(user)  # this browser stays signed in with the new session version
            flash(_("密码已修改；其他设备上的登录和全部 API 令牌已失效。"), "success")
            return redirect(url_for("settings.settings"))
    page = render_template("account/password.html", form=form)
    return (page, 400) if form.errors else page


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
def delete() -> str | Response | tuple[str, int]:
    form = DeleteForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            accounts.delete_account(db.session(), signed_in_account(), form.password.data)
        except accounts.AccountError as error:
            form.password.errors = [*form.password.errors, error.message]
        else:
            logout_user()
            flash(_("账号和全部学习记录已删除。"), "info")
            return redirect(url_for("notes.home"))
    page = render_template("account/delete.html", form=form)
    return (page, 400) if form.errors else page
