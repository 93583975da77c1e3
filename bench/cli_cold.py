"""Cold command-line grading: `python -m engine grade relu FILE --json` from a fresh interpreter.

    .venv/bin/python bench/cli_cold.py               # 20 runs each, interleaved
    .venv/bin/python bench/cli_cold.py -n 40 --root OTHER_CHECKOUT   # + another checkout's CLI

Wall time of the whole process (interpreter start, imports, the sandbox runner's start and
probe, both children, shutdown) for an accepted relu, beside `python -c "import numpy"` run in
turn with it (the floor: a cold interpreter with NumPy). Target: median <= 200 ms. The runs
alternate so that machine load moves both figures alike. Every checkout's bytecode is compiled
first, as `make setup` leaves it: a run that had to compile the engine's modules (a checkout
never set up, or PYTHONDONTWRITEBYTECODE=1) would measure the compiler. A further line per
checkout times the runner alone, from its spawn to its hello (start-up and probe done): the
part that runs beside the command line's own imports, and decides the total when those end
first.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RELU = "import numpy as np\n\n\ndef relu(x):\n    return np.maximum(x, 0)\n"


def wall(argv: list[str], cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    return (time.perf_counter() - start) * 1000.0, done.stdout


# The runner alone, from its spawn to the first bytes of its hello (start-up and probe done):
# the part of a cold grade that runs beside the command line's own imports.
RUNNER_HELLO = """
import os, time
from engine.sandbox import spawn
started = time.perf_counter()
runner = spawn.spawn_runner(spawn.uid_base_from_env(), spares=2, quiet=True)
os.read(runner.stdout.fileno(), 4)
print((time.perf_counter() - started) * 1000.0)
runner.kill()
runner.wait()
"""


def runner_hello(checkout: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(checkout))
    argv = [sys.executable, "-c", RUNNER_HELLO]
    done = subprocess.run(argv, cwd=checkout, env=env, capture_output=True, text=True, check=True)
    return float(done.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=20, help="cold runs of each (default 20)")
    parser.add_argument("--root", type=Path, action="append", default=[],
                        help="also time this checkout's CLI (e.g. a copy of main)")  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        answer = Path(tmp) / "relu.py"
        answer.write_text(RELU)
        checkouts = [ROOT, *[r.resolve() for r in args.root]]
        for checkout in checkouts:
            sources = [str(checkout / name) for name in ("app.py", "quiz", "engine")]
            subprocess.run([sys.executable, "-m", "compileall", "-q", *sources], check=True)
        cli = [sys.executable, "-m", "engine", "grade", "relu", str(answer), "--json"]
        floor = [sys.executable, "-c", "import numpy"]
        times: dict[str, list[float]] = {"python -c 'import numpy'": []}
        times.update({f"CLI grade ({c})": [] for c in checkouts})
        times.update({f"runner start-up to hello ({c})": [] for c in checkouts})
        for _ in range(args.n):
            times["python -c 'import numpy'"].append(wall(floor, ROOT)[0])
            for checkout in checkouts:
                ms, out = wall(cli, checkout)
                if json.loads(out)["verdict"] != "accepted":
                    raise SystemExit(f"{checkout}: relu not accepted: {out[:500]}")
                times[f"CLI grade ({checkout})"].append(ms)
            for checkout in checkouts:
                times[f"runner start-up to hello ({checkout})"].append(runner_hello(checkout))
    print(f"cold runs: {args.n} each, interleaved")
    for label, values in times.items():
        print(
            f"  {label}: median {statistics.median(values):.0f} ms, max {max(values):.0f} ms"
            f" (n={len(values)})"
        )
    median = statistics.median(times[f"CLI grade ({ROOT})"])
    print(f"target: median <= 200 ms: {'met' if median <= 200 else 'MISSED'} ({median:.0f} ms)")


if __name__ == "__main__":
    main()
