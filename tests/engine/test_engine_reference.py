"""The reference implementations: gradients against central finite differences, forward
properties, dtype preservation, and no NumPy warning or floating-point error on any case."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from engine import reference as ref
from engine.cases import CASE_BUILDERS, get_cases

H = 1e-5
MAX_REL_ERROR = 1e-7


def numeric_grad(f: Callable[[], float], x: np.ndarray) -> np.ndarray:
    """Central differences of the scalar f() with respect to every element of x (in place)."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + H
        plus = f()
        x[i] = old - H
        minus = f()
        x[i] = old
        grad[i] = (plus - minus) / (2 * H)
    return grad


def rel_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """Norm-wise relative error: robust where single entries are ~0."""
    scale = max(np.linalg.norm(analytic), np.linalg.norm(numeric), 1e-12)
    return float(np.linalg.norm(analytic - numeric) / scale)


def assert_grad(analytic: np.ndarray, f: Callable[[], float], x: np.ndarray) -> None:
    assert analytic.shape == x.shape
    err = rel_error(analytic, numeric_grad(f, x))
    assert err < MAX_REL_ERROR, err


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240601)


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Normal samples pushed at least 0.1 away from the ReLU kink."""
    x = rng.normal(size=shape)
    return x + 0.1 * np.sign(x)


def test_sigmoid_backward_matches_finite_differences(rng: np.random.Generator) -> None:
    x, dout = rng.normal(0, 3, size=(4, 5)), rng.normal(size=(4, 5))
    assert_grad(ref.sigmoid_backward(dout, x), lambda: np.sum(dout * ref.sigmoid(x)), x)


def test_relu_backward_matches_finite_differences(rng: np.random.Generator) -> None:
    x, dout = away_from_zero(rng, (3, 6)), rng.normal(size=(3, 6))
    assert_grad(ref.relu_backward(dout, x), lambda: np.sum(dout * ref.relu(x)), x)


def test_relu_backward_is_zero_at_the_kink() -> None:
    dx = ref.relu_backward(np.array([5.0, 5.0, 5.0]), np.array([-0.0, 0.0, 1e-300]))
    assert dx.tolist() == [0.0, 0.0, 5.0]


def test_linear_backward_matches_finite_differences(rng: np.random.Generator) -> None:
    x, w, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 5)), rng.normal(size=5)
    dout = rng.normal(size=(4, 5))
    dx, dw, db = ref.linear_backward(dout, x, w, b)

    def loss() -> float:
        return np.sum(dout * ref.linear_forward(x, w, b))

    assert_grad(dx, loss, x)
    assert_grad(dw, loss, w)
    assert_grad(db, loss, b)


def test_softmax_cross_entropy_matches_finite_differences(rng: np.random.Generator) -> None:
    logits, labels = rng.normal(0, 2, size=(5, 4)), rng.integers(0, 4, size=5)
    loss, dlogits = ref.softmax_cross_entropy(logits, labels)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(probs[np.arange(5), labels])), rel=1e-12)
    assert_grad(dlogits, lambda: ref.softmax_cross_entropy(logits, labels)[0], logits)


def test_mlp_backward_matches_finite_differences(rng: np.random.Generator) -> None:
    x, labels = rng.normal(size=(6, 4)), rng.integers(0, 3, size=6)
    w1, b1 = rng.normal(size=(4, 5)), rng.normal(0, 0.1, size=5)
    w2, b2 = rng.normal(size=(5, 3)), rng.normal(0, 0.1, size=3)
    assert np.abs(x @ w1 + b1).min() > 1e-3  # no pre-activation near the kink
    loss, dw1, db1, dw2, db2 = ref.mlp_backward(x, labels, w1, b1, w2, b2)

    def f() -> float:
        return ref.mlp_loss(x, labels, w1, b1, w2, b2)

    assert loss == pytest.approx(f(), rel=1e-12)
    for analytic, param in ((dw1, w1), (db1, b1), (dw2, w2), (db2, b2)):
        assert_grad(analytic, f, param)


@pytest.mark.parametrize("eps", [1e-5, 1e-2])
def test_batchnorm_backward_matches_finite_differences(
    rng: np.random.Generator, eps: float
) -> None:
    x, dout = rng.normal(1.0, 2.0, size=(6, 4)), rng.normal(size=(6, 4))
    gamma, beta = rng.uniform(0.5, 1.5, size=4), rng.normal(size=4)
    dx, dgamma, dbeta = ref.batchnorm_backward(dout, x, gamma, eps)

    def loss() -> float:
        return np.sum(dout * ref.batchnorm_train(x, gamma, beta, eps))

    assert_grad(dx, loss, x)
    assert_grad(dgamma, loss, gamma)
    assert_grad(dbeta, loss, beta)


@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (2, 2, 2, 3)])
def test_layernorm_backward_matches_finite_differences(
    rng: np.random.Generator, shape: tuple[int, ...]
) -> None:
    x, dout = rng.normal(0.5, 2.0, size=shape), rng.normal(size=shape)
    gamma, beta = rng.uniform(0.5, 1.5, size=shape[-1]), rng.normal(size=shape[-1])
    dx, dgamma, dbeta = ref.layernorm_backward(dout, x, gamma)

    def loss() -> float:
        return np.sum(dout * ref.layernorm_forward(x, gamma, beta))

    assert_grad(dx, loss, x)
    assert_grad(dgamma, loss, gamma)
    assert_grad(dbeta, loss, beta)


def test_batchnorm_forward_training_statistics(rng: np.random.Generator) -> None:
    x = rng.normal(3.0, 2.0, size=(8, 3))
    gamma, beta = np.ones(3), np.zeros(3)
    rm, rv = np.zeros(3), np.ones(3)
    out, new_mean, new_var = ref.batchnorm_forward(x, gamma, beta, rm, rv, momentum=0.25)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), 1, rtol=1e-5)  # eps keeps it just below 1
    np.testing.assert_allclose(new_mean, 0.25 * x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(new_var, 0.75 + 0.25 * x.var(axis=0, ddof=1), rtol=1e-12)
    assert rm.tolist() == [0.0] * 3 and rv.tolist() == [1.0] * 3  # inputs untouched


def test_batchnorm_forward_eval_uses_running_statistics(rng: np.random.Generator) -> None:
    x = rng.normal(size=(1, 3))
    rm, rv = np.array([1.0, 2.0, 3.0]), np.array([4.0, 1.0, 0.25])
    out, m, v = ref.batchnorm_forward(x, np.ones(3), np.zeros(3), rm, rv, training=False)
    np.testing.assert_allclose(out, (x - rm) / np.sqrt(rv + 1e-5))
    assert m.tolist() == rm.tolist() and v.tolist() == rv.tolist()


def test_softmax_is_a_distribution_along_the_axis(rng: np.random.Generator) -> None:
    x = rng.normal(0, 500, size=(3, 4, 5))
    for axis in (0, 1, -1):
        p = ref.softmax(x, axis=axis)
        assert np.isfinite(p).all()
        np.testing.assert_allclose(p.sum(axis=axis), 1.0)


def test_sigmoid_is_exact_at_the_extremes() -> None:
    x = np.array([-1000.0, -745.0, 0.0, 745.0, 1000.0])
    s = ref.sigmoid(x)
    assert s[0] == 0.0 and s[2] == 0.5 and s[3] == 1.0 and s[4] == 1.0
    assert 0 < s[1] < 1e-300


def test_leaky_relu_follows_the_definition_for_any_alpha() -> None:
    x = np.array([-2.0, 0.0, 3.0])
    assert ref.leaky_relu(x, 1.5).tolist() == [-3.0, 0.0, 3.0]


@pytest.mark.parametrize("drill_id", list(CASE_BUILDERS))
def test_references_never_warn_or_overflow_and_keep_the_dtype(drill_id: str) -> None:
    get_cases.cache_clear()
    # pyproject turns warnings into errors; errstate also catches silent overflow or 0/0.
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        cases = get_cases(drill_id)
    for case in cases:
        arrays = [a for a in case.args if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
        outputs = case.expected if isinstance(case.expected, tuple) else (case.expected,)
        for out in outputs:
            assert np.all(np.isfinite(out)), case.name
            assert np.asarray(out).dtype == arrays[0].dtype, case.name


@pytest.mark.parametrize("drill_id", list(CASE_BUILDERS))
def test_cases_are_deterministic(drill_id: str) -> None:
    first, second = CASE_BUILDERS[drill_id](), CASE_BUILDERS[drill_id]()
    for a, b in zip(first, second, strict=True):
        assert a.name == b.name
        for x, y in zip(a.args, b.args, strict=True):
            np.testing.assert_array_equal(x, y)
