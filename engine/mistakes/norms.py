"""Known mistakes in the normalisation drills: batch norm and layer norm, forward and backward."""

from __future__ import annotations

import functools
from typing import TypedDict, Unpack

import numpy as np

from engine import reference as ref
from engine.mistakes import mistake, variant
from engine.reference import Array


def _one_pass_var(x: Array, axis: int) -> Array:
    mean_of_squares: Array = np.mean(x**2, axis=axis, keepdims=True)
    mean: Array = np.mean(x, axis=axis, keepdims=True)
    return mean_of_squares - mean**2


def _normalise(
    x: Array, axis: int, *, ddof: int = 0, eps: float = 1e-5, where: str = "in"
) -> Array:
    mean: Array = x.mean(axis=axis, keepdims=True)
    if where == "one_pass":
        return (x - mean) / np.sqrt(_one_pass_var(x, axis) + eps)
    var: Array = x.var(axis=axis, keepdims=True, ddof=ddof)
    if where == "out":
        return (x - mean) / (np.sqrt(var) + eps)
    return (x - mean) / np.sqrt(var + eps)


# ---- batchnorm_forward ---------------------------------------------------------------------


def _bn(
    x: Array,
    gamma: Array,
    beta: Array,
    running_mean: Array,
    running_var: Array,
    momentum: float = 0.1,
    eps: float = 1e-5,
    training: bool = True,
    *,
    ddof: int = 0,
    where: str = "in",
    running_ddof: int = 1,
    keras_momentum: bool = False,
    axis: int = 0,
    eval_batch: bool = False,
) -> tuple[Array, Array, Array]:
    if not training and not eval_batch:
        return ref.batchnorm_forward(
            x, gamma, beta, running_mean, running_var, momentum, eps, False
        )
    out = gamma * _normalise(x, axis, ddof=ddof, eps=eps, where=where) + beta
    if not training:
        return out, running_mean.copy(), running_var.copy()
    mean = x.mean(axis=0)
    n = x.shape[0]
    if where == "one_pass":  # the same shortcut for the running estimate
        var = _one_pass_var(x, 0)[0] * (n / (n - running_ddof))
    else:
        var = x.var(axis=0, ddof=running_ddof)
    keep = momentum if keras_momentum else 1 - momentum
    return out, keep * running_mean + (1 - keep) * mean, keep * running_var + (1 - keep) * var


class _BnSlip(TypedDict, total=False):
    """What one batchnorm_forward mistake changes in `_bn`."""

    ddof: int
    where: str
    running_ddof: int
    keras_momentum: bool
    axis: int
    eval_batch: bool


def _bn_entry(key: str, title: str, explanation: str, **slip: Unpack[_BnSlip]) -> None:
    mistake("batchnorm_forward", key, title, explanation)(functools.partial(_bn, **slip))


_bn_entry(
    "unbiased_norm",
    "归一化用了无偏方差（除以 N − 1）",
    """训练时的归一化用 batch 的有偏方差（除以 N），与 PyTorch 一致；无偏方差只用于更新
    running_var。两处各用各的，是 BN 最常被追问的细节之一。""",
    ddof=1,
)
_bn_entry(
    "biased_running",
    "running_var 用了有偏方差",
    """PyTorch 在更新 running_var 时用的是无偏估计 N/(N−1)·σ²_B（它估计总体方差），
    而归一化本身用有偏方差。更新滑动统计量时要乘上这个修正因子。""",
    running_ddof=0,
)
_bn_entry(
    "momentum_swapped",
    "momentum 的约定反了：新值的权重成了 1 − momentum",
    """PyTorch 的约定是 running ← (1 − m)·running + m·batch：momentum 是“新观测值”的权重
    （默认 0.1）。Keras / TensorFlow 的 momentum 则是旧值的权重（默认 0.99），两者正好相反。""",
    keras_momentum=True,
)
_bn_entry(
    "eps_outside_sqrt",
    "ε 加在了根号外：(x − μ) / (σ + ε)",
    """ε 应该加在方差上、开根号之前：√(σ² + ε)。放在根号外时差别看起来只是第 6 位小数，
    但它超出容差，而且方差很小时差别会变得明显。""",
    where="out",
)


@variant("batchnorm_forward.eps_outside_sqrt")
def _bn_eps_outside_everywhere(
    x: Array,
    gamma: Array,
    beta: Array,
    running_mean: Array,
    running_var: Array,
    momentum: float = 0.1,
    eps: float = 1e-5,
    training: bool = True,
) -> tuple[Array, Array, Array]:
    """The same slip in the eval branch too."""
    if training:
        return _bn(x, gamma, beta, running_mean, running_var, momentum, eps, True, where="out")
    out = gamma * (x - running_mean) / (np.sqrt(running_var) + eps) + beta
    return out, running_mean.copy(), running_var.copy()


