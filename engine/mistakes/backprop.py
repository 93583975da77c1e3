"""Known mistakes in the backpropagation drills: activations' backward, linear, CE, MLP."""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from engine import reference as ref
from engine.drills import SECTION_ACTIVATIONS, TOPIC_STRUCTURE
from engine.mistakes import mistake
from engine.reference import Array, Labels, Loss

MlpGrads: TypeAlias = tuple[Loss, Array, Array, Array, Array]  # (loss, dw1, db1, dw2, db2)

# ---- sigmoid_backward ----------------------------------------------------------------------


@mistake(
    "sigmoid_backward",
    "x_as_output",
    "把输入 x 当成了 sigmoid 的输出：用了 x(1 − x)",
    """σ'(x) = σ(x)(1 − σ(x)) 里的是 sigmoid 的输出。框架在前向时保存输出 s，反向直接用 s(1 − s)；
    本题给的是输入 x，要先算出 s = σ(x)。""",
)
def _sb_x_as_output(dout: Array, x: Array) -> Array:
    return dout * x * (1 - x)


@mistake(
    "sigmoid_backward",
    "no_dout",
    "漏乘上游梯度 dout：只返回了 σ'(x)",
    """链式法则：∂L/∂x = ∂L/∂out · ∂out/∂x。σ'(x) 只是局部导数，还要逐元素乘以传进来的 dout。""",
)
def _sb_no_dout(dout: Array, x: Array) -> Array:
    s = ref.sigmoid(x)
    return s * (1 - s)


@mistake(
    "sigmoid_backward",
    "unstable",
    "用 e^{−x} / (1 + e^{−x})² 计算导数：|x| 很大时得到 NaN",
    """这个式子在 x 很负时是 inf / inf = NaN。先用数值稳定的方式算出 s = σ(x)，
    再用 s(1 − s)：两个因子都在 [0, 1] 内，不会溢出，饱和区自然得到约 0。""",
)
def _sb_unstable(dout: Array, x: Array) -> Array:
    e = np.exp(-x)
    dx: Array = dout * e / (1 + e) ** 2
    return dx


@mistake(
    "sigmoid_backward",
    "sign",
    "导数的符号写反：用了 σ(x)(σ(x) − 1)",
    """σ 单调递增，导数处处为正：σ'(x) = σ(x)(1 − σ(x)) ≥ 0。检查括号里两项的顺序。""",
)
def _sb_sign(dout: Array, x: Array) -> Array:
    return -ref.sigmoid_backward(dout, x)


# ---- relu_backward -------------------------------------------------------------------------


@mistake(
    "relu_backward",
    "ge_zero",
    "条件写成 x >= 0：x 恰好为 0 处放过了梯度",
    """ReLU 在 0 处不可导，框架约定取次梯度 0（PyTorch 如此）。掩码要用严格的 x > 0，
    否则 x 恰好为 0 的位置会把 dout 传下去。""",
)
def _rb_ge_zero(dout: Array, x: Array) -> Array:
    return np.where(x >= 0, dout, 0)


@mistake(
    "relu_backward",
    "no_mask",
    "没有用掩码：直接把 dout 传了回去",
    """ReLU 的局部导数在 x ≤ 0 处为 0：这些位置的梯度必须被挡住，只有 x > 0 的位置让 dout 通过。""",
)
def _rb_no_mask(dout: Array, x: Array) -> Array:
    return dout.copy()


@mistake(
    "relu_backward",
    "mask_only",
    "只返回了掩码，漏乘上游梯度 dout",
    """(x > 0) 是 ReLU 的局部导数；链式法则还要把它逐元素乘上 dout。""",
)
def _rb_mask_only(dout: Array, x: Array) -> Array:
    return (x > 0).astype(dout.dtype)


@mistake(
    "relu_backward",
    "mask_by_dout",
    "掩码取自 dout 而不是前向输入 x",
    """梯度能否通过由前向时 ReLU 的输入 x 决定（x > 0 的位置导数为 1），与上游梯度的正负无关。""",
)
def _rb_mask_by_dout(dout: Array, x: Array) -> Array:
    return np.where(dout > 0, dout, 0)


@mistake(
    "relu_backward",
    "in_place",
    "在上游梯度 dout 上原地置 0",
    """数值是对的，但传入的 dout 被改掉了：在真实的网络里，同一个上游梯度可能还要传给别的分支。
    先复制，或用按条件选择的函数得到新数组。""",
    mutates=("dout",),
)
def _rb_in_place(dout: Array, x: Array) -> Array:
    return ref.relu_backward(dout, x)


