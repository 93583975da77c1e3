"""Scaling out: what the Celery queue adds, what workers deliver, and reviews on PostgreSQL.

    .venv/bin/python bench/scaling.py            # full run (a few minutes), JSON in bench/out/
    .venv/bin/python bench/scaling.py --quick    # fewer samples

Starts its own PostgreSQL cluster and Redis (tests/services.py; Debian `postgresql` and
`redis-server` must be installed: `make service-deps`) and real `celery -A quiz.worker` workers.
1. Added latency: an accepted softmax answer through the API (`app.test_client()`), in-process
   grading vs queued to one worker (GRADER_BROKER_URL set), alternating in the same run:
   p50 and tail (p99 from >= 1,000 samples, else max) of each and the p50 difference.
   Target: p50 difference <= 10 ms.
2. Throughput: 400 queued submissions (accepted, wrong and failing code) drained by one worker
   process, then by two (one sandbox slot each): submissions/s, and the CPU seconds the worker
   process trees spent per submission (utime+stime of the worker, its runners and their reaped
   children, read from /proc) — the figure the capacity model in docs/scaling.md scales by.
3. Review throughput on PostgreSQL beside SQLite: bench/review_throughput.py's in-process phase
   (one answer + next card, two requests) on each, with the CPU of the web process per answer
   and, on PostgreSQL, the server's CPU per answer too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from bench.stats import tail  # noqa: E402
from tests import services  # noqa: E402

STABLE = (
    "import numpy as np\n\n\ndef softmax(x, axis=-1):\n"
    "    e = np.exp(x - x.max(axis=axis, keepdims=True))\n"
    "    return e / e.sum(axis=axis, keepdims=True)\n"
)
NAIVE = STABLE.replace("x - x.max(axis=axis, keepdims=True)", "x")
BROKEN = STABLE.replace("return e", "return undefined_name")


def _cpu_seconds(counts: Callable[[int, list[str]], bool]) -> float:
    """CPU (utime stime cutime cstime) of the live processes whose (pid, stat fields) count."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if counts(int(entry.name), fields):
            total += sum(int(v) for v in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(session_id: int) -> float:
    """CPU of every live process in the session (the worker, its runners, their reaped children)."""
    return _cpu_seconds(lambda _pid, fields: int(fields[3]) == session_id)  # field 6: session id


def postgres_cpu_seconds(pg: services.Postgres) -> float:
    postmaster = int((pg.folder / "data" / "postmaster.pid").read_text().split()[0])
    return _cpu_seconds(lambda pid, fields: postmaster in (pid, int(fields[1])))  # field 4: ppid


def migrated(url: str) -> tuple[Any, int]:
    """Migrate, import the notes, add a user; return the app and the user's id."""
    from flask_migrate import upgrade

    from quiz.accounts import create_user
    from quiz.db import db
    from quiz.importer import sync_content

    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        sync_content(db.session, ROOT / "content")
        user = create_user(db.session, "bench", "bench-password")
        db.session.commit()
        user_id = user.id
        db.engine.dispose()
    return app, user_id


def client_for(url: str, broker: str | None) -> Any:
    config = {
        "SECRET_KEY": "bench",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "SUBMISSION_RATE_PER_MINUTE": 10**6,  # the benchmark submits back to back
        "GRADER_INFLIGHT_PER_USER": 10**6,
        "GRADER_WAIT_SECONDS": 30,
    }
    if broker:
        config["GRADER_BROKER_URL"] = broker
    app = create_app(config)
    client = app.test_client()
    response = client.post(
        "/api/v1/tokens", json={"username": "bench", "password": "bench-password"}
    )
    headers = {"Authorization": f"Bearer {response.get_json()['token']}"}
    return app, client, headers


def added_latency(url: str, broker: str, rounds: int) -> dict[str, Any]:
    local_app, local, local_headers = client_for(url, None)
    queued_app, queued, queued_headers = client_for(url, broker)
    times: dict[str, list[float]] = {"in_process": [], "queued": []}
    cpu = {"in_process": 0.0, "queued": 0.0}  # this (web) process only; sandboxes run elsewhere
    warm = 10
    for i in range(2 * (rounds + warm)):
        name = "queued" if i % 2 else "in_process"
        client, headers = (queued, queued_headers) if i % 2 else (local, local_headers)
        start, cpu_start = time.perf_counter(), time.process_time()
        response = client.post(
            "/api/v1/drills/softmax/submissions",
            json={"code": STABLE, "mode": "submit"},
            headers=headers,
        )
        elapsed = (time.perf_counter() - start) * 1000
        body = response.get_json()
        if response.status_code != 201 or body["verdict"] != "accepted":
            raise SystemExit(f"{name}: {response.status_code} {body}")
        if i >= 2 * warm:
            times[name].append(elapsed)
            cpu[name] += (time.process_time() - cpu_start) * 1000
    from engine.sandbox import shutdown

    shutdown()
    for app in (local_app, queued_app):
        with app.app_context():
            from quiz.db import db

            db.engine.dispose()
    p50 = {k: statistics.median(v) for k, v in times.items()}
    return {
        "rounds": rounds,
        "in_process_p50_ms": p50["in_process"],
        "in_process_tail": tail(times["in_process"]),  # p99 from >= 1,000 samples, else max
        "queued_p50_ms": p50["queued"],
        "queued_tail": tail(times["queued"]),
        "added_p50_ms": p50["queued"] - p50["in_process"],
        "web_cpu_ms_in_process": cpu["in_process"] / rounds,
        "web_cpu_ms_queued": cpu["queued"] / rounds,
    }


def drain(url: str, broker: str, workers: int, count: int, folder: Path) -> dict[str, Any]:
    """Queue `count` submissions at once and time `workers` worker processes draining them."""
    from sqlalchemy import func, select

    from quiz import drills, grading
    from quiz.db import db, utcnow
    from quiz.models import Submission

    processes = [
        services.start_worker(url, broker, folder / f"drain{workers}-{i}.log", slots=1)
        for i in range(workers)
    ]
    app = create_app(
        {"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "GRADER_BROKER_URL": broker}
    )
    try:
        with app.app_context():
            backend = grading.backend(app)
            assert isinstance(backend, grading.CeleryBackend)
            user_id = db.session.scalar(select(func.min(Submission.user_id))) or 1
            codes = [STABLE, NAIVE, BROKEN]
            ids = []
            for i in range(count):
                sub = drills.new_submission(
                    db.session, user_id, "softmax", codes[i % 3], mode="submit", now=utcnow()
                )
                ids.append(sub.id)
            db.session.commit()
            cpu_before = sum(tree_cpu_seconds(p.pid) for p in processes)
            start = time.perf_counter()
            for sid in ids:
                backend.enqueue(sid)
            while True:
                waiting = db.session.scalar(
                    select(func.count()).where(Submission.id.in_(ids), Submission.status != "done")
                )
                db.session.commit()
                if not waiting:
                    break
                time.sleep(0.05)
            elapsed = time.perf_counter() - start
            cpu = sum(tree_cpu_seconds(p.pid) for p in processes) - cpu_before
            backend.close()
            db.engine.dispose()
    finally:
        for p in processes:
            services.stop(p)
    return {
        "workers": workers,
        "submissions": count,
        "seconds": elapsed,
        "per_second": count / elapsed,
        "worker_cpu_ms_per_submission": 1000 * cpu / count,
    }


def reviews(url: str | Path, rounds: int, pg: services.Postgres | None) -> dict[str, Any]:
    """bench/review_throughput.py's in-process phase on `url`: p50 and tail of an answer with its
    next card (one request, and the two-request flow), the web process's CPU per answer and,
    on PostgreSQL, the server's CPU per answer (an upper bound: the phase's baseline requests,
    a 401 and a topics list per round, are counted too)."""
    sys.path.insert(0, str(ROOT / "bench"))
    import review_throughput as rt

    token = rt.seed(url, 1)["tokens"][0]
    server_before = postgres_cpu_seconds(pg) if pg else 0.0
    result = rt.in_process(url, token, rounds)
    report: dict[str, Any] = {
        "answers": 2 * rounds,
        "combined_p50_ms": statistics.median(result["combined"]),
        "combined_tail": tail(result["combined"]),
        "two_requests_p50_ms": statistics.median(result["two_requests"]),
        "two_requests_tail": tail(result["two_requests"]),
        "combined_cpu_ms": result["combined_cpu_ms"],
        "two_requests_cpu_ms": result["two_requests_cpu_ms"],
    }
    if pg:
        # The phase's connections were closed at its end: their backends' CPU is the
        # postmaster's children time once it has reaped them.
        time.sleep(1.0)
        report["postgres_cpu_ms_per_answer"] = (
            1000 * (postgres_cpu_seconds(pg) - server_before) / (rounds * 2)
        )
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds, count = (40, 120) if args.quick else (200, 400)
    report: dict[str, Any] = {
        "cores": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "python": platform.python_version(),
    }
    with services.services() as (pg, redis), tempfile.TemporaryDirectory() as tmp:
        assert redis is not None
        folder = Path(tmp)
        sqlite_url = f"sqlite:///{folder / 'queue.sqlite3'}"
        migrated(sqlite_url)
        worker = services.start_worker(sqlite_url, redis.url, folder / "latency.log", slots=1)
        try:
            report["added_latency"] = added_latency(sqlite_url, redis.url, rounds)
            print(json.dumps(report["added_latency"]), flush=True)
        finally:
            services.stop(worker)
        pg_queue = pg.url.rsplit("/", 1)[0] + "/queue"
        _create(pg, "queue")
        migrated(pg_queue)
        report["throughput"] = [drain(pg_queue, redis.url, n, count, folder) for n in (1, 2)]
        _create(pg, "reviews")
        report["reviews_sqlite"] = reviews(folder / "reviews.sqlite3", rounds, None)
        report["reviews_postgres"] = reviews(pg.url.rsplit("/", 1)[0] + "/reviews", rounds, pg)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "scaling.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(json.dumps(report, indent=2, ensure_ascii=False))
    added = report["added_latency"]["added_p50_ms"]
    print(f"queue added p50 {added:.1f} ms (target <= 10 ms)")


def _create(pg: services.Postgres, name: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(pg.url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()


if __name__ == "__main__":
    main()
