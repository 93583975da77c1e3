"""Every catalogued mistake, written the way a learner would write it (one source per entry).

Kept apart from engine.mistakes on purpose: these are independent implementations of the same
slip, in a learner's style, so the test that each is diagnosed as itself checks the catalogue
against real code rather than against its own functions.
"""

from __future__ import annotations

H = "import numpy as np\n\n"

SOURCES: dict[str, str] = {
    # ---- sigmoid
    "sigmoid.exp_ratio": H + "def sigmoid(x):\n    return np.exp(x) / (1 + np.exp(x))\n",
    "sigmoid.sign": H + "def sigmoid(x):\n    return 1.0 / (1.0 + np.exp(x))\n",
    "sigmoid.one_minus": H
    + "def sigmoid(x):\n"
    + "    pos = 1 / (1 + np.exp(-np.maximum(x, 0)))\n"
    + "    neg = 1 - 1 / (1 + np.exp(np.minimum(x, 0)))\n"
    + "    return np.where(x >= 0, pos, neg)\n",
    "sigmoid.tanh_form": H + "def sigmoid(x):\n    return 0.5 * (1 + np.tanh(0.5 * x))\n",
    "sigmoid.in_place": H
    + "def sigmoid(x):\n"
    + "    z = np.exp(-np.abs(x))\n"
    + "    x[...] = np.where(x >= 0, 1 / (1 + z), z / (1 + z))\n"
    + "    return x\n",
    # ---- relu
    "relu.in_place": "def relu(x):\n    x[x < 0] = 0\n    return x\n",
    "relu.mask": "def relu(x):\n    return x > 0\n",
    "relu.np_max": H + "def relu(x):\n    return np.max(x, 0)\n",
    "relu.leaky": H + "def relu(x):\n    return np.where(x > 0, x, x * 0.01)\n",
    # ---- leaky_relu
    "leaky_relu.max_form": H
    + "def leaky_relu(x, alpha=0.01):\n    return np.maximum(alpha * x, x)\n",
    "leaky_relu.fixed_alpha": H
    + "def leaky_relu(x, alpha=0.01):\n    out = x.copy()\n    out[x <= 0] *= 0.01\n    return out\n",
    "leaky_relu.plain_relu": H
    + "def leaky_relu(x, alpha=0.01):\n    return np.where(x > 0, x, 0.0 * x)\n",
    "leaky_relu.swapped": H
    + "def leaky_relu(x, alpha=0.01):\n    return np.where(x > 0, alpha * x, x)\n",
    "leaky_relu.in_place": "def leaky_relu(x, alpha=0.01):\n    x[x < 0] *= alpha\n    return x\n",
    # ---- softmax
    "softmax.no_shift": H
    + "def softmax(x, axis=-1):\n"
    + "    exps = np.exp(x)\n"
    + "    return exps / np.sum(exps, axis=axis, keepdims=True)\n",
    "softmax.global_max": H
    + "def softmax(x, axis=-1):\n"
    + "    e = np.exp(x - np.max(x))\n"
    + "    return e / e.sum(axis=axis, keepdims=True)\n",
    "softmax.shift_min": H
    + "def softmax(x, axis=-1):\n"
    + "    e = np.exp(x - x.min(axis=axis, keepdims=True))\n"
    + "    return e / e.sum(axis=axis, keepdims=True)\n",
    "softmax.shift_mean": H
    + "def softmax(x, axis=-1):\n"
    + "    z = x - x.mean(axis=axis, keepdims=True)\n"
    + "    return np.exp(z) / np.exp(z).sum(axis=axis, keepdims=True)\n",
    "softmax.last_axis": H
    + "def softmax(x, axis=-1):\n"
    + "    z = x - x.max(axis=-1, keepdims=True)\n"
    + "    e = np.exp(z)\n"
    + "    return e / e.sum(axis=-1, keepdims=True)\n",
    "softmax.whole_sum": H
    + "def softmax(x, axis=-1):\n"
    + "    e = np.exp(x - np.max(x, axis=axis, keepdims=True))\n"
    + "    return e / np.sum(e)\n",
    # ---- sigmoid_backward
    "sigmoid_backward.x_as_output": "def sigmoid_backward(dout, x):\n    return dout * x * (1 - x)\n",
    "sigmoid_backward.no_dout": H
    + "def sigmoid_backward(dout, x):\n"
    + "    z = np.exp(-np.abs(x))\n"
    + "    s = np.where(x >= 0, 1 / (1 + z), z / (1 + z))\n"
    + "    return s * (1 - s)\n",
    "sigmoid_backward.unstable": H
    + "def sigmoid_backward(dout, x):\n    return dout * np.exp(-x) / (1 + np.exp(-x)) ** 2\n",
    "sigmoid_backward.sign": H
    + "def sigmoid_backward(dout, x):\n"
    + "    z = np.exp(-np.abs(x))\n"
    + "    s = np.where(x >= 0, 1 / (1 + z), z / (1 + z))\n"
    + "    return dout * s * (s - 1)\n",
    # ---- relu_backward
    "relu_backward.ge_zero": "def relu_backward(dout, x):\n    return dout * (x >= 0)\n",
    "relu_backward.no_mask": "def relu_backward(dout, x):\n    return dout.copy()\n",
    "relu_backward.mask_only": H
    + "def relu_backward(dout, x):\n    return (x > 0).astype(float)\n",
    "relu_backward.mask_by_dout": H
    + "def relu_backward(dout, x):\n    return np.maximum(dout, 0)\n",
    "relu_backward.in_place": "def relu_backward(dout, x):\n    dout[x <= 0] = 0\n    return dout\n",
    # ---- linear_backward
    "linear_backward.db_mean": "def linear_backward(dout, x, w, b):\n"
    + "    return dout @ w.T, x.T @ dout, dout.mean(axis=0)\n",
    "linear_backward.dw_transposed": "def linear_backward(dout, x, w, b):\n"
    + "    dx = dout @ w.T\n    dw = dout.T @ x\n    db = dout.sum(axis=0)\n    return dx, dw, db\n",
    "linear_backward.db_not_summed": "def linear_backward(dout, x, w, b):\n"
    + "    return dout @ w.T, x.T @ dout, dout\n",
    "linear_backward.db_wrong_axis": H
    + "def linear_backward(dout, x, w, b):\n"
    + "    return np.dot(dout, w.T), np.dot(x.T, dout), np.sum(dout, axis=1)\n",
    "linear_backward.extra_mean": "def linear_backward(dout, x, w, b):\n"
    + "    n = x.shape[0]\n"
    + "    return dout @ w.T, x.T @ dout / n, dout.sum(axis=0) / n\n",
    # ---- softmax_cross_entropy
    "softmax_cross_entropy.log_of_probs": H
    + "def softmax_cross_entropy(logits, labels):\n"
    + "    n = len(labels)\n"
    + "    z = logits - logits.max(axis=1, keepdims=True)\n"
    + "    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)\n"
    + "    loss = -np.log(p[np.arange(n), labels]).mean()\n"
    + "    d = p.copy()\n    d[np.arange(n), labels] -= 1\n"
    + "    return loss, d / n\n",
    "softmax_cross_entropy.log_eps": H
    + "def softmax_cross_entropy(logits, labels):\n"
    + "    n = logits.shape[0]\n"
    + "    z = logits - logits.max(axis=1, keepdims=True)\n"
    + "    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)\n"
    + "    loss = -np.mean(np.log(p[range(n), labels] + 1e-12))\n"
    + "    p[range(n), labels] -= 1\n"
    + "    return loss, p / n\n",
    "softmax_cross_entropy.sum_not_mean": H
    + "def softmax_cross_entropy(logits, labels):\n"
    + "    rows = np.arange(len(labels))\n"
    + "    z = logits - logits.max(axis=1, keepdims=True)\n"
    + "    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))\n"
    + "    loss = -logp[rows, labels].sum()\n"
    + "    grad = np.exp(logp)\n    grad[rows, labels] -= 1\n"
    + "    return loss, grad\n",
    "softmax_cross_entropy.grad_not_divided": H
    + "def softmax_cross_entropy(logits, labels):\n"
    + "    rows = np.arange(len(labels))\n"
    + "    z = logits - logits.max(axis=1, keepdims=True)\n"
    + "    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))\n"
    + "    grad = np.exp(logp)\n    grad[rows, labels] -= 1\n"
    + "    return -logp[rows, labels].mean(), grad\n",
    "softmax_cross_entropy.no_onehot": H
    + "def softmax_cross_entropy(logits, labels):\n"
    + "    n = logits.shape[0]\n"
    + "    z = logits - logits.max(axis=1, keepdims=True)\n"
    + "    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))\n"
    + "    return -logp[np.arange(n), labels].mean(), np.exp(logp) / n\n",
    "softmax_cross_entropy.column_index": H
    + "def softmax_cross_entropy(logits, labels):\n"
    + "    n = logits.shape[0]\n"
    + "    z = logits - logits.max(axis=1, keepdims=True)\n"
    + "    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))\n"
    + "    loss = -logp[np.arange(n), labels].mean()\n"
    + "    d = np.exp(logp)\n    d[:, labels] -= 1\n"
    + "    return loss, d / n\n",
    "softmax_cross_entropy.no_shift": H
    + "def softmax_cross_entropy(logits, labels):\n"
    + "    n = logits.shape[0]\n"
    + "    e = np.exp(logits)\n    p = e / e.sum(axis=1, keepdims=True)\n"
    + "    loss = -np.mean(np.log(p[np.arange(n), labels]))\n"
    + "    p[np.arange(n), labels] -= 1\n"
    + "    return loss, p / n\n",
}