# ---- linear_backward -----------------------------------------------------------------------


@mistake(
    "linear_backward",
    "db_mean",
    "db 用了平均而不是求和",
    """前向里 b 被广播到 batch 的每一行，每一行都对 b 有贡献，反向时要把这些贡献加起来。
    对 batch 取平均会让 db 小 N 倍（batch 为 1 时碰巧正确）。损失里的 1/N 已经在 dout 中了。""",
)
def _lb_db_mean(dout: Array, x: Array, w: Array, b: Array) -> tuple[Array, Array, Array]:
    dx, dw, _ = ref.linear_backward(dout, x, w, b)
    return dx, dw, dout.mean(axis=0)


@mistake(
    "linear_backward",
    "dw_transposed",
    "dw 转置了：算成了 dout.T · x",
    """梯度与参数同形：w 是 (D, M)，dw 也必须是 (D, M)。按形状对齐：(D, N) 乘 (N, M)，
    也就是输入的转置在左、上游梯度在右。""",
)
def _lb_dw_transposed(dout: Array, x: Array, w: Array, b: Array) -> tuple[Array, Array, Array]:
    dx, _, db = ref.linear_backward(dout, x, w, b)
    return dx, dout.T @ x, db


@mistake(
    "linear_backward",
    "db_not_summed",
    "db 没有沿 batch 求和：直接返回了 dout",
    """b 的形状是 (M,)，db 也必须是 (M,)。前向的广播在反向时变成沿 batch 维（第 0 轴）求和。""",
)
def _lb_db_not_summed(dout: Array, x: Array, w: Array, b: Array) -> tuple[Array, Array, Array]:
    dx, dw, _ = ref.linear_backward(dout, x, w, b)
    return dx, dw, dout.copy()


@mistake(
    "linear_backward",
    "db_wrong_axis",
    "db 沿错了轴求和（第 1 轴）",
    """db 要对 batch 中的样本求和，也就是第 0 轴，结果形状 (M,)；沿第 1 轴求和得到的是每个样本的
    梯度总和，形状 (N,)。""",
)
def _lb_db_wrong_axis(dout: Array, x: Array, w: Array, b: Array) -> tuple[Array, Array, Array]:
    dx, dw, _ = ref.linear_backward(dout, x, w, b)
    return dx, dw, dout.sum(axis=1)


@mistake(
    "linear_backward",
    "extra_mean",
    "dw 和 db 多除了一个 N",
    """这一层不知道损失是求和还是平均：dout 里已经包含了损失的缩放。dw = xᵀ·dout、
    db = Σ dout 都不需要再除以 batch 大小。""",
)
def _lb_extra_mean(dout: Array, x: Array, w: Array, b: Array) -> tuple[Array, Array, Array]:
    dx, dw, db = ref.linear_backward(dout, x, w, b)
    n = x.shape[0]
    return dx, dw / n, db / n


# ---- softmax_cross_entropy -----------------------------------------------------------------


def _probs(logits: Array) -> Array:
    return ref.softmax(logits, axis=1)


def _rows(labels: Labels) -> npt.NDArray[np.intp]:
    return np.arange(labels.shape[0])


@mistake(
    "softmax_cross_entropy",
    "log_of_probs",
    "对 softmax 的结果取 log：概率下溢为 0 时损失变成 inf",
    """正确类别的 logit 比最大值小很多（例如 1000）时，它的概率下溢为 0，log(0) = −inf。
    直接计算 log-softmax：log p = (z − max) − log Σ e^{z − max}，整个过程不对 0 取对数。""",
    topic=TOPIC_STRUCTURE,
    section=SECTION_ACTIVATIONS,
)
def _ce_log_of_probs(logits: Array, labels: Labels) -> tuple[Loss, Array]:
    p = _probs(logits)
    loss = -np.mean(np.log(p[_rows(labels), labels]))
    return loss, ref.softmax_cross_entropy(logits, labels)[1]


