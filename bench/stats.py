"""Shared by every benchmark: percentiles the samples can support, spreads, and target checks.

A percentile needs enough samples beyond it to mean anything: the 99th of 40 samples is just
the largest one. So `tail()` gives p99 only from MIN_P99_SAMPLES samples and otherwise says
"max", and every benchmark prints the sample count beside it.

    >>> tail([float(i) for i in range(40)])
    ('max', 39.0)
    >>> tail([float(i) for i in range(1000)])
    ('p99', 989.0)
    >>> describe([1.0, 2.0, 3.0, 4.0])
    'p50 2.50, max 4.00 (n=4)'
    >>> mean_sd([1.0, 2.0, 3.0])
    (2.0, 1.0)
    >>> pm([0.01, 0.03], "{:+.1%}")
    '+2.0% ± 1.4%'

    >>> check = Targets()
    >>> check.at_most("p50", 4.0, 5.0, "ms")
    True
    >>> check.at_least("rate", 250.0, 300.0, "/s")
    False
    >>> check.ok
    False
"""

from __future__ import annotations

import contextlib
import math
import statistics
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

MIN_P99_SAMPLES = 1000


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 1]) of a non-empty sample."""
    if not values:
        raise ValueError("no samples")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def tail(values: Sequence[float]) -> tuple[str, float]:
    """("p99", value) from at least MIN_P99_SAMPLES samples, else ("max", value)."""
    if len(values) >= MIN_P99_SAMPLES:
        return "p99", percentile(values, 0.99)
    return "max", max(values)


def summary(values: Sequence[float]) -> dict[str, float | int | str]:
    """Median and the tail the sample supports, for the JSON outputs."""
    label, value = tail(values)
    return {"n": len(values), "p50": statistics.median(values), label: value, "tail": label}


def describe(values: Sequence[float], unit: str = "", digits: int = 2) -> str:
    """ "p50 2.31 ms, max 9.80 ms (n=80)" — or p99 when the sample supports it."""
    label, value = tail(values)
    suffix = f" {unit}" if unit else ""
    return (
        f"p50 {statistics.median(values):.{digits}f}{suffix}, "
        f"{label} {value:.{digits}f}{suffix} (n={len(values)})"
    )


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (sd 0 for a single value)."""
    mean = statistics.fmean(values)
    return mean, statistics.stdev(values) if len(values) > 1 else 0.0


def pm(values: Sequence[float], fmt: str = "{:.3f}") -> str:
    """ "0.912 ± 0.004" over seeds."""
    mean, sd = mean_sd(values)
    return f"{fmt.format(mean)} ± {fmt.replace('+', '').format(sd)}"


@dataclass
class Targets:
    """Collects target checks; `finish()` prints them and exits 1 if any was missed."""

    results: list[tuple[str, bool]] = field(default_factory=list)

    def _record(self, text: str, ok: bool) -> bool:
        self.results.append((text, ok))
        return ok

    def at_most(self, name: str, value: float, limit: float, unit: str = "") -> bool:
        return self._record(f"{name} {value:.3g}{unit} <= {limit:g}{unit}", value <= limit)

    def at_least(self, name: str, value: float, limit: float, unit: str = "") -> bool:
        return self._record(f"{name} {value:.3g}{unit} >= {limit:g}{unit}", value >= limit)

    def within(self, name: str, value: float, low: float, high: float, unit: str = "") -> bool:
        ok = low <= value <= high
        return self._record(f"{name} {value:.3g}{unit} in [{low:g}, {high:g}]{unit}", ok)

    def holds(self, name: str, ok: bool) -> bool:
        return self._record(name, ok)

    @property
    def ok(self) -> bool:
        return all(ok for _, ok in self.results)

    def finish(self, benchmark: str) -> None:
        """Print every check; exit with status 1 when one was missed (make bench-check)."""
        print(f"targets ({benchmark}):")
        for text, ok in self.results:
            print(f"  {'met   ' if ok else 'MISSED'} {text}")
        if not self.ok:
            print(f"{benchmark}: TARGETS MISSED", file=sys.stderr)
            sys.exit(1)
        print(f"{benchmark}: all targets met")


@contextlib.contextmanager
def sqlite_step_counter(app: Any) -> Iterator[list[int]]:
    """Counts SQLite virtual-machine instructions (a progress handler called on each one) on
    every connection `app` opens inside the block: the database's share of a request as a count
    the machine's load cannot move. Yields a one-item list: reset `[0]`, run, read `[0]`."""
    from sqlalchemy import event

    from quiz.db import db

    with app.app_context():
        engine = db.engine
    counter = [0]

    def tick() -> int:
        counter[0] += 1
        return 0  # carry on

    def install(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.set_progress_handler(tick, 1)

    event.listen(engine, "connect", install)
    engine.dispose()  # every connection from here on counts
    try:
        yield counter
    finally:
        event.remove(engine, "connect", install)
