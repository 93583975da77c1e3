"""Known mistakes in the activation drills: sigmoid, relu, leaky_relu, softmax."""

from __future__ import annotations

import numpy as np

from engine import reference as ref
from engine.mistakes import mistake
from engine.reference import Array

# ---- sigmoid -------------------------------------------------------------------------------


@mistake(
    "sigmoid",
    "exp_ratio",
    "写成 e^x / (1 + e^x)：x 很大时得到 NaN",
    """数学上等价，但 x 超过约 709 时 e^x 溢出为 inf，inf / inf 得到 NaN。让指数的参数永远不为正：
    按 x 的符号分两种情形，都用 e^{-|x|} 表示，分子分母就都落在有限范围内。""",
)
def _sigmoid_exp_ratio(x: Array) -> Array:
    e = np.exp(x)
    out: Array = e / (1 + e)
    return out


@mistake(
    "sigmoid",
    "sign",
    "指数的符号写反：算成了 σ(−x)",
    """σ(x) = 1 / (1 + e^{−x})，分母里是 e 的负 x 次方。写成 e^{x} 得到的是 1 − σ(x) = σ(−x)：
    x = 0 处恰好都是 0.5，其余位置左右对调（x 越大结果越小）。""",
)
def _sigmoid_sign(x: Array) -> Array:
    return ref.sigmoid(-x)


@mistake(
    "sigmoid",
    "one_minus",
    "负半轴用 1 − 1/(1 + e^x) 计算：尾部的有效数字被抵消",
    """x 很负时 σ(x) 极小（σ(−30) ≈ 9.4e−14），而“1 减去一个非常接近 1 的数”会把有效数字相减抵消，
    只剩舍入误差甚至 0。负半轴请用不做减法的等价形式：e^{x} / (1 + e^{x})，它在尾部保持相对精度。""",
)
def _sigmoid_one_minus(x: Array) -> Array:
    return 1 - 1 / (1 + np.exp(x))


@mistake(
    "sigmoid",
    "tanh_form",
    "用 (1 + tanh(x/2)) / 2 计算：负半轴尾部精度丢失",
    """恒等式 σ(x) = (1 + tanh(x/2)) / 2 正确，但 x 很负时 tanh(x/2) 非常接近 −1，1 + tanh 把有效数字
    抵消掉，得到 0 或只有舍入误差的值，相对误差很大。负半轴请用 e^{x} / (1 + e^{x})。""",
)
def _sigmoid_tanh(x: Array) -> Array:
    return (1 + np.tanh(x / 2)) / 2


@mistake(
    "sigmoid",
    "in_place",
    "把结果写回了输入数组 x",
    """数值是对的，但调用方传入的 x 被改掉了（原地赋值、`out=` 参数或 `x[...] = ...`）。
    在网络里，前向输入常常还要留给反向传播使用；请返回一个新数组。""",
    mutates=("x",),
)
def _sigmoid_in_place(x: Array) -> Array:
    return ref.sigmoid(x)


# ---- relu ----------------------------------------------------------------------------------


@mistake(
    "relu",
    "in_place",
    "把输入 x 中的负数原地置 0",
    """数值是对的，但通过布尔索引赋值改掉了调用方的 x。反向传播需要前向的输入，原地修改会悄悄破坏它。
    先复制一份，或者用逐元素取较大值的函数直接得到新数组。""",
    mutates=("x",),
)
def _relu_in_place(x: Array) -> Array:
    return ref.relu(x)


@mistake(
    "relu",
    "mask",
    "返回了掩码 x > 0，而不是 ReLU 的值",
    """`x > 0` 只说明哪些位置为正（相当于 ReLU 的导数），ReLU 要的是这些位置上的 x 本身，其余为 0。
    用掩码乘以 x，或逐元素与 0 取较大值。""",
)
def _relu_mask(x: Array) -> Array:
    return (x > 0).astype(x.dtype)


@mistake(
    "relu",
    "np_max",
    "用了 np.max(x, 0)：沿第 0 轴做了归约",
    """np.max 的第二个参数是 axis：它沿第 0 轴求最大值，把数组变小（一维输入变成一个数），
    而不是逐元素和 0 比较。逐元素取两者较大值的是另一个函数（名字多一个字母）。""",
)
def _relu_np_max(x: Array) -> Array:
    out: Array = np.max(x, 0)
    return out


@mistake(
    "relu",
    "leaky",
    "负半轴保留了 0.01 的斜率：这是 Leaky ReLU",
    """ReLU 在 x ≤ 0 时输出恰好为 0；乘上一个小斜率是 Leaky ReLU 的定义（用来缓解“死亡 ReLU”）。""",
)
def _relu_leaky(x: Array) -> Array:
    return np.where(x > 0, x, 0.01 * x)


# ---- leaky_relu ----------------------------------------------------------------------------


@mistake(
    "leaky_relu",
    "max_form",
    "用 max(αx, x)：α > 1 时不成立",
    """max(αx, x) 只在 0 ≤ α ≤ 1 时等于分段定义；α > 1 时它在正半轴取到 αx、在负半轴取到 x，
    两边都错。题目允许任意非负 α（和 PyTorch 的 negative_slope 一样），请按 x > 0 的条件分段选择。""",
)
def _leaky_max_form(x: Array, alpha: float = 0.01) -> Array:
    return np.maximum(alpha * x, x)


