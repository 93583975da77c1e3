import numpy as np


def batchnorm_backward(dout, x, gamma, eps=1e-5):
    """训练模式 BN 的反向传播，返回 (dx, dgamma, dbeta)。"""
    n = x.shape[0]
    inv_std = 1 / np.sqrt(x.var(axis=0) + eps)
    x_hat = (x - x.mean(axis=0)) * inv_std
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dx = inv_std / n * (n * dx_hat - dx_hat.sum(axis=0)
                        - x_hat * (dx_hat * x_hat).sum(axis=0))
    return dx, dgamma, dbeta
