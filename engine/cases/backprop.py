"""Cases for the backpropagation drills (「反向传播与梯度计算 › 反向传播」)."""

from __future__ import annotations

import numpy as np

from engine.cases.base import F32, Case, arr, hidden, rng, visible


def sigmoid_backward() -> list[Case]:
    def r(k: int) -> np.random.Generator:
        return rng(5, k)

    def pair(k: int, shape: tuple[int, ...], scale: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
        g = r(k)
        return g.normal(size=shape), g.normal(0, scale, size=shape)

    big_x = arr([-1000, -750, -100, -40, 0, 40, 100, 750, 1000])
    return [
        visible("基本示例", arr([1.0, 1.0, 1.0]), arr([-1.0, 0.0, 1.0])),
        visible("二维输入", arr([[0.5, -1.0], [2.0, 0.1]]), arr([[0.0, 2.0], [-3.0, 1.0]])),
        hidden("随机一维向量", *pair(1, (7,))),
        hidden("随机二维矩阵", *pair(2, (4, 5))),
        hidden("三维输入", *pair(3, (2, 3, 4))),
        hidden("大输入数值稳定性", r(4).normal(size=9), big_x),
        hidden("x 全为 0", r(5).normal(size=(3, 4)), np.zeros((3, 4))),
        hidden("dout 全为 1", np.ones((4, 3)), r(6).normal(0, 3, size=(4, 3))),
        hidden("batch 大小为 1", *pair(7, (1, 6))),
        hidden("float32 输入", *(a.astype(F32) for a in pair(8, (5, 4)))),
        hidden("较大的数组", *pair(9, (50, 100))),
    ]


def relu_backward() -> list[Case]:
    def r(k: int) -> np.random.Generator:
        return rng(6, k)

    def pair(k: int, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        g = r(k)
        return g.normal(size=shape), g.normal(size=shape)

    dout_z, x_z = pair(4, (4, 5))
    x_z[r(5).random((4, 5)) < 0.4] = 0.0
    return [
        visible("基本示例", arr([1.0, 2.0, 3.0, 4.0, 5.0]), arr([-2.0, -1.0, 0.0, 1.0, 2.0])),
        visible("二维输入", arr([[0.5, -1.0], [2.0, 3.0]]), arr([[1.0, -2.0], [-0.5, 4.0]])),
        hidden("随机一维向量", *pair(1, (8,))),
        hidden("随机二维矩阵", *pair(2, (5, 4))),
        hidden("三维输入", *pair(3, (2, 3, 4))),
        hidden("x 恰好为 0 处梯度为 0", dout_z, x_z),
        hidden("全负输入", r(6).normal(size=(3, 3)), -r(7).uniform(0.1, 5, size=(3, 3))),
        hidden("全正输入", r(8).normal(size=(3, 3)), r(9).uniform(0.1, 5, size=(3, 3))),
        hidden("极小的正负数", r(10).normal(size=4), arr([1e-300, -1e-300, 5e-324, -5e-324])),
        hidden("float32 输入", *(a.astype(F32) for a in pair(11, (5, 4)))),
        hidden("较大的数组", *pair(12, (50, 100))),
    ]


def linear_backward() -> list[Case]:
    def r(k: int) -> np.random.Generator:
        return rng(7, k)

    def layer(k: int, n: int, d: int, m: int, scale: float = 1.0) -> tuple[np.ndarray, ...]:
        g = r(k)
        dout = g.normal(size=(n, m))
        x = g.normal(0, scale, size=(n, d))
        w = g.normal(0, scale, size=(d, m))
        b = g.normal(size=m)
        return dout, x, w, b

    zero_dout = (np.zeros((3, 2)), *layer(8, 3, 4, 2)[1:])
    return [
        visible(
            "基本示例",
            arr([[1.0, -1.0], [0.5, 2.0]]),
            arr([[1.0, 2.0, 3.0], [0.0, -1.0, 1.0]]),
            arr([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]),
            arr([0.0, 1.0]),
        ),
        visible(
            "单个输出（M=1）",
            arr([[1.0], [2.0], [-1.0]]),
            arr([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),
            arr([[2.0], [-1.0]]),
            arr([0.5]),
        ),
        hidden("随机小矩阵", *layer(1, 4, 5, 3)),
        hidden("batch 大小为 1", *layer(2, 1, 4, 3)),
        hidden("单个输入特征（D=1）", *layer(3, 5, 1, 3)),
        hidden("随机单输出（M=1）", *layer(4, 5, 4, 1)),
        hidden("样本数多于特征数", *layer(5, 30, 4, 5)),
        hidden("较大的矩阵", *layer(6, 64, 32, 16)),
        hidden("dout 全为 0", *zero_dout),
        hidden("float32 输入", *(a.astype(F32) for a in layer(7, 6, 5, 4))),
        hidden("数值较大的输入", *layer(9, 4, 3, 5, scale=1e3)),
    ]


def softmax_cross_entropy() -> list[Case]:
    def r(k: int) -> np.random.Generator:
        return rng(8, k)

    def batch(k: int, n: int, c: int, scale: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
        g = r(k)
        return g.normal(0, scale, size=(n, c)), g.integers(0, c, size=n)

    logits32, labels32 = batch(8, 6, 5)
    confident_wrong = arr([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 0.0], [5.0, 4.0, -995.0]])
    return [
        visible("基本示例", arr([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]]), np.array([0, 1])),
        visible("单个样本", arr([[1.0, 2.0, 3.0, 4.0]]), np.array([3])),
        hidden("随机 logits", *batch(1, 6, 4)),
        hidden("batch 大小为 1", *batch(2, 1, 5)),
        hidden("两个类别", *batch(3, 8, 2)),
        hidden("大输入数值稳定性", *batch(4, 5, 4, scale=1000.0)),
        hidden("极度自信的错误预测", confident_wrong, np.array([2, 0, 2])),
        hidden("所有 logits 相同", np.full((4, 3), 2.5), np.array([0, 1, 2, 1])),
        hidden("重复的标签", r(5).normal(size=(5, 3)), np.array([1, 1, 1, 1, 1])),
        hidden("类别很多（C=100）", *batch(6, 10, 100)),
        hidden("int32 标签", r(7).normal(size=(4, 3)), np.array([2, 0, 1, 2], dtype=np.int32)),
        hidden("float32 输入", logits32.astype(F32), labels32),
    ]


def mlp_backward() -> list[Case]:
    def r(k: int) -> np.random.Generator:
        return rng(9, k)

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
        visible(
            "基本示例",
            arr([[1.0, -1.0, 0.5], [0.0, 2.0, -1.0]]),
            np.array([0, 2]),
            arr([[0.5, -0.2, 0.1, 0.3], [0.1, 0.4, -0.3, 0.2], [-0.2, 0.1, 0.5, -0.1]]),
            arr([0.1, 0.0, -0.1, 0.2]),
            arr([[0.3, -0.1, 0.2], [-0.2, 0.4, 0.1], [0.1, 0.1, -0.3], [0.2, -0.4, 0.3]]),
            arr([0.0, 0.1, -0.1]),
        ),
        visible("单个样本", *net(1, 1, 3, 4, 2)),
        hidden("随机小网络", *net(2, 6, 5, 8, 4)),
        hidden("batch 大小为 1", *net(4, 1, 4, 5, 3)),
        hidden("隐藏层全部失活（死亡 ReLU）", *dead),
        hidden("隐藏层全部激活", *alive),
        hidden("隐藏层预激活恰为 0", *kink),
        hidden("单个隐藏单元", *net(5, 6, 4, 1, 3)),
        hidden("两个类别", *net(6, 8, 5, 6, 2)),
        hidden("较大的网络", *net(7, 32, 20, 50, 10)),
        hidden("大 logits 数值稳定性", *net(8, 6, 4, 5, 3, scale=30.0)),
        hidden(
            "float32 输入",
            *(a.astype(F32) if a.dtype.kind == "f" else a for a in net(9, 5, 4, 6, 3)),
        ),
    ]
