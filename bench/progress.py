"""Benchmark: the progress dashboard and GET /api/v1/progress for a heavy and a light user.

    .venv/bin/python bench/progress.py [--logs 100000] [--small 1000] [--cards 3000] [--runs 60]
    .venv/bin/python bench/progress.py --quick     # 20 requests per line (make bench-check)
    .venv/bin/python bench/progress.py --compare main   # the same on `main`'s code, then here
    .venv/bin/python bench/progress.py --profile heavy  # cProfile of /progress instead
    .venv/bin/python bench/progress.py --sqlite-steps   # SQLite VM instructions, not timings

Builds a throwaway SQLite database (migrated, the owner's notes synced, plus synthetic cards),
one user with `--logs` review-log rows over the last year and one with `--small`, then requests
both pages through the app, each request in its own app context as in production (nothing
cached in `g` between requests), and prints the median and the tail of the server time and the
SQL statements per request, and each page's p50 as a ratio to a refused request (a JSON 401, no
database) timed interleaved with it, the floor `bench/hot_paths.py` uses. Tails: p99 only from
1,000 samples or more, otherwise the maximum.
Target (checked; exit status 1 when missed): p50 of at most 30 ms for the heavy user.
`--root DIR` imports the app from another checkout (`--compare REV` runs REV's code and this
checkout's twice each, in the order REV, this, this, REV: bench/compare.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.compare import code_root  # noqa: E402

sys.path.insert(0, str(code_root(sys.argv)))  # the app under test (this checkout by default)

from flask import Flask  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from app import create_app  # noqa: E402
from bench.deck import insert_states  # noqa: E402
from bench.stats import Targets, describe, summary  # noqa: E402

TARGET_P50_MS = 30.0
BASELINE = "401 floor"


def _snapshot(rng: random.Random, card_id: int, state: int, when: str) -> dict[str, Any]:
    """A before/after snapshot the size of a real CardState row (what makes log rows wide)."""
    return {
        "card_id": card_id,
        "state": state,
        "step": None,
        "stability": round(rng.uniform(0.5, 200), 6),
        "difficulty": round(rng.uniform(1, 10), 6),
        "due": when,
        "last_review": when,
        "reps": rng.randint(0, 40),
        "lapses": rng.randint(0, 5),
        "suspended": False,
        "leech": False,
        "buried_until": None,
        "version": rng.randint(0, 40),
    }


def _add_cards(session: Any, count: int) -> None:
    from quiz.models import Card, Document, Topic

    doc = Document(path="bench-synthetic.md", sha256="0" * 64)
    session.add(doc)
    session.flush()
    topics = [
        Topic(document_id=doc.id, slug=f"bench-{i}", title=f"合成主题 {i}", position=100 + i)
        for i in range(10)
    ]
    session.add_all(topics)
    session.flush()
    rows = [
        {
            "key": f"bench/{i}",
            "kind": "drill" if i % 25 == 0 else "question",
            "drill_id": f"bench_{i}" if i % 25 == 0 else None,
            "topic_id": topics[i % len(topics)].id,
            "sibling_key": f"bench/{i}",
            "position": 10_000 + i,
            "front_md": f"合成问题 {i}",
            "back_md": "答案",
            "front_html": f"<p>合成问题 {i}</p>",
            "back_html": "<p>答案</p>",
        }
        for i in range(count)
    ]
    session.execute(insert(Card), rows)


def _populate(session: Any, username: str, logs: int, seed: int) -> None:
    """A user who studied most cards, with `logs` answers spread over the last 365 days."""
    from quiz.accounts import create_user
    from quiz.db import utcnow
    from quiz.models import Card, DrillProgress, ReviewLog

    rng = random.Random(seed)
    now = utcnow()
    user = create_user(session, username, "bench-password")
    user.settings.timezone = "America/New_York"
    card_ids = list(session.scalars(select(Card.id).where(Card.kind != "drill")))
    studied = card_ids[: int(len(card_ids) * 0.8)]
    states = []
    for cid in studied:
        last = now - timedelta(days=rng.uniform(0, 60))
        state = rng.choice([1, 2, 2, 2, 2, 3])
        states.append(
            {
                "user_id": user.id,
                "card_id": cid,
                "state": state,
                "stability": rng.uniform(0.5, 300),
                "difficulty": rng.uniform(1, 10),
                "due": last + timedelta(days=rng.uniform(0, 60)),
                "last_review": last,
                "reps": rng.randint(1, 40),
                "lapses": rng.randint(0, 6),
                "suspended": rng.random() < 0.02,
                "version": 1,
            }
        )
    insert_states(session, states)
    batch = []
    for i in range(logs):
        at = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
        cid = rng.choice(studied)
        before = rng.choice([0, 1, 2, 2, 2, 2, 3])
        rating = rng.choices([1, 2, 3, 4], weights=[10, 10, 70, 10])[0]
        stamp = at.isoformat()
        batch.append(
            {
                "user_id": user.id,
                "card_id": cid,
                "rating": rating,
                "reviewed_at": at,
                "duration_ms": rng.randint(1500, 30000),
                "state_before": before,
                "state_after": 2 if rating > 1 else 3,
                "before": _snapshot(rng, cid, before, stamp),
                "after": _snapshot(rng, cid, 2, stamp),
                "request_id": f"{username}-{i}",
            }
        )
        if len(batch) == 10_000:
            session.execute(insert(ReviewLog), batch)
            batch.clear()
    if batch:
        session.execute(insert(ReviewLog), batch)
    drills = list(session.scalars(select(Card.drill_id).where(Card.kind == "drill")))
    for drill_id in drills[: len(drills) // 2]:
        session.add(
            DrillProgress(
                user_id=user.id,
                drill_id=drill_id,
                submits=3,
                failed_submits=1,
                attempts_to_first_accept=2,
                solved_at=now - timedelta(days=3),
            )
        )
    session.commit()


def build(db_path: Path, *, logs: int, small: int, cards: int) -> Flask:
    from flask_migrate import upgrade

    from quiz.db import db
    from quiz.importer import sync_content

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade()
        sync_content(db.session, ROOT / "content")
        _add_cards(db.session, cards)
        db.session.commit()
        started = time.perf_counter()
        _populate(db.session, "heavy", logs, seed=1)
        _populate(db.session, "light", small, seed=2)
        print(f"built {logs:,} + {small:,} review logs in {time.perf_counter() - started:.1f} s")
        db.session.remove()
    return app


def measure(app: Flask, username: str, runs: int) -> dict[str, dict[str, list[float]]]:
    """Server time per request, from the WSGI call to the last byte of the body: wall clock,
    this thread's CPU time (the same minus waiting for a core on a busy machine), and SQL
    statements. Call it with no app context pushed: each request then pushes its own, as under
    a real server, so nothing (the user, the settings) stays cached in `g` across requests."""
    from flask import has_app_context
    from sqlalchemy import event

    from quiz.db import db

    assert not has_app_context(), "a held app context would keep the user cached in g"
    with app.app_context():
        engine = db.engine
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": "bench-password"})
    assert response.status_code == 302, response.status_code
    token = client.post("/api/v1/tokens", json={"username": username, "password": "bench-password"})
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}

    def refused() -> Any:
        # The floor, as bench/hot_paths.py measures it: routing and a JSON 401, no database.
        return app.test_client().post("/api/v1/reviews", json={"card_id": 1})

    requests = {
        "/progress": lambda: client.get("/progress"),
        "/api/v1/progress": lambda: client.get("/api/v1/progress", headers=headers),
        BASELINE: refused,
    }
    expected = {"/progress": 200, "/api/v1/progress": 200, BASELINE: 401}
    out: dict[str, dict[str, list[float]]] = {
        path: {"wall": [], "cpu": [], "statements": []} for path in requests
    }
    for _ in range(3):  # warm caches: templates, SQLite pages, statement cache
        for send in requests.values():
            send()
    for _ in range(runs):
        for path, send in requests.items():  # interleaved: each line sees the same machine
            statements[0] = 0
            started, cpu = time.perf_counter(), time.thread_time()
            response = send()
            response.get_data()
            out[path]["wall"].append((time.perf_counter() - started) * 1000)
            out[path]["cpu"].append((time.thread_time() - cpu) * 1000)
            out[path]["statements"].append(statements[0])
            assert response.status_code == expected[path], (path, response.status_code)
    event.remove(engine, "before_cursor_execute", count)
    return out


def sqlite_steps(app: Flask, username: str, runs: int) -> dict[str, list[int]]:
    """SQLite virtual-machine instructions per request (a progress handler called on every
    instruction): the database's share of the work as a count that the machine's load cannot
    move, as `bench/hot_paths.py --sqlite-steps` counts it."""
    from bench.stats import sqlite_step_counter

    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": "bench-password"})
    assert response.status_code == 302, response.status_code
    token = client.post("/api/v1/tokens", json={"username": username, "password": "bench-password"})
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    out: dict[str, list[int]] = {"/progress": [], "/api/v1/progress": []}
    with sqlite_step_counter(app) as counter:
        for _ in range(runs):
            for path, counts in out.items():
                counter[0] = 0
                response = client.get(path, headers=headers if path.startswith("/api") else None)
                assert response.status_code == 200, (path, response.status_code)
                counts.append(counter[0])
    return out


def profile(app: Flask, username: str, runs: int, sort: str) -> None:
    """cProfile of `runs` requests of /progress (warmed first), as in `measure`."""
    import cProfile
    import pstats

    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": "bench-password"})
    assert response.status_code == 302, response.status_code
    for _ in range(3):
        client.get("/progress")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        client.get("/progress").get_data()
    profiler.disable()
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    profiler.dump_stats(out / f"progress-{username}.prof")
    print(f"{runs} requests of /progress ({username}); bench/out/progress-{username}.prof")
    pstats.Stats(profiler).sort_stats(sort).print_stats(45)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--logs", type=int, default=100_000, help="review-log rows of the heavy user"
    )
    parser.add_argument(
        "--small", type=int, default=1_000, help="review-log rows of the light user"
    )
    parser.add_argument(
        "--cards", type=int, default=3_000, help="synthetic cards beside the owner's notes"
    )
    parser.add_argument("--runs", type=int, default=60, help="timed requests per page and user")
    parser.add_argument("--quick", action="store_true", help="20 requests per page and user")
    parser.add_argument("--root", type=Path, help="checkout to import the app from")
    parser.add_argument("--compare", metavar="REV", help="run on REV (git archive), then here")
    parser.add_argument(
        "--profile", choices=("heavy", "light"), help="cProfile /progress for one user"
    )
    parser.add_argument("--sort", default="cumulative", help="pstats sort key (--profile)")
    parser.add_argument(
        "--sqlite-steps",
        action="store_true",
        help="count SQLite VM instructions per request instead of timing (load-independent)",
    )
    args = parser.parse_args()
    if args.quick:
        args.runs = 20
    if args.compare:
        from bench.compare import compare

        forwarded = [f"--logs={args.logs}", f"--small={args.small}", f"--cards={args.cards}"]
        if args.sqlite_steps:
            forwarded.append("--sqlite-steps")
        sys.exit(compare(__file__, args.compare, [*forwarded, f"--runs={args.runs}"]))
    print(f"code from {code_root(sys.argv)}")
    with tempfile.TemporaryDirectory(prefix="bench-progress-") as tmp:
        db_path = Path(tmp) / "bench.sqlite3"
        app = build(db_path, logs=args.logs, small=args.small, cards=args.cards)
        if args.profile:
            profile(app, args.profile, args.runs, args.sort)
            return
        if args.sqlite_steps:
            print("SQLite VM instructions per request (median)")
            for username, logs in (("heavy", args.logs), ("light", args.small)):
                for path, counts in sqlite_steps(app, username, min(args.runs, 5)).items():
                    print(
                        f"{username:<6}{logs:>8,} logs {path:<17} {statistics.median(counts):>11,.0f}"
                    )
            return
        print(f"database {db_path.stat().st_size / 1e6:.1f} MB; {args.runs} requests per line")
        print(
            f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs"
        )
        targets = Targets()
        results: dict[str, Any] = {}
        for username, logs in (("heavy", args.logs), ("light", args.small)):
            timings = measure(app, username, args.runs)
            # The machine's speed drifts between runs and machines: each page's p50 also as a
            # ratio to the refused request timed beside it, which holds where the ms do not.
            floor = statistics.median(timings[BASELINE]["wall"])
            for path, samples in timings.items():
                sql = sorted(set(samples["statements"]))
                ratio = (
                    ""
                    if path == BASELINE
                    else f"; {statistics.median(samples['wall']) / floor:.1f}x floor"
                )
                print(
                    f"{username:<6}{logs:>8,} logs {path:<17} wall {describe(samples['wall'], 'ms', 1)}; "
                    f"cpu {describe(samples['cpu'], 'ms', 1)}; SQL statements per request "
                    f"{'/'.join(str(n) for n in sql)}{ratio}"
                )
                results[f"{username} {path}"] = {
                    "logs": logs,
                    "wall_ms": summary(samples["wall"]),
                    "cpu_ms": summary(samples["cpu"]),
                    "statements": sql,
                }
                if username == "heavy" and path != BASELINE:
                    targets.at_most(
                        f"heavy user {path} p50",
                        statistics.median(samples["wall"]),
                        TARGET_P50_MS,
                        " ms",
                    )
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        with app.app_context():
            from quiz.db import db

            db.engine.dispose()
        out = ROOT / "bench" / "out"
        out.mkdir(exist_ok=True)
        (out / "progress.json").write_text(json.dumps(results, indent=2))
        targets.finish("progress")


if __name__ == "__main__":
    main()
