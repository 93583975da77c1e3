"""Before and after in the same run: a benchmark on another revision's code, then on this one.

`git archive` of the revision into a temporary directory; the benchmark script (this
checkout's, so both sides are measured the same way) runs with `--root DIR`, which makes it
import the app from DIR. Each side runs twice, in the order before, after, after, before, so a
change in the machine's load shows as a spread between two runs of the same code rather than as
a difference between codes, and a steady drift favours neither side.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def code_root(argv: Sequence[str]) -> Path:
    """The checkout to import the app from: `--root DIR` if given, else this one."""
    if "--root" in argv:
        return Path(argv[list(argv).index("--root") + 1]).resolve()
    return HERE


def compare(script: str, rev: str, args: Sequence[str], turns: int = 2) -> int:
    """Run `script` with `args` on `rev`'s code and on this checkout's, `turns` times each."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", rev], cwd=HERE, check=True, capture_output=True, text=True
    ).stdout.strip()
    status = 0
    with tempfile.TemporaryDirectory(prefix="bench-base-") as base:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", commit], cwd=HERE, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", base], input=archive, check=True)
        me = [sys.executable, script, *args]
        runs = {
            "before": ([*me, "--root", base], f"{rev} ({commit})"),
            "after": (me, "this checkout"),
        }
        for turn in range(1, turns + 1):
            # ABBA: the machine's speed drifts during a run (the refused-request floor moved by
            # a quarter between two turns here), so each side gets an early and a late slot.
            for side in ("before", "after") if turn % 2 else ("after", "before"):
                argv, label = runs[side]
                print(f"== {side} ({turn}/{turns}): {label}", flush=True)
                code = subprocess.run(argv, check=False).returncode
                if side == "after":
                    status = code
    return status
