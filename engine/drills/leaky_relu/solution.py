import numpy as np


def leaky_relu(x, alpha=0.01):
    """x > 0 处为 x，其余位置为 alpha * x。"""
    return np.where(x > 0, x, alpha * x)