_bn_entry(
    "eval_batch_stats",
    "eval 模式仍然用当前 batch 的统计量",
    """推理时 batch 可能只有一个样本，统计量没有意义；eval 模式要用累积的 running_mean、
    running_var 来归一化，并且不更新它们。""",
    eval_batch=True,
)
_bn_entry(
    "feature_axis",
    "沿特征维（第 1 轴）求了统计量：这是 Layer Norm",
    """BN 对每个特征在 batch 上统计（沿第 0 轴），LN 对每个样本在特征上统计（沿最后一轴）。
    两者的区别就在统计的轴。""",
    axis=1,
)
_bn_entry(
    "one_pass_var",
    "用 E[x²] − E[x]² 计算方差：float32 下精度崩溃",
    """单遍公式在数学上正确，但均值远大于标准差时，两个很大且几乎相等的数相减，有效数字被抵消；
    float32 只有约 7 位有效数字，结果可能完全错误甚至为负。先减去均值再平方（两遍法）就没有这个问题。""",
    where="one_pass",
)


# The values are the reference's: the diagnosis recognises this one by the mutation alone.
mistake(
    "batchnorm_forward",
    "in_place_running",
    "原地更新了传入的 running_mean / running_var",
    """PyTorch 的 buffer 确实是原地更新的，但本题要求返回新数组、不修改调用方的输入：
    在函数式的写法里，输入数组可能还被别处使用。先计算新值，再返回。""",
    mutates=("running_mean", "running_var"),
)(ref.batchnorm_forward)


# ---- batchnorm_backward / layernorm_backward -------------------------------------------------


class _BackwardSlip(TypedDict, total=False):
    """What one batch/layer norm backward mistake changes in `_norm_backward`."""

    paths: str
    ddof: int
    gamma_in_dx: bool
    dgamma_from_x: bool


def _norm_backward(
    dout: Array,
    x: Array,
    gamma: Array,
    eps: float = 1e-5,
    *,
    axis: int,
    paths: str = "both",
    ddof: int = 0,
    gamma_in_dx: bool = True,
    dgamma_from_x: bool = False,
) -> tuple[Array, Array]:
    """dx and xhat, with one of the usual slips (see the entries)."""
    var = x.var(axis=axis, keepdims=True, ddof=ddof)
    inv_std = 1 / np.sqrt(var + eps)
    xhat = (x - x.mean(axis=axis, keepdims=True)) * inv_std
    dxhat = dout * gamma if gamma_in_dx else dout
    m = x.shape[axis]
    mean_term = dxhat.sum(axis=axis, keepdims=True) if paths in ("both", "mean") else 0
    var_term = (
        xhat * (dxhat * xhat).sum(axis=axis, keepdims=True) if paths in ("both", "var") else 0
    )
    dx = inv_std / m * (m * dxhat - mean_term - var_term)
    return dx, (x if dgamma_from_x else xhat)


def _backward_entries(drill: str, axis: int, reduce: str) -> None:
    """The mistakes BN and LN backward share; `reduce` names the parameter-gradient axes."""

    def params(dout: Array, xhat: Array) -> tuple[Array, Array]:
        d = dout.shape[-1]
        return (dout * xhat).reshape(-1, d).sum(axis=0), dout.reshape(-1, d).sum(axis=0)

    def entry(
        key: str, title: str, explanation: str, swap: bool = False, **slip: Unpack[_BackwardSlip]
    ) -> None:
        def compute(
            dout: Array, x: Array, gamma: Array, eps: float = 1e-5
        ) -> tuple[Array, Array, Array]:
            dx, xhat = _norm_backward(dout, x, gamma, eps, axis=axis, **slip)
            dgamma, dbeta = params(dout, xhat)
            return (dx, dbeta, dgamma) if swap else (dx, dgamma, dbeta)

        mistake(drill, key, title, explanation)(compute)

    entry(
        "no_stat_paths",
        "dx 只写了 dout·γ / √(σ² + ε)：漏掉了均值和方差对 x 的依赖",
        f"""μ 和 σ² 都是 x 的函数，梯度还要经过它们传回 x。完整的结果在 dout·γ/√(σ²+ε) 的基础上
        减去两项：{reduce}上的平均梯度（均值路径），以及 x̂ 乘以 x̂ 与梯度乘积的平均（方差路径）。
        一个检验：dout 为常数时 dx 应为 0。""",
        paths="none",
    )
    entry(
        "no_var_path",
        "dx 漏掉了经过方差的那一项",
        """减去平均梯度只处理了均值对 x 的依赖；σ² 也依赖 x，还要减去 x̂ 乘以“x̂ 与梯度乘积的平均”。
        直观地说：归一化后的方差恒为 1，dx 中沿 x̂ 方向的分量要被投影掉。""",
        paths="mean",
    )
    entry(
        "no_mean_path",
        "dx 漏掉了经过均值的那一项",
        """σ² 的路径处理了，但 μ 也依赖 x：还要减去梯度沿统计轴的平均值。归一化后的均值恒为 0，
        所以 dx 中“整体平移”的分量必须被投影掉。""",
        paths="var",
    )
    entry(
        "swapped_params",
        "dgamma 与 dbeta 写反了",
        """out = γ·x̂ + β：β 的梯度是 dout 的和，γ 的梯度是 dout·x̂ 的和。检查返回的顺序。""",
        swap=True,
    )
    entry(
        "unbiased",
        "用了无偏方差（除以 N − 1）",
        """前向归一化用的是有偏方差（除以统计的元素个数），反向必须对同一个函数求导。""",
        ddof=1,
    )
    entry(
        "gamma_missing",
        "dx 漏乘 γ",
        """out = γ·x̂ + β，所以传到 x̂ 的梯度是 dout·γ；后面的公式都作用在它上面。""",
        gamma_in_dx=False,
    )
    entry(
        "dgamma_uses_x",
        "dgamma 用了 x 而不是归一化后的 x̂",
        """γ 乘的是 x̂，所以 dgamma = Σ dout·x̂；用原始的 x 会带上均值和尺度。""",
        dgamma_from_x=True,
    )


