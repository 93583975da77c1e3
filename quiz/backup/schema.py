"""Validating a parsed backup, section by section, before anything is written."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ValidationError

from quiz.backup.format import BackupError
from quiz.schemas import RECORDS, BackupSettings, StateSnapshot, first_error

SECTION_NAMES = {
    "settings": _l("设置"),
    "card_states": _l("卡片状态"),
    "review_logs": _l("复习记录"),
    "drafts": _l("草稿"),
    "submissions": _l("提交记录"),
    "drill_progress": _l("练习进度"),
}
# Within one account these must be unique; a file that repeats them cannot be restored exactly.
UNIQUE_BY = {
    "card_states": ("card",),
    "review_logs": ("request_id",),
    "drafts": ("drill_id",),
    "drill_progress": ("drill_id",),
}


def _validate_record(
    section: str, index: int | None, value: Any, model: type[BaseModel]
) -> dict[str, Any]:
    where = SECTION_NAMES[section] + (
        "" if index is None else _("第 %(index_1)s 条", index_1=index + 1)
    )
    if not isinstance(value, dict):
        raise BackupError(_("备份文件有误：%(where)s必须是 JSON 对象。", where=where))
    try:
        return model.model_validate(value).model_dump()
    except ValidationError as error:
        field, reason = first_error(error)
        if reason == _("缺少该字段"):
            raise BackupError(
                _("备份文件有误：%(where)s缺少字段 %(field)s。", where=where, field=field)
            ) from None
        raise BackupError(
            _(
                "备份文件有误：%(where)s的 %(field)s %(reason)s。",
                where=where,
                field=field,
                reason=reason,
            )
        ) from None


def _snapshot(section: str, index: int, name: str, value: dict[str, Any]) -> None:
    # Undo restores these snapshots: an incomplete or impossible one would break the account.
    try:
        StateSnapshot.model_validate(value)
    except ValidationError as error:
        field, reason = first_error(error)
        where = _(
            "%(SECTION_NAMES)s第 %(index_1)s 条",
            SECTION_NAMES=SECTION_NAMES[section],
            index_1=index + 1,
        )
        raise BackupError(
            _(
                "备份文件有误：%(where)s的 %(name)s.%(field)s %(reason)s。",
                where=where,
                name=name,
                field=field,
                reason=reason,
            )
        ) from None


@dataclass
class ValidBackup:
    settings: dict[str, Any] | None
    sections: dict[str, list[dict[str, Any]]]


def validate_backup(data: dict[str, Any]) -> ValidBackup:
    """Check every record with the app's own schemas (quiz.schemas); dates come back parsed."""
    if "settings" not in data:
        raise BackupError(_("备份文件有误：缺少 settings。"))
    settings = data["settings"]
    sections: dict[str, list[dict[str, Any]]] = {}
    for section, model in RECORDS.items():
        records = data.get(section)
        if not isinstance(records, list):
            raise BackupError(
                _(
                    "备份文件有误：%(SECTION_NAMES)s（%(section)s）缺失或不是列表。",
                    SECTION_NAMES=SECTION_NAMES[section],
                    section=section,
                )
            )
        sections[section] = [_validate_record(section, i, r, model) for i, r in enumerate(records)]
    for i, record in enumerate(sections["review_logs"]):
        _snapshot("review_logs", i, "before", record["before"])
        _snapshot("review_logs", i, "after", record["after"])
    for section, fields in UNIQUE_BY.items():
        seen: set[tuple[Any, ...]] = set()
        for i, record in enumerate(sections[section]):
            value = tuple(record[f] for f in fields)
            if None in value:
                continue
            if value in seen:
                raise BackupError(
                    _(
                        "备份文件有误：%(SECTION_NAMES)s第 %(i_1)s 条与前面的记录重复（%(value)s）。",
                        SECTION_NAMES=SECTION_NAMES[section],
                        i_1=i + 1,
                        value=value[0],
                    )
                )
            seen.add(value)
    return ValidBackup(
        settings=None
        if settings is None
        else _validate_record("settings", None, settings, BackupSettings),
        sections=sections,
    )
