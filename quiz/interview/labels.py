"""The interview's user-facing words in one place (what an English interface will translate)."""

from __future__ import annotations

STATUS_LABELS = {
    "pending": "未作答",
    "answered": "已作答",
    "confirmed": "已确认要点",
    "skipped": "已跳过",
    "timeout": "超时",
}
REASON_LABELS = {
    "not_answered": "没有作答",
    "missed_points": "漏掉了要点",
    "late": "超时后才答完",
    "not_accepted": "没有通过",
    "accepted_after_failures": "失败后才通过",
}
