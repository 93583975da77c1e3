"""The drill catalogue: order, links to the notes, starter code, examples and cases."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.cases import get_cases
from engine.drills import DRILLS, Drill, get_drill

ROOT = Path(__file__).resolve().parents[2]
NOTES = ROOT / "content" / "01-neural-networks.md"

CATALOGUE_ORDER = [
    "sigmoid",
    "relu",
    "leaky_relu",
    "softmax",
    "sigmoid_backward",
    "relu_backward",
    "linear_backward",
    "softmax_cross_entropy",
    "mlp_backward",
    "batchnorm_forward",
    "batchnorm_backward",
    "layernorm_forward",
    "layernorm_backward",
]
ALL = [pytest.param(d, id=d.id) for d in DRILLS.values()]


def notes_sections() -> dict[str, list[str]]:
    """`###` topic -> its `####` section titles (number and bold removed), from the notes."""
    sections: dict[str, list[str]] = {}
    topic = None
    for line in NOTES.read_text(encoding="utf-8").splitlines():
        if m := re.match(r"^### (.+?)\s*$", line):
            topic = m.group(1)
            sections[topic] = []
        elif (m := re.match(r"^#### \*\*\d+\.\s*(.+?)\*\*\s*$", line)) and topic:
            sections[topic].append(m.group(1))
    return sections


def test_catalogue_order_and_lookup() -> None:
    assert list(DRILLS) == CATALOGUE_ORDER
    assert get_drill("softmax") is DRILLS["softmax"]
    with pytest.raises(KeyError):
        get_drill("nope")


@pytest.mark.parametrize("drill", ALL)
def test_drill_links_to_a_section_of_the_notes(drill: Drill) -> None:
    assert drill.section in notes_sections()[drill.topic]


@pytest.mark.parametrize("drill", ALL)
def test_drill_texts_are_complete(drill: Drill) -> None:
    assert drill.title and drill.statement_md and drill.explanation_md
    assert "$" in drill.statement_md  # every statement has its formula
    assert drill.difficulty in ("入门", "中等", "进阶")
    assert isinstance(drill.hints, tuple) and len(drill.hints) >= 2
    assert all(isinstance(h, str) and h for h in drill.hints)


@pytest.mark.parametrize("drill", ALL)
def test_paragraphs_are_not_soft_wrapped_between_chinese_characters(drill: Drill) -> None:
    # A soft line break renders as a space, which shows between two Chinese characters.
    for text in (drill.statement_md, drill.explanation_md):
        lines = text.splitlines()
        in_fence = False
        for prev, line in zip(lines, lines[1:], strict=False):
            in_fence ^= prev.startswith("```")
            if in_fence or not prev.strip() or not line.strip():
                continue
            assert not (not prev[-1].isascii() and not line.lstrip()[0].isascii()), (prev, line)


@pytest.mark.parametrize("drill", ALL)
def test_starter_and_solution_define_the_exact_signature(drill: Drill) -> None:
    for source in (drill.starter_code, drill.solution_code):
        tree = ast.parse(source)
        assert any(isinstance(n, ast.Import) and n.names[0].name == "numpy" for n in tree.body)
        (func,) = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
        assert func.name == drill.id
        assert tuple(a.arg for a in func.args.args) == drill.params
        assert ast.get_docstring(func)
    assert "raise NotImplementedError" in drill.starter_code


@pytest.mark.parametrize("drill", ALL)
def test_examples_and_hidden_cases(drill: Drill) -> None:
    cases = get_cases(drill.id)
    visible = [c for c in cases if not c.hidden]
    hidden = [c for c in cases if c.hidden]
    assert 2 <= len(visible) <= 3 and len(hidden) >= 8
    assert cases[: len(visible)] == tuple(visible)  # run mode is a prefix of submit
    assert len({c.name for c in cases}) == len(cases)
    assert [e.name for e in drill.examples] == [c.name for c in visible]
    for example in drill.examples:
        assert example.call.startswith(f"{drill.id}(")
        assert example.input.startswith(f"{drill.params[0]} = np.array(")
        assert example.expected
    for case in cases:
        for value in (*case.args, *case.kwargs.values()):
            if isinstance(value, np.ndarray):
                assert value.size <= 10_000, case.name
                assert not value.flags.writeable  # cached cases are frozen


def test_every_drill_has_a_float32_case() -> None:
    for drill_id in DRILLS:
        assert "float32 输入" in {c.name for c in get_cases(drill_id)}, drill_id


def test_engine_imports_neither_flask_nor_sqlalchemy() -> None:
    code = (
        "import sys, engine.drills, engine.grader, engine.compare, engine.__main__\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy')]\n"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
