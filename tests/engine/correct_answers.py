"""A correct answer for every drill: the reference, loop-based and alternative forms (used by
test_engine_grader and test_diagnosis). Plain data: the rootless pass copies tests/engine alone."""

from __future__ import annotations

CORRECT: list[tuple[str, str, str]] = [
    (
        "sigmoid",
        "笔记中的写法（溢出只产生警告）",
        """
        import numpy as np

        def sigmoid(x):
            return 1 / (1 + np.exp(-x))
        """,
    ),
    (
        "sigmoid",
        "逐元素循环",
        """
        import math
        import numpy as np

        def sigmoid(x):
            out = np.empty_like(x)
            for i in np.ndindex(x.shape):
                v = float(x[i])
                out[i] = 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))
            return out
        """,
    ),
    (
        "relu",
        "布尔掩码相乘",
        """
        import numpy as np

        def relu(x):
            return x * (x > 0)
        """,
    ),
    (
        "relu",
        "先复制再原地修改副本",
        """
        def relu(x):
            y = x.copy()
            y[y < 0] = 0
            return y
        """,
    ),
    (
        "leaky_relu",
        "逐元素循环",
        """
        import numpy as np

        def leaky_relu(x, alpha=0.01):
            out = np.empty_like(x)
            for i in np.ndindex(x.shape):
                out[i] = x[i] if x[i] > 0 else alpha * x[i]
            return out
        """,
    ),
    (
        "softmax",
        "按轴循环",
        """
        import numpy as np

        def softmax(x, axis=-1):
            moved = np.moveaxis(x, axis, -1)
            out = np.empty_like(moved)
            for idx in np.ndindex(moved.shape[:-1]):
                row = moved[idx]
                e = np.exp(row - row.max())
                out[idx] = e / e.sum()
            return np.moveaxis(out, -1, axis)
        """,
    ),
    (
        "sigmoid_backward",
        "tanh 形式",
        """
        import numpy as np

        def sigmoid_backward(dout, x):
            s = 0.5 * (1 + np.tanh(0.5 * x))
            return dout * s * (1 - s)
        """,
    ),
    (
        "relu_backward",
        "布尔掩码相乘",
        """
        def relu_backward(dout, x):
            return dout * (x > 0)
        """,
    ),
    (
        "linear_backward",
        "三重循环",
        """
        import numpy as np

        def linear_backward(dout, x, w, b):
            n, d = x.shape
            m = w.shape[1]
            dx = np.zeros_like(x)
            dw = np.zeros_like(w)
            db = np.zeros_like(b)
            for i in range(n):
                for j in range(m):
                    db[j] += dout[i, j]
                    for k in range(d):
                        dx[i, k] += dout[i, j] * w[k, j]
                        dw[k, j] += x[i, k] * dout[i, j]
            return dx, dw, db
        """,
    ),
    (
        "softmax_cross_entropy",
        "返回 list 和 Python float",
        """
        import numpy as np

        def softmax_cross_entropy(logits, labels):
            n = len(labels)
            z = logits - logits.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            grad = np.exp(logp)
            grad[np.arange(n), labels] -= 1
            return [float(-logp[np.arange(n), labels].mean()), grad / n]
        """,
    ),
    (
        "softmax_cross_entropy",
        "loss 为 0 维数组",
        """
        import numpy as np

        def softmax_cross_entropy(logits, labels):
            n = len(labels)
            z = logits - logits.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            grad = np.exp(logp)
            grad[np.arange(n), labels] -= 1
            return np.array(-logp[np.arange(n), labels].mean()), grad / n
        """,
    ),
    (
        "batchnorm_forward",
        "按特征循环、ddof=1",
        """
        import numpy as np

        def batchnorm_forward(x, gamma, beta, running_mean, running_var,
                              momentum=0.1, eps=1e-5, training=True):
            out = np.empty_like(x)
            new_mean = running_mean.copy()
            new_var = running_var.copy()
            for j in range(x.shape[1]):
                col = x[:, j]
                if training:
                    mu, var = col.mean(), col.var()
                    new_mean[j] = (1 - momentum) * running_mean[j] + momentum * mu
                    new_var[j] = (1 - momentum) * running_var[j] + momentum * col.var(ddof=1)
                else:
                    mu, var = running_mean[j], running_var[j]
                out[:, j] = gamma[j] * (col - mu) / np.sqrt(var + eps) + beta[j]
            return out, new_mean, new_var
        """,
    ),
    (
        "layernorm_forward",
        "按样本循环",
        """
        import numpy as np

        def layernorm_forward(x, gamma, beta, eps=1e-5):
            flat = x.reshape(-1, x.shape[-1])
            out = np.empty_like(flat)
            for i, row in enumerate(flat):
                out[i] = gamma * (row - row.mean()) / np.sqrt(row.var() + eps) + beta
            return out.reshape(x.shape)
        """,
    ),
    (
        "layernorm_backward",
        "按样本循环、逐步链式法则",
        """
        import numpy as np

        def layernorm_backward(dout, x, gamma, eps=1e-5):
            d = x.shape[-1]
            xs, gs = x.reshape(-1, d), dout.reshape(-1, d)
            dx = np.empty_like(xs)
            dgamma = np.zeros_like(gamma)
            dbeta = np.zeros_like(gamma)
            for i in range(xs.shape[0]):
                mu = xs[i].mean()
                var = xs[i].var()
                std = np.sqrt(var + eps)
                xhat = (xs[i] - mu) / std
                dgamma += gs[i] * xhat
                dbeta += gs[i]
                dxhat = gs[i] * gamma
                dvar = np.sum(dxhat * (xs[i] - mu)) * -0.5 * std**-3
                dmu = -np.sum(dxhat) / std + dvar * np.mean(-2 * (xs[i] - mu))
                dx[i] = dxhat / std + dvar * 2 * (xs[i] - mu) / d + dmu / d
            return dx.reshape(x.shape), dgamma, dbeta
        """,
    ),
]
