import numpy as np


def batchnorm_forward(x, gamma, beta, running_mean, running_var,
                      momentum=0.1, eps=1e-5, training=True):
    """与 torch.nn.BatchNorm1d 一致的前向，返回 (out, running_mean, running_var)。"""
    if not training:
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
        return out, running_mean.copy(), running_var.copy()
    n = x.shape[0]
    mean = x.mean(axis=0)
    var = x.var(axis=0)  # 有偏方差：用于归一化
    out = gamma * (x - mean) / np.sqrt(var + eps) + beta
    new_mean = (1 - momentum) * running_mean + momentum * mean
    new_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)  # 无偏方差
    return out, new_mean, new_var
