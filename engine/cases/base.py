"""A test case and the small helpers the case tables are written with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

F32 = np.float32


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: cases are cached singletons
class Case:
    """One call of a drill function: its inputs and, once prepared, the reference output."""

    name: str
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    hidden: bool = True
    expected: Any = None
    # A stricter absolute tolerance than the dtype's default (0: purely relative), for cases
    # that test accuracy where the true values are tiny.
    atol: float | None = None


def visible(name: str, *args: Any, **kwargs: Any) -> Case:
    return Case(name, args, kwargs, hidden=False)


def hidden(name: str, *args: Any, **kwargs: Any) -> Case:
    return Case(name, args, kwargs, hidden=True)


def strict(case: Case, atol: float) -> Case:
    return Case(case.name, case.args, case.kwargs, case.hidden, atol=atol)


def arr(values: Any, dtype: Any = np.float64) -> np.ndarray:
    return np.array(values, dtype=dtype)


def rng(drill_seed: int, case_seed: int) -> np.random.Generator:
    # One independent stream per (drill, case): editing one case never changes another.
    return np.random.default_rng([drill_seed, case_seed])
