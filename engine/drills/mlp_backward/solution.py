import numpy as np


def mlp_backward(x, labels, w1, b1, w2, b2):
    """两层 MLP 的损失与梯度，返回 (loss, dw1, db1, dw2, db2)。"""
    n = x.shape[0]
    rows = np.arange(n)
    # 前向
    h_pre = x @ w1 + b1
    h = np.maximum(h_pre, 0)
    logits = h @ w2 + b2
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[rows, labels].mean()
    # 反向
    dlogits = np.exp(log_probs)
    dlogits[rows, labels] -= 1
    dlogits /= n
    dw2 = h.T @ dlogits
    db2 = dlogits.sum(axis=0)
    dh_pre = (dlogits @ w2.T) * (h_pre > 0)
    dw1 = x.T @ dh_pre
    db1 = dh_pre.sum(axis=0)
    return loss, dw1, db1, dw2, db2
