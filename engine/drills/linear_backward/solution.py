import numpy as np


def linear_backward(dout, x, w, b):
    """out = x @ w + b 的反向传播，返回 (dx, dw, db)。"""
    dx = dout @ w.T          # (N, M) @ (M, D) -> (N, D)
    dw = x.T @ dout          # (D, N) @ (N, M) -> (D, M)
    db = dout.sum(axis=0)    # 前向的广播 -> 反向求和
    return dx, dw, db
