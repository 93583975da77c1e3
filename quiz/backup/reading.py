"""Reading an uploaded backup within bounded memory: decompression, size and parse-cost checks."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from quiz.backup.format import (
    _MEDIUM,
    _STEP,
    _WIDE,
    BACKUP_FORMAT,
    BACKUP_VERSION,
    MAX_BACKUP_BYTES,
    MAX_JSON_BYTES,
    MAX_JSON_VALUES,
    MAX_PARSE_COST,
    MAX_TEXT_BYTES,
    BackupError,
)
from quiz.errors import InvalidInput, TooLarge
from quiz.inputs import load_json


def _decompress(raw: bytes | bytearray) -> bytearray:
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
