"""Diagnosis benchmark: what naming the mistake adds to a grade, through the warm pool.

    .venv/bin/python bench/diagnosis.py            # ~30 s, JSON in bench/out/diagnosis.json
    .venv/bin/python bench/diagnosis.py --quick    # fewer samples

For every drill, `engine.grader.grade` (sandboxed run + trusted comparison + diagnosis) is timed
on three answers in the same run:
1. the reference solution (accepted: no diagnosis is attempted) — the baseline;
2. the first catalogued mistake, written as a learner would (wrong answer, named from the
   catalogue: every entry of the drill is evaluated on the same inputs);
3. a wrong answer no entry explains (the generic checks run after the whole catalogue fails).
The catalogue's outputs on the fixed cases are computed once per process and cached; the first
diagnosis of each drill (the cold one) is reported separately.

Targets, on a quiet 2-core machine (CI does not run this; checked, exit 1 when missed): accepted
p50 <= 25 ms, diagnosed wrong answer p50 <= 50 ms (worst drill). Tails: p99 only from 1,000
samples, otherwise the maximum (bench/stats.py).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stats import Targets, tail  # noqa: E402
from engine.cases import get_cases  # noqa: E402
from engine.diagnosis import _OUTPUTS, diagnose  # noqa: E402
from engine.drills import DRILLS  # noqa: E402
from engine.grader import _call, grade  # noqa: E402
from engine.mistakes import CATALOGUE  # noqa: E402
from engine.sandbox import Pool  # noqa: E402
from tests.engine.mistake_sources import SOURCES  # noqa: E402

# Multiplies the first returned value by 3: no catalogue entry does that.
UNEXPLAINED = """
{solution}

_right = {name}


def {name}(*args, **kwargs):
    out = _right(*args, **kwargs)
    return (out[0] * 3, *out[1:]) if isinstance(out, tuple) else out * 3
"""


def timed(drill_id: str, source: str, pool: Pool, want: str) -> tuple[float, Any]:
    start = time.perf_counter()
    result = grade(drill_id, source, sandbox=pool)
    ms = (time.perf_counter() - start) * 1000.0
    if result.verdict != want:
        raise SystemExit(f"{drill_id}: expected {want}, got {result.verdict}: {result.message}")
    return ms, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    samples = 10 if args.quick else 40
    pool = Pool()
    rows = []
    label = tail([0.0] * samples)[0]  # p99 only from 1,000 samples, else the maximum
    print(f"{samples} samples per answer; p50 / {label} in ms", flush=True)
    for drill_id, drill in DRILLS.items():
        mistake = CATALOGUE[drill_id][0]
        wrong = SOURCES[mistake.id]
        other = UNEXPLAINED.format(solution=drill.solution_code, name=drill_id)
        for _ in range(3):
            timed(drill_id, drill.solution_code, pool, "accepted")  # warm every runner
        _OUTPUTS.clear()
        cold, result = timed(drill_id, wrong, pool, "wrong_answer")
        assert result.diagnosis and result.diagnosis["id"] == mistake.id, result.diagnosis
        ok = [timed(drill_id, drill.solution_code, pool, "accepted")[0] for _ in range(samples)]
        named = [timed(drill_id, wrong, pool, "wrong_answer")[0] for _ in range(samples)]
        generic = [timed(drill_id, other, pool, "wrong_answer")[0] for _ in range(samples)]
        # The diagnosis alone, on the decoded outcome: its cost in the trusted process, free of
        # the sandbox's (load-dependent) fork and run time.
        cases = list(get_cases(drill_id))
        outcome = pool.run(wrong, drill_id, [_call(c) for c in cases])
        alone = []
        for source_outcome in (outcome,) * samples:
            start = time.perf_counter()
            found = diagnose(drill, cases, source_outcome.calls)
            alone.append((time.perf_counter() - start) * 1000.0)
        assert found is not None and found.id == mistake.id
        row = {
            "drill": drill_id,
            "catalogue_entries": len(CATALOGUE[drill_id]),
            "accepted_p50_ms": statistics.median(ok),
            "accepted_tail_ms": tail(ok)[1],
            "diagnosed_p50_ms": statistics.median(named),
            "diagnosed_tail_ms": tail(named)[1],
            "generic_p50_ms": statistics.median(generic),
            "generic_tail_ms": tail(generic)[1],
            "first_diagnosis_ms": cold,
            "diagnose_only_p50_ms": statistics.median(alone),
            "diagnose_only_tail_ms": tail(alone)[1],
        }
        rows.append(row)
        print(
            f"  {drill_id:24s} accepted {row['accepted_p50_ms']:5.1f} / {row['accepted_tail_ms']:5.1f}"
            f"   diagnosed {row['diagnosed_p50_ms']:5.1f} / {row['diagnosed_tail_ms']:5.1f}"
            f"   generic {row['generic_p50_ms']:5.1f} / {row['generic_tail_ms']:5.1f}"
            f"   first {cold:5.1f}   diagnosis alone {row['diagnose_only_p50_ms']:4.1f}"
            f" / {row['diagnose_only_tail_ms']:4.1f}",
            flush=True,
        )
    pool.close()
    worst = {
        k: max(r[k] for r in rows)
        for k in (
            "accepted_p50_ms",
            "diagnosed_p50_ms",
            "generic_p50_ms",
            "first_diagnosis_ms",
            "diagnose_only_p50_ms",
        )
    }
    print(
        f"worst drill: accepted p50 {worst['accepted_p50_ms']:.1f} ms (target <= 25), "
        f"diagnosed p50 {worst['diagnosed_p50_ms']:.1f} ms (target <= 50), "
        f"generic p50 {worst['generic_p50_ms']:.1f} ms; the diagnosis itself adds at most "
        f"{worst['diagnose_only_p50_ms']:.1f} ms (p50)",
        flush=True,
    )
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "diagnosis.json").write_text(
        json.dumps({"samples": samples, "tail": label, "drills": rows, "worst": worst}, indent=2)
    )
    targets = Targets()
    targets.at_most("worst drill, accepted p50", worst["accepted_p50_ms"], 25.0, " ms")
    targets.at_most("worst drill, diagnosed p50", worst["diagnosed_p50_ms"], 50.0, " ms")
    targets.finish("diagnosis")


if __name__ == "__main__":
    main()
