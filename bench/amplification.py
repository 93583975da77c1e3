"""What a hostile result stream costs the grading parent (memory, CPU, wall), per attack.

    .venv/bin/python bench/amplification.py

Each program in tests/engine/sandbox/attacks.py (AMPLIFICATION) floods the result pipe of a
real sandboxed child; the figures are for the process that calls `Pool.run` (which reads and
decodes in the calling thread): CPU from the thread's CPU clock, extra memory as tracemalloc's
peak over the call and as the growth of the process's peak RSS. Targets (issue 10): <= 64 MB
and <= 0.5 s CPU per stream, and the wall limit (3 s here) held to within 0.5 s.
"""

from __future__ import annotations

import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.sandbox import Call, Limits, Pool  # noqa: E402
from tests.engine.sandbox.attacks import AMPLIFICATION  # noqa: E402

LIMITS = Limits(cpu_seconds=2.0, wall_seconds=3.0)


def main() -> None:
    pool = Pool(slots=1, overflow=0)
    pool.run("def relu(x):\n    return x\n", "relu", [Call((np.ones(3),))])  # warm
    print(
        f"{'attack':32s} {'status':13s} {'CPU s':>6s} {'peak MB':>8s} {'RSS+ MB':>8s} {'wall s':>7s}"
    )
    try:
        for name, source in AMPLIFICATION.items():
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
            cpu, wall = time.thread_time(), time.monotonic()
            out = pool.run(source, "relu", [Call((np.ones(3),))], LIMITS)
            cpu, wall = time.thread_time() - cpu, time.monotonic() - wall
            peak = (tracemalloc.get_traced_memory()[1] - base) / 2**20
            tracemalloc.stop()
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss_before
            print(f"{name:32s} {out.status:13s} {cpu:6.3f} {peak:8.1f} {rss:8.1f} {wall:7.2f}")
    finally:
        pool.close()


if __name__ == "__main__":
    main()
