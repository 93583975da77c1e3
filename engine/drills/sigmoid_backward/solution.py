import numpy as np


def sigmoid_backward(dout, x):
    """dx = dout * s * (1 - s)，其中 s = sigmoid(x)。"""
    z = np.exp(-np.abs(x))
    s = np.where(x >= 0, 1 / (1 + z), z / (1 + z))  # 稳定的 sigmoid
    return dout * s * (1 - s)
