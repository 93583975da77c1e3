"""The drill catalogue as the web side shows it: lookup, statements, hints, solutions."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _

from engine import i18n as engine_i18n
from engine import statements_en
from quiz.rendering import render_markdown

if TYPE_CHECKING:
    from engine.drills import Drill

from quiz.drills import errors


def all_drills() -> list[Drill]:
    from engine.drills import DRILLS

    return list(DRILLS.values())


def find_drill(drill_id: str) -> Drill | None:
    from engine.drills import DRILLS

    return DRILLS.get(drill_id)


def require_drill(drill_id: str) -> Drill:
    drill = find_drill(drill_id)
    if drill is None:
        raise errors.NotFound(_("找不到练习“%(drill_id)s”。", drill_id=drill_id[:64]))
    return drill


def max_source_bytes() -> int:
    from engine.grader import MAX_SOURCE_BYTES

    return int(MAX_SOURCE_BYTES)


@cache
def statement_html(drill_id: str, locale: str = "zh") -> str:
    """The statement rendered once per process and language (drills change with a deploy)."""
    drill = require_drill(drill_id)
    english = statements_en.statement_md(drill_id) if locale == "en" else None
    return render_markdown(english or drill.statement_md)


def display_title(drill: Drill, locale: str) -> str:
    return statements_en.title(drill.id, drill.title) if locale == "en" else drill.title


def display_difficulty(drill: Drill, locale: str) -> str:
    if locale == "en":
        return statements_en.DIFFICULTY.get(drill.difficulty, drill.difficulty)
    return drill.difficulty


@cache
def hints_html(drill_id: str, locale: str = "zh") -> tuple[str, ...]:
    hints = engine_i18n.drill_hints(require_drill(drill_id), locale)
    return tuple(render_markdown(str(h)) for h in hints)


@cache
def solution_html(drill_id: str) -> dict[str, str]:
    """Explanation and highlighted reference solution, for solvers and revealers only."""
    drill = require_drill(drill_id)
    return {
        "explanation_html": render_markdown(drill.explanation_md),
        "solution_html": render_markdown(f"```python\n{drill.solution_code.rstrip()}\n```"),
        "solution_code": drill.solution_code,
    }


def examples_json(drill: Drill) -> list[Any]:
    """The visible examples as plain JSON values (whatever shape the catalogue gives them)."""
    return [_plain(e) for e in drill.examples]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in value.__dataclass_fields__}
    return str(value)