_backward_entries("batchnorm_backward", 0, "batch 维")
_backward_entries("layernorm_backward", -1, "特征维")


@mistake(
    "batchnorm_backward",
    "param_grads_wrong_axis",
    "dgamma、dbeta 沿第 1 轴求和",
    """γ、β 的形状是 (D,)：每个特征一个参数，被 batch 中所有样本共享，梯度要对样本（第 0 轴）求和。""",
)
def _bnb_param_axis(
    dout: Array, x: Array, gamma: Array, eps: float = 1e-5
) -> tuple[Array, Array, Array]:
    dx, dgamma, dbeta = ref.batchnorm_backward(dout, x, gamma, eps)
    xhat = _normalise(x, 0, eps=eps)
    return dx, (dout * xhat).sum(axis=1), dout.sum(axis=1)


@mistake(
    "layernorm_backward",
    "param_grads_axis0",
    "dgamma、dbeta 只对第 0 轴求和：三维输入时形状错了",
    """γ、β 被所有样本、所有位置共享：梯度要对除最后一轴以外的所有轴求和。对 (B, T, D) 的输入只沿
    第 0 轴求和会得到 (T, D)。把前面的轴合并成一维再求和，就能处理任意秩。""",
)
def _lnb_param_axis0(
    dout: Array, x: Array, gamma: Array, eps: float = 1e-5
) -> tuple[Array, Array, Array]:
    dx, _, _ = ref.layernorm_backward(dout, x, gamma, eps)
    xhat = _normalise(x, -1, eps=eps)
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


# ---- layernorm_forward ---------------------------------------------------------------------


def _ln_entry(
    key: str,
    title: str,
    explanation: str,
    *,
    axis: int = -1,
    ddof: int = 0,
    where: str = "in",
    affine: bool = True,
    flatten: bool = False,
) -> None:
    def compute(x: Array, gamma: Array, beta: Array, eps: float = 1e-5) -> Array:
        if not affine:
            return _normalise(x, -1, eps=eps)
        if flatten:
            flat = x.reshape(x.shape[0], -1)
            return gamma * _normalise(flat, -1, eps=eps).reshape(x.shape) + beta
        return gamma * _normalise(x, axis, ddof=ddof, where=where, eps=eps) + beta

    mistake("layernorm_forward", key, title, explanation)(compute)


_ln_entry(
    "batch_axis",
    "沿第 0 轴（batch 维）统计：这是 Batch Norm",
    """LN 对每个样本独立地在特征维（最后一轴）上求均值和方差，所以与 batch 大小无关；
    沿第 0 轴统计的是 BN。""",
    axis=0,
)
_ln_entry(
    "axis_one",
    "统计轴写死成第 1 轴：三维以上的输入错了",
    """对 (N, D) 的输入，第 1 轴恰好是最后一轴；但 (B, T, D) 的特征维是第 2 轴。
    LN 总是在最后一轴上统计，用负数下标表示它，才能处理任意秩的输入。""",
    axis=1,
)
_ln_entry(
    "unbiased",
    "用了无偏方差（除以 D − 1）",
    """与 PyTorch 一致，LN 用有偏方差（除以特征数 D）。""",
    ddof=1,
)
_ln_entry(
    "eps_outside_sqrt",
    "ε 加在了根号外：(x − μ) / (σ + ε)",
    """ε 应该加在方差上、开根号之前：√(σ² + ε)。差别看起来只是小数点后第 6 位，但超出了容差；
    方差很小的行上差别更明显。""",
    where="out",
)
_ln_entry(
    "no_affine",
    "忘了乘 γ、加 β",
    """归一化之后还有逐特征的仿射变换 γ·x̂ + β，让网络能恢复需要的尺度和偏移。""",
    affine=False,
)
_ln_entry(
    "all_but_batch",
    "对除第 0 轴外的所有轴一起归一化",
    """torch.nn.LayerNorm(D) 只在最后一轴上统计：(B, T, D) 的输入里每个位置 t 各自归一化，
    而不是把整个 (T, D) 平面当成一组。""",
    flatten=True,
)
_ln_entry(
    "one_pass_var",
    "用 E[x²] − E[x]² 计算方差：float32 下精度崩溃",
    """均值远大于标准差时，两个很大且几乎相等的数相减，有效数字被抵消；float32 只有约 7 位有效数字。
    先减去均值再平方（两遍法）才稳定。""",
    where="one_pass",
)
