"""Cases for the normalisation drills (「反向传播与梯度计算 › 归一化技术」)."""

from __future__ import annotations

import numpy as np

from engine.cases.base import F32, Case, arr, hidden, rng, visible


def _bn_inputs(k: int, n: int, d: int, offset: float = 0.0) -> tuple[np.ndarray, ...]:
    g = rng(10, k)
    x = g.normal(offset, 2.0, size=(n, d))
    gamma = g.uniform(0.5, 1.5, size=d)
    beta = g.normal(size=d)
    running_mean = g.normal(size=d)
    running_var = g.uniform(0.5, 2.0, size=d)
    return x, gamma, beta, running_mean, running_var


def batchnorm_forward() -> list[Case]:
    const = _bn_inputs(3, 6, 4)
    const[0][:, 2] = 1.25
    return [
        visible(
            "训练模式基本示例",
            arr([[1.0, 2.0], [3.0, 6.0], [5.0, 4.0], [7.0, 0.0]]),
            arr([1.0, 1.0]),
            arr([0.0, 0.0]),
            arr([0.0, 0.0]),
            arr([1.0, 1.0]),
        ),
        visible(
            "eval 模式示例",
            arr([[1.0, 2.0], [3.0, -2.0]]),
            arr([2.0, 1.0]),
            arr([0.5, 0.0]),
            arr([1.0, 0.0]),
            arr([4.0, 1.0]),
            training=False,
        ),
        hidden("训练模式随机输入", *_bn_inputs(1, 8, 5)),
        hidden("batch 大小为 2", *_bn_inputs(2, 2, 3)),
        hidden("方差为 0 的特征", *const),
        hidden("自定义 momentum", *_bn_inputs(4, 6, 3), momentum=0.5),
        hidden("momentum=1 时滑动统计量等于本批统计量", *_bn_inputs(5, 5, 3), momentum=1.0),
        hidden("自定义 eps", *_bn_inputs(6, 6, 3), eps=1e-2),
        hidden("eval 模式使用滑动统计量", *_bn_inputs(7, 6, 4), training=False),
        hidden("eval 模式 batch 大小为 1", *_bn_inputs(8, 1, 4), training=False),
        hidden("全部参数按位置传入", *_bn_inputs(9, 5, 3), 0.2, 1e-3, True),
        hidden("较大的 batch", *_bn_inputs(10, 256, 8)),
        hidden("均值远离 0 的输入", *_bn_inputs(11, 10, 4, offset=100.0)),
        hidden("float32 输入", *(a.astype(F32) for a in _bn_inputs(12, 8, 4))),
        hidden("float32、均值大而方差小", *_small_var32(_bn_inputs(14, 16, 4), mean=8.0)),
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
    g = rng(11, k)
    return g.normal(size=(n, d)), g.normal(offset, 2.0, size=(n, d)), g.uniform(0.5, 1.5, size=d)


def batchnorm_backward() -> list[Case]:
    const = _bn_grad_inputs(4, 6, 4)
    const[1][:, 1] = -0.75
    zero_gamma = _bn_grad_inputs(6, 5, 4)
    zero_gamma[2][[0, 3]] = 0.0
    dout_const = _bn_grad_inputs(7, 5, 3)
    return [
        visible(
            "基本示例",
            arr([[1.0, 0.5], [-1.0, 0.0], [0.5, -0.5], [0.0, 1.0]]),
            arr([[1.0, 2.0], [3.0, 6.0], [5.0, 4.0], [7.0, 0.0]]),
            arr([1.0, 2.0]),
        ),
        visible(
            "单个特征",
            arr([[1.0], [0.0], [-1.0]]),
            arr([[0.0], [1.0], [5.0]]),
            arr([0.5]),
        ),
        hidden("训练模式随机输入", *_bn_grad_inputs(1, 8, 5)),
        hidden("batch 大小为 2", *_bn_grad_inputs(2, 2, 3)),
        hidden("较大的 batch", *_bn_grad_inputs(3, 256, 8)),
        hidden("方差为 0 的特征", *const),
        hidden("自定义 eps", *_bn_grad_inputs(5, 6, 3), eps=1e-2),
        hidden("gamma 含 0", *zero_gamma),
        hidden("dout 为常数", np.full((5, 3), 0.7), *dout_const[1:]),
        hidden("单个特征（D=1）", *_bn_grad_inputs(8, 7, 1)),
        hidden("均值远离 0 的输入", *_bn_grad_inputs(9, 10, 4, offset=100.0)),
        hidden("float32 输入", *(a.astype(F32) for a in _bn_grad_inputs(10, 8, 4))),
    ]


def _ln_inputs(k: int, shape: tuple[int, ...], scale: float = 2.0) -> tuple[np.ndarray, ...]:
    g = rng(12, k)
    d = shape[-1]
    x = g.normal(0.5, scale, size=shape)
    return x, g.uniform(0.5, 1.5, size=d), g.normal(size=d)


def layernorm_forward() -> list[Case]:
    const = _ln_inputs(5, (4, 5))
    const[0][2] = 3.0
    return [
        visible(
            "二维基本示例",
            arr([[1.0, 2.0, 3.0], [2.0, 2.0, 8.0]]),
            arr([1.0, 1.0, 1.0]),
            arr([0.0, 0.0, 0.0]),
        ),
        visible(
            "三维输入示例",
            arr([[[1.0, 3.0], [0.0, -2.0]], [[5.0, 5.5], [2.0, 2.0]]]),
            arr([2.0, 0.5]),
            arr([0.0, 1.0]),
        ),
        hidden("随机二维输入", *_ln_inputs(1, (6, 5))),
        hidden("三维输入", *_ln_inputs(2, (2, 3, 4))),
        hidden("四维输入", *_ln_inputs(3, (2, 2, 3, 4))),
        hidden("单个样本", *_ln_inputs(4, (1, 6))),
        hidden("方差为 0 的行", *const),
        hidden("自定义 eps", *_ln_inputs(6, (4, 3)), eps=1e-2),
        hidden("特征数为 1", *_ln_inputs(7, (5, 1))),
        hidden("方差很小的行", *_ln_inputs(8, (4, 6), scale=1e-3)),
        hidden("数值尺度很大", *_ln_inputs(9, (3, 5), scale=1e3)),
        hidden("float32 输入", *(a.astype(F32) for a in _ln_inputs(10, (4, 6)))),
        hidden(
            "float32、均值大而方差小", *_small_var32(_ln_inputs(14, (4, 16)), mean=12.0, axis=-1)
        ),
    ]


def _ln_grad_inputs(k: int, shape: tuple[int, ...], scale: float = 2.0) -> tuple[np.ndarray, ...]:
    g = rng(13, k)
    return (
        g.normal(size=shape),
        g.normal(0.5, scale, size=shape),
        g.uniform(0.5, 1.5, size=shape[-1]),
    )


def layernorm_backward() -> list[Case]:
    const = _ln_grad_inputs(5, (4, 5))
    const[1][1] = -2.0
    zero_gamma = _ln_grad_inputs(8, (3, 5))
    zero_gamma[2][[1, 2]] = 0.0
    return [
        visible(
            "二维基本示例",
            arr([[1.0, 0.0, -1.0], [0.5, 0.5, 2.0]]),
            arr([[1.0, 2.0, 3.0], [2.0, 2.0, 8.0]]),
            arr([1.0, 2.0, 0.5]),
        ),
        visible(
            "三维输入示例",
            arr([[[1.0, -1.0], [0.5, 0.0]], [[0.0, 2.0], [1.0, 1.0]]]),
            arr([[[1.0, 3.0], [0.0, -2.0]], [[5.0, 5.5], [2.0, 4.0]]]),
            arr([2.0, 0.5]),
        ),
        hidden("随机二维输入", *_ln_grad_inputs(1, (6, 5))),
        hidden("三维输入", *_ln_grad_inputs(2, (2, 3, 4))),
        hidden("四维输入", *_ln_grad_inputs(3, (2, 2, 3, 4))),
        hidden("单个样本", *_ln_grad_inputs(4, (1, 6))),
        hidden("方差为 0 的行", *const),
        hidden("自定义 eps", *_ln_grad_inputs(6, (4, 3)), eps=1e-2),
        hidden("特征数为 1", *_ln_grad_inputs(7, (5, 1))),
        hidden("gamma 含 0", *zero_gamma),
        hidden("方差很小的行", *_ln_grad_inputs(9, (4, 6), scale=1e-3)),
        hidden("float32 输入", *(a.astype(F32) for a in _ln_grad_inputs(10, (4, 6)))),
    ]
