"""Cold command-line grading: `python -m engine grade relu FILE --json` from a fresh interpreter.

    .venv/bin/python bench/cli_cold.py               # 20 runs each, interleaved
    .venv/bin/python bench/cli_cold.py -n 40 --root OTHER_CHECKOUT   # + another checkout's CLI

Wall time of the whole process (interpreter start, imports, the sandbox runner's start and
probe, both children, shutdown) for an accepted relu, beside `python -c "import numpy"` run in
turn with it (the floor: a cold interpreter with NumPy). Target: median <= 200 ms. The runs
alternate so that machine load moves both figures alike. Every checkout's bytecode is compiled
first, as `make setup` leaves it: a run that had to compile the engine's modules (a checkout
never set up, or PYTHONDONTWRITEBYTECODE=1) would measure the compiler.
"""

from __future__ import annotations

import argparse
import json
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
        times: dict[str, list[float]] = {"import numpy": []}
        times.update({str(c): [] for c in checkouts})
        for _ in range(args.n):
            times["import numpy"].append(wall(floor, ROOT)[0])
            for checkout in checkouts:
                ms, out = wall(cli, checkout)
                if json.loads(out)["verdict"] != "accepted":
                    raise SystemExit(f"{checkout}: relu not accepted: {out[:500]}")
                times[str(checkout)].append(ms)
    print(f"cold runs: {args.n} each, interleaved")
    for name, values in times.items():
        label = "python -c 'import numpy'" if name == "import numpy" else f"CLI grade ({name})"
        print(
            f"  {label}: median {statistics.median(values):.0f} ms, max {max(values):.0f} ms"
            f" (n={len(values)})"
        )
    median = statistics.median(times[str(ROOT)])
    print(f"target: median <= 200 ms: {'met' if median <= 200 else 'MISSED'} ({median:.0f} ms)")


if __name__ == "__main__":
    main()
