import numpy as np


def layernorm_backward(dout, x, gamma, eps=1e-5):
    """Layer Normalization 的反向传播，返回 (dx, dgamma, dbeta)。"""
    d = x.shape[-1]
    inv_std = 1 / np.sqrt(x.var(axis=-1, keepdims=True) + eps)
    x_hat = (x - x.mean(axis=-1, keepdims=True)) * inv_std
    dx_hat = dout * gamma
    dx = inv_std / d * (d * dx_hat - dx_hat.sum(axis=-1, keepdims=True)
                        - x_hat * (dx_hat * x_hat).sum(axis=-1, keepdims=True))
    dgamma = (dout * x_hat).reshape(-1, d).sum(axis=0)
    dbeta = dout.reshape(-1, d).sum(axis=0)
    return dx, dgamma, dbeta
