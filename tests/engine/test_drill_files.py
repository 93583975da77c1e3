"""The drill files: every model answer equals engine.reference on every case, the catalogue loads
from any working directory, and a broken file fails the import with a message naming it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from engine.cases import get_cases
from engine.compare import compare
from engine.drills import DRILLS, ENGLISH, DrillDataError
from engine.drills.loader import DATA, load_catalogue

ROOT = Path(__file__).resolve().parents[2]


def _writable(value: object) -> object:
    return np.array(value) if isinstance(value, np.ndarray) else value


@pytest.mark.parametrize("drill_id", list(DRILLS))
def test_the_model_answer_equals_the_reference_on_every_case(drill_id: str) -> None:
    namespace: dict[str, object] = {}
    exec(compile(DRILLS[drill_id].solution_code, f"{drill_id}/solution.py", "exec"), namespace)
    function = namespace[drill_id]
    assert callable(function)
    drill = DRILLS[drill_id]
    for case in get_cases(drill_id):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the model answer is warning-free, like the reference
            got = function(
                *map(_writable, case.args), **{k: _writable(v) for k, v in case.kwargs.items()}
            )
        result = compare(case.expected, got, drill.returns, atol=case.atol)
        assert result.ok, (drill_id, case.name, result)


def test_the_solution_file_is_what_the_learner_sees() -> None:
    for drill_id, drill in DRILLS.items():
        source = (DATA / drill_id / "solution.py").read_text(encoding="utf-8")
        assert drill.solution_code == source.strip() + "\n"
        assert ENGLISH[drill_id].statement_md.startswith(
            (DATA / drill_id / "statement.en.md").read_text(encoding="utf-8").strip()
        )


def test_the_catalogue_loads_from_any_working_directory(tmp_path: Path) -> None:
    """The files are found beside the code, not in the working directory (the rootless pass runs
    a copy of engine/ as `nobody`; scripts/test-rootless.sh)."""
    code = (
        "import engine.drills as d, engine.statements_en as s\n"
        "assert len(d.DRILLS) == 13 and s.statement_md('softmax').startswith('Compute')\n"
    )
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=True)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    copy = tmp_path / "drills"
    shutil.copytree(DATA, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_a_copy_of_the_files_loads_the_same_catalogue(data: Path) -> None:
    drills, english = load_catalogue(data)
    assert {d.id: d for d in drills} == DRILLS
    assert english == ENGLISH


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: (d / "relu" / "statement.md").unlink(), "relu/statement.md: missing"),
        (lambda d: (d / "relu" / "explanation.md").write_text(" \n"), "relu/explanation.md: empty"),
        (
            lambda d: (d / "relu" / "drill.toml").write_text("title = "),
            "relu/drill.toml: not valid",
        ),
        (
            lambda d: _edit(
                d / "relu" / "drill.toml", "difficulty = '入门'", "difficulty = 'easy'"
            ),
            "relu/drill.toml: `difficulty` must be one of",
        ),
        (
            lambda d: _edit(
                d / "relu" / "drill.toml", "signature = 'relu(x)'", "signature = 'rel(x)'"
            ),
            "relu/drill.toml: `signature` names rel, not the folder relu",
        ),
        (
            lambda d: _edit(d / "relu" / "drill.toml", "title = 'ReLU 激活函数'\n", ""),
            "relu/drill.toml: missing title",
        ),
        (
            lambda d: _edit(d / "relu" / "drill.toml", "[en]", "colour = 'red'\n[en]"),
            "relu/drill.toml: unknown colour",
        ),
        (
            lambda d: _edit(d / "relu" / "drill.toml", "hints = [", "hints = [1, "),
            "relu/drill.toml: `hints` must be a list of non-empty strings",
        ),
        (
            lambda d: _edit(d / "relu" / "solution.py", "def relu(", "def relu2("),
            "relu/solution.py: defines no function relu()",
        ),
        (
            lambda d: _edit(d / "relu" / "solution.py", "def relu(x):", "def relu(x)"),
            "relu/solution.py: line 4:",
        ),
        (
            lambda d: shutil.copytree(d / "relu", d / "gelu"),
            "catalogue.toml: `order` does not list gelu",
        ),
        (lambda d: (d / "common_rules.en.md").unlink(), "common_rules.en.md: missing"),
    ],
)
def test_a_broken_file_fails_the_load_naming_it(
    data: Path, damage: Callable[[Path], object], message: str
) -> None:
    damage(data)
    with pytest.raises(DrillDataError) as raised:
        load_catalogue(data)
    assert message in str(raised.value)
    assert str(data) in str(raised.value)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