@mistake(
    "leaky_relu",
    "fixed_alpha",
    "把斜率写死成 0.01，忽略了参数 alpha",
    """默认值 0.01 只在调用方不传 alpha 时生效；测试会以位置参数或关键字参数传入别的斜率。
    负半轴要乘以参数 alpha。""",
)
def _leaky_fixed_alpha(x: Array, alpha: float = 0.01) -> Array:
    return np.where(x > 0, x, 0.01 * x)


@mistake(
    "leaky_relu",
    "plain_relu",
    "负半轴输出了 0：这是普通的 ReLU",
    """Leaky ReLU 在 x ≤ 0 时输出 αx 而不是 0，正是这个小斜率让负输入的神经元仍有梯度，不会“死亡”。""",
)
def _leaky_plain_relu(x: Array, alpha: float = 0.01) -> Array:
    return np.maximum(x, 0)


@mistake(
    "leaky_relu",
    "swapped",
    "两个分支写反：正半轴乘了 α",
    """应当是 x > 0 时原样输出 x，x ≤ 0 时输出 αx。检查条件为真、为假时各自取的值。""",
)
def _leaky_swapped(x: Array, alpha: float = 0.01) -> Array:
    return np.where(x > 0, alpha * x, x)


@mistake(
    "leaky_relu",
    "in_place",
    "在输入数组 x 上原地乘了 α",
    """数值是对的，但调用方的 x 被改掉了。请返回新数组（先复制，或用按条件选择的函数）。""",
    mutates=("x",),
)
def _leaky_in_place(x: Array, alpha: float = 0.01) -> Array:
    return ref.leaky_relu(x, alpha)


# ---- softmax -------------------------------------------------------------------------------


def _normalise(e: Array, axis: int) -> Array:
    probs: Array = e / np.sum(e, axis=axis, keepdims=True)
    return probs


@mistake(
    "softmax",
    "no_shift",
    "没有先减去最大值：大输入时 exp 溢出",
    """e^{1000} 超出 float64 的范围变成 inf，inf / inf 得到 NaN；全是很大负数时 e^x 全部下溢为 0，
    得到 0 / 0。同时减去一个常数不改变 softmax，减去每组的最大值后指数的参数都 ≤ 0，最大的一项恰好是 1。""",
)
def _softmax_no_shift(x: Array, axis: int = -1) -> Array:
    return _normalise(np.exp(x), axis)


@mistake(
    "softmax",
    "global_max",
    "减去的是整个数组的最大值，而不是每组各自的最大值",
    """全局最大值只对一维输入没问题。某一行（或列）的数值比最大的那组小很多时，它减去全局最大值后
    全部下溢为 0，得到 0 / 0。最大值要沿 axis 分别取，并保留维度以便广播。""",
)
def _softmax_global_max(x: Array, axis: int = -1) -> Array:
    return _normalise(np.exp(x - np.max(x)), axis)


@mistake(
    "softmax",
    "shift_min",
    "减去的是每组的最小值：跨度很大的切片仍会溢出",
    """减去任何常数结果都不变，但只有减去最大值才保证指数的参数都 ≤ 0。减去最小值后，
    一组里同时有 −1000 和 1000 时参数达到 2000，e^2000 溢出为 inf。""",
)
def _softmax_shift_min(x: Array, axis: int = -1) -> Array:
    return _normalise(np.exp(x - np.min(x, axis=axis, keepdims=True)), axis)


@mistake(
    "softmax",
    "shift_mean",
    "减去的是每组的均值：跨度很大的切片仍会溢出",
    """减去均值只把数值挪到 0 附近，并不保证最大的一项 ≤ 0：一组里有 1000 和许多 −1000 时，
    1000 减去均值仍远超 709，e^x 溢出为 inf。只有减去每组的最大值才安全。""",
)
def _softmax_shift_mean(x: Array, axis: int = -1) -> Array:
    return _normalise(np.exp(x - np.mean(x, axis=axis, keepdims=True)), axis)


@mistake(
    "softmax",
    "last_axis",
    "忽略了参数 axis，总是沿最后一轴归一化",
    """测试会传入 axis=0 或三维输入的 axis=1。求最大值和求和都要沿调用方给的 axis 进行，
    并用 keepdims=True 保留维度，才能与原数组广播。""",
)
def _softmax_last_axis(x: Array, axis: int = -1) -> Array:
    return ref.softmax(x, axis=-1)


@mistake(
    "softmax",
    "whole_sum",
    "分母是整个数组的和，而不是沿 axis 的和",
    """softmax 让沿 axis 的每一组各自和为 1。对整个数组求和只在一维输入时正确；
    二维输入时所有元素加起来才是 1。求和也要指定 axis 并保留维度。""",
)
def _softmax_whole_sum(x: Array, axis: int = -1) -> Array:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    probs: Array = e / np.sum(e)
    return probs
