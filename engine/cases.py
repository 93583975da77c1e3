"""Deterministic test cases for every drill, and their reference outputs.

Each drill has two or three visible examples (fixed, readable numbers) and at least eight hidden
cases generated from fixed seeds, each named for what it tests. `get_cases(drill_id)` builds them
once per process, computes the reference outputs and freezes every array, so grading a
submission costs no case generation at all.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from engine import reference

F32 = np.float32


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: cases are cached singletons
class Case:
    """One call of a drill function: its inputs and, once prepared, the reference output."""

    name: str
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    hidden: bool = True
    expected: Any = None
    # A stricter absolute tolerance than the dtype's default (0: purely relative), for cases
    # that test accuracy where the true values are tiny.
    atol: float | None = None


def _v(name: str, *args: Any, **kwargs: Any) -> Case:
    return Case(name, args, kwargs, hidden=False)


def _h(name: str, *args: Any, **kwargs: Any) -> Case:
    return Case(name, args, kwargs, hidden=True)


def _strict(case: Case, atol: float) -> Case:
    return Case(case.name, case.args, case.kwargs, case.hidden, atol=atol)


def _a(values: Any, dtype: Any = np.float64) -> np.ndarray:
    return np.array(values, dtype=dtype)


def _rng(drill_seed: int, case_seed: int) -> np.random.Generator:
    # One independent stream per (drill, case): editing one case never changes another.
    return np.random.default_rng([drill_seed, case_seed])


# ---------------------------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------------------------


def _sigmoid() -> list[Case]:
    def r(k: int) -> np.random.Generator:
        return _rng(1, k)

    saturated = r(7).uniform(10, 40, size=10) * r(8).choice([-1.0, 1.0], size=10)
    # Tiny but normal float64 results (sigma(-700) ~ 1e-304): judged by relative error only.
    tails = np.concatenate([-r(9).uniform(30, 700, size=8), [-36.5, -100.0, -700.0, 30.0, 700.0]])
    return [
        _v("基本示例", _a([-2.0, -1.0, 0.0, 1.0, 2.0])),
        _v("二维输入", _a([[0.0, 0.5], [-0.5, 3.0]])),
        _h("随机一维向量", r(1).normal(0, 3, size=7)),
        _h("随机二维矩阵", r(2).normal(0, 3, size=(4, 5))),
        _h("三维输入", r(3).normal(0, 3, size=(2, 3, 4))),
        _h("大输入数值稳定性", _a([-1000, -750, -100, -40, 0, 40, 100, 750, 1000])),
        _h("全零输入", np.zeros((3, 4))),
        _h("单个元素", _a([0.3])),
        _h("接近饱和区的输入", saturated),
        _h("float32 输入", r(4).normal(0, 4, size=(5, 6)).astype(F32)),
        _h("较大的数组", r(5).normal(0, 5, size=(100, 100))),
        _strict(_h("尾部的相对精度", tails), atol=0.0),
    ]


def _relu() -> list[Case]:
    def r(k: int) -> np.random.Generator:
        return _rng(2, k)

    with_zeros = r(4).normal(size=(4, 5))
    with_zeros[r(5).random((4, 5)) < 0.4] = 0.0
    return [
        _v("基本示例", _a([-2.0, -0.5, 0.0, 0.5, 2.0])),
        _v("二维输入", _a([[1.0, -1.0], [-3.0, 4.0]])),
        _h("随机一维向量", r(1).normal(size=9)),
        _h("随机二维矩阵", r(2).normal(size=(5, 4))),
        _h("三维输入", r(3).normal(size=(2, 3, 4))),
        _h("恰好为 0 的元素", with_zeros),
        _h("全负输入", -r(6).uniform(0.1, 5, size=(3, 3))),
        _h("全正输入", r(7).uniform(0.1, 5, size=(3, 3))),
        _h("很大的数值", _a([-1e300, -1e10, 1e10, 1e300])),
        _h("float32 输入", r(8).normal(size=(6, 5)).astype(F32)),
        _h("较大的数组", r(9).normal(size=(100, 100))),
    ]


def _leaky_relu() -> list[Case]:
    def r(k: int) -> np.random.Generator:
        return _rng(3, k)

    with_zeros = r(5).normal(size=(3, 4))
    with_zeros[:, 1] = 0.0
    return [
        _v("默认 alpha", _a([-2.0, -1.0, 0.0, 1.0, 2.0])),
        _v("alpha=0.2", _a([[-1.0, 3.0], [-10.0, 0.5]]), alpha=0.2),
        _h("默认 alpha 的随机向量", r(1).normal(0, 3, size=8)),
        _h("alpha=0.1 的随机矩阵", r(2).normal(0, 3, size=(4, 5)), alpha=0.1),
        _h("alpha 作为位置参数", r(3).normal(0, 3, size=(3, 3)), 0.3),
        _h("三维输入", r(4).normal(size=(2, 3, 4)), alpha=0.05),
        _h("恰好为 0 的元素", with_zeros, alpha=0.2),
        _h("alpha=0 退化为 ReLU", r(6).normal(size=(4, 4)), alpha=0.0),
        _h("alpha=1 恒等映射", r(7).normal(size=(4, 4)), alpha=1.0),
        _h("alpha 大于 1", r(8).normal(size=(4, 4)), alpha=1.5),
        _h("全负输入", -r(9).uniform(0.1, 5, size=(3, 3))),
        _h("float32 输入", r(10).normal(size=(5, 5)).astype(F32), alpha=0.1),
    ]


def _softmax() -> list[Case]:
    def r(k: int) -> np.random.Generator:
        return _rng(4, k)

    big = r(6).normal(1000, 5, size=(3, 4))
    mixed = np.stack([r(8).normal(0, 1, size=5), r(9).normal(1000, 1, size=5)])
    # Each slice spans far more than exp's range in both directions, with its maximum in the
    # middle: only the slice maximum works as the shift (not the min, mean, median, first or
    # last element, nor a global constant).
    wide = _a(
        [
            [-1000.0, 1000.0, -1000.0, -1000.0, 0.0],
            [-1000.0, -500.0, 1000.0, 999.0, -1000.0],
            [0.0, -1000.0, 3.0, 2.0, 1.0],
        ]
    )
    return [
        _v("一维向量", _a([1.0, 2.0, 3.0])),
        _v("二维输入（按最后一轴）", _a([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])),
        _v("axis=0", _a([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), axis=0),
        _h("随机一维向量", r(1).normal(0, 2, size=6)),
        _h("随机二维矩阵", r(2).normal(0, 2, size=(4, 5))),
        _h("随机矩阵 axis=0", r(3).normal(0, 2, size=(4, 3)), axis=0),
        _h("随机矩阵 axis=1", r(4).normal(0, 2, size=(3, 5)), axis=1),
        _h("三维输入（axis=-1）", r(5).normal(0, 2, size=(2, 3, 4))),
        _h("三维输入（axis=1）", r(10).normal(0, 2, size=(2, 3, 4)), axis=1),
        _h("大输入数值稳定性", big),
        _h("全为很大的负数", r(7).normal(-1000, 5, size=(3, 4))),
        _h("各行数值范围差异很大", mixed),
        _h("全部相同的值", np.full((2, 5), 3.7)),
        _h("长度为 1 的轴", r(11).normal(size=(4, 1))),
        _h("float32 输入", r(12).normal(0, 3, size=(4, 6)).astype(F32)),
        _h("每行跨越 ±1000", wide),
        _h("每列跨越 ±1000（axis=0）", wide.T.copy(), axis=0),
    ]


# ---------------------------------------------------------------------------------------------
# Backpropagation
# ---------------------------------------------------------------------------------------------


def _sigmoid_backward() -> list[Case]:
    def r(k: int) -> np.random.Generator:
        return _rng(5, k)

    def pair(k: int, shape: tuple[int, ...], scale: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
        g = r(k)
        return g.normal(size=shape), g.normal(0, scale, size=shape)

    big_x = _a([-1000, -750, -100, -40, 0, 40, 100, 750, 1000])
    return [
        _v("基本示例", _a([1.0, 1.0, 1.0]), _a([-1.0, 0.0, 1.0])),
        _v("二维输入", _a([[0.5, -1.0], [2.0, 0.1]]), _a([[0.0, 2.0], [-3.0, 1.0]])),
        _h("随机一维向量", *pair(1, (7,))),
        _h("随机二维矩阵", *pair(2, (4, 5))),
        _h("三维输入", *pair(3, (2, 3, 4))),
        _h("大输入数值稳定性", r(4).normal(size=9), big_x),
        _h("x 全为 0", r(5).normal(size=(3, 4)), np.zeros((3, 4))),
        _h("dout 全为 1", np.ones((4, 3)), r(6).normal(0, 3, size=(4, 3))),
        _h("batch 大小为 1", *pair(7, (1, 6))),
        _h("float32 输入", *(a.astype(F32) for a in pair(8, (5, 4)))),
        _h("较大的数组", *pair(9, (50, 100))),
    ]


def _relu_backward() -> list[Case]:
    def r(k: int) -> np.random.Generator:
        return _rng(6, k)

    def pair(k: int, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        g = r(k)
        return g.normal(size=shape), g.normal(size=shape)

    dout_z, x_z = pair(4, (4, 5))
    x_z[r(5).random((4, 5)) < 0.4] = 0.0
    return [
        _v("基本示例", _a([1.0, 2.0, 3.0, 4.0, 5.0]), _a([-2.0, -1.0, 0.0, 1.0, 2.0])),
        _v("二维输入", _a([[0.5, -1.0], [2.0, 3.0]]), _a([[1.0, -2.0], [-0.5, 4.0]])),
        _h("随机一维向量", *pair(1, (8,))),
        _h("随机二维矩阵", *pair(2, (5, 4))),
        _h("三维输入", *pair(3, (2, 3, 4))),
        _h("x 恰好为 0 处梯度为 0", dout_z, x_z),
        _h("全负输入", r(6).normal(size=(3, 3)), -r(7).uniform(0.1, 5, size=(3, 3))),
        _h("全正输入", r(8).normal(size=(3, 3)), r(9).uniform(0.1, 5, size=(3, 3))),
        _h("极小的正负数", r(10).normal(size=4), _a([1e-300, -1e-300, 5e-324, -5e-324])),
        _h("float32 输入", *(a.astype(F32) for a in pair(11, (5, 4)))),
        _h("较大的数组", *pair(12, (50, 100))),
    ]


def _linear_backward() -> list[Case]:
    def r(k: int) -> np.random.Generator:
        return _rng(7, k)

    def layer(k: int, n: int, d: int, m: int, scale: float = 1.0) -> tuple[np.ndarray, ...]:
        g = r(k)
        dout = g.normal(size=(n, m))
        x = g.normal(0, scale, size=(n, d))
        w = g.normal(0, scale, size=(d, m))
        b = g.normal(size=m)
        return dout, x, w, b

    zero_dout = (np.zeros((3, 2)), *layer(8, 3, 4, 2)[1:])
    return [
        _v(
            "基本示例",
            _a([[1.0, -1.0], [0.5, 2.0]]),
            _a([[1.0, 2.0, 3.0], [0.0, -1.0, 1.0]]),
            _a([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]),
            _a([0.0, 1.0]),
        ),
        _v(
            "单个输出（M=1）",
            _a([[1.0], [2.0], [-1.0]]),
            _a([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),
            _a([[2.0], [-1.0]]),
            _a([0.5]),
        ),
        _h("随机小矩阵", *layer(1, 4, 5, 3)),
        _h("batch 大小为 1", *layer(2, 1, 4, 3)),
        _h("单个输入特征（D=1）", *layer(3, 5, 1, 3)),
        _h("随机单输出（M=1）", *layer(4, 5, 4, 1)),
        _h("样本数多于特征数", *layer(5, 30, 4, 5)),
        _h("较大的矩阵", *layer(6, 64, 32, 16)),
        _h("dout 全为 0", *zero_dout),
        _h("float32 输入", *(a.astype(F32) for a in layer(7, 6, 5, 4))),
        _h("数值较大的输入", *layer(9, 4, 3, 5, scale=1e3)),
    ]


def _softmax_cross_entropy() -> list[Case]:
    def r(k: int) -> np.random.Generator:
        return _rng(8, k)

    def batch(k: int, n: int, c: int, scale: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
        g = r(k)
        return g.normal(0, scale, size=(n, c)), g.integers(0, c, size=n)

    logits32, labels32 = batch(8, 6, 5)
    confident_wrong = _a([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 0.0], [5.0, 4.0, -995.0]])
    return [
        _v("基本示例", _a([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]]), np.array([0, 1])),
        _v("单个样本", _a([[1.0, 2.0, 3.0, 4.0]]), np.array([3])),
        _h("随机 logits", *batch(1, 6, 4)),
        _h("batch 大小为 1", *batch(2, 1, 5)),
        _h("两个类别", *batch(3, 8, 2)),
        _h("大输入数值稳定性", *batch(4, 5, 4, scale=1000.0)),
        _h("极度自信的错误预测", confident_wrong, np.array([2, 0, 2])),
        _h("所有 logits 相同", np.full((4, 3), 2.5), np.array([0, 1, 2, 1])),
        _h("重复的标签", r(5).normal(size=(5, 3)), np.array([1, 1, 1, 1, 1])),
        _h("类别很多（C=100）", *batch(6, 10, 100)),
        _h("int32 标签", r(7).normal(size=(4, 3)), np.array([2, 0, 1, 2], dtype=np.int32)),
        _h("float32 输入", logits32.astype(F32), labels32),
    ]


def _mlp_backward() -> list[Case]:
    def r(k: int) -> np.random.Generator:
        return _rng(9, k)

    def net(k: int, n: int, d: int, h: int, c: int, scale: float = 1.0) -> tuple[np.ndarray, ...]:
        g = r(k)
        x = g.normal(size=(n, d))
        labels = g.integers(0, c, size=n)
        w1 = g.normal(0, scale, size=(d, h))
        b1 = g.normal(0, 0.1, size=h)
        w2 = g.normal(0, scale, size=(h, c))
        b2 = g.normal(0, 0.1, size=c)
        return x, labels, w1, b1, w2, b2

    x, labels, w1, b1, w2, b2 = net(3, 5, 4, 6, 3)
    dead = (x, labels, w1, np.full(6, -100.0), w2, b2)
    alive = (x, labels, w1, np.full(6, 100.0), w2, b2)
    # A zero column in w1 with a zero bias makes that hidden unit's pre-activation exactly 0
    # for every sample: this is where relu'(0) = 0 matters.
    w1_kink = w1.copy()
    w1_kink[:, [1, 4]] = 0.0
    b1_kink = b1.copy()
    b1_kink[[1, 4]] = 0.0
    kink = (x, labels, w1_kink, b1_kink, w2, b2)
    return [
        _v(
            "基本示例",
            _a([[1.0, -1.0, 0.5], [0.0, 2.0, -1.0]]),
            np.array([0, 2]),
            _a([[0.5, -0.2, 0.1, 0.3], [0.1, 0.4, -0.3, 0.2], [-0.2, 0.1, 0.5, -0.1]]),
            _a([0.1, 0.0, -0.1, 0.2]),
            _a([[0.3, -0.1, 0.2], [-0.2, 0.4, 0.1], [0.1, 0.1, -0.3], [0.2, -0.4, 0.3]]),
            _a([0.0, 0.1, -0.1]),
        ),
        _v("单个样本", *net(1, 1, 3, 4, 2)),
        _h("随机小网络", *net(2, 6, 5, 8, 4)),
        _h("batch 大小为 1", *net(4, 1, 4, 5, 3)),
        _h("隐藏层全部失活（死亡 ReLU）", *dead),
        _h("隐藏层全部激活", *alive),
        _h("隐藏层预激活恰为 0", *kink),
        _h("单个隐藏单元", *net(5, 6, 4, 1, 3)),
        _h("两个类别", *net(6, 8, 5, 6, 2)),
        _h("较大的网络", *net(7, 32, 20, 50, 10)),
        _h("大 logits 数值稳定性", *net(8, 6, 4, 5, 3, scale=30.0)),
        _h(
            "float32 输入",
            *(a.astype(F32) if a.dtype.kind == "f" else a for a in net(9, 5, 4, 6, 3)),
        ),
    ]


# ---------------------------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------------------------


def _bn_inputs(k: int, n: int, d: int, offset: float = 0.0) -> tuple[np.ndarray, ...]:
    g = _rng(10, k)
    x = g.normal(offset, 2.0, size=(n, d))
    gamma = g.uniform(0.5, 1.5, size=d)
    beta = g.normal(size=d)
    running_mean = g.normal(size=d)
    running_var = g.uniform(0.5, 2.0, size=d)
    return x, gamma, beta, running_mean, running_var


def _batchnorm_forward() -> list[Case]:
    const = _bn_inputs(3, 6, 4)
    const[0][:, 2] = 1.25
    return [
        _v(
            "训练模式基本示例",
            _a([[1.0, 2.0], [3.0, 6.0], [5.0, 4.0], [7.0, 0.0]]),
            _a([1.0, 1.0]),
            _a([0.0, 0.0]),
            _a([0.0, 0.0]),
            _a([1.0, 1.0]),
        ),
        _v(
            "eval 模式示例",
            _a([[1.0, 2.0], [3.0, -2.0]]),
            _a([2.0, 1.0]),
            _a([0.5, 0.0]),
            _a([1.0, 0.0]),
            _a([4.0, 1.0]),
            training=False,
        ),
        _h("训练模式随机输入", *_bn_inputs(1, 8, 5)),
        _h("batch 大小为 2", *_bn_inputs(2, 2, 3)),
        _h("方差为 0 的特征", *const),
        _h("自定义 momentum", *_bn_inputs(4, 6, 3), momentum=0.5),
        _h("momentum=1 时滑动统计量等于本批统计量", *_bn_inputs(5, 5, 3), momentum=1.0),
        _h("自定义 eps", *_bn_inputs(6, 6, 3), eps=1e-2),
        _h("eval 模式使用滑动统计量", *_bn_inputs(7, 6, 4), training=False),
        _h("eval 模式 batch 大小为 1", *_bn_inputs(8, 1, 4), training=False),
        _h("全部参数按位置传入", *_bn_inputs(9, 5, 3), 0.2, 1e-3, True),
        _h("较大的 batch", *_bn_inputs(10, 256, 8)),
        _h("均值远离 0 的输入", *_bn_inputs(11, 10, 4, offset=100.0)),
        _h("float32 输入", *(a.astype(F32) for a in _bn_inputs(12, 8, 4))),
        _h("float32、均值大而方差小", *_small_var32(_bn_inputs(14, 16, 4), mean=8.0)),
    ]


def _small_var32(
    inputs: tuple[np.ndarray, ...], mean: float, axis: int = 0
) -> tuple[np.ndarray, ...]:
    """float32 inputs whose x has the given mean and a standard deviation of 0.1 along `axis`.

    The one-pass variance E[x^2] - E[x]^2 then loses about (mean / std)^2 * 6e-8 of relative
    accuracy (~10x the float32 tolerance); the two-pass variance (x - mean)^2 and PyTorch stay
    within a third of it. A larger mean would push even float32 two-pass results past it.
    """
    x = inputs[0]
    x = mean + 0.1 * (x - x.mean(axis=axis, keepdims=True)) / x.std(axis=axis, keepdims=True)
    return tuple(a.astype(F32) for a in (x, *inputs[1:]))


def _bn_grad_inputs(k: int, n: int, d: int, offset: float = 0.0) -> tuple[np.ndarray, ...]:
    g = _rng(11, k)
    return g.normal(size=(n, d)), g.normal(offset, 2.0, size=(n, d)), g.uniform(0.5, 1.5, size=d)


def _batchnorm_backward() -> list[Case]:
    const = _bn_grad_inputs(4, 6, 4)
    const[1][:, 1] = -0.75
    zero_gamma = _bn_grad_inputs(6, 5, 4)
    zero_gamma[2][[0, 3]] = 0.0
    dout_const = _bn_grad_inputs(7, 5, 3)
    return [
        _v(
            "基本示例",
            _a([[1.0, 0.5], [-1.0, 0.0], [0.5, -0.5], [0.0, 1.0]]),
            _a([[1.0, 2.0], [3.0, 6.0], [5.0, 4.0], [7.0, 0.0]]),
            _a([1.0, 2.0]),
        ),
        _v(
            "单个特征",
            _a([[1.0], [0.0], [-1.0]]),
            _a([[0.0], [1.0], [5.0]]),
            _a([0.5]),
        ),
        _h("训练模式随机输入", *_bn_grad_inputs(1, 8, 5)),
        _h("batch 大小为 2", *_bn_grad_inputs(2, 2, 3)),
        _h("较大的 batch", *_bn_grad_inputs(3, 256, 8)),
        _h("方差为 0 的特征", *const),
        _h("自定义 eps", *_bn_grad_inputs(5, 6, 3), eps=1e-2),
        _h("gamma 含 0", *zero_gamma),
        _h("dout 为常数", np.full((5, 3), 0.7), *dout_const[1:]),
        _h("单个特征（D=1）", *_bn_grad_inputs(8, 7, 1)),
        _h("均值远离 0 的输入", *_bn_grad_inputs(9, 10, 4, offset=100.0)),
        _h("float32 输入", *(a.astype(F32) for a in _bn_grad_inputs(10, 8, 4))),
    ]


def _ln_inputs(k: int, shape: tuple[int, ...], scale: float = 2.0) -> tuple[np.ndarray, ...]:
    g = _rng(12, k)
    d = shape[-1]
    x = g.normal(0.5, scale, size=shape)
    return x, g.uniform(0.5, 1.5, size=d), g.normal(size=d)


def _layernorm_forward() -> list[Case]:
    const = _ln_inputs(5, (4, 5))
    const[0][2] = 3.0
    return [
        _v(
            "二维基本示例",
            _a([[1.0, 2.0, 3.0], [2.0, 2.0, 8.0]]),
            _a([1.0, 1.0, 1.0]),
            _a([0.0, 0.0, 0.0]),
        ),
        _v(
            "三维输入示例",
            _a([[[1.0, 3.0], [0.0, -2.0]], [[5.0, 5.5], [2.0, 2.0]]]),
            _a([2.0, 0.5]),
            _a([0.0, 1.0]),
        ),
        _h("随机二维输入", *_ln_inputs(1, (6, 5))),
        _h("三维输入", *_ln_inputs(2, (2, 3, 4))),
        _h("四维输入", *_ln_inputs(3, (2, 2, 3, 4))),
        _h("单个样本", *_ln_inputs(4, (1, 6))),
        _h("方差为 0 的行", *const),
        _h("自定义 eps", *_ln_inputs(6, (4, 3)), eps=1e-2),
        _h("特征数为 1", *_ln_inputs(7, (5, 1))),
        _h("方差很小的行", *_ln_inputs(8, (4, 6), scale=1e-3)),
        _h("数值尺度很大", *_ln_inputs(9, (3, 5), scale=1e3)),
        _h("float32 输入", *(a.astype(F32) for a in _ln_inputs(10, (4, 6)))),
        _h("float32、均值大而方差小", *_small_var32(_ln_inputs(14, (4, 16)), mean=12.0, axis=-1)),
    ]


def _ln_grad_inputs(k: int, shape: tuple[int, ...], scale: float = 2.0) -> tuple[np.ndarray, ...]:
    g = _rng(13, k)
    return (
        g.normal(size=shape),
        g.normal(0.5, scale, size=shape),
        g.uniform(0.5, 1.5, size=shape[-1]),
    )


def _layernorm_backward() -> list[Case]:
    const = _ln_grad_inputs(5, (4, 5))
    const[1][1] = -2.0
    zero_gamma = _ln_grad_inputs(8, (3, 5))
    zero_gamma[2][[1, 2]] = 0.0
    return [
        _v(
            "二维基本示例",
            _a([[1.0, 0.0, -1.0], [0.5, 0.5, 2.0]]),
            _a([[1.0, 2.0, 3.0], [2.0, 2.0, 8.0]]),
            _a([1.0, 2.0, 0.5]),
        ),
        _v(
            "三维输入示例",
            _a([[[1.0, -1.0], [0.5, 0.0]], [[0.0, 2.0], [1.0, 1.0]]]),
            _a([[[1.0, 3.0], [0.0, -2.0]], [[5.0, 5.5], [2.0, 4.0]]]),
            _a([2.0, 0.5]),
        ),
        _h("随机二维输入", *_ln_grad_inputs(1, (6, 5))),
        _h("三维输入", *_ln_grad_inputs(2, (2, 3, 4))),
        _h("四维输入", *_ln_grad_inputs(3, (2, 2, 3, 4))),
        _h("单个样本", *_ln_grad_inputs(4, (1, 6))),
        _h("方差为 0 的行", *const),
        _h("自定义 eps", *_ln_grad_inputs(6, (4, 3)), eps=1e-2),
        _h("特征数为 1", *_ln_grad_inputs(7, (5, 1))),
        _h("gamma 含 0", *zero_gamma),
        _h("方差很小的行", *_ln_grad_inputs(9, (4, 6), scale=1e-3)),
        _h("float32 输入", *(a.astype(F32) for a in _ln_grad_inputs(10, (4, 6)))),
    ]


CASE_BUILDERS: dict[str, Callable[[], list[Case]]] = {
    "sigmoid": _sigmoid,
    "relu": _relu,
    "leaky_relu": _leaky_relu,
    "softmax": _softmax,
    "sigmoid_backward": _sigmoid_backward,
    "relu_backward": _relu_backward,
    "linear_backward": _linear_backward,
    "softmax_cross_entropy": _softmax_cross_entropy,
    "mlp_backward": _mlp_backward,
    "batchnorm_forward": _batchnorm_forward,
    "batchnorm_backward": _batchnorm_backward,
    "layernorm_forward": _layernorm_forward,
    "layernorm_backward": _layernorm_backward,
}


def _frozen(value: Any) -> Any:
    """A read-only copy, so a cached case can never be altered by anyone downstream."""
    if isinstance(value, np.ndarray):
        copy = value.copy()
        copy.flags.writeable = False
        return copy
    if isinstance(value, tuple):
        return tuple(_frozen(v) for v in value)
    return value


@functools.cache
def get_cases(drill_id: str) -> tuple[Case, ...]:
    """Every case of a drill, visible first, with reference outputs; built once per process.

    Raises KeyError for an unknown drill id.
    """
    function = getattr(reference, drill_id)
    prepared = []
    for case in CASE_BUILDERS[drill_id]():
        args = _frozen(case.args)
        kwargs = MappingProxyType({k: _frozen(v) for k, v in case.kwargs.items()})
        # The reference gets its own writable copies: it must not be able to touch the case.
        expected = function(
            *(np.array(a) if isinstance(a, np.ndarray) else a for a in args),
            **{k: np.array(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()},
        )
        prepared.append(Case(case.name, args, kwargs, case.hidden, _frozen(expected), case.atol))
    # Visible examples come first so that "run" mode is a prefix of "submit".
    prepared.sort(key=lambda c: c.hidden)
    return tuple(prepared)
