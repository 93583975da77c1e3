import numpy as np


def sigmoid(x):
    """逐元素计算 Sigmoid，对任意大小的输入都数值稳定。"""
    z = np.exp(-np.abs(x))  # 落在 (0, 1]，不会溢出
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))
