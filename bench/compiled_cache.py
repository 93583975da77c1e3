"""In-process A/B of the engine's compiled-SQL cache on the hot paths: `quiz.db.CompiledSQL`
(statements built once found by identity) against SQLAlchemy's own LRU cache (every
statement found by hashing its cache key), swapped on the one engine between requests.

    .venv/bin/python bench/compiled_cache.py              # 90 rounds
    .venv/bin/python bench/compiled_cache.py --rounds 60

The database, users and requests are `bench/hot_paths.py`'s (the study page's answer, the same
with a bearer token, GET /api/v1/topics). Both arms run in one process on the same database,
alternating every round (ABBA), both warmed first; only the cache object differs. Reported:
each path's p50 of this thread's CPU time per arm and the difference. A round is two answers
per user (one per arm): 90 rounds stay under a user's 200 reviews a day.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=90, help="timed rounds (each arm once)")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE / "bench"))
    import hot_paths
    from sqlalchemy.util import LRUCache

    create_app = hot_paths._import_app(HERE)
    from quiz.db import CompiledSQL, db

    with tempfile.TemporaryDirectory(prefix="bench-compiled-cache-") as tmp:
        app = hot_paths.seed(create_app, Path(tmp) / "bench.sqlite3", HERE / "content")
        client = hot_paths.Client(app)
        with app.app_context():
            engine = db.engine
        arms = {"SQLAlchemy LRU": LRUCache(500), "CompiledSQL": CompiledSQL()}
        paths = {
            "study round trip (page)": lambda: client.answer(browser=True),
            "study round trip (token)": lambda: client.answer(browser=False),
            "GET /api/v1/topics": client.topics,
        }
        for cache in arms.values():
            engine.update_execution_options(compiled_cache=cache)
            for run in paths.values():
                for _ in range(5):
                    run()
        cpu: dict[tuple[str, str], list[float]] = {(p, a): [] for p in paths for a in arms}
        for i in range(args.rounds):
            order = list(arms.items())
            for arm, cache in order if i % 2 == 0 else reversed(order):
                engine.update_execution_options(compiled_cache=cache)
                for name, run in paths.items():
                    started = time.thread_time()
                    run()
                    cpu[(name, arm)].append((time.thread_time() - started) * 1000)
    before, after = arms
    for name in paths:
        a, b = statistics.median(cpu[(name, before)]), statistics.median(cpu[(name, after)])
        print(
            f"{name:<26} CPU p50 {before} {a:.3f} ms, {after} {b:.3f} ms: "
            f"{b - a:+.3f} ms ({(b / a - 1) * 100:+.1f}%, n={args.rounds})"
        )


if __name__ == "__main__":
    main()
