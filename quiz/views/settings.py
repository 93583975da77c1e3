"""Per-user study settings, and fitting the user's FSRS parameters."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from pydantic import ValidationError as SchemaError
from werkzeug.wrappers import Response
from wtforms import BooleanField, FloatField, IntegerField, StringField
from wtforms.validators import InputRequired, NumberRange, ValidationError

from quiz import accounts, i18n, optimizer, scheduling, study
from quiz.db import db, utcnow
from quiz.schemas import SettingsIn, describe
from quiz.transaction import attempt
from quiz.urls import is_local_path
from quiz.views import account

bp = Blueprint("settings", __name__)


@lru_cache(maxsize=1)
def timezone_names() -> list[str]:
    return sorted(available_timezones())


def _valid_zone(form: FlaskForm, field: StringField) -> None:
    name = (field.data or "").strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(
            _("未知的时区：请填写 IANA 名称，例如 Asia/Shanghai、Europe/Berlin。")
        ) from error
    field.data = name


def _valid_steps(form: FlaskForm, field: StringField) -> None:
    try:
        scheduling.parse_steps(field.data or "")
    except ValueError as error:
        raise ValidationError(str(error)) from error


class NumberField(FloatField):
    """A decimal number; anything float() refuses gets a Chinese message (not WTForms' English).

    Unlike DecimalField it never holds a Decimal NaN, whose comparisons raise (sNaN was a 500).
    """

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(_("请填写一个数字，例如 0.90。")) from error

    def _value(self) -> str:
        return (
            f"{self.data:.2f}"
            if isinstance(self.data, float) and math.isfinite(self.data)
            else super()._value()  # type: ignore[misc]  # types-WTForms 3.2 omits Field._value
        )


class SettingsForm(FlaskForm):
    desired_retention = NumberField(
        _l("目标记忆保持率"),
        validators=[
            InputRequired(_l("请填写目标记忆保持率。")),
            NumberRange(
                scheduling.MIN_RETENTION, scheduling.MAX_RETENTION, _l("需在 0.70 到 0.97 之间。")
            ),
        ],
    )
    new_per_day = IntegerField(
        _l("每天新卡片数"),
        validators=[
            InputRequired(_l("请填写每天新卡片数。")),
            NumberRange(0, 9999, _l("需在 0 到 9999 之间。")),
        ],
    )
    reviews_per_day = IntegerField(
        _l("每天复习上限"),
        validators=[
            InputRequired(_l("请填写每天复习上限。")),
            NumberRange(0, 99999, _l("需在 0 到 99999 之间。")),
        ],
    )
    timezone = StringField(_l("时区"), validators=[InputRequired(_l("请填写时区。")), _valid_zone])
    rollover_hour = IntegerField(
        _l("新的一天从几点开始"),
        validators=[
            InputRequired(_l("请填写 0–23 之间的整点。")),
            NumberRange(0, 23, _l("需在 0 到 23 之间。")),
        ],
    )
    learning_steps = StringField(_l("学习步长"), validators=[_valid_steps])
    relearning_steps = StringField(_l("重学步长"), validators=[_valid_steps])
    reveal_all = BooleanField(_l("按一次空格同时显示一句话答案和深入回答"))

    def validate(self, extra_validators: Any = None) -> bool:
        """WTForms for the page's messages, then the shared schema (quiz.schemas.SettingsIn),
        the same definition of valid settings as the backup import's."""
        if not super().validate(extra_validators):
            return False
        try:
            self.valid = SettingsIn.model_validate(
                {
                    "desired_retention": self.desired_retention.data,
                    "new_per_day": self.new_per_day.data,
                    "reviews_per_day": self.reviews_per_day.data,
                    "timezone": self.timezone.data or "",
                    "rollover_hour": self.rollover_hour.data,
                    "learning_steps": self.learning_steps.data or "",
                    "relearning_steps": self.relearning_steps.data or "",
                    "reveal_all": bool(self.reveal_all.data),
                }
            )
        except SchemaError as error:
            for problem in error.errors(include_url=False):
                name = str(problem["loc"][0]) if problem["loc"] else "desired_retention"
                field = getattr(self, name, self.desired_retention)
                field.errors = [*field.errors, f"{describe(problem)}。"]
            return False
        return True


class ActionForm(FlaskForm):
    """Only the CSRF token: for the optimize and reset buttons."""


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings() -> str | Response | tuple[str, int]:
    row = study.user_settings(db.session(), current_user.id, create=request.method == "POST")
    form = SettingsForm(obj=row)
    if form.validate_on_submit():
        valid = form.valid
        row.desired_retention = valid.desired_retention
        row.new_per_day = valid.new_per_day
        row.reviews_per_day = valid.reviews_per_day
        row.timezone = valid.timezone
        row.rollover_hour = valid.rollover_hour
        row.learning_steps = scheduling.format_steps(scheduling.parse_steps(valid.learning_steps))
        row.relearning_steps = scheduling.format_steps(
            scheduling.parse_steps(valid.relearning_steps)
        )
        row.reveal_all = valid.reveal_all
        flash(_("设置已保存。"), "success")
        return redirect(url_for("settings.settings"))
    reviews = optimizer.review_count(db.session(), current_user.id)
    page = render_template(
        "settings.html",
        form=form,
        action_form=ActionForm(),
        appearance_form=account.appearance_form(),
        settings=row,
        reviews=reviews,
        min_reviews=optimizer.MIN_REVIEWS,
        timezones=timezone_names(),
        tokens=accounts.list_tokens(db.session(), current_user.id),
        token_days=current_app.config["API_TOKEN_DAYS"],
        now=utcnow(),
    )
    return (page, 400) if form.errors else page


@bp.post("/settings/optimize")
@login_required
def optimize() -> Response:
    if not ActionForm().validate_on_submit():
        flash(_("表单已过期，请重试。"), "error")
        return redirect(url_for("settings.settings"))
    try:
        with attempt():
            result = optimizer.optimize_user(db.session(), current_user.id, now=utcnow())
    except optimizer.NotEnoughReviews as error:
        flash(error.message, "warning")
        return redirect(url_for("settings.settings"))
    if result.adopted:
        flash(
            _(
                "参数已优化：对数损失 %(loss_before)s → %(loss_after)s（越低越准）。之后的复习会使用新参数。",
                loss_before=format(result.loss_before, ".4f"),
                loss_after=format(result.loss_after, ".4f"),
            ),
            "success",
        )
    else:
        flash(
            _(
                "新参数没有更准（对数损失 %(loss_before)s → %(loss_after)s），保留原来的参数。",
                loss_before=format(result.loss_before, ".4f"),
                loss_after=format(result.loss_after, ".4f"),
            ),
            "info",
        )
    return redirect(url_for("settings.settings"))


@bp.post("/settings/reset-parameters")
@login_required
def reset_parameters() -> Response:
    if not ActionForm().validate_on_submit():
        flash(_("表单已过期，请重试。"), "error")
        return redirect(url_for("settings.settings"))
    row = study.user_settings(db.session(), current_user.id, create=True)
    row.fsrs_parameters = None
    flash(_("已恢复 FSRS 默认参数。"), "success")
    return redirect(url_for("settings.settings"))


@bp.post("/settings/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> Response:
    if not ActionForm().validate_on_submit():
        flash(_("表单已过期，请重试。"), "error")
    elif accounts.revoke_token_id(db.session(), current_user.id, token_id):
        flash(_("令牌已撤销：使用它的脚本需要重新申请。"), "success")
    else:
        flash(_("找不到这个令牌（可能已经撤销）。"), "warning")
    return redirect(url_for("settings.settings", _anchor="tokens"))


@bp.post("/language")
def language() -> Response:
    """Switch the interface language: saved in the settings when signed in, else a cookie."""
    code = request.form.get("locale", "")
    target = request.form.get("next", "")
    response = redirect(target if is_local_path(target) else url_for("notes.home"))
    if code not in i18n.LOCALES:
        return response
    if current_user.is_authenticated:
        study.user_settings(db.session(), current_user.id).locale = code
    response.set_cookie(
        i18n.LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
    )
    return response
