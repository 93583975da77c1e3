"""The zygote's warm-up: a submission of our own, run once before any sandbox is forked."""

from __future__ import annotations

import linecache
import sys
import warnings

import numpy as np

from engine.sandbox import child, wire


def test_warm_up_leaves_the_process_as_it_found_it() -> None:
    """Every sandbox inherits the zygote's state: the warm-up must not change what a
    submission's prints, warnings, NumPy error handling or tracebacks go through."""
    streams = (sys.stdin, sys.stdout, sys.stderr)
    filters = list(warnings.filters)
    errors = np.geterr()
    child.warm_up(wire)
    assert (sys.stdin, sys.stdout, sys.stderr) == streams
    assert warnings.filters == filters
    assert np.geterr() == errors
    assert child.SUBMISSION_FILE not in linecache.cache
