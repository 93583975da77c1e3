"""Mock interview key points: what jieba costs, against plain sentence splitting.

    .venv/bin/python bench/interview.py

Figures:
1. jieba's cold load in a fresh process (median of 3): what `warm_keypoints` moves off the
   learner's first answer;
2. p50 and tail of building the checklist of one model answer (every conceptual card of
   content/), beside the baseline of splitting the same answer into sentences without
   segmentation;
3. p50 and tail of pre-ticking one typed answer against its checklist.
Tails: p99 only from 1,000 samples or more, otherwise the maximum (bench/stats.py).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stats import describe  # noqa: E402
from quiz import notes  # noqa: E402
from quiz.interview import keypoints  # noqa: E402

REPEATS = 20


def answers() -> list[tuple[str, str]]:
    """(short, deep) of every question and knowledge point in content/."""
    out: list[tuple[str, str]] = []

    def walk(node: object) -> None:
        if isinstance(node, notes.Question):
            out.append((node.short_answer, node.deep_answer))
        elif isinstance(node, notes.KnowledgePoint):
            out.append(("", node.body_md))
        elif isinstance(node, list | tuple):
            for child in node:
                walk(child)
        elif hasattr(node, "__dataclass_fields__"):
            for name in node.__dataclass_fields__:
                walk(getattr(node, name))

    walk(notes.load_directory(ROOT / "content"))
    return out


def line(name: str, samples: list[float]) -> str:
    return f"{name:<42} {describe([s * 1000 for s in samples], 'ms', 3)}"


def main() -> None:
    cold = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", "from quiz.interview import keypoints; keypoints.warm()"],
            cwd=ROOT,
            check=True,
        )
        cold.append(time.perf_counter() - started)
    base = []
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import quiz.interview.keypoints"], cwd=ROOT, check=True)
    base.append(time.perf_counter() - started)
    print(
        f"fresh process + jieba load: median {statistics.median(cold):.2f} s "
        f"(baseline: fresh process importing the module, {base[0]:.2f} s)"
    )

    pairs = answers()
    keypoints.warm()
    build, split, tick = [], [], []
    for _ in range(REPEATS):
        for short, deep in pairs:
            t0 = time.perf_counter()
            points = keypoints.key_points(short, deep)
            t1 = time.perf_counter()
            keypoints.sentences(short)
            keypoints.sentences(deep)
            t2 = time.perf_counter()
            keypoints.suggest(points, short + deep[: len(deep) // 2])
            t3 = time.perf_counter()
            build.append(t1 - t0)
            split.append(t2 - t1)
            tick.append(t3 - t2)
    print(f"{len(pairs)} model answers x {REPEATS}")
    print(line("checklist of one answer (jieba)", build))
    print(line("baseline: sentence split only", split))
    print(line("pre-ticking one typed answer", tick))


if __name__ == "__main__":
    main()
