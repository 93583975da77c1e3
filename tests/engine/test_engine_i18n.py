"""The grader's feedback in English: every template, case name and catalogued mistake has its
English, and an English grading shows no Chinese while the default stays Chinese."""

from __future__ import annotations

import ast
import re
import string
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.cases import get_cases
from engine.drills import DRILLS
from engine.grader import GradeResult
from engine.i18n import drill_hints, starter_code
from engine.mistakes import CATALOGUE
from engine.sandbox.outcome import MESSAGES as OUTCOME_MESSAGES
from engine.texts_en import CASE_NAMES, MESSAGES, MISTAKES, SANDBOX

ROOT = Path(__file__).resolve().parents[2]
# Han characters and the full-width punctuation Chinese text uses.
CHINESE = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff01-\uff5e]")
TEXT_MODULES = (
    "grader.py",
    "feedback.py",
    "compare.py",
    "generic.py",
    "diagnosis.py",
    "__main__.py",
)


def _msgids() -> list[str]:
    """Every literal passed to t() or N_() in the engine's text-bearing modules."""
    found: list[str] = []
    for name in TEXT_MODULES:
        tree = ast.parse((ROOT / "engine" / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("t", "N_")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.append(node.args[0].value)
    return list(dict.fromkeys(found))


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def test_the_text_modules_have_many_templates() -> None:
    assert len(_msgids()) > 100  # the scan finds the wrapped texts (an empty scan proves nothing)


@pytest.mark.parametrize("msgid", _msgids())
def test_every_message_template_has_english(msgid: str) -> None:
    assert msgid in MESSAGES, f"no English for {msgid!r} (engine/texts_en.py)"
    english = MESSAGES[msgid]
    assert not CHINESE.search(english), english
    assert _fields(english) == _fields(msgid), "placeholders must match"


def _case_names() -> list[str]:
    return list(dict.fromkeys(c.name for d in DRILLS for c in get_cases(d)))


@pytest.mark.parametrize("name", _case_names())
def test_every_test_and_example_name_has_english(name: str) -> None:
    assert name in CASE_NAMES, f"no English name for test {name!r} (engine/texts_en_cases.py)"
    assert CASE_NAMES[name].strip() and not CHINESE.search(CASE_NAMES[name])


@pytest.mark.parametrize("mistake_id", [m.id for ms in CATALOGUE.values() for m in ms])
def test_every_catalogued_mistake_has_english(mistake_id: str) -> None:
    assert mistake_id in MISTAKES, f"no English for {mistake_id} (engine/texts_en_mistakes.py)"
    title, detail = MISTAKES[mistake_id]
    assert title and len(detail) > 40
    assert not CHINESE.search(title + detail), mistake_id


@pytest.mark.parametrize("status", sorted(OUTCOME_MESSAGES))
def test_every_sandbox_message_has_english(status: str) -> None:
    assert OUTCOME_MESSAGES[status] in SANDBOX, f"no English for the sandbox's {status} message"


def test_no_english_entry_is_stale() -> None:
    """Entries whose Chinese was reworded would never be used: they must go with it."""
    ids = {m.id for ms in CATALOGUE.values() for m in ms}
    assert set(MISTAKES) <= ids
    assert set(CASE_NAMES) <= set(_case_names())
    assert set(MESSAGES) <= set(_msgids())


NAIVE_SOFTMAX = """
    import numpy as np
    def softmax(x, axis=-1):
        e = np.exp(x)
        return e / e.sum(axis=axis, keepdims=True)
"""

# Wrong answers that reach each kind of feedback: values, NaN, shape, dtype, None, in-place
# changes, exceptions, load and syntax errors, a missing function, catalogued and generic
# diagnoses.
WRONG = [
    ("softmax", NAIVE_SOFTMAX),
    ("softmax", "import numpy as np\ndef softmax(x, axis=-1):\n    return x.T\n"),
    ("softmax", "import numpy as np\ndef softmax(x, axis=-1):\n    return (x > 0)\n"),
    ("softmax", "def softmax(x, axis=-1):\n    pass\n"),
    ("softmax", "def softmax(x, axis=-1):\n    raise ValueError('no')\n"),
    ("softmax", "def softmax(x):\n    return x\n"),
    ("softmax", "def softmax(x, axis=-1:\n"),
    ("softmax", "raise RuntimeError('top level')\n"),
    ("softmax", "def soft(x, axis=-1):\n    return x\n"),
    ("softmax", "import sys\ndef softmax(x, axis=-1):\n    sys.exit(3)\n"),
    ("softmax", "def softmax(x, axis=-1):\n    print('hi')\n    return object()\n"),
    ("relu", "import numpy as np\ndef relu(x):\n    x[x < 0] = 0\n    return x\n"),
    ("relu", "import numpy as np\ndef relu(x):\n    return np.maximum(x, 0).astype(np.float32)\n"),
    ("relu", "import numpy as np\ndef relu(x):\n    return 2 * np.maximum(x, 0)\n"),
    ("relu", "import numpy as np\ndef relu(x):\n    return -np.maximum(x, 0)\n"),
    (
        "linear_backward",
        "import numpy as np\ndef linear_backward(dout, x, w):\n"
        "    return dout @ w.T, x.T @ dout, dout.mean(axis=0)\n",
    ),
    (
        "linear_backward",
        "import numpy as np\ndef linear_backward(dout, x, w):\n    return dout @ w.T, x.T @ dout\n",
    ),
]


def _texts(result: GradeResult) -> list[str]:
    data = result.to_dict()
    texts = [data["message"], data["stdout"]]
    for test in data["tests"]:
        texts += [test["name"], test["message"]]
    if data["diagnosis"]:
        texts += [data["diagnosis"]["title"], data["diagnosis"]["detail"]]
    return texts


@pytest.mark.parametrize(("drill", "source"), WRONG)
def test_english_feedback_has_no_chinese(
    run: Callable[..., GradeResult], drill: str, source: str
) -> None:
    english = run(drill, source, lang="en")
    assert english.verdict != "accepted"
    chinese_left = [text for text in _texts(english) if CHINESE.search(text)]
    assert not chinese_left
    default = run(drill, source)  # the same verdict, in Chinese
    assert default.verdict == english.verdict and CHINESE.search(default.message)


def test_english_softmax_feedback_reads_well(run: Callable[..., GradeResult]) -> None:
    result = run("softmax", NAIVE_SOFTMAX, lang="en")
    assert result.message.startswith("Wrong answer: ")
    assert "numerical stability on large inputs" in result.message
    assert result.diagnosis is not None and result.diagnosis["id"] == "softmax.no_shift"
    assert result.diagnosis["title"] == MISTAKES["softmax.no_shift"][0]
    failed = next(t for t in result.tests if t.status == "failed")
    assert "NaN or inf" in failed.message


def test_the_language_does_not_leak_into_the_next_grading(run: Callable[..., GradeResult]) -> None:
    run("softmax", NAIVE_SOFTMAX, lang="en")
    after = run("softmax", NAIVE_SOFTMAX)
    assert after.message.startswith("答案错误") and after.tests[0].name == "一维向量"


def test_cli_reports_in_english_with_lang_en(tmp_path: Path) -> None:
    answer = tmp_path / "bad.py"
    answer.write_text(NAIVE_SOFTMAX.replace("\n    ", "\n"), encoding="utf-8")

    def report(*extra: str) -> Any:
        return subprocess.run(
            [sys.executable, "-m", "engine", "grade", "softmax", str(answer), *extra],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )

    english, chinese = report("--lang", "en"), report()
    assert english.returncode == chinese.returncode == 1
    assert "Wrong answer" in english.stdout and "Diagnosis:" in english.stdout
    assert not CHINESE.search(english.stdout)
    assert "答案错误" in chinese.stdout and "诊断" in chinese.stdout


@pytest.mark.parametrize("drill_id", list(DRILLS))
def test_every_drill_has_english_hints_and_starter_docstring(drill_id: str) -> None:
    drill = DRILLS[drill_id]
    hints = drill_hints(drill, "en")
    assert len(hints) == len(drill.hints) and not CHINESE.search("".join(hints))
    english = starter_code(drill, "en")
    assert not CHINESE.search(english)
    # Only the docstring differs: the same signature and body, still valid Python.
    zh_parts, en_parts = drill.starter_code.split('"""'), english.split('"""')
    assert zh_parts[0] == en_parts[0] and zh_parts[2] == en_parts[2]
    compile(english, drill_id, "exec")
    assert starter_code(drill) == drill.starter_code and drill_hints(drill) == drill.hints
