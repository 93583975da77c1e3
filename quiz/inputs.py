"""Hostile input stops at the edge: JSON shape limits, string hygiene, 64-bit integers.

Pure: no Flask, no database. Every JSON body (Flask's `get_json`, through the app's JSON
provider) and the backup file go through `load_json`, so one definition of "well-formed" holds
before any schema (quiz.schemas) looks at the fields.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flask_babel import gettext as _

from quiz.errors import InvalidInput, TooLarge

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
# An Integer column (ids, counts, versions) holds 32 bits on PostgreSQL; beyond that a query
# is a DataError there, so ids and counts from requests are bounded to what both can hold.
INT32_MAX = 2**31 - 1
MAX_DEPTH = 32  # API bodies are two or three levels deep; a backup five or six
_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")  # NUL and lone surrogates (never valid text)
MAX_PAGE = 1_000_000


class MalformedJSON(InvalidInput, ValueError):
    """Not JSON at all (empty, a syntax error, not UTF-8). Also a ValueError, so Flask's
    `get_json(silent=True)` still answers None for it; hostile but well-formed JSON (too deep,
    NUL, huge integers) raises plain InvalidInput, whose message says what is wrong."""


def _reject_constant(name: str) -> Any:
    raise InvalidInput(_("包含无效数值 %(name)s（数值必须是有限的数字）。", name=name))


def load_json(
    raw: str | bytes, *, max_depth: int = MAX_DEPTH, max_values: int | None = None
) -> Any:
    """Parse JSON and check its whole tree; InvalidInput/TooLarge say in Chinese what is wrong."""
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except RecursionError as error:
        raise InvalidInput(
            _("JSON 嵌套过深（最多 %(max_depth)s 层）。", max_depth=max_depth)
        ) from error
    except UnicodeDecodeError as error:
        raise MalformedJSON(_("内容不是有效的 UTF-8 文本。")) from error
    except json.JSONDecodeError as error:
        raise MalformedJSON(
            _("内容不是有效的 JSON（第 %(lineno)s 行附近）。", lineno=error.lineno)
        ) from error
    except ValueError as error:  # e.g. an integer literal of thousands of digits
        raise InvalidInput(_("内容包含无法读取的数值（整数位数过多）。")) from error
    check_tree(data, max_depth=max_depth, max_values=max_values)
    return data


def check_tree(data: Any, *, max_depth: int = MAX_DEPTH, max_values: int | None = None) -> None:
    """Depth, value count, strings and numbers of a parsed JSON value (iterative: no recursion).

    Only containers go on the stack: a list of a million strings costs no extra memory here.
    """
    _check_scalar(data)
    stack: list[tuple[Any, int]] = [(data, 1)] if isinstance(data, dict | list) else []
    seen = 1
    while stack:
        value, depth = stack.pop()
        if depth > max_depth:
            raise InvalidInput(_("JSON 嵌套过深（最多 %(max_depth)s 层）。", max_depth=max_depth))
        if isinstance(value, dict):
            for key in value:
                check_text(key)
            items: Any = value.values()
        else:
            items = value
        seen += len(items)
        if max_values is not None and seen > max_values:
            raise TooLarge(
                _(
                    "内容包含的条目过多（上限 %(max_values)s 个）。",
                    max_values=format(max_values, ","),
                )
            )
        for item in items:
            if isinstance(item, dict | list):
                stack.append((item, depth + 1))
            else:
                _check_scalar(item)


def _check_scalar(value: Any) -> None:
    if isinstance(value, str):
        check_text(value)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise InvalidInput(_("整数超出 64 位范围。"))
    elif isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(_("数值必须是有限的数字。"))


def check_text(text: str) -> str:
    """Refuse NUL and lone surrogates: they cannot be stored or encoded as UTF-8."""
    if _BAD_CHARS.search(text):
        raise InvalidInput(_("文本包含无法编码的字符（NUL 或孤立的代理字符），请删除后重试。"))
    return text


def clean_text(text: str) -> bool:
    return _BAD_CHARS.search(text) is None


def bounded_int(raw: str | None, default: int, *, low: int, high: int) -> int:
    """A query-string integer clamped into [low, high]; anything unparsable is the default."""
    if raw is None or not raw.strip().lstrip("+-").isdigit() or len(raw) > 24:
        return default
    return max(low, min(high, int(raw)))