_MLP_HEAD = (
    H
    + "def mlp_backward(x, labels, w1, b1, w2, b2):\n"
    + "    n = x.shape[0]\n    rows = np.arange(n)\n"
    + "    h_pre = x @ w1 + b1\n    h = np.maximum(0, h_pre)\n    logits = h @ w2 + b2\n"
)
_MLP_LOSS = (
    "    z = logits - logits.max(axis=1, keepdims=True)\n"
    + "    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))\n"
    + "    loss = -logp[rows, labels].mean()\n"
    + "    dz = np.exp(logp)\n    dz[rows, labels] -= 1\n    dz /= n\n"
)


def _mlp(body: str, loss: str = _MLP_LOSS) -> str:
    return _MLP_HEAD + loss + body + "    return loss, dw1, db1, dw2, db2\n"


SOURCES |= {
    "mlp_backward.relu_mask_ge": _mlp(
        "    dw2 = h.T @ dz\n    db2 = dz.sum(0)\n    dh = dz @ w2.T\n"
        + "    dh[h_pre < 0] = 0\n    dw1 = x.T @ dh\n    db1 = dh.sum(0)\n"
    ),
    "mlp_backward.no_relu_mask": _mlp(
        "    dw2 = h.T @ dz\n    db2 = dz.sum(0)\n    dh = dz @ w2.T\n"
        + "    dw1 = x.T @ dh\n    db1 = dh.sum(0)\n"
    ),
    "mlp_backward.extra_mean": _mlp(
        "    dw2 = h.T @ dz / n\n    db2 = dz.sum(0) / n\n    dh = (dz @ w2.T) * (h_pre > 0)\n"
        + "    dw1 = x.T @ dh / n\n    db1 = dh.sum(0) / n\n"
    ),
    "mlp_backward.no_mean": _mlp(
        "    dz *= n\n    dw2 = h.T @ dz\n    db2 = dz.sum(0)\n    dh = (dz @ w2.T) * (h_pre > 0)\n"
        + "    dw1 = x.T @ dh\n    db1 = dh.sum(0)\n"
    ),
    "mlp_backward.bias_mean": _mlp(
        "    dw2 = h.T @ dz\n    db2 = dz.mean(0)\n    dh = (dz @ w2.T) * (h_pre > 0)\n"
        + "    dw1 = x.T @ dh\n    db1 = dh.mean(0)\n"
    ),
    "mlp_backward.dw_transposed": _mlp(
        "    dw2 = dz.T @ h\n    db2 = dz.sum(0)\n    dh = (dz @ w2.T) * (h_pre > 0)\n"
        + "    dw1 = dh.T @ x\n    db1 = dh.sum(0)\n"
    ),
    "mlp_backward.log_of_probs": _mlp(
        "    dw2 = h.T @ dz\n    db2 = dz.sum(0)\n    dh = (dz @ w2.T) * (h_pre > 0)\n"
        + "    dw1 = x.T @ dh\n    db1 = dh.sum(0)\n",
        loss="    z = logits - logits.max(axis=1, keepdims=True)\n"
        + "    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)\n"
        + "    loss = -np.mean(np.log(p[rows, labels]))\n"
        + "    dz = p.copy()\n    dz[rows, labels] -= 1\n    dz /= n\n",
    ),
}

