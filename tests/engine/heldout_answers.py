"""Typical wrong answers written apart from the catalogue's own sources (other spellings, other
slips), each with the diagnosis a tutor would give. Used to measure the hit rate: how many get a
specific, correct diagnosis, and that none gets a wrong one.
"""

from __future__ import annotations

H = "import numpy as np\n\n"

# (drill, expected diagnosis id, source)
HELDOUT: list[tuple[str, str, str]] = [
    (
        "softmax",
        "generic.wide_slices",
        H
        + "def softmax(x, axis=-1):\n"
        + "    z = np.exp(x - np.median(x, axis=axis, keepdims=True))\n"
        + "    return z / z.sum(axis=axis, keepdims=True)\n",
    ),
    (
        "softmax",
        "generic.wide_slices",
        H
        + "def softmax(x, axis=-1):\n"
        + "    first = np.take(x, [0], axis=axis)\n"
        + "    e = np.exp(x - first)\n"
        + "    return e / e.sum(axis=axis, keepdims=True)\n",
    ),
    (
        "softmax",
        "softmax.no_shift",
        H + "def softmax(x, axis=-1):\n    return np.exp(x) / np.exp(x).sum(axis, keepdims=True)\n",
    ),
    (
        "softmax",
        "generic.in_place",
        H
        + "def softmax(x, axis=-1):\n"
        + "    x -= x.max(axis=axis, keepdims=True)\n"
        + "    e = np.exp(x)\n"
        + "    return e / e.sum(axis=axis, keepdims=True)\n",
    ),
    (
        "softmax",
        "softmax.global_max",
        H
        + "def softmax(x, axis=-1):\n"
        + "    c = x.max()\n"
        + "    num = np.exp(x - c)\n"
        + "    den = np.sum(num, axis=axis, keepdims=True)\n"
        + "    return num / den\n",
    ),
    (
        "sigmoid",
        "generic.low_precision",
        H + "def sigmoid(x):\n    return (1 / (1 + np.exp(-x))).astype(np.float32)\n",
    ),
    (
        "sigmoid",
        "sigmoid.exp_ratio",
        H + "def sigmoid(x):\n    ex = np.exp(x)\n    return ex / (ex + 1)\n",
    ),
    (
        "sigmoid",
        "generic.tiny_values",
        H
        + "def sigmoid(x):\n"
        + "    x = np.clip(x, -50, 50)\n"
        + "    return 1 / (1 + np.exp(-x))\n",
    ),
    (
        "relu",
        "generic.constant_factor",
        H + "def relu(x):\n    return x + np.abs(x)\n",
    ),
    (
        "relu",
        "generic.low_precision",
        H + "def relu(x):\n    return np.maximum(x, 0).astype(np.float32)\n",
    ),
    (
        "relu",
        "relu.in_place",
        H + "def relu(x):\n    np.maximum(x, 0, out=x)\n    return x\n",
    ),
    (
        "leaky_relu",
        "leaky_relu.max_form",
        H + "def leaky_relu(x, alpha=0.01):\n    return np.maximum(x, x * alpha)\n",
    ),
    (
        "leaky_relu",
        "leaky_relu.fixed_alpha",
        H
        + "def leaky_relu(x, alpha=0.01):\n    return np.maximum(x, 0) + 0.01 * np.minimum(x, 0)\n",
    ),
    (
        "relu_backward",
        "relu_backward.ge_zero",
        H + "def relu_backward(dout, x):\n    return dout * np.heaviside(x, 1.0)\n",
    ),
    (
        "relu_backward",
        "relu_backward.in_place",
        H + "def relu_backward(dout, x):\n    dout *= (x > 0)\n    return dout\n",
    ),
    (
        "sigmoid_backward",
        "generic.large_inputs",
        H
        + "def sigmoid_backward(dout, x):\n"
        + "    s = np.exp(x) / (1 + np.exp(x))\n"
        + "    return dout * s * (1 - s)\n",
    ),
    (
        "sigmoid_backward",
        "sigmoid_backward.x_as_output",
        "def sigmoid_backward(dout, x):\n    return dout * (x - x ** 2)\n",
    ),
    (
        "linear_backward",
        "generic.unit_dims",
        H
        + "def linear_backward(dout, x, w, b):\n"
        + "    return dout @ w.T, x.T @ dout, np.sum(dout, axis=0, keepdims=True)\n",
    ),
    (
        "linear_backward",
        "linear_backward.dw_transposed",
        "def linear_backward(dout, x, w, b):\n    return dout @ w.T, (x.T @ dout).T, dout.sum(0)\n",
    ),
    (
        "linear_backward",
        "linear_backward.db_mean",
        H
        + "def linear_backward(dout, x, w, b):\n"
        + "    db = np.average(dout, axis=0)\n"
        + "    return np.matmul(dout, w.T), np.matmul(x.T, dout), db\n",
    ),
    (
        "softmax_cross_entropy",
        "softmax_cross_entropy.grad_not_divided",
        H
        + "def softmax_cross_entropy(logits, labels):\n"
        + "    n, c = logits.shape\n"
        + "    z = logits - logits.max(1, keepdims=True)\n"
        + "    lse = np.log(np.exp(z).sum(1, keepdims=True))\n"
        + "    logp = z - lse\n"
        + "    onehot = np.eye(c)[labels]\n"
        + "    loss = -(onehot * logp).sum() / n\n"
        + "    return loss, np.exp(logp) - onehot\n",
    ),
    (
        "softmax_cross_entropy",
        "softmax_cross_entropy.no_shift",
        H
        + "def softmax_cross_entropy(logits, labels):\n"
        + "    n = logits.shape[0]\n"
        + "    probs = np.exp(logits) / np.sum(np.exp(logits), axis=1, keepdims=True)\n"
        + "    loss = -np.sum(np.log(probs[range(n), labels])) / n\n"
        + "    probs[range(n), labels] -= 1\n"
        + "    return loss, probs / n\n",
    ),
    (
        "softmax_cross_entropy",
        "softmax_cross_entropy.log_eps",
        H
        + "def softmax_cross_entropy(logits, labels):\n"
        + "    n = logits.shape[0]\n"
        + "    z = logits - logits.max(axis=1, keepdims=True)\n"
        + "    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)\n"
        + "    onehot = np.zeros_like(p)\n"
        + "    onehot[np.arange(n), labels] = 1\n"
        + "    loss = -np.sum(onehot * np.log(p + 1e-12)) / n\n"
        + "    return loss, (p - onehot) / n\n",
    ),
    (
        "mlp_backward",
        "mlp_backward.relu_mask_ge",
        H
        + "def mlp_backward(x, labels, w1, b1, w2, b2):\n"
        + "    n = len(x)\n"
        + "    a = x @ w1 + b1\n    h = np.maximum(a, 0)\n    s = h @ w2 + b2\n"
        + "    s = s - s.max(axis=1, keepdims=True)\n"
        + "    lp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))\n"
        + "    loss = -lp[np.arange(n), labels].mean()\n"
        + "    ds = np.exp(lp)\n    ds[np.arange(n), labels] -= 1\n    ds /= n\n"
        + "    dh = ds @ w2.T * np.heaviside(a, 1)\n"
        + "    return loss, x.T @ dh, dh.sum(0), h.T @ ds, ds.sum(0)\n",
    ),
    (
        "mlp_backward",
        "generic.factor_n",
        H
        + "def mlp_backward(x, labels, w1, b1, w2, b2):\n"
        + "    n = len(x)\n    r = np.arange(n)\n"
        + "    a = x @ w1 + b1\n    h = np.maximum(a, 0)\n    s = h @ w2 + b2\n"
        + "    s = s - s.max(axis=1, keepdims=True)\n"
        + "    lp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))\n"
        + "    loss = -lp[r, labels].sum()\n"
        + "    ds = np.exp(lp)\n    ds[r, labels] -= 1\n    ds /= n\n"
        + "    dh = ds @ w2.T * (a > 0)\n"
        + "    return loss, x.T @ dh, dh.sum(0), h.T @ ds, ds.sum(0)\n",
    ),
    (
        "batchnorm_forward",
        "batchnorm_forward.eps_outside_sqrt",
        H
        + "def batchnorm_forward(x, gamma, beta, running_mean, running_var,\n"
        + "                      momentum=0.1, eps=1e-5, training=True):\n"
        + "    if training:\n"
        + "        m, v = x.mean(0), x.var(0)\n"
        + "        n = len(x)\n"
        + "        rm = (1 - momentum) * running_mean + momentum * m\n"
        + "        rv = (1 - momentum) * running_var + momentum * v * n / (n - 1)\n"
        + "    else:\n"
        + "        m, v = running_mean, running_var\n"
        + "        rm, rv = running_mean.copy(), running_var.copy()\n"
        + "    return gamma * (x - m) / (np.sqrt(v) + eps) + beta, rm, rv\n",
    ),
    (
        "batchnorm_forward",
        "batchnorm_forward.biased_running",
        H
        + "def batchnorm_forward(x, gamma, beta, running_mean, running_var,\n"
        + "                      momentum=0.1, eps=1e-5, training=True):\n"
        + "    if not training:\n"
        + "        y = (x - running_mean) / np.sqrt(running_var + eps)\n"
        + "        return gamma * y + beta, running_mean + 0, running_var + 0\n"
        + "    mu = np.mean(x, axis=0)\n    var = np.mean((x - mu) ** 2, axis=0)\n"
        + "    y = (x - mu) / np.sqrt(var + eps)\n"
        + "    new_m = running_mean + momentum * (mu - running_mean)\n"
        + "    new_v = running_var + momentum * (var - running_var)\n"
        + "    return gamma * y + beta, new_m, new_v\n",
    ),
    (
        "batchnorm_backward",
        "batchnorm_backward.no_stat_paths",
        H
        + "def batchnorm_backward(dout, x, gamma, eps=1e-5):\n"
        + "    std = np.sqrt(x.var(axis=0) + eps)\n"
        + "    xhat = (x - x.mean(axis=0)) / std\n"
        + "    return dout * gamma / std, np.sum(dout * xhat, 0), np.sum(dout, 0)\n",
    ),
    (
        "batchnorm_backward",
        "batchnorm_backward.swapped_params",
        H
        + "def batchnorm_backward(dout, x, gamma, eps=1e-5):\n"
        + "    N = x.shape[0]\n"
        + "    mu = x.mean(0)\n    xc = x - mu\n    var = (xc ** 2).mean(0)\n"
        + "    istd = 1 / np.sqrt(var + eps)\n    xhat = xc * istd\n"
        + "    dxhat = dout * gamma\n"
        + "    dvar = np.sum(dxhat * xc, 0) * -0.5 * istd ** 3\n"
        + "    dmu = np.sum(-dxhat * istd, 0) + dvar * np.mean(-2 * xc, 0)\n"
        + "    dx = dxhat * istd + dvar * 2 * xc / N + dmu / N\n"
        + "    return dx, dout.sum(0), (dout * xhat).sum(0)\n",
    ),
    (
        "layernorm_forward",
        "layernorm_forward.eps_outside_sqrt",
        H
        + "def layernorm_forward(x, gamma, beta, eps=1e-5):\n"
        + "    mean = np.mean(x, axis=-1, keepdims=True)\n"
        + "    std = np.sqrt(np.mean((x - mean) ** 2, axis=-1, keepdims=True))\n"
        + "    return gamma * ((x - mean) / (std + eps)) + beta\n",
    ),
    (
        "layernorm_forward",
        "layernorm_forward.axis_one",
        H
        + "def layernorm_forward(x, gamma, beta, eps=1e-5):\n"
        + "    m = np.mean(x, 1, keepdims=True)\n"
        + "    v = np.var(x, 1, keepdims=True)\n"
        + "    return (x - m) / np.sqrt(v + eps) * gamma + beta\n",
    ),
    (
        "layernorm_forward",
        "layernorm_forward.one_pass_var",
        H
        + "def layernorm_forward(x, gamma, beta, eps=1e-5):\n"
        + "    n = x.shape[-1]\n"
        + "    s1 = x.sum(-1, keepdims=True)\n    s2 = (x * x).sum(-1, keepdims=True)\n"
        + "    var = (s2 - s1 * s1 / n) / n\n"
        + "    return gamma * (x - s1 / n) / np.sqrt(var + eps) + beta\n",
    ),
    (
        "layernorm_backward",
        "layernorm_backward.param_grads_axis0",
        H
        + "def layernorm_backward(dout, x, gamma, eps=1e-5):\n"
        + "    D = x.shape[-1]\n"
        + "    mu = x.mean(-1, keepdims=True)\n    var = x.var(-1, keepdims=True)\n"
        + "    xhat = (x - mu) / np.sqrt(var + eps)\n"
        + "    g = dout * gamma\n"
        + "    dx = (D * g - g.sum(-1, keepdims=True) - xhat * (g * xhat).sum(-1, keepdims=True))"
        + " / (D * np.sqrt(var + eps))\n"
        + "    return dx, np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)\n",
    ),
    (
        "layernorm_backward",
        "layernorm_backward.no_var_path",
        H
        + "def layernorm_backward(dout, x, gamma, eps=1e-5):\n"
        + "    d = x.shape[-1]\n"
        + "    mu = x.mean(-1, keepdims=True)\n    sd = np.sqrt(x.var(-1, keepdims=True) + eps)\n"
        + "    xh = (x - mu) / sd\n    g = dout * gamma\n"
        + "    dx = (g - g.sum(-1, keepdims=True) / d) / sd\n"
        + "    return dx, (dout * xh).reshape(-1, d).sum(0), dout.reshape(-1, d).sum(0)\n",
    ),
]
