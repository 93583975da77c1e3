"""The interview's user-facing words in one place (what an English interface will translate)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

STATUS_LABELS = {
    "pending": _l("未作答"),
    "answered": _l("已作答"),
    "confirmed": _l("已确认要点"),
    "skipped": _l("已跳过"),
    "timeout": _l("超时"),
}
REASON_LABELS = {
    "not_answered": _l("没有作答"),
    "missed_points": _l("漏掉了要点"),
    "late": _l("超时后才答完"),
    "not_accepted": _l("没有通过"),
    "accepted_after_failures": _l("失败后才通过"),
}