_BN_SIG = (
    H
    + "def batchnorm_forward(x, gamma, beta, running_mean, running_var,\n"
    + "                      momentum=0.1, eps=1e-5, training=True):\n"
)
_BN_EVAL = (
    "    if not training:\n"
    + "        xn = (x - running_mean) / np.sqrt(running_var + eps)\n"
    + "        return gamma * xn + beta, running_mean.copy(), running_var.copy()\n"
)


def _bn(norm: str, update: str, eval_part: str = _BN_EVAL) -> str:
    return (
        _BN_SIG
        + eval_part
        + "    n = x.shape[0]\n    mu = x.mean(axis=0)\n"
        + norm
        + update
        + "    return out, rm, rv\n"
    )


_NORM = "    var = x.var(axis=0)\n    out = gamma * (x - mu) / np.sqrt(var + eps) + beta\n"
_UPDATE = (
    "    rm = (1 - momentum) * running_mean + momentum * mu\n"
    + "    rv = (1 - momentum) * running_var + momentum * var * n / (n - 1)\n"
)

SOURCES |= {
    "batchnorm_forward.unbiased_norm": _bn(
        "    var = x.var(axis=0, ddof=1)\n    out = gamma * (x - mu) / np.sqrt(var + eps) + beta\n",
        "    rm = (1 - momentum) * running_mean + momentum * mu\n"
        + "    rv = (1 - momentum) * running_var + momentum * var\n",
    ),
    "batchnorm_forward.biased_running": _bn(
        _NORM,
        "    rm = (1 - momentum) * running_mean + momentum * mu\n"
        + "    rv = (1 - momentum) * running_var + momentum * var\n",
    ),
    "batchnorm_forward.momentum_swapped": _bn(
        _NORM,
        "    rm = momentum * running_mean + (1 - momentum) * mu\n"
        + "    rv = momentum * running_var + (1 - momentum) * var * n / (n - 1)\n",
    ),
    "batchnorm_forward.eps_outside_sqrt": _bn(
        "    std = x.std(axis=0)\n    var = std ** 2\n"
        + "    out = gamma * (x - mu) / (std + eps) + beta\n",
        _UPDATE,
    ),
    "batchnorm_forward.eval_batch_stats": _BN_SIG
    + "    n = x.shape[0]\n    mu = x.mean(axis=0)\n    var = x.var(axis=0)\n"
    + "    out = gamma * (x - mu) / np.sqrt(var + eps) + beta\n"
    + "    if not training:\n        return out, running_mean.copy(), running_var.copy()\n"
    + _UPDATE
    + "    return out, rm, rv\n",
    "batchnorm_forward.feature_axis": _BN_SIG
    + _BN_EVAL
    + "    n = x.shape[0]\n"
    + "    mu1 = x.mean(axis=1, keepdims=True)\n    var1 = x.var(axis=1, keepdims=True)\n"
    + "    out = gamma * (x - mu1) / np.sqrt(var1 + eps) + beta\n"
    + "    mu = x.mean(axis=0)\n    var = x.var(axis=0)\n"
    + _UPDATE
    + "    return out, rm, rv\n",
    "batchnorm_forward.one_pass_var": _bn(
        "    var = (x ** 2).mean(axis=0) - mu ** 2\n"
        + "    out = gamma * (x - mu) / np.sqrt(var + eps) + beta\n",
        _UPDATE,
    ),
    "batchnorm_forward.in_place_running": _BN_SIG
    + "    if not training:\n"
    + "        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta\n"
    + "        return out, running_mean, running_var\n"
    + "    n = x.shape[0]\n    mu = x.mean(axis=0)\n    var = x.var(axis=0)\n"
    + "    out = gamma * (x - mu) / np.sqrt(var + eps) + beta\n"
    + "    running_mean *= 1 - momentum\n    running_mean += momentum * mu\n"
    + "    running_var *= 1 - momentum\n    running_var += momentum * var * n / (n - 1)\n"
    + "    return out, running_mean, running_var\n",
}


