"""Name the mistake behind a failing grade, in the trusted process, from values already decoded.

First the drill's catalogue of known mistakes (`engine.mistakes`): an entry is reported only if
its outputs match the submission's on every test that ran, within the comparison tolerance, and
no other entry matches too. Otherwise a generic numeric diagnosis computed from expected vs got
(a constant factor, a sign flip, a transpose, failures only where an input is 0, only on large
inputs, only in float32, ...), again only when it holds for every failing test. Anything less
certain says nothing. A diagnosis names the mistake; numbers appear only when they come from
visible tests, so hidden tests reveal nothing about their data.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.cases import Case, get_cases
from engine.compare import TOLERANCES, mutated_arguments
from engine.i18n import mistake_text
from engine.mistakes import Mistake, mistakes_for, notes_anchor

if TYPE_CHECKING:
    from engine.drills import Drill
    from engine.sandbox.api import CallOutcome


@dataclass(frozen=True)
class Diagnosis:
    id: str
    title: str
    detail: str
    section: str | None  # anchor of the notes section to read

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "detail": self.detail, "section": self.section}


def diagnose(drill: Drill, cases: Sequence[Case], calls: Sequence[CallOutcome]) -> Diagnosis | None:
    """The diagnosis of a wrong answer whose every call returned a value; None when unsure."""
    if not cases or any(c.status != "ok" for c in calls):
        return None
    found = _catalogue_match(drill, cases, calls)
    if found is not None:
        title, detail = mistake_text(found.id, found.title, found.explanation)
        return Diagnosis(found.id, title, detail, found.anchor())
    from engine.generic import generic_diagnosis  # the fallback lives in its own module

    result = generic_diagnosis(drill, cases, calls)
    if result is None:
        return None
    key, title, detail = result
    return Diagnosis(f"generic.{key}", title, detail, notes_anchor(drill.topic, drill.section))


# ---------------------------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------------------------

_NO_OUTPUT = object()


@dataclass(frozen=True)
class _Spelling:
    """One way of making a mistake: its output on every case of the drill, and on which cases
    that output differs from the reference (checked first: they reject a mismatch soonest)."""

    outputs: tuple[Any, ...]
    differs: tuple[bool, ...]


_OUTPUTS: dict[str, tuple[_Spelling, ...]] = {}


def _outputs(mistake: Mistake) -> tuple[_Spelling, ...]:
    """Each spelling of the mistake on every case of the drill (cached: cases never change)."""
    cached = _OUTPUTS.get(mistake.id)
    if cached is None:
        cases = get_cases(mistake.drill)
        spellings = []
        for function in (mistake.compute, *mistake.variants):
            outputs = tuple(_run(function, case) for case in cases)
            differs = tuple(
                o is _NO_OUTPUT or not agree(o, c.expected, c.expected, c.atol)
                for o, c in zip(outputs, cases, strict=True)
            )
            spellings.append(_Spelling(outputs, differs))
        cached = tuple(spellings)
        _OUTPUTS[mistake.id] = cached
    return cached


def _run(function: Any, case: Case) -> Any:
    def copy(v: Any) -> Any:
        return np.array(v) if isinstance(v, np.ndarray) else v

    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return function(
                *(copy(a) for a in case.args), **{k: copy(v) for k, v in case.kwargs.items()}
            )
    except Exception:  # a mistaken formula may not even apply to some inputs (shapes)
        return _NO_OUTPUT


def _catalogue_match(
    drill: Drill, cases: Sequence[Case], calls: Sequence[CallOutcome]
) -> Mistake | None:
    index = {id(c): i for i, c in enumerate(get_cases(drill.id))}
    positions = [index[id(c)] for c in cases if id(c) in index]
    if len(positions) != len(cases):
        return None
    mutated = [
        set(mutated_arguments(drill.params, c.args, c.kwargs, call.args_after, call.kwargs_after))
        for c, call in zip(cases, calls, strict=True)
    ]
    found = [
        mistake
        for mistake in mistakes_for(drill.id)
        if any(
            _explains(mistake, spelling, positions, cases, calls, mutated)
            for spelling in _outputs(mistake)
        )
    ]
    return found[0] if len(found) == 1 else None


def _explains(
    mistake: Mistake,
    spelling: _Spelling,
    positions: list[int],
    cases: Sequence[Case],
    calls: Sequence[CallOutcome],
    mutated: list[set[str]],
) -> bool:
    """Whether this spelling of the mistake reproduces the submission on every test."""
    if any(spelling.outputs[p] is _NO_OUTPUT for p in positions):
        return False
    if not mistake.mutates and not any(spelling.differs[p] for p in positions):
        return False  # the same as the reference on these tests: then it is not the cause
    # Where the mistake differs from the reference first: a mismatch shows there soonest.
    order = sorted(range(len(cases)), key=lambda i: not spelling.differs[positions[i]])
    for i in order:
        if not agree(
            spelling.outputs[positions[i]], calls[i].value, cases[i].expected, cases[i].atol
        ):
            return False
    if mistake.mutates:
        changed = set().union(*mutated)
        return bool(changed) and changed <= set(mistake.mutates)
    return True


def agree(a: Any, b: Any, expected: Any, atol: float | None = None) -> bool:
    """Whether two decoded results are the same within the tolerance the reference's dtype
    sets (NaN matches NaN, inf matches inf of the same sign); numbers are read as float64."""
    if isinstance(expected, tuple):
        if not (isinstance(a, tuple) and isinstance(b, tuple)):
            return False
        if not (len(a) == len(b) == len(expected)):
            return False
        return all(agree(x, y, e, atol) for x, y, e in zip(a, b, expected, strict=True))
    if np.shape(a) != np.shape(b) if _plain(a) and _plain(b) else True:
        return False  # checked before any conversion: a submission's array may be large
    x, y = _numbers(a), _numbers(b)
    if x is None or y is None or x.shape != y.shape:
        return False
    rtol, default_atol = TOLERANCES[np.asarray(expected).dtype.itemsize]
    tolerance = default_atol if atol is None else atol
    with np.errstate(all="ignore"):
        return bool(np.allclose(x, y, rtol=rtol, atol=tolerance, equal_nan=True))


def _plain(value: Any) -> bool:
    return type(value) in (float, int, bool, np.ndarray) or isinstance(value, np.generic)


def _numbers(value: Any) -> np.ndarray | None:
    if type(value) in (float, int, bool) or isinstance(value, np.generic):
        value = np.asarray(value)
    if type(value) is not np.ndarray or value.dtype.kind not in "fiub":
        return None
    return value.astype(np.float64)
