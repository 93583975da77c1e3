"""Per-user study settings, and fitting the user's FSRS parameters."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, DecimalField, IntegerField, StringField
from wtforms.validators import InputRequired, NumberRange, ValidationError

from quiz import accounts, optimizer, scheduling, study
from quiz.db import db, utcnow
from quiz.transaction import attempt

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
            "未知的时区：请填写 IANA 名称，例如 Asia/Shanghai、Europe/Berlin。"
        ) from error
    field.data = name


def _valid_steps(form: FlaskForm, field: StringField) -> None:
    try:
        scheduling.parse_steps(field.data or "")
    except ValueError as error:
        raise ValidationError(str(error)) from error


class SettingsForm(FlaskForm):
    desired_retention = DecimalField(
        "目标记忆保持率",
        places=2,
        validators=[
            InputRequired("请填写目标记忆保持率。"),
            NumberRange(
                scheduling.MIN_RETENTION, scheduling.MAX_RETENTION, "需在 0.70 到 0.97 之间。"
            ),
        ],
    )
    new_per_day = IntegerField(
        "每天新卡片数",
        validators=[
            InputRequired("请填写每天新卡片数。"),
            NumberRange(0, 9999, "需在 0 到 9999 之间。"),
        ],
    )
    reviews_per_day = IntegerField(
        "每天复习上限",
        validators=[
            InputRequired("请填写每天复习上限。"),
            NumberRange(0, 99999, "需在 0 到 99999 之间。"),
        ],
    )
    timezone = StringField("时区", validators=[InputRequired("请填写时区。"), _valid_zone])
    rollover_hour = IntegerField(
        "新的一天从几点开始",
        validators=[
            InputRequired("请填写 0–23 之间的整点。"),
            NumberRange(0, 23, "需在 0 到 23 之间。"),
        ],
    )
    learning_steps = StringField("学习步长", validators=[_valid_steps])
    relearning_steps = StringField("重学步长", validators=[_valid_steps])
    reveal_all = BooleanField("按一次空格同时显示一句话答案和深入回答")


class ActionForm(FlaskForm):
    """Only the CSRF token: for the optimize and reset buttons."""


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings() -> str | Response | tuple[str, int]:
    row = study.user_settings(db.session, current_user.id, create=request.method == "POST")
    form = SettingsForm(obj=row)
    if form.validate_on_submit():
        row.desired_retention = float(form.desired_retention.data)  # type: ignore[arg-type]
        row.new_per_day = form.new_per_day.data  # type: ignore[assignment]
        row.reviews_per_day = form.reviews_per_day.data  # type: ignore[assignment]
        row.timezone = form.timezone.data  # type: ignore[assignment]
        row.rollover_hour = form.rollover_hour.data  # type: ignore[assignment]
        row.learning_steps = scheduling.format_steps(
            scheduling.parse_steps(form.learning_steps.data or "")
        )
        row.relearning_steps = scheduling.format_steps(
            scheduling.parse_steps(form.relearning_steps.data or "")
        )
        row.reveal_all = bool(form.reveal_all.data)
        flash("设置已保存。", "success")
        return redirect(url_for("settings.settings"))
    reviews = optimizer.review_count(db.session, current_user.id)
    page = render_template(
        "settings.html",
        form=form,
        action_form=ActionForm(),
        settings=row,
        reviews=reviews,
        min_reviews=optimizer.MIN_REVIEWS,
        timezones=timezone_names(),
        tokens=accounts.list_tokens(db.session, current_user.id),
        token_days=current_app.config["API_TOKEN_DAYS"],
        now=utcnow(),
    )
    return (page, 400) if form.errors else page


@bp.post("/settings/optimize")
@login_required
def optimize() -> Response:
    if not ActionForm().validate_on_submit():
        flash("表单已过期，请重试。", "error")
        return redirect(url_for("settings.settings"))
    try:
        with attempt():
            result = optimizer.optimize_user(db.session, current_user.id, now=utcnow())
    except optimizer.NotEnoughReviews as error:
        flash(error.message, "warning")
        return redirect(url_for("settings.settings"))
    if result.adopted:
        flash(
            f"参数已优化：对数损失 {result.loss_before:.4f} → {result.loss_after:.4f}（越低越准）。之后的复习会使用新参数。",
            "success",
        )
    else:
        flash(
            f"新参数没有更准（对数损失 {result.loss_before:.4f} → {result.loss_after:.4f}），保留原来的参数。",
            "info",
        )
    return redirect(url_for("settings.settings"))


@bp.post("/settings/reset-parameters")
@login_required
def reset_parameters() -> Response:
    if not ActionForm().validate_on_submit():
        flash("表单已过期，请重试。", "error")
        return redirect(url_for("settings.settings"))
    row = study.user_settings(db.session, current_user.id, create=True)
    row.fsrs_parameters = None
    flash("已恢复 FSRS 默认参数。", "success")
    return redirect(url_for("settings.settings"))


@bp.post("/settings/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> Response:
    if not ActionForm().validate_on_submit():
        flash("表单已过期，请重试。", "error")
    elif accounts.revoke_token_id(db.session, current_user.id, token_id):
        flash("令牌已撤销：使用它的脚本需要重新申请。", "success")
    else:
        flash("找不到这个令牌（可能已经撤销）。", "warning")
    return redirect(url_for("settings.settings", _anchor="tokens"))
