"""Export and import of one user's progress: the review log as CSV, and a full JSON backup.

The backup names cards by their stable `key`, never by database id, so it restores into another
database that holds the same notes. Import is allowed only into an account without history
(no card states, reviews, drafts, submissions or drill progress): merging two histories has no
exact answer, and replacing one silently would lose data. The importer validates the whole file
before it writes anything and only flushes; the caller commits once or rolls back.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ValidationError
from sqlalchemy import exists, insert, select
from sqlalchemy.orm import Session

from quiz.errors import InvalidInput, ServiceError, TooLarge
from quiz.inputs import load_json
from quiz.models import (
    Card,
    CardState,
    Draft,
    DrillProgress,
    ReviewLog,
    Submission,
    Topic,
    User,
    UserSettings,
)
from quiz.schemas import RECORDS, BackupSettings, StateSnapshot, first_error
from quiz.study import SNAPSHOT_FIELDS
from quiz.studyday import study_day, zone

BACKUP_FORMAT = "mlquiz-progress-backup"
BACKUP_VERSION = 1
MAX_BACKUP_BYTES = 20 * 1024 * 1024  # the uploaded file (plain or gzip)
# After decompression (~1 KB per review: tens of thousands of reviews fit), and what parsing
# may build: a bomb of any shape is refused before it costs a worker more than ~256 MB.
MAX_JSON_BYTES = 50 * 1024 * 1024
MAX_TEXT_BYTES = 64 * 1024 * 1024  # the decoded text in memory
MAX_JSON_VALUES = 1_000_000
# What parsing may cost, estimated from the bytes before parsing (see _parse_cost): with a
# worker's ~130 MB at rest this keeps a bomb of any shape under 256 MB (test_import_memory).
MAX_PARSE_COST = 90 * 1024 * 1024
_STEP = 1024 * 1024
_WIDE = re.compile(rb"[\xf0-\xf4]")  # lead bytes of characters beyond the BMP (4 bytes each)
_MEDIUM = re.compile(rb"[\xc4-\xef]")  # lead bytes of characters from U+0100 (2 bytes each)
_CHUNK = 500  # ids per IN (...) list, well under every database's parameter limit

RATING_NAMES = {1: _l("重来"), 2: _l("困难"), 3: _l("良好"), 4: _l("简单")}
STATE_NAMES = {0: _l("新卡"), 1: _l("学习中"), 2: _l("复习"), 3: _l("重新学习")}


class BackupError(ServiceError):
    """A problem with a backup file; the message is Chinese and says how to fix it."""


# --- review log as CSV ---------------------------------------------------------------------

CSV_HEADER = [
    "reviewed_at_utc",
    "reviewed_at_local",
    "study_day",
    "card_key",
    "card_kind",
    "topic",
    "rating",
    "rating_name",
    "state_before",
    "state_after",
    "duration_ms",
]


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # Spreadsheets run cells that start like a formula; a leading quote keeps them text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def review_log_csv(session: Session, user_id: int, *, batch: int = 2000) -> Iterator[str]:
    """The user's review log, oldest first, as CSV text chunks (streamed, never all in memory)."""
    settings = session.get(UserSettings, user_id)
    tz_name = settings.timezone if settings else "UTC"
    rollover = settings.rollover_hour if settings else 0
    tz = zone(tz_name)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    # The BOM makes Excel read the file as UTF-8 (Chinese text otherwise turns to mojibake).
    buffer.write("\ufeff")
    writer.writerow(CSV_HEADER)
    rows = session.execute(
        select(
            ReviewLog.reviewed_at,
            Card.key,
            Card.kind,
            Topic.title,
            ReviewLog.rating,
            ReviewLog.state_before,
            ReviewLog.state_after,
            ReviewLog.duration_ms,
        )
        .join(Card, Card.id == ReviewLog.card_id)
        .join(Topic, Topic.id == Card.topic_id)
        .where(ReviewLog.user_id == user_id)
        .order_by(ReviewLog.reviewed_at, ReviewLog.id)
        .execution_options(yield_per=batch)
    )
    for n, (at, key, kind, topic, rating, before, after, duration) in enumerate(rows, 1):
        writer.writerow(
            [
                at.isoformat(),
                at.astimezone(tz).isoformat(),
                study_day(at, tz_name, rollover).isoformat(),
                _cell(key),
                kind,
                _cell(topic),
                rating,
                RATING_NAMES.get(rating, ""),
                STATE_NAMES.get(before, before),
                STATE_NAMES.get(after, after),
                "" if duration is None else duration,
            ]
        )
        if n % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# --- full backup: export -------------------------------------------------------------------

