"""Reads the drill files under engine/drills/ and builds the catalogue, failing loudly.

One folder per drill, named by its id (the function the learner writes):

- `drill.toml`: title, topic, section, difficulty, signature, optional `returns`, the starter
  docstring `doc` and the `hints`; an `[en]` table with the English title, doc and hints;
- `statement.md` / `statement.en.md`: what the learner reads before solving (the common rules in
  `common_rules.md` / `common_rules.en.md` are appended);
- `explanation.md`: shown after solving;
- `solution.py`: the model answer (tests prove it equal to `engine.reference` on every case).

`catalogue.toml` fixes the order. Anything missing, unknown or malformed raises `DrillDataError`
naming the file, at import, so a broken edit cannot reach a learner.
"""

from __future__ import annotations

import ast
import functools
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.cases import Case, get_cases
from engine.compare import render, render_named
from engine.drills.model import DIFFICULTIES, TOPICS, Drill, English, Example
from engine.drills.text import indent_doc, starter, unwrap

DATA = Path(__file__).resolve().parent

_REQUIRED = {"title", "topic", "section", "difficulty", "signature", "doc", "hints", "en"}
_OPTIONAL = {"returns"}
_EN_KEYS = {"title", "doc", "hints"}


class DrillDataError(ValueError):
    """A drill file is missing or malformed; the message names the file and what is wrong."""


def _read(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DrillDataError(f"{path}: missing") from None
    if not text.strip():
        raise DrillDataError(f"{path}: empty")
    return text


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(_read(path))
    except tomllib.TOMLDecodeError as exc:
        raise DrillDataError(f"{path}: not valid TOML ({exc})") from None


def _text(path: Path, table: Mapping[str, Any], key: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise DrillDataError(f"{path}: `{key}` must be a non-empty string")
    return value


def _texts(
    path: Path, table: Mapping[str, Any], key: str, *, empty: bool = False
) -> tuple[str, ...]:
    value = table.get(key, [])
    ok = isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)
    if not ok or (not value and not empty):
        raise DrillDataError(f"{path}: `{key}` must be a list of non-empty strings")
    return tuple(value)


def _keys(path: Path, table: Mapping[str, Any], required: set[str], optional: set[str]) -> None:
    if missing := required - table.keys():
        raise DrillDataError(f"{path}: missing {', '.join(sorted(missing))}")
    if unknown := table.keys() - required - optional:
        raise DrillDataError(f"{path}: unknown {', '.join(sorted(unknown))}")


def _params(path: Path, drill_id: str, signature: str) -> tuple[str, ...]:
    try:
        node = ast.parse(f"def {signature}: pass").body[0]
    except SyntaxError:
        raise DrillDataError(f"{path}: `signature` is not a Python signature") from None
    assert isinstance(node, ast.FunctionDef)
    if node.name != drill_id:
        raise DrillDataError(f"{path}: `signature` names {node.name}, not the folder {drill_id}")
    return tuple(arg.arg for arg in node.args.args)


def _check_solution(path: Path, drill_id: str, source: str) -> None:
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise DrillDataError(f"{path}: line {exc.lineno}: {exc.msg}") from None
    if not any(isinstance(n, ast.FunctionDef) and n.name == drill_id for n in tree.body):
        raise DrillDataError(f"{path}: defines no function {drill_id}()")


def _call_text(drill_id: str, params: tuple[str, ...], case: Case) -> str:
    parts = list(params[: len(case.args)])
    parts += [f"{k}={render(v)}" for k, v in case.kwargs.items()]
    return f"{drill_id}({', '.join(parts)})"


def _examples(
    drill_id: str, params: tuple[str, ...], returns: tuple[str, ...]
) -> tuple[Example, ...]:
    examples = []
    for case in get_cases(drill_id):
        if case.hidden:
            continue
        # Keyword arguments are shown in the call itself; the input lists only the arrays.
        inputs = render_named(params, case.args, limit=1200)
        if returns:
            expected = render_named(returns, case.expected, limit=1200)
        else:
            expected = render(case.expected, limit=1200)
        examples.append(Example(case.name, _call_text(drill_id, params, case), inputs, expected))
    return tuple(examples)


def _statement(folder: Path, name: str, rules: str) -> str:
    return _read(folder / name).strip() + "\n\n" + rules


def load_drill(folder: Path, rules_zh: str, rules_en: str) -> tuple[Drill, English]:
    """One drill and its English texts from `folder` (named by the drill's id)."""
    drill_id = folder.name
    meta_path = folder / "drill.toml"
    meta = _toml(meta_path)
    _keys(meta_path, meta, _REQUIRED, _OPTIONAL)
    en = meta["en"]
    if not isinstance(en, dict):
        raise DrillDataError(f"{meta_path}: `en` must be a table")
    _keys(meta_path, en, _EN_KEYS, set())
    topic, section = _text(meta_path, meta, "topic"), _text(meta_path, meta, "section")
    if section not in TOPICS.get(topic, ()):
        raise DrillDataError(f"{meta_path}: unknown topic/section {topic} › {section}")
    difficulty = _text(meta_path, meta, "difficulty")
    if difficulty not in DIFFICULTIES:
        raise DrillDataError(f"{meta_path}: `difficulty` must be one of {', '.join(DIFFICULTIES)}")
    signature = _text(meta_path, meta, "signature")
    params = _params(meta_path, drill_id, signature)
    returns = _texts(meta_path, meta, "returns", empty=True)
    solution = _read(folder / "solution.py")
    _check_solution(folder / "solution.py", drill_id, solution)
    drill = Drill(
        id=drill_id,
        title=_text(meta_path, meta, "title"),
        topic=topic,
        section=section,
        difficulty=difficulty,
        signature=signature,
        params=params,
        returns=returns,
        statement_md=unwrap(_statement(folder, "statement.md", rules_zh).strip()),
        starter_code=starter(signature, indent_doc(_text(meta_path, meta, "doc"))),
        hints=_texts(meta_path, meta, "hints"),
        explanation_md=unwrap(_read(folder / "explanation.md").strip()),
        solution_code=solution.strip() + "\n",
        render_examples=functools.partial(_examples, drill_id, params, returns),
    )
    english = English(
        title=_text(meta_path, en, "title"),
        statement_md=_statement(folder, "statement.en.md", rules_en),
        starter_code=starter(signature, indent_doc(_text(meta_path, en, "doc"))),
        hints=_texts(meta_path, en, "hints"),
    )
    return drill, english


def load_catalogue(root: Path = DATA) -> tuple[list[Drill], dict[str, English]]:
    """Every drill in catalogue order, and the English texts by drill id."""
    index_path = root / "catalogue.toml"
    index = _toml(index_path)
    order = _texts(index_path, index, "order")
    if len(set(order)) != len(order):
        raise DrillDataError(f"{index_path}: `order` lists a drill twice")
    folders = {p.name for p in root.iterdir() if p.is_dir() and (p / "drill.toml").exists()}
    if unlisted := folders - set(order):
        raise DrillDataError(f"{index_path}: `order` does not list {', '.join(sorted(unlisted))}")
    rules_zh = _read(root / "common_rules.md").strip() + "\n"
    rules_en = _read(root / "common_rules.en.md").strip() + "\n"
    drills, english = [], {}
    for drill_id in order:
        drill, english[drill_id] = load_drill(root / drill_id, rules_zh, rules_en)
        drills.append(drill)
    return drills, english
