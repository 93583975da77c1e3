"""In-process A/B of one database setting on the hot paths, each arm an app of its own.

    .venv/bin/python bench/ab.py compiled-cache           # 90 rounds
    .venv/bin/python bench/ab.py temp-store --rounds 60

Settings (arm A, then arm B):
- `compiled-cache`: the engine's compiled-SQL cache, SQLAlchemy's own LRU (every statement
  found by hashing its cache key) against `quiz.db.CompiledSQL` (statements built once found
  by identity; what the app uses);
- `temp-store`: where SQLite keeps a statement's temporary b-trees (CTEs, DISTINCT, IN lists,
  sorts), `PRAGMA temp_store=DEFAULT` (what the app uses: a temporary file per b-tree, opened
  only if it spills) against `MEMORY` (tried: see bench/README.md).

The database, users and requests are `bench/hot_paths.py`'s (the study page's answer, the same
with a bearer token, GET /api/v1/topics). Each arm is an app of its own on its own copy of the
one seeded database, set up once; both run in one process, alternating every round (ABBA), both
warmed first: only the setting differs. Reported: each path's p50 of this thread's CPU time per
arm and the difference. A round is one answer per user in each arm (each on its own database):
90 rounds stay under a user's 200 reviews a day.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent


def _compiled_cache(engine: Any, arm: int) -> str:
    from sqlalchemy.util import LRUCache

    from quiz.db import CompiledSQL

    cache = (LRUCache(500), CompiledSQL())[arm]
    engine.update_execution_options(compiled_cache=cache)
    return type(cache).__name__


def _temp_store(engine: Any, arm: int) -> str:
    mode = ("DEFAULT", "MEMORY")[arm]
    connection = engine.raw_connection()  # the pool's one connection: requests run in turn
    connection.driver_connection.execute(f"PRAGMA temp_store={mode}")
    connection.close()
    return f"temp_store={mode}"


SETTINGS = {"compiled-cache": _compiled_cache, "temp-store": _temp_store}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("setting", choices=SETTINGS, help="what the two arms differ in")
    parser.add_argument("--rounds", type=int, default=90, help="timed rounds (each arm once)")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE / "bench"))
    import hot_paths

    create_app = hot_paths._import_app(HERE)
    from quiz.db import db

    with tempfile.TemporaryDirectory(prefix="bench-ab-") as tmp:
        seeded = Path(tmp) / "arm0.sqlite3"
        apps = [hot_paths.seed(create_app, seeded, HERE / "content")]
        shutil.copy(seeded, Path(tmp) / "arm1.sqlite3")
        uri = f"sqlite:///{Path(tmp) / 'arm1.sqlite3'}"
        apps.append(create_app({"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "bench"}))
        arms: dict[str, dict[str, Callable[[], None]]] = {}
        for arm, app in enumerate(apps):
            client = hot_paths.Client(app)  # opens the engine's pooled connection
            with app.app_context():
                name = SETTINGS[args.setting](db.engine, arm)
            arms[name] = {
                "study round trip (page)": lambda c=client: c.answer(browser=True),
                "study round trip (token)": lambda c=client: c.answer(browser=False),
                "GET /api/v1/topics": client.topics,
            }
        paths = list(next(iter(arms.values())))
        for requests in arms.values():
            for run in requests.values():
                for _ in range(5):
                    run()
        cpu: dict[tuple[str, str], list[float]] = {(p, a): [] for p in paths for a in arms}
        for i in range(args.rounds):
            order = list(arms.items())
            for arm_name, requests in order if i % 2 == 0 else reversed(order):
                for name, run in requests.items():
                    started = time.thread_time()
                    run()
                    cpu[(name, arm_name)].append((time.thread_time() - started) * 1000)
    before, after = arms
    for name in paths:
        a, b = statistics.median(cpu[(name, before)]), statistics.median(cpu[(name, after)])
        print(
            f"{name:<26} CPU p50 {before} {a:.3f} ms, {after} {b:.3f} ms: "
            f"{b - a:+.3f} ms ({(b / a - 1) * 100:+.1f}%, n={args.rounds})"
        )


if __name__ == "__main__":
    main()