@mistake(
    "softmax_cross_entropy",
    "log_eps",
    "log(p + 1e-12)：避开了 inf，但损失被截断",
    """加一个小常数避免了 log(0)，但极度自信的错误预测的损失本应很大（约等于 logit 的差），
    却被截断在 −log(1e−12) ≈ 27.6。用 log-softmax 直接算，既稳定又精确。""",
    topic=TOPIC_STRUCTURE,
    section=SECTION_ACTIVATIONS,
)
def _ce_log_eps(logits: Array, labels: Labels) -> tuple[Loss, Array]:
    p = _probs(logits)
    loss = -np.mean(np.log(p[_rows(labels), labels] + 1e-12))
    return loss, ref.softmax_cross_entropy(logits, labels)[1]


@mistake(
    "softmax_cross_entropy",
    "sum_not_mean",
    "损失和梯度都对 batch 求和，而不是平均",
    """题目与 PyTorch 的 reduction="mean" 一致：损失是 N 个样本的平均，梯度也随之带 1/N。
    求和会让两者都大 N 倍（batch 为 1 时碰巧正确）。""",
)
def _ce_sum(logits: Array, labels: Labels) -> tuple[Loss, Array]:
    loss, grad = ref.softmax_cross_entropy(logits, labels)
    n = logits.shape[0]
    return loss * n, grad * n


@mistake(
    "softmax_cross_entropy",
    "grad_not_divided",
    "梯度漏了 1/N：损失取了平均，梯度却没有",
    """损失是平均值，它对每个 logit 的导数也带着 1/N：(softmax − onehot) / N。
    损失和梯度要用同一种归约。""",
)
def _ce_grad_not_divided(logits: Array, labels: Labels) -> tuple[Loss, Array]:
    loss, grad = ref.softmax_cross_entropy(logits, labels)
    return loss, grad * logits.shape[0]


@mistake(
    "softmax_cross_entropy",
    "no_onehot",
    "梯度忘了减去 one-hot",
    """∂L/∂z = (softmax(z) − onehot(y)) / N：正确类别的位置要减 1。只返回 softmax / N
    相当于忽略了标签。""",
)
def _ce_no_onehot(logits: Array, labels: Labels) -> tuple[Loss, Array]:
    loss, _ = ref.softmax_cross_entropy(logits, labels)
    return loss, _probs(logits) / logits.shape[0]


@mistake(
    "softmax_cross_entropy",
    "column_index",
    "用 [:, labels] 减 1：选中的是整列而不是每行一个元素",
    """`[:, labels]` 是每一行都取 labels 列出的所有列；要每个样本只取自己的正确类别，
    行下标和列下标要成对给出：行是 0…N−1，列是 labels。""",
)
def _ce_column_index(logits: Array, labels: Labels) -> tuple[Loss, Array]:
    loss, _ = ref.softmax_cross_entropy(logits, labels)
    grad = _probs(logits)
    grad[:, labels] -= 1
    return loss, grad / logits.shape[0]


@mistake(
    "softmax_cross_entropy",
    "no_shift",
    "softmax 没有减去每行最大值：大 logits 时得到 NaN",
    """e^{1000} 溢出为 inf，inf / inf 得到 NaN。先减去每行最大值（结果不变），再做指数和对数。""",
    topic=TOPIC_STRUCTURE,
    section=SECTION_ACTIVATIONS,
)
def _ce_no_shift(logits: Array, labels: Labels) -> tuple[Loss, Array]:
    e = np.exp(logits)
    p = e / e.sum(axis=1, keepdims=True)
    rows = _rows(labels)
    loss = -np.mean(np.log(p[rows, labels]))
    grad = p.copy()
    grad[rows, labels] -= 1
    return loss, grad / logits.shape[0]


# ---- mlp_backward --------------------------------------------------------------------------


def _mlp(
    x: Array,
    labels: Labels,
    w1: Array,
    b1: Array,
    w2: Array,
    b2: Array,
    *,
    mask: str = ">",
    scale: float = 1.0,
    bias: str = "sum",
    transpose: bool = False,
) -> MlpGrads:
    """The reference backward pass with one deliberate change (see the entries below)."""
    h_pre = x @ w1 + b1
    h = np.maximum(h_pre, 0)
    loss, dlogits = ref.softmax_cross_entropy(h @ w2 + b2, labels)
    dlogits = dlogits * scale
    reduce = np.sum if bias == "sum" else np.mean
    dw2 = dlogits.T @ h if transpose else h.T @ dlogits
    db2 = reduce(dlogits, axis=0)
    dh = dlogits @ w2.T
    if mask == ">":
        dh_pre = dh * (h_pre > 0)
    elif mask == ">=":
        dh_pre = dh * (h_pre >= 0)
    else:
        dh_pre = dh
    dw1 = dh_pre.T @ x if transpose else x.T @ dh_pre
    db1 = reduce(dh_pre, axis=0)
    return loss, dw1, db1, dw2, db2


