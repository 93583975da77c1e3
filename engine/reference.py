"""Vectorised NumPy reference implementations of every drill, forward and backward.

These run only in the trusted process. They follow PyTorch's conventions where a choice exists
(the output dtype follows the input dtype, the gradient of ReLU at exactly 0 is 0, BatchNorm's
running variance uses the unbiased batch variance). Every function is written so that it never
emits a NumPy warning, whatever the input: stable formulas, not `np.errstate` to hide overflow.
Python scalars (alpha, eps, momentum) are "weak" under NumPy 2 promotion rules, so float32 inputs
stay float32 all the way through.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

# Typed as float64; float32 arrays flow through the same code, the output dtype following the
# input's (numpy's stubs cannot do arithmetic on the abstract np.floating).
Array: TypeAlias = npt.NDArray[np.float64]
Labels: TypeAlias = npt.NDArray[np.integer[Any]]  # class indices, one per sample
Loss: TypeAlias = np.floating[Any]  # a NumPy scalar of the input's precision

# ---------------------------------------------------------------------------------------------
# Activations (神经网络结构 / 激活函数)
# ---------------------------------------------------------------------------------------------


def sigmoid(x: Array) -> Array:
    """Logistic function, finite and correct for any finite input."""
    # exp(-|x|) lies in (0, 1], so it can neither overflow nor turn 1 + z into inf.
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))


def relu(x: Array) -> Array:
    """max(0, x), elementwise."""
    return np.maximum(x, 0)


def leaky_relu(x: Array, alpha: float = 0.01) -> Array:
    """x where x > 0, else alpha * x (valid for any alpha, unlike max(alpha * x, x))."""
    return np.where(x > 0, x, alpha * x)


def softmax(x: Array, axis: int = -1) -> Array:
    """Probabilities along `axis`; the per-slice maximum is subtracted so exp cannot overflow."""
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    probs: Array = e / np.sum(e, axis=axis, keepdims=True)
    return probs


def log_softmax(x: Array, axis: int = -1) -> Array:
    """log(softmax(x)) without ever taking the log of an underflowed 0."""
    shifted = x - np.max(x, axis=axis, keepdims=True)
    log_probs: Array = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return log_probs


# ---------------------------------------------------------------------------------------------
# Backpropagation (反向传播与梯度计算 / 反向传播)
# ---------------------------------------------------------------------------------------------


def sigmoid_backward(dout: Array, x: Array) -> Array:
    """dL/dx given dL/dout for out = sigmoid(x): dout * s * (1 - s)."""
    s = sigmoid(x)
    return dout * s * (1 - s)


def relu_backward(dout: Array, x: Array) -> Array:
    """dL/dx for out = relu(x); the subgradient at exactly 0 is taken as 0 (as PyTorch)."""
    return np.where(x > 0, dout, 0)


def linear_forward(x: Array, w: Array, b: Array) -> Array:
    """out = x @ w + b for x (N, D), w (D, M), b (M,)."""
    return x @ w + b


def linear_backward(dout: Array, x: Array, w: Array, b: Array) -> tuple[Array, Array, Array]:
    """(dx, dw, db) for out = x @ w + b."""
    del b  # the gradients do not depend on b; it is in the signature for symmetry
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def softmax_cross_entropy(logits: Array, labels: Labels) -> tuple[Loss, Array]:
    """(loss, dlogits) for the batch-mean cross-entropy of softmax(logits) against int labels."""
    n = logits.shape[0]
    rows = np.arange(n)
    logp = log_softmax(logits, axis=1)
    loss = -np.mean(logp[rows, labels])
    dlogits = np.exp(logp)
    dlogits[rows, labels] -= 1
    return loss, dlogits / n


def mlp_backward(
    x: Array, labels: Labels, w1: Array, b1: Array, w2: Array, b2: Array
) -> tuple[Loss, Array, Array, Array, Array]:
    """(loss, dw1, db1, dw2, db2) for logits = relu(x @ w1 + b1) @ w2 + b2."""
    h_pre = x @ w1 + b1
    h = relu(h_pre)
    logits = h @ w2 + b2
    loss, dlogits = softmax_cross_entropy(logits, labels)
    dw2 = h.T @ dlogits
    db2 = dlogits.sum(axis=0)
    dh_pre = relu_backward(dlogits @ w2.T, h_pre)
    dw1 = x.T @ dh_pre
    db1 = dh_pre.sum(axis=0)
    return loss, dw1, db1, dw2, db2


def mlp_loss(x: Array, labels: Labels, w1: Array, b1: Array, w2: Array, b2: Array) -> Loss:
    """The forward pass of `mlp_backward`, for finite-difference checks."""
    logits = relu(x @ w1 + b1) @ w2 + b2
    return -np.mean(log_softmax(logits, axis=1)[np.arange(x.shape[0]), labels])


# ---------------------------------------------------------------------------------------------
# Normalisation (反向传播与梯度计算 / 归一化技术)
# ---------------------------------------------------------------------------------------------


def batchnorm_forward(
    x: Array,
    gamma: Array,
    beta: Array,
    running_mean: Array,
    running_var: Array,
    momentum: float = 0.1,
    eps: float = 1e-5,
    training: bool = True,
) -> tuple[Array, Array, Array]:
    """(out, running_mean, running_var) as torch.nn.BatchNorm1d on x (N, D); inputs untouched.

    Training normalises with the batch mean and biased variance and blends the unbiased
    variance into the running estimate (needs N >= 2, as in PyTorch). Eval normalises with the
    running statistics and returns them unchanged.
    """
    if not training:
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
        return out, running_mean.copy(), running_var.copy()
    n = x.shape[0]
    mean = x.mean(axis=0)
    var = x.var(axis=0)
    out = gamma * (x - mean) / np.sqrt(var + eps) + beta
    new_mean = (1 - momentum) * running_mean + momentum * mean
    new_var = (1 - momentum) * running_var + momentum * (var * (n / (n - 1)))
    return out, new_mean, new_var


def batchnorm_train(x: Array, gamma: Array, beta: Array, eps: float = 1e-5) -> Array:
    """The training-mode output of batch norm alone, for finite-difference checks."""
    out: Array = gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps) + beta
    return out


def batchnorm_backward(
    dout: Array, x: Array, gamma: Array, eps: float = 1e-5
) -> tuple[Array, Array, Array]:
    """(dx, dgamma, dbeta) of training-mode batch norm, statistics recomputed from x."""
    inv_std = 1 / np.sqrt(x.var(axis=0) + eps)
    xhat = (x - x.mean(axis=0)) * inv_std
    dx = _normalized_input_grad(dout * gamma, xhat, inv_std, axis=0)
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def layernorm_forward(x: Array, gamma: Array, beta: Array, eps: float = 1e-5) -> Array:
    """Normalise over the last axis (any rank >= 2), then scale and shift by (D,) parameters."""
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    out: Array = gamma * (x - mean) / np.sqrt(var + eps) + beta
    return out


def layernorm_backward(
    dout: Array, x: Array, gamma: Array, eps: float = 1e-5
) -> tuple[Array, Array, Array]:
    """(dx, dgamma, dbeta); dgamma and dbeta are summed over every leading axis."""
    d = x.shape[-1]
    inv_std = 1 / np.sqrt(x.var(axis=-1, keepdims=True) + eps)
    xhat = (x - x.mean(axis=-1, keepdims=True)) * inv_std
    dx = _normalized_input_grad(dout * gamma, xhat, inv_std, axis=-1)
    return dx, (dout * xhat).reshape(-1, d).sum(axis=0), dout.reshape(-1, d).sum(axis=0)


def _normalized_input_grad(dxhat: Array, xhat: Array, inv_std: Array, axis: int) -> Array:
    """dL/dx for xhat = (x - mean) / sqrt(var + eps), statistics taken along `axis`.

    The chain rule through the mean and the (biased) variance collapses to
    dx = inv_std / m * (m * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat)).
    """
    m = xhat.shape[axis]
    total = dxhat.sum(axis=axis, keepdims=True)
    projected = (dxhat * xhat).sum(axis=axis, keepdims=True)
    dx: Array = inv_std / m * (m * dxhat - total - xhat * projected)
    return dx
