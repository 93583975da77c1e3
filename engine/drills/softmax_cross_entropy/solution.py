import numpy as np


def softmax_cross_entropy(logits, labels):
    """batch 平均的 softmax 交叉熵，返回 (loss, dlogits)。"""
    n = logits.shape[0]
    rows = np.arange(n)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # log-softmax
    loss = -log_probs[rows, labels].mean()
    dlogits = np.exp(log_probs)
    dlogits[rows, labels] -= 1
    return loss, dlogits / n
