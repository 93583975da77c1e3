"""The one definition of valid input: pydantic v2 models shared by the API, the forms and the
backup import.

Why pydantic v2 (not marshmallow): its models are typed classes that mypy and editors read, its
core is compiled (validating a 100,000-record backup takes well under a second), strict mode
refuses `"1"` for an int and `true` for a number without extra code, and `allow_inf_nan=False`
and length/range constraints are declared beside the type instead of in hand-written checks.
Messages shown to users are ours, in Chinese (`first_error`), never pydantic's English.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)

from quiz import scheduling
from quiz.inputs import INT32_MAX, clean_text
from quiz.studyday import zone

# Dates a backup may carry: anything else is a corrupt or hostile file (year 1 broke /progress).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False, frozen=False)


class Lenient(BaseModel):
    """Extra fields are ignored (API bodies and backups from newer versions), types are strict."""

    model_config = ConfigDict(strict=True, extra="ignore", allow_inf_nan=False)


def _text(value: str) -> str:
    if not clean_text(value):
        raise ValueError(_("包含无效字符（NUL 或孤立的代理字符）"))
    return value


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(_("缺少时区（应为 UTC，如 +00:00）"))
    value = value.astimezone(UTC)
    if not EARLIEST <= value < LATEST:
        raise ValueError(_("超出 1970–2100 年的范围"))
    return value


def _iso_datetime(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError as error:
            raise ValueError(_("不是有效的 ISO 8601 时间")) from error
    return value


def _iso_date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError as error:
            raise ValueError(_("不是有效的日期（YYYY-MM-DD）")) from error
    return value


def _date_range(value: date) -> date:
    if not EARLIEST.date() <= value < LATEST.date():
        raise ValueError(_("超出 1970–2100 年的范围"))
    return value


def _timezone(name: str) -> str:
    if zone(name).key != name:  # zone() falls back to UTC for unknown names
        raise ValueError(_("不是有效的时区名称（IANA 名称，例如 Asia/Shanghai）"))
    return name


def _steps(text: str) -> str:
    scheduling.parse_steps(text)  # ValueError carries the Chinese reason
    return text


def _parameters(value: list[float] | None) -> list[float] | None:
    if value is not None and scheduling.valid_parameters(value) is None:
        raise ValueError(_("不是有效的 FSRS 参数（需要 21 个、每个在 FSRS 允许的范围内）"))
    return value


Text = Annotated[str, AfterValidator(_text)]
UtcDateTime = Annotated[datetime, BeforeValidator(_iso_datetime), AfterValidator(_utc)]
Day = Annotated[date, BeforeValidator(_iso_date), AfterValidator(_date_range)]
Count = Annotated[int, Field(ge=0, le=INT32_MAX)]
SmallCount = Annotated[int, Field(ge=0, le=1_000_000_000)]
Id = Annotated[int, Field(ge=1, le=INT32_MAX)]
Finite = Annotated[float, Field(allow_inf_nan=False)]


def _number(value: Any) -> Any:
    # JSON has one number type: 1 and 1.0 are both a valid retention; booleans are not numbers.
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


Number = Annotated[float, BeforeValidator(_number), Field(allow_inf_nan=False)]


# --- settings: the settings form, the backup file --------------------------------------------


class SettingsIn(Strict):
    desired_retention: Annotated[
        Number, Field(ge=scheduling.MIN_RETENTION, le=scheduling.MAX_RETENTION)
    ]
    new_per_day: Annotated[int, Field(ge=0, le=9999)]
    reviews_per_day: Annotated[int, Field(ge=0, le=99999)]
    timezone: Annotated[Text, Field(max_length=64), AfterValidator(_timezone)]
    rollover_hour: Annotated[int, Field(ge=0, le=23)]
    learning_steps: Annotated[Text, Field(max_length=100), AfterValidator(_steps)]
    relearning_steps: Annotated[Text, Field(max_length=100), AfterValidator(_steps)]
    reveal_all: bool


SETTINGS_LABELS = {
    "desired_retention": _l("目标记忆保持率"),
    "new_per_day": _l("每天新卡片数"),
    "reviews_per_day": _l("每天复习上限"),
    "timezone": _l("时区"),
    "rollover_hour": _l("新的一天从几点开始"),
    "learning_steps": _l("学习步长"),
    "relearning_steps": _l("重学步长"),
    "reveal_all": _l("显示方式"),
}


class BackupSettings(SettingsIn):
    fsrs_parameters: Annotated[
        list[Number] | None, Field(max_length=64), AfterValidator(_parameters)
    ]
    fsrs_optimized_at: UtcDateTime | None
    fsrs_loss_before: Annotated[Number, Field(ge=0, le=1000)] | None
    fsrs_loss_after: Annotated[Number, Field(ge=0, le=1000)] | None


# --- API bodies ------------------------------------------------------------------------------


class CredentialsIn(Lenient):
    username: Annotated[Text, Field(max_length=200)]
    password: Annotated[Text, Field(max_length=1000)]


class AnswerIn(Lenient):
    card_id: Id
    rating: Annotated[int, Field(ge=1, le=4)]
    duration_ms: Annotated[int, Field(ge=0, le=24 * 3600 * 1000)] | None = None
    version: Annotated[int, Field(ge=0, le=INT32_MAX)] | None = None
    request_id: Annotated[Text, Field(min_length=1, max_length=64)] | None = None
    next: bool = False


class CardIdIn(Lenient):
    card_id: Id


class CardVersionIn(CardIdIn):
    version: Annotated[int, Field(ge=0, le=INT32_MAX)]


# --- the backup file: every record, every field ------------------------------------------------


class StateSnapshot(Lenient):
    """A card state as review logs snapshot it (before/after): complete, so undo can restore it."""

    state: Annotated[int, Field(ge=0, le=3)]
    step: Annotated[int, Field(ge=0, le=100)] | None
    stability: Annotated[Number, Field(ge=0, le=1e9)] | None
    difficulty: Annotated[Number, Field(ge=0, le=100)] | None
    due: UtcDateTime
    last_review: UtcDateTime | None
    reps: SmallCount
    lapses: SmallCount
    suspended: bool
    leech: bool
    buried_until: Day | None
    version: SmallCount


class CardStateRecord(StateSnapshot):
    card: Annotated[Text, Field(max_length=255)]


class ReviewLogRecord(Strict):
    card: Annotated[Text, Field(max_length=255)]
    rating: Annotated[int, Field(ge=1, le=4)]
    reviewed_at: UtcDateTime
    duration_ms: Annotated[int, Field(ge=0, le=INT32_MAX)] | None
    state_before: Annotated[int, Field(ge=0, le=3)]
    state_after: Annotated[int, Field(ge=0, le=3)]
    before: dict[str, Any]
    after: dict[str, Any]
    request_id: Annotated[Text, Field(max_length=64)] | None


class DraftRecord(Strict):
    drill_id: Annotated[Text, Field(max_length=64)]
    code: Annotated[Text, Field(max_length=1_000_000)]
    updated_at: UtcDateTime


class SubmissionRecord(Strict):
    drill_id: Annotated[Text, Field(max_length=64)]
    mode: Annotated[str, Field(pattern="^(run|submit)$")]
    code: Annotated[Text, Field(max_length=1_000_000)]
    verdict: Annotated[Text, Field(max_length=32)]
    passed: SmallCount
    total: SmallCount
    time_ms: Annotated[Number, Field(ge=0, le=1e9)]
    sandboxed: bool
    result: dict[str, Any]
    created_at: UtcDateTime


class DrillProgressRecord(Strict):
    drill_id: Annotated[Text, Field(max_length=64)]
    submits: SmallCount
    failed_submits: SmallCount
    attempts_to_first_accept: SmallCount | None
    solved_at: UtcDateTime | None
    revealed_at: UtcDateTime | None


RECORDS: dict[str, type[BaseModel]] = {
    "card_states": CardStateRecord,
    "review_logs": ReviewLogRecord,
    "drafts": DraftRecord,
    "submissions": SubmissionRecord,
    "drill_progress": DrillProgressRecord,
}


def first_error(error: ValidationError, labels: dict[str, str] | None = None) -> tuple[str, str]:
    """(field, Chinese reason) of the first problem, for a message that says how to fix it."""
    problem = error.errors(include_url=False)[0]
    field = ".".join(str(p) for p in problem["loc"]) or _("（整体）")
    if labels and field in labels:
        field = labels[field]
    return field, describe(problem)


def describe(problem: Any) -> str:
    """One pydantic error (an item of `ValidationError.errors()`) as a Chinese reason."""
    kind, ctx = problem["type"], problem.get("ctx") or {}
    if kind == "missing":
        return _("缺少该字段")
    if kind == "extra_forbidden":
        return _("是未知字段")
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return _("超出范围（%(bound_text)s）", bound_text=_bound_text(ctx))
    if kind in ("string_too_long", "too_long"):
        return _("过长（最多 %(get)s）", get=ctx.get("max_length"))
    if kind in ("string_too_short", "too_short"):
        return _("过短或为空")
    if kind == "finite_number":
        return _("必须是有限的数字")
    if kind == "value_error":
        return str(ctx.get("error", _("无效")))
    expected = {
        "int_type": _("必须是整数"),
        "int_from_float": _("必须是整数"),
        "float_type": _("必须是数字"),
        "bool_type": _("必须是 true 或 false"),
        "string_type": _("必须是字符串"),
        "dict_type": _("必须是 JSON 对象"),
        "list_type": _("必须是列表"),
        "model_type": _("必须是 JSON 对象"),
        "datetime_type": _("必须是 ISO 8601 时间"),
        "date_type": _("必须是日期（YYYY-MM-DD）"),
        "string_pattern_mismatch": _("必须是 run / submit 之一"),
    }
    return expected.get(kind, _("无效"))


def _bound_text(ctx: dict[str, Any]) -> str:
    parts = []
    for key, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
        if key in ctx:
            parts.append(f"{sign} {ctx[key]}")
    return "，".join(parts)
