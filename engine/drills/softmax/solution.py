import numpy as np


def softmax(x, axis=-1):
    """沿 axis 计算数值稳定的 softmax。"""
    shifted = x - np.max(x, axis=axis, keepdims=True)  # 每组最大值变为 0，exp 不会溢出
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)
