"""Deterministic test cases for every drill, and their reference outputs.

Each drill has two or three visible examples (fixed, readable numbers) and at least eight hidden
cases generated from fixed seeds, each named for what it tests. `get_cases(drill_id)` builds them
once per process, computes the reference outputs and freezes every array, so grading a
submission costs no case generation at all.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import numpy as np

from engine import reference
from engine.cases import activations, backprop, norms
from engine.cases.base import Case

__all__ = ["CASE_BUILDERS", "Case", "get_cases"]

CASE_BUILDERS: dict[str, Callable[[], list[Case]]] = {
    "sigmoid": activations.sigmoid,
    "relu": activations.relu,
    "leaky_relu": activations.leaky_relu,
    "softmax": activations.softmax,
    "sigmoid_backward": backprop.sigmoid_backward,
    "relu_backward": backprop.relu_backward,
    "linear_backward": backprop.linear_backward,
    "softmax_cross_entropy": backprop.softmax_cross_entropy,
    "mlp_backward": backprop.mlp_backward,
    "batchnorm_forward": norms.batchnorm_forward,
    "batchnorm_backward": norms.batchnorm_backward,
    "layernorm_forward": norms.layernorm_forward,
    "layernorm_backward": norms.layernorm_backward,
}


def _frozen(value: Any) -> Any:
    """A read-only copy, so a cached case can never be altered by anyone downstream."""
    if isinstance(value, np.ndarray):
        copy = value.copy()
        copy.flags.writeable = False
        return copy
    if isinstance(value, tuple):
        return tuple(_frozen(v) for v in value)
    return value


@functools.cache
def get_cases(drill_id: str) -> tuple[Case, ...]:
    """Every case of a drill, visible first, with reference outputs; built once per process.

    Raises KeyError for an unknown drill id.
    """
    function = getattr(reference, drill_id)
    prepared = []
    for case in CASE_BUILDERS[drill_id]():
        args = _frozen(case.args)
        kwargs = MappingProxyType({k: _frozen(v) for k, v in case.kwargs.items()})
        # The reference gets its own writable copies: it must not be able to touch the case.
        expected = function(
            *(np.array(a) if isinstance(a, np.ndarray) else a for a in args),
            **{k: np.array(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()},
        )
        prepared.append(Case(case.name, args, kwargs, case.hidden, _frozen(expected), case.atol))
    # Visible examples come first so that "run" mode is a prefix of "submit".
    prepared.sort(key=lambda c: c.hidden)
    return tuple(prepared)
