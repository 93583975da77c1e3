"""The trusted comparison rules, on plain decoded values (no sandbox involved)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.compare import compare, mutated_arguments, render, render_named

X64 = np.array([[0.5, 1.0], [2.0, -3.0]])
X32 = X64.astype(np.float32)


def test_equal_arrays_pass() -> None:
    result = compare(X64, X64.copy())
    assert result.ok and result.max_abs_error == 0.0 and not result.notes


def test_values_within_float64_tolerance_pass_and_beyond_fail() -> None:
    assert compare(X64, X64 * (1 + 5e-7)).ok
    result = compare(X64, X64 * (1 + 5e-6))
    assert not result.ok
    assert "数值不符" in result.summary and "rtol=1e-06" in result.summary
    # The detail names the first mismatching index and both values; the summary has no data.
    assert "位置 [0, 0]" in result.detail and "期望 0.5" in result.detail
    assert "0.5" not in result.summary
    assert result.max_abs_error == pytest.approx(1.5e-5)


def test_float32_reference_uses_the_looser_tolerance() -> None:
    assert compare(X32, X32 * np.float32(1 + 5e-5)).ok
    assert not compare(X32, X32 * np.float32(1 + 5e-4)).ok


def test_shape_must_match_exactly_without_broadcasting() -> None:
    result = compare(np.ones((3, 1)), np.ones(3))
    assert not result.ok
    assert "(3, 1)" in result.detail and "(3,)" in result.detail
    assert "(3" not in result.summary  # hidden tests do not learn shapes
    assert not compare(np.ones(3), np.ones((1, 3))).ok


@pytest.mark.parametrize(
    ("got", "fragment"),
    [
        (X64.astype(np.float16), "float16"),
        (X64.astype(np.float32), "精度低于"),
        (X64.astype(np.int64), "应为浮点类型"),
        (X64 > 0, "bool"),
    ],
)
def test_less_precise_or_non_float_dtypes_fail(got: np.ndarray, fragment: str) -> None:
    result = compare(X64, got)
    assert not result.ok and fragment in result.summary


def test_more_precise_answer_to_a_float32_case_passes_with_a_note() -> None:
    result = compare(X32, X32.astype(np.float64))
    assert result.ok
    assert len(result.notes) == 1 and "PyTorch" in result.notes[0]


def test_nan_or_inf_where_the_reference_is_finite_fails() -> None:
    got = X64.copy()
    got[1, 0] = np.nan
    result = compare(X64, got)
    assert not result.ok and "NaN" in result.summary and "位置 [1, 0]" in result.detail
    got[1, 0] = np.inf
    assert not compare(X64, got).ok


@pytest.mark.parametrize(
    "loss", [0.25, np.float64(0.25), np.array(0.25), np.array(0.25, dtype=np.float64)]
)
def test_scalar_loss_accepts_float_numpy_scalar_and_0d_array(loss: object) -> None:
    assert compare(np.float64(0.25), loss).ok


@pytest.mark.parametrize("loss", [np.array([0.25]), 1, True, None, (0.25,)])
def test_scalar_loss_rejects_other_forms(loss: object) -> None:
    assert not compare(np.float64(0.25), loss).ok


def test_tuples_compare_element_by_element_with_names() -> None:
    expected = (np.ones((2, 3)), np.zeros(3))
    assert compare(expected, (np.ones((2, 3)), np.zeros(3)), ("dw", "db")).ok
    wrong = compare(expected, (np.ones((2, 3)), np.zeros((2, 3))), ("dw", "db"))
    assert not wrong.ok and wrong.summary.startswith("db ")
    short = compare(expected, (np.ones((2, 3)),), ("dw", "db"))
    assert not short.ok and "2 个元素的元组" in short.summary
    array_instead = compare(expected, np.ones((2, 3)), ("dw", "db"))
    assert not array_instead.ok and "数组" in array_instead.summary


def test_single_array_expected_but_tuple_or_none_returned() -> None:
    assert "元组" in compare(X64, (X64,)).summary
    assert "return" in compare(X64, None).summary


def test_mutation_is_detected_bitwise_and_by_name() -> None:
    x, w = np.ones(3), np.zeros(2)
    changed = x.copy()
    changed[1] = 1 + 1e-16 * 3
    assert mutated_arguments(("x", "w"), (x, w), {}, (changed, w.copy()), {}) == ["x"]
    assert mutated_arguments(("x",), (x,), {"w": w}, (x.copy(),), {"w": w + 1}) == ["w"]
    assert mutated_arguments(("x",), (x,), {}, (x.copy(),), {}) == []
    assert mutated_arguments(("x",), (x,), {}, (), {}) == []  # nothing reported: not checked


def test_render_is_python_like_and_truncated() -> None:
    assert render(np.array([1.0, 2.0])) == "np.array([1., 2.])"
    assert render(np.array([1, 2], dtype=np.int32)) == "np.array([1, 2], dtype=np.int32)"
    assert render(np.float64(0.1)) == "0.1"
    assert render((1.5, None)) == "(1.5, None)"
    assert render(np.zeros(100)).endswith("shape=(100,))")
    long = render(np.arange(50.0), limit=40)
    assert len(long) == 40 and long.endswith("…")
    assert render_named(("a", "b"), (1, 2.0)) == "a = 1\nb = 2"


def test_relative_error_is_only_quoted_where_it_means_something() -> None:
    at_zero = compare(np.array([0.0, 1.0, 0.0]), np.array([0.5, 1.0, -0.5]))
    assert not at_zero.ok and "最大相对误差" not in at_zero.detail
    assert "期望值都是 0" in at_zero.detail
    small = compare(np.array([-1.3416394, 2.0]), np.array([-1.3416348, 2.0]))
    assert "最大相对误差" in small.detail and "容差的" in small.detail
    # Ten significant digits: the difference is visible, not hidden in rounding.
    assert "-1.3416394" in small.detail and "-1.3416348" in small.detail


def test_one_message_per_distinct_problem_in_a_tuple() -> None:
    expected = (np.float64(0.5), np.ones(3), np.ones((2, 2)))
    got = (np.float64(np.nan), np.full(3, np.nan), np.full((2, 2), np.nan))
    result = compare(expected, got, ("loss", "dw", "db"))
    assert result.summary.count("NaN 或 inf") == 1 and result.detail.count("NaN 或 inf") == 1
    assert result.summary.startswith("loss、dw、db ")


def test_render_named_uses_lines_already_rendered() -> None:
    values = (np.array([1.0, 2.0]), 0.5)
    assert render_named(("a", "b"), values, rendered=["a = X", None]) == "a = X\nb = 0.5"
    assert render_named(("a", "b"), values, rendered=[None, None]) == render_named(
        ("a", "b"), values
    )


def test_a_frozen_reference_gives_the_same_verdicts_every_time() -> None:
    # The reference side of the comparison is worked out once per frozen (case) array.
    frozen = np.array([0.0, 1.0])
    frozen.flags.writeable = False
    near = np.array([1e-9, 1.0])
    for _ in range(2):
        assert compare(frozen, near).ok
        assert not compare(frozen, near + 1e-3).ok
        assert not compare(frozen, near, atol=1e-12).ok  # a stricter case: its own tolerance
    writable = X64.copy()  # may change between calls: never cached
    assert compare(writable, X64.copy()).ok
    writable[0, 0] = 7.0
    assert not compare(writable, X64.copy()).ok
