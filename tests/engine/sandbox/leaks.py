"""Pieces of the confidentiality attacks shared by the sandbox tests and the API's: the thief's
report, a ReLU answer with a line that tells hidden inputs apart, and the check that nothing of
the hidden cases reached the learner. Here, not in tests/factories: the rootless pass copies
tests/engine alone."""

from __future__ import annotations

import re

import numpy as np

from engine.cases import get_cases

HIDDEN_CALL = "bool(np.any(x * 2 != np.round(x * 2)))"
HEAD = "import numpy as np, os, sys, time, warnings, atexit, struct\n"
ANSWER = "    return np.maximum(x, 0)\n"


def thief_report(text: str) -> tuple[bool, int, str]:
    match = re.search(r"SELF (True|False) SCANNED (\d+) OTHER (\[.*\])", text)
    assert match, text
    return match.group(1) == "True", int(match.group(2)), match.group(3)


def hidden_numbers(drill_id: str) -> set[str]:
    """Text forms of the hidden inputs' first elements, as a leak would print them."""
    texts = set()
    for case in get_cases(drill_id):
        if not case.hidden:
            continue
        for arg in case.args:
            for v in np.asarray(arg, dtype=np.float64).ravel()[:4]:
                if abs(v) > 1e-3 and np.isfinite(v):
                    texts.add(repr(float(v))[:8])
                    texts.add(f"{v:.4f}")
    return texts


def assert_nothing_hidden_in(blob: str, drill_id: str) -> None:
    assert "LEAK" not in blob
    assert not re.search(r"第 ?\d+ ?行|line \d+|退出码|exit code", blob)
    # The numbers the programs chose (a line, exit codes, a forged time), as whole numbers:
    # timings of the visible tests (e.g. 0.174, 174.2) are the learner's own business.
    assert not re.search(r"(?<![\d.])(137|173|174|98765)(?![\d.])", blob)
    assert "SIGUSR" not in blob
    for text in hidden_numbers(drill_id):
        assert text not in blob, text
