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
    # A second batch, written afterwards in other spellings and measured before any change.
    (
        "sigmoid",
        "sigmoid.sign",
        H
        + "def sigmoid(x):\n    z = np.exp(-np.abs(x))\n    return np.where(x < 0, 1/(1+z), z/(1+z))\n",
    ),
    ("relu", "relu.mask", H + "def relu(x):\n    return np.where(x > 0, 1.0, 0.0)\n"),
    ("relu", "relu.leaky", H + "def relu(x):\n    return np.maximum(x, 0.01 * x)\n"),
    (
        "leaky_relu",
        "leaky_relu.swapped",
        H
        + "def leaky_relu(x, alpha=0.01):\n    y = x * alpha\n    y[x < 0] = x[x < 0]\n    return y\n",
    ),
    (
        "leaky_relu",
        "leaky_relu.plain_relu",
        H + "def leaky_relu(x, alpha=0.01):\n    return x * (x > 0)\n",
    ),
    (
        "softmax",
        "softmax.whole_sum",
        H
        + "def softmax(x, axis=-1):\n    m = np.amax(x, axis=axis, keepdims=True)\n    e = np.exp(x - m)\n    return e / e.sum()\n",
    ),
    (
        "softmax",
        "softmax.last_axis",
        H
        + "def softmax(x, axis=-1):\n    out = np.exp(x - x.max(-1)[..., None])\n    return out / out.sum(-1)[..., None]\n",
    ),
    (
        "sigmoid_backward",
        "sigmoid_backward.no_dout",
        H
        + "def sigmoid_backward(dout, x):\n    s = 0.5 * (1 + np.tanh(0.5 * x))\n    return s * (1 - s)\n",
    ),
    (
        "relu_backward",
        "relu_backward.no_mask",
        "def relu_backward(dout, x):\n    return dout + 0.0\n",
    ),
    (
        "relu_backward",
        "relu_backward.mask_only",
        H + "def relu_backward(dout, x):\n    return np.greater(x, 0).astype(x.dtype)\n",
    ),
    (
        "linear_backward",
        "linear_backward.db_wrong_axis",
        H
        + "def linear_backward(dout, x, w, b):\n    return dout.dot(w.T), x.T.dot(dout), dout.sum(-1)\n",
    ),
    (
        "linear_backward",
        "linear_backward.extra_mean",
        H
        + "def linear_backward(dout, x, w, b):\n    N = len(x)\n    return dout @ w.T, np.dot(x.T, dout) / N, np.mean(dout, 0)\n",
    ),
    (
        "softmax_cross_entropy",
        "softmax_cross_entropy.sum_not_mean",
        H
        + "def softmax_cross_entropy(logits, labels):\n    z = logits - np.max(logits, axis=1, keepdims=True)\n    lse = np.log(np.sum(np.exp(z), axis=1))\n    idx = np.arange(len(labels))\n    loss = np.sum(lse - z[idx, labels])\n    g = np.exp(z - lse[:, None])\n    g[idx, labels] -= 1\n    return loss, g\n",
    ),
    (
        "softmax_cross_entropy",
        "softmax_cross_entropy.no_onehot",
        H
        + "def softmax_cross_entropy(logits, labels):\n    n = len(logits)\n    z = logits - logits.max(1, keepdims=True)\n    p = np.exp(z); p /= p.sum(1, keepdims=True)\n    loss = -np.mean(z[np.arange(n), labels] - np.log(np.exp(z).sum(1)))\n    return loss, p / n\n",
    ),
    (
        "mlp_backward",
        "mlp_backward.bias_mean",
        H
        + "def mlp_backward(x, labels, w1, b1, w2, b2):\n    n = x.shape[0]; i = np.arange(n)\n    hp = x @ w1 + b1; h = hp * (hp > 0)\n    z = h @ w2 + b2; z = z - z.max(1, keepdims=True)\n    lp = z - np.log(np.exp(z).sum(1, keepdims=True))\n    loss = -lp[i, labels].mean()\n    d = np.exp(lp); d[i, labels] -= 1; d = d / n\n    dh = (d @ w2.T) * (hp > 0)\n    return loss, x.T @ dh, dh.mean(0), h.T @ d, d.mean(0)\n",
    ),
    (
        "mlp_backward",
        "mlp_backward.no_relu_mask",
        H
        + "def mlp_backward(x, labels, w1, b1, w2, b2):\n    n = x.shape[0]; i = np.arange(n)\n    hp = x @ w1 + b1; h = np.maximum(hp, 0)\n    z = h @ w2 + b2; z = z - z.max(1, keepdims=True)\n    lp = z - np.log(np.exp(z).sum(1, keepdims=True))\n    loss = -lp[i, labels].mean()\n    d = np.exp(lp); d[i, labels] -= 1; d = d / n\n    dh = d @ w2.T\n    return loss, x.T @ dh, dh.sum(0), h.T @ d, d.sum(0)\n",
    ),
    (
        "batchnorm_forward",
        "batchnorm_forward.momentum_swapped",
        H
        + "def batchnorm_forward(x, gamma, beta, running_mean, running_var, momentum=0.1, eps=1e-5, training=True):\n    if not training:\n        return gamma*(x-running_mean)/np.sqrt(running_var+eps)+beta, running_mean.copy(), running_var.copy()\n    m = x.mean(0); v = x.var(0); n = x.shape[0]\n    out = gamma*(x-m)/np.sqrt(v+eps)+beta\n    return out, momentum*running_mean+(1-momentum)*m, momentum*running_var+(1-momentum)*x.var(0, ddof=1)\n",
    ),
    (
        "batchnorm_forward",
        "batchnorm_forward.unbiased_norm",
        H
        + "def batchnorm_forward(x, gamma, beta, running_mean, running_var, momentum=0.1, eps=1e-5, training=True):\n    if not training:\n        return gamma*(x-running_mean)/np.sqrt(running_var+eps)+beta, running_mean.copy(), running_var.copy()\n    m = x.mean(0); v = np.var(x, axis=0, ddof=1)\n    out = gamma*(x-m)/np.sqrt(v+eps)+beta\n    return out, (1-momentum)*running_mean+momentum*m, (1-momentum)*running_var+momentum*v\n",
    ),
    (
        "batchnorm_backward",
        "batchnorm_backward.no_mean_path",
        H
        + "def batchnorm_backward(dout, x, gamma, eps=1e-5):\n    mu = x.mean(0); var = x.var(0); s = np.sqrt(var+eps)\n    xh = (x-mu)/s; dxh = dout*gamma\n    dx = (dxh - xh*np.mean(dxh*xh, 0))/s\n    return dx, (dout*xh).sum(0), dout.sum(0)\n",
    ),
    (
        "batchnorm_backward",
        "batchnorm_backward.dgamma_uses_x",
        H
        + "def batchnorm_backward(dout, x, gamma, eps=1e-5):\n    n = x.shape[0]\n    mu = x.mean(0); var = x.var(0); s = np.sqrt(var+eps)\n    xh = (x-mu)/s; dxh = dout*gamma\n    dx = (n*dxh - dxh.sum(0) - xh*(dxh*xh).sum(0))/(n*s)\n    return dx, (dout*x).sum(0), dout.sum(0)\n",
    ),
    (
        "layernorm_forward",
        "layernorm_forward.no_affine",
        H
        + "def layernorm_forward(x, gamma, beta, eps=1e-5):\n    return (x - x.mean(-1)[..., None]) / np.sqrt(x.var(-1)[..., None] + eps)\n",
    ),
    (
        "layernorm_forward",
        "layernorm_forward.unbiased",
        H
        + "def layernorm_forward(x, gamma, beta, eps=1e-5):\n    d = x.shape[-1]\n    m = x.mean(-1, keepdims=True)\n    v = ((x - m)**2).sum(-1, keepdims=True) / (d - 1)\n    return gamma * (x - m) / np.sqrt(v + eps) + beta\n",
    ),
    (
        "layernorm_backward",
        "layernorm_backward.gamma_missing",
        H
        + "def layernorm_backward(dout, x, gamma, eps=1e-5):\n    d = x.shape[-1]\n    m = x.mean(-1, keepdims=True); s = np.sqrt(x.var(-1, keepdims=True)+eps)\n    xh = (x-m)/s\n    dx = (d*dout - dout.sum(-1, keepdims=True) - xh*(dout*xh).sum(-1, keepdims=True))/(d*s)\n    return dx, (dout*xh).reshape(-1, d).sum(0), dout.reshape(-1, d).sum(0)\n",
    ),
    (
        "layernorm_backward",
        "layernorm_backward.swapped_params",
        H
        + "def layernorm_backward(dout, x, gamma, eps=1e-5):\n    d = x.shape[-1]\n    m = x.mean(-1, keepdims=True); s = np.sqrt(x.var(-1, keepdims=True)+eps)\n    xh = (x-m)/s; g = dout*gamma\n    dx = (d*g - g.sum(-1, keepdims=True) - xh*(g*xh).sum(-1, keepdims=True))/(d*s)\n    return dx, dout.reshape(-1, d).sum(0), (dout*xh).reshape(-1, d).sum(0)\n",
    ),
]