SETTINGS_FIELDS = (
    "desired_retention",
    "new_per_day",
    "reviews_per_day",
    "timezone",
    "rollover_hour",
    "learning_steps",
    "relearning_steps",
    "reveal_all",
    "fsrs_parameters",
    "fsrs_optimized_at",
    "fsrs_loss_before",
    "fsrs_loss_after",
)
STATE_FIELDS = SNAPSHOT_FIELDS
LOG_FIELDS = (
    "rating",
    "reviewed_at",
    "duration_ms",
    "state_before",
    "state_after",
    "before",
    "after",
    "request_id",
)
DRAFT_FIELDS = ("drill_id", "code", "updated_at")
SUBMISSION_FIELDS = (
    "drill_id",
    "mode",
    "code",
    "verdict",
    "passed",
    "total",
    "time_ms",
    "sandboxed",
    "result",
    "created_at",
)
DRILL_PROGRESS_FIELDS = (
    "drill_id",
    "submits",
    "failed_submits",
    "attempts_to_first_accept",
    "solved_at",
    "revealed_at",
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _record(obj: object, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: _plain(getattr(obj, name)) for name in fields}


def export_backup(session: Session, user_id: int, *, now: datetime) -> dict[str, Any]:
    """Everything the user did, keyed by card key, ready for `json.dumps`."""
    user = session.get(User, user_id)
    settings = session.get(UserSettings, user_id)
    keys = dict(session.execute(select(Card.id, Card.key)).all())
    states = session.scalars(
        select(CardState).where(CardState.user_id == user_id).order_by(CardState.card_id)
    )
    logs = session.scalars(
        select(ReviewLog)
        .where(ReviewLog.user_id == user_id)
        .order_by(ReviewLog.reviewed_at, ReviewLog.id)
        .execution_options(yield_per=2000)
    )
    by_user = {
        Draft: (DRAFT_FIELDS, (Draft.drill_id,)),
        Submission: (SUBMISSION_FIELDS, (Submission.created_at, Submission.id)),
        DrillProgress: (DRILL_PROGRESS_FIELDS, (DrillProgress.drill_id,)),
    }

    def rows(model: Any) -> list[dict[str, Any]]:
        fields, order = by_user[model]
        query = select(model).where(model.user_id == user_id).order_by(*order)
        return [_record(obj, fields) for obj in session.scalars(query)]

    return {
        "format": BACKUP_FORMAT,
        "version": BACKUP_VERSION,
        "exported_at": _plain(now),
        "username": user.username if user else None,  # informational; import ignores it
        "settings": _record(settings, SETTINGS_FIELDS) if settings else None,
        "card_states": [{"card": keys[s.card_id], **_record(s, STATE_FIELDS)} for s in states],
        "review_logs": [{"card": keys[r.card_id], **_record(r, LOG_FIELDS)} for r in logs],
        "drafts": rows(Draft),
        "submissions": rows(Submission),
        "drill_progress": rows(DrillProgress),
    }


def dump_backup(data: dict[str, Any], *, compress: bool = False) -> bytes:
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    # mtime=0 keeps the compressed file a pure function of its contents.
    return gzip.compress(raw, compresslevel=6, mtime=0) if compress else raw


# --- full backup: reading and validation ---------------------------------------------------


def _decompress(raw: bytes) -> bytearray:
    """Gunzip in bounded steps: a bomb is refused once it passes the limit, before the memory."""
    decompressor = zlib.decompressobj(wbits=31)
    out = bytearray()  # grown in place: no list of parts joined into a second copy
    data = raw
    try:
        while data and not decompressor.eof:
            out += decompressor.decompress(data, _STEP)
            if len(out) > MAX_JSON_BYTES:
                raise BackupError(_too_big(), status=413)
            data = decompressor.unconsumed_tail
    except zlib.error as error:
        raise BackupError(_("压缩的备份文件已损坏，无法解压。")) from error
    if not decompressor.eof:
        raise BackupError(_("压缩的备份文件不完整或已损坏，无法解压。"))
    return out


def _too_big() -> str:
    return _(
        "备份文件解压后过大或条目过多（上限 %(mb)s MB、%(values)s 个条目），无法导入。",
        mb=format(MAX_JSON_BYTES / 1048576, "g"),
        values=format(MAX_JSON_VALUES, ","),
    )


# Unrolled and possessive: a group repeated per character would make the regex engine keep
# one backtracking entry per character (gigabytes on a 50 MB string).
_STRINGS = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"')


@dataclass(frozen=True)
class _Shape:
    values: int  # an upper bound of the JSON values
    parse_cost: int  # bytes that decoding and parsing may hold at once


def _measure(raw: bytes | bytearray, width: int) -> _Shape:
    """Count what parsing `raw` would build, without parsing and without copying it.

    Punctuation inside strings is subtracted per string (bytes.count on a span copies
    nothing). The cost: the decoded text and the string values copied out of it (each at
    `width` bytes per character), plus CPython's per-object overhead: ~49 bytes a string,
    ~100 an object or array, ~32 any other value, and 8 for each slot in its container.
    """
    strings = inner_commas = inner_open = 0
    for match in _STRINGS.finditer(raw):
        start, end = match.span()
        strings += 1
        inner_commas += raw.count(b",", start, end)
        inner_open += raw.count(b"[", start, end) + raw.count(b"{", start, end)
    commas = raw.count(b",") - inner_commas
    containers = raw.count(b"[") + raw.count(b"{") - inner_open
    values = commas + containers + 1
    others = max(0, values - strings - containers)
    cost = 2 * len(raw) * width + 57 * strings + 100 * containers + 40 * others
    return _Shape(values, cost)


def load_backup(raw: bytes | bytearray) -> dict[str, Any]:
    """Parse an uploaded backup (JSON, optionally gzip-compressed) and check its header.

    Bounded before the memory is spent: the file size, the decompressed size (gunzipped in
    steps), the decoded text's width and the number of JSON values are checked before parsing.
    """
    if not raw:
        raise BackupError(_("没有收到文件，请选择一个备份文件。"))
    if len(raw) > MAX_BACKUP_BYTES:
        raise BackupError(
            _(
                "备份文件过大（上限 %(MAX_BACKUP_BYTES)s MB）。",
                MAX_BACKUP_BYTES=MAX_BACKUP_BYTES // (1024 * 1024),
            ),
            status=413,
        )
    if raw[:2] == b"\x1f\x8b":
        raw = _decompress(raw)
    if len(raw) > MAX_JSON_BYTES:
        raise BackupError(_too_big(), status=413)
    # Python keeps text 1, 2 or 4 bytes per character (the widest character decides): bound
    # the decoded copy too, or one emoji turns 50 MB of JSON into 200 MB of text.
    width = 4 if _WIDE.search(raw) else 2 if _MEDIUM.search(raw) else 1
    if len(raw) * width > MAX_TEXT_BYTES:
        raise BackupError(_too_big(), status=413)
    shape = _measure(raw, width)
    if shape.values > MAX_JSON_VALUES or shape.parse_cost > MAX_PARSE_COST:
        raise BackupError(_too_big(), status=413)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BackupError(_("备份文件不是 UTF-8 编码的文本。")) from error
    del raw  # the decompressed bytes are not needed once decoded: never hold both and the tree
    try:
        data = load_json(text, max_depth=16, max_values=MAX_JSON_VALUES)
    except InvalidInput as error:
        raise BackupError(_("备份文件有误：%(message)s", message=error.message)) from error
    except TooLarge as error:
        raise BackupError(_too_big(), status=413) from error
    if not isinstance(data, dict) or data.get("format") != BACKUP_FORMAT:
        raise BackupError(_("这不是本站导出的进度备份文件。"))
    version = data.get("version")
    if version != BACKUP_VERSION:
        raise BackupError(
            _(
                "不支持的备份版本 %(version)r（本站支持版本 %(BACKUP_VERSION)s）。",
                version=version,
                BACKUP_VERSION=BACKUP_VERSION,
            )
        )
    return data


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


# --- full backup: import -------------------------------------------------------------------


def has_history(session: Session, user_id: int) -> bool:
    """Whether the account holds any progress an import would have to merge with."""
    return any(
        session.scalar(select(exists().where(model.user_id == user_id)))
        for model in (CardState, ReviewLog, Draft, Submission, DrillProgress)
    )


def _card_ids(session: Session, keys: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        found.update(session.execute(select(Card.key, Card.id).where(Card.key.in_(chunk))).all())
    return found


def _remap(snapshot: dict[str, Any], ids: dict[str, int | None]) -> dict[str, Any]:
    """A log's before/after snapshot of the card state row, with this database's ids.

    Snapshots describe the log's own card for the log's own user, so any id fields they carry
    are exactly the new card, user and state ids (fields absent stay absent).
    """
    out = dict(snapshot)
    for name, new in ids.items():
        if name in out and new is not None:
            out[name] = new
    return out


@dataclass(frozen=True)
class ImportReport:
    card_states: int
    review_logs: int
    drafts: int
    submissions: int
    drill_progress: int

    def summary(self) -> str:
        return _(
            "已恢复 %(card_states)s 张卡片的状态、%(review_logs)s 条复习记录、"
            "%(drafts)s 份草稿、%(submissions)s 次提交和 %(drill_progress)s 项练习进度。",
            card_states=self.card_states,
            review_logs=self.review_logs,
            drafts=self.drafts,
            submissions=self.submissions,
            drill_progress=self.drill_progress,
        )


_importing: set[int] = set()
_importing_lock = threading.Lock()


@contextmanager
def one_import_per_user(user_id: int) -> Iterator[None]:
    """Refuse (409) a second import of the same account while one is running in this process.

    Across processes the request's write transaction serializes imports and the second one
    finds the history the first wrote.
    """
    with _importing_lock:
        if user_id in _importing:
            raise BackupError(
                _("这个账号正在导入另一个备份，请等它完成后刷新页面查看。"), status=409
            )
        _importing.add(user_id)
    try:
        yield
    finally:
        with _importing_lock:
            _importing.discard(user_id)


def import_backup(session: Session, user_id: int, data: dict[str, Any]) -> ImportReport:
    """Restore a parsed backup into an account without history. Validates first; flushes only."""
    if has_history(session, user_id):
        raise BackupError(
            _(
                "当前账号已有学习记录，只能把备份导入到没有学习记录的新账号。请注册一个新账号后再导入。"
            ),
            status=409,
        )
    backup = validate_backup(data)
    sections = backup.sections
    keys = {r["card"] for r in sections["card_states"]} | {
        r["card"] for r in sections["review_logs"]
    }
    card_ids = _card_ids(session, keys)
    unknown = sorted(keys - card_ids.keys())
    if unknown:
        examples = "、".join(unknown[:3])
        raise BackupError(
            _(
                "备份中有 %(n)s 张卡片在本站不存在（例如 %(examples)s），无法完整恢复。"
                "请先同步相同的笔记内容再导入。",
                n=len(unknown),
                examples=examples,
            )
        )

    if backup.settings is not None:
        settings = session.get(UserSettings, user_id)
        if settings is None:
            settings = UserSettings(user_id=user_id)
            session.add(settings)
        for name, value in backup.settings.items():
            setattr(settings, name, value)

    state_rows = [
        {"user_id": user_id, "card_id": card_ids[r.pop("card")], **r}
        for r in sections["card_states"]
    ]
    if state_rows:
        session.execute(insert(CardState), state_rows)
    state_ids = dict(
        session.execute(
            select(CardState.card_id, CardState.id).where(CardState.user_id == user_id)
        ).all()
    )
    log_rows = []
    for record in sections["review_logs"]:
        card_id = card_ids[record.pop("card")]
        ids = {"card_id": card_id, "user_id": user_id, "id": state_ids.get(card_id)}
        record["before"] = _remap(record["before"], ids)
        record["after"] = _remap(record["after"], ids)
        log_rows.append({"user_id": user_id, "card_id": card_id, **record})
    for start in range(0, len(log_rows), 5000):
        session.execute(insert(ReviewLog), log_rows[start : start + 5000])
    for model, section in (
        (Draft, "drafts"),
        (Submission, "submissions"),
        (DrillProgress, "drill_progress"),
    ):
        if sections[section]:
            session.execute(insert(model), [{"user_id": user_id, **r} for r in sections[section]])
    session.flush()
    return ImportReport(
        card_states=len(state_rows),
        review_logs=len(log_rows),
        drafts=len(sections["drafts"]),
        submissions=len(sections["submissions"]),
        drill_progress=len(sections["drill_progress"]),
    )
