"""Cases for the activation drills (笔记「神经网络结构 › 激活函数」)."""

from __future__ import annotations

import numpy as np

from engine.cases.base import F32, Case, arr, hidden, rng, strict, visible


def sigmoid() -> list[Case]:
    def r(k: int) -> np.random.Generator:
        return rng(1, k)

    saturated = r(7).uniform(10, 40, size=10) * r(8).choice([-1.0, 1.0], size=10)
    # Tiny but normal float64 results (sigma(-700) ~ 1e-304): judged by relative error only.
    tails = np.concatenate([-r(9).uniform(30, 700, size=8), [-36.5, -100.0, -700.0, 30.0, 700.0]])
    return [
        visible("基本示例", arr([-2.0, -1.0, 0.0, 1.0, 2.0])),
        visible("二维输入", arr([[0.0, 0.5], [-0.5, 3.0]])),
        hidden("随机一维向量", r(1).normal(0, 3, size=7)),
        hidden("随机二维矩阵", r(2).normal(0, 3, size=(4, 5))),
        hidden("三维输入", r(3).normal(0, 3, size=(2, 3, 4))),
        hidden("大输入数值稳定性", arr([-1000, -750, -100, -40, 0, 40, 100, 750, 1000])),
        hidden("全零输入", np.zeros((3, 4))),
        hidden("单个元素", arr([0.3])),
        hidden("接近饱和区的输入", saturated),
        hidden("float32 输入", r(4).normal(0, 4, size=(5, 6)).astype(F32)),
        hidden("较大的数组", r(5).normal(0, 5, size=(100, 100))),
        strict(hidden("尾部的相对精度", tails), atol=0.0),
    ]


def relu() -> list[Case]:
    def r(k: int) -> np.random.Generator:
        return rng(2, k)

    with_zeros = r(4).normal(size=(4, 5))
    with_zeros[r(5).random((4, 5)) < 0.4] = 0.0
    return [
        visible("基本示例", arr([-2.0, -0.5, 0.0, 0.5, 2.0])),
        visible("二维输入", arr([[1.0, -1.0], [-3.0, 4.0]])),
        hidden("随机一维向量", r(1).normal(size=9)),
        hidden("随机二维矩阵", r(2).normal(size=(5, 4))),
        hidden("三维输入", r(3).normal(size=(2, 3, 4))),
        hidden("恰好为 0 的元素", with_zeros),
        hidden("全负输入", -r(6).uniform(0.1, 5, size=(3, 3))),
        hidden("全正输入", r(7).uniform(0.1, 5, size=(3, 3))),
        hidden("很大的数值", arr([-1e300, -1e10, 1e10, 1e300])),
        hidden("float32 输入", r(8).normal(size=(6, 5)).astype(F32)),
        hidden("较大的数组", r(9).normal(size=(100, 100))),
    ]


def leaky_relu() -> list[Case]:
    def r(k: int) -> np.random.Generator:
        return rng(3, k)

    with_zeros = r(5).normal(size=(3, 4))
    with_zeros[:, 1] = 0.0
    return [
        visible("默认 alpha", arr([-2.0, -1.0, 0.0, 1.0, 2.0])),
        visible("alpha=0.2", arr([[-1.0, 3.0], [-10.0, 0.5]]), alpha=0.2),
        hidden("默认 alpha 的随机向量", r(1).normal(0, 3, size=8)),
        hidden("alpha=0.1 的随机矩阵", r(2).normal(0, 3, size=(4, 5)), alpha=0.1),
        hidden("alpha 作为位置参数", r(3).normal(0, 3, size=(3, 3)), 0.3),
        hidden("三维输入", r(4).normal(size=(2, 3, 4)), alpha=0.05),
        hidden("恰好为 0 的元素", with_zeros, alpha=0.2),
        hidden("alpha=0 退化为 ReLU", r(6).normal(size=(4, 4)), alpha=0.0),
        hidden("alpha=1 恒等映射", r(7).normal(size=(4, 4)), alpha=1.0),
        hidden("alpha 大于 1", r(8).normal(size=(4, 4)), alpha=1.5),
        hidden("全负输入", -r(9).uniform(0.1, 5, size=(3, 3))),
        hidden("float32 输入", r(10).normal(size=(5, 5)).astype(F32), alpha=0.1),
    ]


def softmax() -> list[Case]:
    def r(k: int) -> np.random.Generator:
        return rng(4, k)

    big = r(6).normal(1000, 5, size=(3, 4))
    mixed = np.stack([r(8).normal(0, 1, size=5), r(9).normal(1000, 1, size=5)])
    # Each slice spans far more than exp's range in both directions, with its maximum in the
    # middle: only the slice maximum works as the shift (not the min, mean, median, first or
    # last element, nor a global constant).
    wide = arr(
        [
            [-1000.0, 1000.0, -1000.0, -1000.0, 0.0],
            [-1000.0, -500.0, 1000.0, 999.0, -1000.0],
            [0.0, -1000.0, 3.0, 2.0, 1.0],
        ]
    )
    return [
        visible("一维向量", arr([1.0, 2.0, 3.0])),
        visible("二维输入（按最后一轴）", arr([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])),
        visible("axis=0", arr([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), axis=0),
        hidden("随机一维向量", r(1).normal(0, 2, size=6)),
        hidden("随机二维矩阵", r(2).normal(0, 2, size=(4, 5))),
        hidden("随机矩阵 axis=0", r(3).normal(0, 2, size=(4, 3)), axis=0),
        hidden("随机矩阵 axis=1", r(4).normal(0, 2, size=(3, 5)), axis=1),
        hidden("三维输入（axis=-1）", r(5).normal(0, 2, size=(2, 3, 4))),
        hidden("三维输入（axis=1）", r(10).normal(0, 2, size=(2, 3, 4)), axis=1),
        hidden("大输入数值稳定性", big),
        hidden("全为很大的负数", r(7).normal(-1000, 5, size=(3, 4))),
        hidden("各行数值范围差异很大", mixed),
        hidden("全部相同的值", np.full((2, 5), 3.7)),
        hidden("长度为 1 的轴", r(11).normal(size=(4, 1))),
        hidden("float32 输入", r(12).normal(0, 3, size=(4, 6)).astype(F32)),
        hidden("每行跨越 ±1000", wide),
        hidden("每列跨越 ±1000（axis=0）", wide.T.copy(), axis=0),
    ]
