"""Diagnosis of wrong answers: every catalogued mistake names itself through the real sandbox,
right answers are never diagnosed, and a held-out set of wrong answers is mostly explained."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.drills import DRILLS
from engine.grader import GradeResult
from engine.mistakes import CATALOGUE, notes_anchor
from quiz.notes import parse_file
from tests.engine.correct_answers import CORRECT
from tests.engine.heldout_answers import HELDOUT
from tests.engine.mistake_sources import SOURCES

Run = Callable[..., GradeResult]
ENTRIES = [m for entries in CATALOGUE.values() for m in entries]


def test_every_drill_has_four_to_ten_catalogued_mistakes() -> None:
    assert set(CATALOGUE) == set(DRILLS)
    for drill_id, entries in CATALOGUE.items():
        assert 4 <= len(entries) <= 10, drill_id
        assert len({m.id for m in entries}) == len(entries)
        for m in entries:
            assert m.id.startswith(f"{drill_id}.") and m.title and len(m.explanation) > 20


def test_every_anchor_is_a_section_of_the_notes() -> None:
    document = parse_file("content/01-neural-networks.md")
    slugs = {s.slug for topic in document.topics for s in topic.sections}
    assert {m.anchor() for m in ENTRIES} <= slugs
    drill = DRILLS["softmax"]
    assert notes_anchor(drill.topic, drill.section) in slugs


def test_explanations_teach_without_giving_the_code() -> None:
    for m in ENTRIES:
        assert "def " not in m.explanation and "return " not in m.explanation, m.id
        assert "np.maximum" not in m.explanation and "np.where" not in m.explanation, m.id


@pytest.mark.parametrize("mistake_id", [m.id for m in ENTRIES])
def test_each_catalogued_mistake_written_by_a_learner_is_diagnosed_as_itself(
    run: Run, mistake_id: str
) -> None:
    drill_id = mistake_id.split(".")[0]
    result = run(drill_id, SOURCES[mistake_id])
    assert result.verdict == "wrong_answer", result.message
    assert result.diagnosis is not None, [(t.name, t.message) for t in result.tests]
    assert result.diagnosis["id"] == mistake_id
    entry = next(m for m in ENTRIES if m.id == mistake_id)
    assert result.diagnosis == {
        "id": mistake_id,
        "title": entry.title,
        "detail": entry.explanation,
        "section": entry.anchor(),
    }


@pytest.mark.parametrize("drill_id", list(DRILLS))
def test_reference_solutions_get_no_diagnosis(run: Run, drill_id: str) -> None:
    result = run(drill_id, DRILLS[drill_id].solution_code)
    assert result.verdict == "accepted" and result.diagnosis is None
    assert result.to_dict()["diagnosis"] is None


@pytest.mark.parametrize(
    ("drill_id", "source"), [pytest.param(d, s, id=f"{d}-{label}") for d, label, s in CORRECT]
)
def test_alternative_right_answers_get_no_diagnosis(run: Run, drill_id: str, source: str) -> None:
    result = run(drill_id, source)
    assert result.verdict == "accepted" and result.diagnosis is None


def test_heldout_wrong_answers_are_mostly_diagnosed_and_never_wrongly(run: Run) -> None:
    hits, wrong = 0, []
    for drill_id, expected, source in HELDOUT:
        result = run(drill_id, source)
        assert result.verdict == "wrong_answer", (drill_id, expected, result.message)
        got = result.diagnosis["id"] if result.diagnosis else None
        hits += got == expected
        if got is not None and got != expected:
            wrong.append((drill_id, expected, got))
    assert not wrong
    assert hits >= 0.8 * len(HELDOUT), f"{hits}/{len(HELDOUT)}"


def test_a_diagnosis_from_hidden_tests_names_the_mistake_and_no_numbers(run: Run) -> None:
    # Only the wide-slice hidden cases fail: the diagnosis may not quote any of their values.
    source = SOURCES["softmax.shift_mean"]
    result = run("softmax", source)
    assert all(t.hidden for t in result.tests if t.status != "passed")
    assert result.diagnosis is not None and result.diagnosis["id"] == "softmax.shift_mean"
    median = run(
        "softmax",
        "import numpy as np\ndef softmax(x, axis=-1):\n"
        "    e = np.exp(x - np.median(x, axis=axis, keepdims=True))\n"
        "    return e / e.sum(axis=axis, keepdims=True)\n",
    )
    assert median.diagnosis is not None and median.diagnosis["id"] == "generic.wide_slices"
    assert not any(ch.isdigit() for ch in median.diagnosis["title"])


def test_a_visible_constant_factor_is_quoted_but_a_hidden_one_is_not(run: Run) -> None:
    double = run("relu", "import numpy as np\ndef relu(x):\n    return 3 * np.maximum(x, 0)\n")
    assert double.diagnosis is not None and double.diagnosis["id"] == "generic.constant_factor"
    assert "3 倍" in double.diagnosis["title"]
    hidden_only = run(
        "relu",
        "import numpy as np\ndef relu(x):\n"
        "    return np.maximum(x, 0) * (3 if x.size > 20 else 1)\n",
    )
    assert hidden_only.diagnosis is not None
    assert hidden_only.diagnosis["id"] == "generic.constant_factor"
    assert "倍（" not in hidden_only.diagnosis["title"]


def test_runtime_errors_and_accepted_answers_are_never_diagnosed(run: Run) -> None:
    error = run("relu", "def relu(x):\n    raise ValueError('no')\n")
    assert error.verdict == "runtime_error" and error.diagnosis is None


def test_run_mode_diagnoses_from_the_visible_examples(run: Run) -> None:
    result = run("relu_backward", SOURCES["relu_backward.no_mask"], mode="run")
    assert result.verdict == "wrong_answer"
    assert result.diagnosis is not None and result.diagnosis["id"] == "relu_backward.no_mask"


def test_the_comparison_message_is_one_per_distinct_problem(run: Run) -> None:
    nan = "import numpy as np\ndef mlp_backward(x, labels, w1, b1, w2, b2):\n" + (
        "    f = np.full\n    return np.nan, f(w1.shape, np.nan), f(b1.shape, np.nan), "
        "f(w2.shape, np.nan), f(b2.shape, np.nan)\n"
    )
    result = run("mlp_backward", nan)
    first = result.tests[0]
    assert first.message.count("NaN 或 inf") == 1
    assert "loss、dw1、db1、dw2、db2" in first.message


def test_a_hard_coded_axis_is_named_as_the_wrong_axis(run: Run) -> None:
    source = (
        "import numpy as np\ndef softmax(x, axis=-1):\n"
        "    e = np.exp(x - x.max(axis=0, keepdims=True))\n"
        "    return e / e.sum(axis=0, keepdims=True)\n"
    )
    result = run("softmax", source)
    assert result.diagnosis is not None and result.diagnosis["id"] == "generic.wrong_axis"


def test_run_mode_never_names_the_wrong_mistake(run: Run) -> None:
    # Only two or three visible examples: fewer chances to tell mistakes apart, same rule.
    for mistake_id, source in SOURCES.items():
        result = run(mistake_id.split(".")[0], source, mode="run")
        if result.diagnosis is not None:
            assert result.diagnosis["id"] == mistake_id, (mistake_id, result.diagnosis["id"])
