"""Whatever a child sends back, the grading parent's cost stays bounded.

Each program floods the result pipe with a stream that would be expensive to decode or render
(millions of one-byte items, a million empty or tiny frames, deep nesting, lying counts) or keeps
writing after its end record. The parent's extra memory is measured with tracemalloc, its CPU
with the calling thread's CPU clock (the pool reads and decodes in the caller's thread).
Targets from the issue: <= 64 MB and <= 0.5 s CPU per stream; `bench/amplification.py` prints
the figures.
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pytest

from engine.grader import grade
from engine.sandbox import Call, Limits, Pool
from tests.engine.sandbox.attacks import AMPLIFICATION

MB = 2**20
LIMITS = Limits(cpu_seconds=2.0, wall_seconds=3.0)


def measure(pool: Pool, source: str) -> tuple[str, float, float, float]:
    """(status, parent CPU seconds, parent peak extra MB, wall seconds) of one run."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        cpu, wall = time.thread_time(), time.monotonic()
        out = pool.run(source, "relu", [Call((np.ones(3),))], LIMITS)
        cpu, wall = time.thread_time() - cpu, time.monotonic() - wall
        peak = (tracemalloc.get_traced_memory()[1] - base) / MB
    finally:
        tracemalloc.stop()
    return out.status, cpu, peak, wall


@pytest.mark.parametrize("name", sorted(AMPLIFICATION))
def test_a_flooding_stream_costs_the_parent_little(name: str, pool: Pool) -> None:
    status, cpu, peak, wall = measure(pool, AMPLIFICATION[name])
    assert status in ("crashed", "output_limit", "ok", "timeout"), status
    assert status == "timeout" if name == "stdout_flood_until_the_deadline" else status != "ok"
    assert peak <= 64, f"{name}: {peak:.1f} MB"
    # CPU time of this thread (not wall time): a busy machine does not inflate it much.
    assert cpu <= 0.5, f"{name}: {cpu:.2f} s CPU"
    # The wall limit holds: a stream that keeps coming is cut at the deadline (+ a short
    # drain), never read on without end. Generous margin for a loaded CI machine.
    assert wall <= LIMITS.wall_seconds + 2.0, f"{name}: {wall:.2f} s"


def test_a_flood_through_the_grader_is_a_runtime_error(pool: Pool) -> None:
    result = grade("relu", AMPLIFICATION["tuple_of_millions_of_none"], sandbox=pool)
    assert result.verdict == "runtime_error"
    assert "无法识别" in result.message


def test_rendering_a_long_tuple_renders_only_its_head() -> None:
    from engine.compare import render

    started = time.thread_time()
    text = render(tuple(range(19_000)))
    assert time.thread_time() - started < 0.1
    assert text.startswith("(0, 1, 2") and "共 19000 个元素" in text and len(text) < 200
