"""The progress dashboard, the exports (CSV, JSON backup, Anki deck) and the backup import."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, NamedTuple

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as WerkzeugResponse

from quiz import apkg, backup, interview_report, progress
from quiz.db import db, utcnow
from quiz.i18n import N_, day_text, request_gettext
from quiz.security import csrf
from quiz.studyday import study_day
from quiz.transaction import attempt
from quiz.views.notes import known_topic_paths

bp = Blueprint("progress", __name__)

# Msgids, translated once per request through one catalogue lookup (`Labels`): as lazy
# strings each of the page's forty uses resolved the locale and the catalogue again.
RETENTION_LABELS = {"7d": N_("近 7 天"), "30d": N_("近 30 天"), "365d": N_("近 365 天")}
STATE_LABELS = {
    "new": N_("新卡"),
    "learning": N_("学习中"),
    "relearning": N_("重新学习"),
    "review": N_("复习中"),
    "suspended": N_("已暂停"),
}
WEEKDAYS = (N_("周一"), N_("周二"), N_("周三"), N_("周四"), N_("周五"), N_("周六"), N_("周日"))


class Labels(NamedTuple):
    """The page's fixed texts in the request's language."""

    gettext: Callable[..., str]
    retention: dict[str, str]
    states: dict[str, str]
    weekdays: tuple[str, ...]


def labels() -> Labels:
    gettext = request_gettext()
    return Labels(
        gettext,
        {key: gettext(text) for key, text in RETENTION_LABELS.items()},
        {key: gettext(text) for key, text in STATE_LABELS.items()},
        tuple(gettext(text) for text in WEEKDAYS),
    )


class HeatCell(NamedTuple):
    day: date
    reviews: int
    level: int  # 0 (none) to 4 (busiest), the colour step


def heatmap_weeks(days: list[progress.DayCount]) -> list[list[HeatCell | None]]:
    """Columns of Monday-to-Sunday cells (None outside the range), like GitHub's calendar."""
    busiest = max((d.reviews for d in days), default=0)

    def level(n: int) -> int:
        # Quartiles of the busiest day: a light week still shows its shape.
        return 0 if n == 0 or busiest == 0 else min(4, 1 + (4 * (n - 1)) // busiest)

    cells: list[HeatCell | None] = [None] * days[0].day.weekday() if days else []
    cells += [HeatCell(d.day, d.reviews, level(d.reviews)) for d in days]
    cells += [None] * (-len(cells) % 7)
    return [cells[i : i + 7] for i in range(0, len(cells), 7)]


def month_labels(weeks: list[list[HeatCell | None]]) -> list[str]:
    """The month's name above the first week that contains its first day."""
    labels = []
    for week in weeks:
        first = next((c for c in week if c is not None and c.day.day == 1), None)
        labels.append(day_text(first.day, "MMM") if first else "")  # 1月 / Jan
    return labels


# The calendar is ~400 cells and its table ~50 rows: joined here, they cost a fraction of what
# Jinja's per-cell loop does (a third of the page's time otherwise). Only dates, integers and
# fixed text go in, and labels are escaped all the same.


def heatmap_cells(weeks: list[list[HeatCell | None]], text: Labels) -> Markup:
    """The calendar's grid items, column by column: month label, then Monday to Sunday."""
    parts = ['<span class="heatmap-month"></span>']
    parts += [
        f'<span class="heatmap-weekday">{escape(w) if i % 2 == 0 else ""}</span>'
        for i, w in enumerate(text.weekdays)
    ]
    # Translated and escaped once: a translation lookup per cell cost more than the rest of
    # the calendar. Only an ISO date and an integer go into it.
    title = str(escape(text.gettext("%(isoformat)s：%(reviews)s 次")))
    for week, label in zip(weeks, month_labels(weeks), strict=True):
        parts.append(f'<span class="heatmap-month">{escape(label)}</span>')
        for cell in week:
            if cell is None:
                parts.append('<span class="heat heat-none"></span>')
            else:
                tip = title % {"isoformat": cell.day.isoformat(), "reviews": cell.reviews}
                parts.append(f'<span class="heat heat-{cell.level}" title="{tip}"></span>')
    return Markup("".join(parts))


def heatmap_rows(weeks: list[list[HeatCell | None]]) -> Markup:
    """The calendar as table rows, newest week first: week start, Monday..Sunday, total."""
    rows = []
    for week in reversed(weeks):
        cells = [c for c in week if c is not None]
        counts = "".join(f"<td>{c.reviews if c else ''}</td>" for c in week)
        total = sum(c.reviews for c in cells)
        rows.append(
            f'<tr><th scope="row">{cells[0].day.isoformat()}</th>{counts}<td>{total}</td></tr>'
        )
    return Markup("".join(rows))


def pct(value: float | None, digits: int = 1) -> str:
    """A ratio as the page prints it ("42.0%", "—" for none): a function rather than a Jinja
    macro, whose call cost more than the rest of a table row (the page prints thirty)."""
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def chart_specs(d: progress.Dashboard, text: Labels) -> dict[str, dict[str, Any]]:
    """What progress.js draws; the same numbers are in the tables beside each chart."""
    _ = text.gettext
    desired = _percent(d.settings.desired_retention)
    return {
        "retention": {
            "type": "bar",
            "unit": "%",
            "max": 100,
            "labels": list(text.retention.values()),
            "datasets": [
                {
                    "label": _("实际保留率"),
                    "color": "good",
                    "data": [_percent(d.retention[k].rate) for k in RETENTION_LABELS],
                },
                {
                    "label": _("目标保留率"),
                    "color": "easy",
                    "line": True,
                    "data": [desired] * len(RETENTION_LABELS),
                },
            ],
        },
        "forecast": {
            "type": "bar",
            "labels": [f"{f.day.month}/{f.day.day}" for f in d.forecast],
            "datasets": [
                {"label": _("到期卡片"), "color": "easy", "data": [f.reviews for f in d.forecast]}
            ],
        },
        "states": {
            "type": "doughnut",
            "labels": list(text.states.values()),
            "colors": ["easy", "warn", "again", "good", "hard"],
            "datasets": [{"label": _("卡片数"), "data": [d.states[k] for k in STATE_LABELS]}],
        },
        "mastery": {
            "type": "bar",
            "horizontal": True,
            "unit": "%",
            "max": 100,
            "labels": [t.title for t in d.topics],
            "datasets": [
                {
                    "label": _("掌握度"),
                    "color": "good",
                    "data": [_percent(t.mastery) for t in d.topics],
                }
            ],
        },
    }


def card_link(card: progress.WeakCard) -> str:
    """The card in the card browser: searched by the words of its front, scrolled to by id."""
    words = " ".join(card.front_md.split()[:8])
    return url_for("notes.cards", q=words, topic=card.topic_slug, _anchor=f"card-{card.card_id}")


@bp.get("/progress")
@login_required
def dashboard() -> str:
    data = progress.dashboard(db.session(), current_user.id, now=utcnow())
    known_topic_paths({t.slug: t.path for t in data.topics})
    weeks = heatmap_weeks(data.heatmap)
    text = labels()
    return render_template(
        "progress/dashboard.html",
        d=data,
        charts=chart_specs(data, text),
        heatmap_cells=heatmap_cells(weeks, text),
        heatmap_rows=heatmap_rows(weeks),
        weekdays=text.weekdays,
        retention_labels=text.retention,
        state_labels=text.states,
        card_link=card_link,
        pct=pct,
        # Reviews in the heatmap are history already: the five existence probes only run
        # for an account without any this year.
        can_import=not (
            any(c.reviews for c in data.heatmap)
            or backup.has_history(db.session(), current_user.id)
        ),
        max_backup_mb=backup.MAX_BACKUP_BYTES // (1024 * 1024),
        **interview_panel(current_user.id),
    )


def interview_panel(user_id: int) -> dict[str, Any]:
    """The mock-interview panel's figures and its chart (progress.js draws it)."""
    summary = interview_report.summary(db.session(), user_id)
    chart = {
        "type": "bar",
        "max": 100,
        "labels": [t["date"] for t in summary["trend"]],
        "datasets": [
            {"label": _("得分"), "color": "easy", "data": [t["score"] for t in summary["trend"]]}
        ],
    }
    return {"iv": summary, "iv_chart": chart}


def _local_day(now: datetime) -> date:
    """The user's study day at `now`: export names carry the day the learner sees."""
    settings = progress.load_settings(db.session(), current_user.id)
    return study_day(now, settings.timezone, settings.rollover_hour)


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


@bp.get("/progress/reviews.csv")
@login_required
def reviews_csv() -> Response:
    stamp = _local_day(utcnow()).isoformat()
    chunks = backup.review_log_csv(db.session(), current_user.id)
    return Response(
        stream_with_context(chunks),
        mimetype="text/csv",
        headers=_attachment(f"mlquiz-reviews-{stamp}.csv"),
    )


@bp.get("/progress/backup.json")
@login_required
def backup_json() -> Response:
    now = utcnow()
    compress = request.args.get("gzip") == "1"
    body = backup.dump_backup(
        backup.export_backup(db.session(), current_user.id, now=now), compress=compress
    )
    name = f"mlquiz-backup-{_local_day(now).isoformat()}.json" + (".gz" if compress else "")
    mimetype = "application/gzip" if compress else "application/json"
    return Response(body, mimetype=mimetype, headers=_attachment(name))


@bp.get("/progress/deck.apkg")
@login_required
def deck_apkg() -> Response:
    body = apkg.build_apkg(db.session(), now=utcnow())
    return Response(
        body, mimetype="application/octet-stream", headers=_attachment("mlquiz-deck.apkg")
    )


@bp.post("/progress/import")
@login_required
@csrf.exempt  # checked below, once the larger upload limit is in place
def import_backup() -> WerkzeugResponse:
    target = redirect(url_for(".dashboard", _anchor="backup"))
    # Backups are far larger than the app-wide request limit; raise it for this request only.
    request.max_content_length = backup.MAX_BACKUP_BYTES + 64 * 1024
    try:
        if current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()
        upload = request.files.get("backup")
    except RequestEntityTooLarge:
        flash(
            _(
                "备份文件过大（上限 %(MAX_BACKUP_BYTES)s MB）。",
                MAX_BACKUP_BYTES=backup.MAX_BACKUP_BYTES // (1024 * 1024),
            ),
            "error",
        )
        return target
    if upload is None or not upload.filename:
        flash(_("请选择要导入的备份文件。"), "error")
        return target
    try:
        with backup.one_import_per_user(current_user.id), attempt():
            data = backup.load_backup(upload.stream.read(backup.MAX_BACKUP_BYTES + 1))
            report = backup.import_backup(db.session(), current_user.id, data)
    except backup.BackupError as error:
        flash(error.message, "error")
        return target
    flash(report.summary(), "success")
    return redirect(url_for(".dashboard"))
