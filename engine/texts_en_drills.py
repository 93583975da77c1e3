"""English hints and starter-code docstrings of the drills, by drill id (see engine.i18n)."""

from __future__ import annotations

HINTS: dict[str, tuple[str, ...]] = {
    "sigmoid": (
        "`np.exp` works element-wise on the whole array; no loop is needed.",
        "For very negative x, `np.exp(-x)` overflows to inf, but `1 / (1 + inf)` is exactly 0, so "
        "the result is still right; you only get a RuntimeWarning (it does not affect the verdict).",
        "To avoid overflow altogether: $e^{-|x|}$ never exceeds 1. Use $1/(1+e^{-x})$ for "
        "$x \\ge 0$ and the equivalent $e^{x}/(1+e^{x})$ for $x < 0$.",
    ),
    "relu": (
        "`np.maximum(a, b)` takes the element-wise maximum; Python's built-in `max` does not work "
        "on arrays.",
        "`x[x < 0] = 0` modifies the caller's array in place. If you write it that way, "
        "`x = x.copy()` first.",
        "Returning the boolean array `x > 0` is wrong: return the values themselves.",
    ),
    "leaky_relu": (
        "`np.where(condition, value_if_true, value_if_false)` selects element by element.",
        "The notes' $\\max(\\alpha x, x)$ matches the definition only for $0 \\le \\alpha \\le 1$; "
        "for $\\alpha > 1$ it picks $\\alpha x$ on the positive side. Implement the piecewise "
        "definition directly.",
        "Do not hard-code 0.01: use the `alpha` argument.",
    ),
    "softmax": (
        "Subtracting the same constant does not change the result: "
        "$\\frac{e^{x_i - m}}{\\sum_j e^{x_j - m}} = \\frac{e^{x_i}}{\\sum_j e^{x_j}}$. "
        "With $m = \\max_j x_j$ the exponentials cannot overflow.",
        "Take the maximum separately along `axis`: `np.max(x, axis=axis, keepdims=True)`. The "
        "notes' `np.max(x)` is the global maximum; a row much smaller than the others then "
        "underflows entirely to 0 and gives 0/0.",
        "The sum needs `axis=axis, keepdims=True` too, so it broadcasts when you divide.",
    ),
    "sigmoid_backward": (
        "$\\sigma'(x) = \\sigma(x)\\,(1 - \\sigma(x))$.",
        "The argument `x` is the sigmoid's input: compute `s = sigmoid(x)` first, then "
        "`s * (1 - s)`; writing `x * (1 - x)` treats x as the output.",
        "Here the chain rule is an element-wise product, `dout * ...`, not a matrix product.",
        "Use a numerically stable sigmoid; $e^{-x}/(1+e^{-x})^2$ at x = -1000 is inf/inf = NaN.",
    ),
    "relu_backward": (
        "The gradient passes only where x > 0; everywhere else it is 0.",
        "The condition is `x > 0`, not `x >= 0`: where x is exactly 0 the gradient is 0.",
        "`dout[x <= 0] = 0` modifies the upstream gradient in place; use `np.where` or copy first.",
    ),
    "linear_backward": (
        "Let the shapes decide: dx must be (N, D), and only (N, M) @ (M, D) gives that, so "
        "`dx = dout @ w.T`.",
        "Likewise `dw = x.T @ dout`: (D, N) @ (N, M) = (D, M).",
        "In the forward pass b is broadcast onto every sample, so the backward pass sums over "
        "the batch axis (a sum, not a mean): `db = dout.sum(axis=0)`.",
    ),
    "softmax_cross_entropy": (
        "The log-sum-exp trick: $\\log p_{n,c} = z_{n,c} - m_n - \\log\\sum_j e^{z_{n,j} - m_n}$, "
        "where $m_n = \\max_j z_{n,j}$.",
        "Taking `np.log` of the softmax gives log(0) = -inf once a probability underflows to 0; "
        "computing log-softmax directly does not.",
        "`logp[np.arange(N), labels]` picks each sample's log-probability of its correct class.",
        "Gradient: `p = softmax(logits)`, `p[np.arange(N), labels] -= 1`, then divide by N (the "
        "loss is a mean).",
    ),
    "mlp_backward": (
        "First run the whole forward pass and keep what the backward pass needs: "
        "`h_pre = x @ w1 + b1`, `h = relu(h_pre)`.",
        "Order: dlogits → dw2 = h.T @ dlogits, db2 → dh = dlogits @ w2.T → "
        "dh_pre = dh * (h_pre > 0) → dw1 = x.T @ dh_pre, db1.",
        "dlogits already contains the 1/N; the later layers must not divide again.",
        "The ReLU gradient mask is `h_pre > 0`: a hidden unit whose pre-activation is exactly 0 "
        "passes no gradient.",
    ),
    "batchnorm_forward": (
        "`x.mean(axis=0)` and `x.var(axis=0)` work along the batch axis; `np.var` defaults to "
        "ddof=0, the biased variance.",
        "Normalise with the biased variance and update `running_var` with the unbiased one: "
        "multiply by `N / (N - 1)`, or use `x.var(axis=0, ddof=1)`.",
        "Eval mode neither uses the current batch's statistics nor updates the running ones.",
        "`running_mean *= 1 - momentum` modifies an input in place: compute and return new arrays.",
        "$\\epsilon$ goes on the variance, before the square root: `np.sqrt(var + eps)`.",
    ),
    "batchnorm_backward": (
        "`dbeta = dout.sum(axis=0)`, `dgamma = (dout * x_hat).sum(axis=0)`.",
        "dx is not just `dout * gamma / sqrt(var + eps)`: the mean and variance depend on x "
        "too, so two correction terms are subtracted.",
        "With $d\\hat{x} = \\text{dout}\\cdot\\gamma$ this simplifies to "
        "$dx = \\frac{1}{N\\sqrt{\\sigma^2+\\epsilon}}\\bigl(N\\,d\\hat{x} - \\sum_i d\\hat{x}_i "
        "- \\hat{x}\\sum_i d\\hat{x}_i\\,\\hat{x}_i\\bigr)$, summing along the batch axis.",
        "The normalisation uses the biased variance (`np.var` defaults to ddof=0), and so does "
        "the backward pass.",
    ),
    "layernorm_forward": (
        "`x.mean(axis=-1, keepdims=True)` gives a mean of shape (..., 1) that broadcasts "
        "against x directly.",
        "The only difference from BN is the axis of the statistics: LN uses the feature axis "
        "(the last one), BN the batch axis (axis=0).",
        "Use the biased variance (`np.var` defaults to ddof=0), as PyTorch does; $\\epsilon$ "
        "goes inside the square root.",
    ),
    "layernorm_backward": (
        "dx has the same formula as in BN, but the sums run along the last axis (each sample "
        "on its own): remember `keepdims=True`.",
        "dgamma and dbeta sum over every axis but the last: "
        "`(dout * x_hat).reshape(-1, D).sum(axis=0)`.",
        "For 3-D input, `sum(axis=0)` alone gives (T, D) instead of (D,).",
    ),
}

