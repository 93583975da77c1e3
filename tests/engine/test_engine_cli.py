"""`python -m engine`: list, grade (exit codes 0/1/2, JSON shape), doctor."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.drills import DRILLS

ROOT = Path(__file__).resolve().parents[2]


def engine(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def answers(tmp_path: Path) -> dict[str, Path]:
    files = {
        "good": DRILLS["softmax"].solution_code,
        "bad": "import numpy as np\ndef softmax(x, axis=-1):\n    e = np.exp(x)\n"
        "    return e / e.sum(axis=axis, keepdims=True)\n",
    }
    paths = {}
    for name, source in files.items():
        paths[name] = tmp_path / f"{name}.py"
        paths[name].write_text(source, encoding="utf-8")
    return paths


def test_list_prints_the_drill_ids_in_order() -> None:
    result = engine("list")
    assert result.returncode == 0
    assert result.stdout.split() == list(DRILLS)


def test_grade_json_accepted_exits_0(answers: dict[str, Path]) -> None:
    result = engine("grade", "softmax", str(answers["good"]), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {
        "drill",
        "verdict",
        "passed",
        "total",
        "time_ms",
        "tests",
        "stdout",
        "sandboxed",
    } <= set(data)
    assert data["verdict"] == "accepted" and data["passed"] == data["total"] == 17
    assert data["diagnosis"] is None
    for test in data["tests"]:
        assert {"name", "status", "hidden", "message"} <= set(test)


def test_grade_wrong_answer_exits_1_with_a_readable_report(answers: dict[str, Path]) -> None:
    result = engine("grade", "softmax", str(answers["bad"]))
    assert result.returncode == 1
    assert "wrong_answer" in result.stdout and "大输入数值稳定性" in result.stdout
    assert "诊断：没有先减去最大值" in result.stdout


def test_grade_json_names_the_mistake(answers: dict[str, Path]) -> None:
    result = engine("grade", "softmax", str(answers["bad"]), "--json")
    data = json.loads(result.stdout)
    assert result.returncode == 1
    assert set(data["diagnosis"]) == {"id", "title", "detail", "section"}
    assert data["diagnosis"]["id"] == "softmax.no_shift"


def test_grade_run_mode_uses_only_visible_examples(answers: dict[str, Path]) -> None:
    result = engine("grade", "softmax", str(answers["bad"]), "--json", "--mode", "run")
    data = json.loads(result.stdout)
    assert result.returncode == 0 and data["total"] == 3


@pytest.mark.parametrize(
    "args",
    [
        ("grade", "no_such_drill", "answer.py"),
        ("grade", "softmax", "/nonexistent/answer.py"),
        ("grade", "softmax"),
        ("frobnicate",),
    ],
)
def test_bad_usage_exits_2(args: tuple[str, ...]) -> None:
    result = engine(*args)
    assert result.returncode == 2
    assert result.stderr


def test_oversized_source_exits_2(tmp_path: Path) -> None:
    big = tmp_path / "big.py"
    big.write_text("#" * 70_000, encoding="utf-8")
    assert engine("grade", "relu", str(big)).returncode == 2


def test_doctor_reports_the_sandbox_layers() -> None:
    result = engine("doctor", "--json")
    report = json.loads(result.stdout)
    assert "layers" in report
    assert result.returncode == (0 if report.get("ready") else 1)