def _norm_backward(drill: str, axis: str, dx: str, params: str, *, stats: str = "") -> str:
    return (
        H
        + f"def {drill}(dout, x, gamma, eps=1e-5):\n"
        + f"    m = x.shape[{axis}]\n"
        + (
            stats
            or f"    mu = x.mean(axis={axis}, keepdims=True)\n"
            + f"    var = x.var(axis={axis}, keepdims=True)\n"
        )
        + "    inv = 1.0 / np.sqrt(var + eps)\n    xh = (x - mu) * inv\n    g = dout * gamma\n"
        + dx
        + params
        + "    return dx, dgamma, dbeta\n"
    )


def _norm_family(drill: str, axis: str, params: str, swapped: str, from_x: str) -> dict[str, str]:
    k = f"axis={axis}, keepdims=True"
    full = f"    dx = inv / m * (m * g - g.sum({k}) - xh * (g * xh).sum({k}))\n"
    return {
        f"{drill}.no_stat_paths": _norm_backward(drill, axis, "    dx = g * inv\n", params),
        f"{drill}.no_var_path": _norm_backward(
            drill, axis, f"    dx = inv * (g - g.mean({k}))\n", params
        ),
        f"{drill}.no_mean_path": _norm_backward(
            drill, axis, f"    dx = inv * (g - xh * (g * xh).mean({k}))\n", params
        ),
        f"{drill}.swapped_params": _norm_backward(drill, axis, full, swapped),
        f"{drill}.unbiased": _norm_backward(
            drill,
            axis,
            full,
            params,
            stats=f"    mu = x.mean({k})\n    var = x.var({k}, ddof=1)\n",
        ),
        f"{drill}.gamma_missing": _norm_backward(
            drill,
            axis,
            f"    g = dout\n    dx = inv / m * (m * g - g.sum({k}) - xh * (g * xh).sum({k}))\n",
            params,
        ),
        f"{drill}.dgamma_uses_x": _norm_backward(drill, axis, full, from_x),
    }