# The starter code's docstring (what follows the opening quotes), laid out like the Chinese one.
DOCS: dict[str, str] = {
    "sigmoid": """Element-wise sigmoid: 1 / (1 + e^(-x)).

    Args:
        x: np.ndarray of any shape
    Returns:
        np.ndarray with the shape and dtype of x
    """,
    "relu": """Element-wise max(0, x).

    Args:
        x: np.ndarray of any shape
    Returns:
        a new np.ndarray with the shape and dtype of x (do not modify x)
    """,
    "leaky_relu": """x where x > 0, alpha * x elsewhere.

    Args:
        x: np.ndarray of any shape
        alpha: float, the slope on the negative side
    Returns:
        np.ndarray with the shape and dtype of x
    """,
    "softmax": """Softmax along axis: the result sums to 1 along axis.

    Args:
        x: np.ndarray of any shape
        axis: int, the axis to normalise along
    Returns:
        np.ndarray with the shape and dtype of x
    """,
    "sigmoid_backward": """Given dout = dL/d(sigmoid(x)), return dx = dL/dx.

    Args:
        dout: np.ndarray, the upstream gradient, shaped like x
        x: np.ndarray, the sigmoid's input
    Returns:
        dx: np.ndarray with the shape and dtype of x
    """,
    "relu_backward": """Given dout = dL/d(relu(x)), return dx = dL/dx (0 where x == 0).

    Args:
        dout: np.ndarray, the upstream gradient, shaped like x
        x: np.ndarray, the relu's input
    Returns:
        dx: a new np.ndarray with the shape and dtype of x
    """,
    "linear_backward": """Backward pass of out = x @ w + b.

    Args:
        dout: (N, M) upstream gradient
        x: (N, D) input
        w: (D, M) weights
        b: (M,) bias
    Returns:
        (dx, dw, db) of shapes (N, D), (D, M), (M,)
    """,
    "softmax_cross_entropy": """Batch-mean softmax cross-entropy and its gradient.

    Args:
        logits: (N, C) float array
        labels: (N,) integer array with values 0..C-1
    Returns:
        (loss, dlogits): loss a float scalar, dlogits of shape (N, C)
    """,
    "mlp_backward": """Two-layer MLP: relu(x @ w1 + b1) @ w2 + b2, mean softmax cross-entropy.

    Args:
        x: (N, D); labels: (N,) integers
        w1: (D, H); b1: (H,); w2: (H, C); b2: (C,)
    Returns:
        (loss, dw1, db1, dw2, db2)
    """,
    "batchnorm_forward": """Forward pass matching torch.nn.BatchNorm1d.

    Args:
        x: (N, D); gamma, beta, running_mean, running_var: (D,)
        momentum: the running average's coefficient; eps: small constant added to the variance
        training: True uses the batch statistics and updates the running ones; False uses the
            running statistics
    Returns:
        (out, running_mean, running_var), all new arrays
    """,
    "batchnorm_backward": """Backward pass of BN in training mode (statistics recomputed from x).

    Args:
        dout: (N, D) upstream gradient; x: (N, D) input; gamma: (D,)
        eps: small constant added to the variance
    Returns:
        (dx, dgamma, dbeta) of shapes (N, D), (D,), (D,)
    """,
    "layernorm_forward": """Layer Normalization along the last axis.

    Args:
        x: array of rank >= 2 whose last axis is the feature axis D
        gamma, beta: (D,)
        eps: small constant added to the variance
    Returns:
        np.ndarray with the shape and dtype of x
    """,
    "layernorm_backward": """Backward pass of Layer Normalization.

    Args:
        dout, x: arrays of the same shape, rank >= 2, last axis D
        gamma: (D,)
        eps: small constant added to the variance
    Returns:
        (dx, dgamma, dbeta): dx shaped like x, dgamma and dbeta of shape (D,)
    """,
}