@mistake(
    "mlp_backward",
    "relu_mask_ge",
    "ReLU 掩码用了 h_pre >= 0：预激活恰为 0 处放过了梯度",
    """ReLU 在 0 处的次梯度按约定取 0：掩码要用严格的大于号。预激活恰为 0 的隐藏单元
    （例如权重列和偏置都为 0）不应传回梯度。""",
)
def _mlp_ge(x: Array, labels: Labels, w1: Array, b1: Array, w2: Array, b2: Array) -> MlpGrads:
    return _mlp(x, labels, w1, b1, w2, b2, mask=">=")


@mistake(
    "mlp_backward",
    "no_relu_mask",
    "反向经过 ReLU 时没有乘掩码",
    """梯度从输出层传回隐藏层后，要先经过 ReLU 的导数：预激活 ≤ 0 的单元梯度为 0。
    漏掉掩码等于把 ReLU 当成了恒等函数。""",
)
def _mlp_no_mask(x: Array, labels: Labels, w1: Array, b1: Array, w2: Array, b2: Array) -> MlpGrads:
    return _mlp(x, labels, w1, b1, w2, b2, mask="none")


@mistake(
    "mlp_backward",
    "extra_mean",
    "各层梯度又除了一次 N",
    """dlogits = (softmax − onehot) / N 已经包含了平均；之后每一层只做链式法则，
    不要在 dw、db 上再除以 batch 大小。""",
)
def _mlp_extra(x: Array, labels: Labels, w1: Array, b1: Array, w2: Array, b2: Array) -> MlpGrads:
    return _mlp(x, labels, w1, b1, w2, b2, scale=1 / x.shape[0])


@mistake(
    "mlp_backward",
    "no_mean",
    "dlogits 没有除以 N：梯度是损失求和的梯度",
    """损失是 batch 的平均，所以 dlogits = (softmax − onehot) / N；漏掉 1/N，
    所有梯度都大 N 倍（batch 为 1 时碰巧正确）。""",
)
def _mlp_no_mean(x: Array, labels: Labels, w1: Array, b1: Array, w2: Array, b2: Array) -> MlpGrads:
    return _mlp(x, labels, w1, b1, w2, b2, scale=float(x.shape[0]))


@mistake(
    "mlp_backward",
    "bias_mean",
    "偏置梯度 db1、db2 用了平均而不是求和",
    """偏置被广播到 batch 的每个样本上，反向时要把每个样本的贡献加起来。再取平均会小 N 倍。""",
)
def _mlp_bias_mean(
    x: Array, labels: Labels, w1: Array, b1: Array, w2: Array, b2: Array
) -> MlpGrads:
    return _mlp(x, labels, w1, b1, w2, b2, bias="mean")


@mistake(
    "mlp_backward",
    "dw_transposed",
    "dw1、dw2 转置了",
    """梯度与参数同形：w1 是 (D, H)，dw1 也是 (D, H)。按形状对齐：前一层的输出转置在左、
    本层的上游梯度在右。""",
)
def _mlp_transposed(
    x: Array, labels: Labels, w1: Array, b1: Array, w2: Array, b2: Array
) -> MlpGrads:
    return _mlp(x, labels, w1, b1, w2, b2, transpose=True)


@mistake(
    "mlp_backward",
    "log_of_probs",
    "损失用 softmax 再取 log：logits 很大时不稳定",
    """logits 的差距很大时，正确类别的概率下溢为 0，log(0) = −inf；不减最大值时更会 inf / inf。
    用 log-sum-exp 直接算 log-softmax。""",
    topic=TOPIC_STRUCTURE,
    section=SECTION_ACTIVATIONS,
)
def _mlp_log_probs(
    x: Array, labels: Labels, w1: Array, b1: Array, w2: Array, b2: Array
) -> MlpGrads:
    _, dw1, db1, dw2, db2 = _mlp(x, labels, w1, b1, w2, b2)
    logits = np.maximum(x @ w1 + b1, 0) @ w2 + b2
    p = ref.softmax(logits, axis=1)
    loss: Loss = -np.mean(np.log(p[np.arange(x.shape[0]), labels]))
    return loss, dw1, db1, dw2, db2
