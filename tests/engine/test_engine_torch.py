"""Every reference, on every test case, against PyTorch.

requirements-dev.txt pins the CPU build (`torch==2.13.0`, ~21 s to install here), so this runs
wherever `make test` runs; the service itself never needs torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch  # a missing torch fails the suite rather than skipping it

from engine.cases import CASE_BUILDERS, Case, get_cases
from engine.compare import TOLERANCES
from engine.drills import DRILLS

F = torch.nn.functional


def t(a: np.ndarray, grad: bool = False) -> Any:
    return torch.tensor(np.array(a), requires_grad=grad)


def call(drill_id: str, case: Case) -> tuple[Any, ...]:
    """What PyTorch computes for this case, as a tuple of tensors (or floats)."""
    params = DRILLS[drill_id].params
    kw = dict(zip(params, case.args, strict=False)) | dict(case.kwargs)
    if drill_id == "sigmoid":
        return (torch.sigmoid(t(kw["x"])),)
    if drill_id == "relu":
        return (torch.relu(t(kw["x"])),)
    if drill_id == "leaky_relu":
        return (F.leaky_relu(t(kw["x"]), negative_slope=kw.get("alpha", 0.01)),)
    if drill_id == "softmax":
        return (torch.softmax(t(kw["x"]), dim=kw.get("axis", -1)),)
    if drill_id in ("sigmoid_backward", "relu_backward"):
        x = t(kw["x"], grad=True)
        (torch.sigmoid(x) if drill_id == "sigmoid_backward" else torch.relu(x)).backward(
            t(kw["dout"])
        )
        return (x.grad,)
    if drill_id == "linear_backward":
        x, w, b = t(kw["x"], True), t(kw["w"], True), t(kw["b"], True)
        (x @ w + b).backward(t(kw["dout"]))
        return x.grad, w.grad, b.grad
    if drill_id == "softmax_cross_entropy":
        logits = t(kw["logits"], True)
        loss = F.cross_entropy(logits, torch.tensor(kw["labels"]).long())
        loss.backward()
        return loss, logits.grad
    if drill_id == "mlp_backward":
        w1, b1, w2, b2 = (t(kw[n], True) for n in ("w1", "b1", "w2", "b2"))
        logits = torch.relu(t(kw["x"]) @ w1 + b1) @ w2 + b2
        loss = F.cross_entropy(logits, torch.tensor(kw["labels"]).long())
        loss.backward()
        return loss, w1.grad, b1.grad, w2.grad, b2.grad
    if drill_id == "batchnorm_forward":
        x = t(kw["x"])
        d = x.shape[1]
        bn = torch.nn.BatchNorm1d(d, eps=kw.get("eps", 1e-5), momentum=kw.get("momentum", 0.1))
        bn = bn.to(x.dtype)
        with torch.no_grad():
            bn.weight.copy_(t(kw["gamma"]))
            bn.bias.copy_(t(kw["beta"]))
            bn.running_mean.copy_(t(kw["running_mean"]))
            bn.running_var.copy_(t(kw["running_var"]))
            bn.train(kw.get("training", True))
            out = bn(x)
        return out, bn.running_mean, bn.running_var
    if drill_id == "batchnorm_backward":
        x, gamma = t(kw["x"], True), t(kw["gamma"], True)
        beta = torch.zeros_like(gamma, requires_grad=True)
        out = F.batch_norm(x, None, None, gamma, beta, training=True, eps=kw.get("eps", 1e-5))
        out.backward(t(kw["dout"]))
        return x.grad, gamma.grad, beta.grad
    if drill_id == "layernorm_forward":
        x = t(kw["x"])
        d = x.shape[-1]
        return (F.layer_norm(x, (d,), t(kw["gamma"]), t(kw["beta"]), eps=kw.get("eps", 1e-5)),)
    if drill_id == "layernorm_backward":
        x, gamma = t(kw["x"], True), t(kw["gamma"], True)
        beta = torch.zeros_like(gamma, requires_grad=True)
        out = F.layer_norm(x, (x.shape[-1],), gamma, beta, eps=kw.get("eps", 1e-5))
        out.backward(t(kw["dout"]))
        return x.grad, gamma.grad, beta.grad
    raise AssertionError(drill_id)


@pytest.mark.parametrize("drill_id", list(CASE_BUILDERS))
def test_reference_matches_torch(drill_id: str) -> None:
    for case in get_cases(drill_id):
        expected = case.expected if isinstance(case.expected, tuple) else (case.expected,)
        got = call(drill_id, case)
        for ours, theirs in zip(expected, got, strict=True):
            ours = np.asarray(ours)
            rtol, atol = TOLERANCES[ours.dtype.itemsize]
            atol = atol if case.atol is None else case.atol
            theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else theirs
            np.testing.assert_allclose(
                ours, theirs, rtol=rtol, atol=atol, err_msg=f"{drill_id} / {case.name}"
            )