SOURCES |= _norm_family(
    "batchnorm_backward",
    "0",
    "    dgamma = (dout * xh).sum(axis=0)\n    dbeta = dout.sum(axis=0)\n",
    "    dbeta = (dout * xh).sum(axis=0)\n    dgamma = dout.sum(axis=0)\n",
    "    dgamma = (dout * x).sum(axis=0)\n    dbeta = dout.sum(axis=0)\n",
)
SOURCES |= _norm_family(
    "layernorm_backward",
    "-1",
    "    d = x.shape[-1]\n"
    + "    dgamma = (dout * xh).reshape(-1, d).sum(0)\n    dbeta = dout.reshape(-1, d).sum(0)\n",
    "    d = x.shape[-1]\n"
    + "    dbeta = (dout * xh).reshape(-1, d).sum(0)\n    dgamma = dout.reshape(-1, d).sum(0)\n",
    "    d = x.shape[-1]\n"
    + "    dgamma = (dout * x).reshape(-1, d).sum(0)\n    dbeta = dout.reshape(-1, d).sum(0)\n",
)
SOURCES |= {
    "batchnorm_backward.param_grads_wrong_axis": _norm_backward(
        "batchnorm_backward",
        "0",
        "    dx = inv / m * (m * g - g.sum(axis=0) - xh * (g * xh).sum(axis=0))\n",
        "    dgamma = np.sum(dout * xh, axis=1)\n    dbeta = np.sum(dout, axis=1)\n",
    ),
    "layernorm_backward.param_grads_axis0": _norm_backward(
        "layernorm_backward",
        "-1",
        "    k = dict(axis=-1, keepdims=True)\n"
        + "    dx = inv / m * (m * g - g.sum(**k) - xh * (g * xh).sum(**k))\n",
        "    dgamma = (dout * xh).sum(axis=0)\n    dbeta = dout.sum(axis=0)\n",
    ),
}

_LN = H + "def layernorm_forward(x, gamma, beta, eps=1e-5):\n"
SOURCES |= {
    "layernorm_forward.batch_axis": _LN
    + "    mu = x.mean(axis=0, keepdims=True)\n    var = x.var(axis=0, keepdims=True)\n"
    + "    return gamma * (x - mu) / np.sqrt(var + eps) + beta\n",
    "layernorm_forward.unbiased": _LN
    + "    mu = x.mean(-1, keepdims=True)\n    var = x.var(-1, keepdims=True, ddof=1)\n"
    + "    return gamma * (x - mu) / np.sqrt(var + eps) + beta\n",
    "layernorm_forward.eps_outside_sqrt": _LN
    + "    mu = np.mean(x, axis=-1, keepdims=True)\n    sd = np.std(x, axis=-1, keepdims=True)\n"
    + "    return gamma * (x - mu) / (sd + eps) + beta\n",
    "layernorm_forward.no_affine": _LN
    + "    mu = x.mean(-1, keepdims=True)\n    var = x.var(-1, keepdims=True)\n"
    + "    return (x - mu) / np.sqrt(var + eps)\n",
    "layernorm_forward.all_but_batch": _LN
    + "    axes = tuple(range(1, x.ndim))\n"
    + "    mu = x.mean(axis=axes, keepdims=True)\n    var = x.var(axis=axes, keepdims=True)\n"
    + "    return gamma * (x - mu) / np.sqrt(var + eps) + beta\n",
    "layernorm_forward.one_pass_var": _LN
    + "    mu = x.mean(-1, keepdims=True)\n    var = (x * x).mean(-1, keepdims=True) - mu * mu\n"
    + "    return gamma * (x - mu) / np.sqrt(var + eps) + beta\n",
}
SOURCES["layernorm_forward.axis_one"] = (
    _LN
    + "    mu = x.mean(axis=1, keepdims=True)\n    var = x.var(axis=1, keepdims=True)\n"
    + "    return gamma * (x - mu) / np.sqrt(var + eps) + beta\n"
)
