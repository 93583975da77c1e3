"""Review throughput: answering through the study page's path on SQLite, in-process and under gunicorn.

    .venv/bin/python bench/review_throughput.py            # full run (~1 min), JSON in bench/out/
    .venv/bin/python bench/review_throughput.py --quick    # fewer samples (make bench-check)

Users with 2,000 cards and 20,000 review-log rows each (seeded into a fresh migrated database;
1,600 cards studied, 1,000 of them due), at the daily limits a new user has: the defaults of
20 new cards and 200 reviews a day, not lifted. Every answer is given to the card the queue
served, with its version, and asks for the next card with "next": true, as the study page does.
Figures, each beside its baselines from the same run:
1. in-process (`app.test_client()`, token auth; every request in its own app context): p50 and
   tail of one answer + next-card round trip, as the one request the study page sends (POST
   with "next": true) and as two requests (POST /api/v1/reviews, then GET /api/v1/reviews/next).
   Baselines: the same two requests refused with 401 (the framework's floor), and
   GET /api/v1/topics.
2. gunicorn on 127.0.0.1 as `make run` serves it (2 workers x 8 threads, with
   quiz/gunicorn_config.py), 32 clients, each one user studying in one tab: fetch the next card,
   answer it with "next": true, answer the card that came back, and so on, with distinct
   request_ids (5% sent twice, as a retry after a lost response would be). Answers/s and worker
   CPU per answer. Baseline: one client alone. Afterwards the log must hold exactly the
   acknowledged answers: none lost, none doubled.

Tails: p99 only from 1,000 samples or more, otherwise the maximum (bench/stats.py).
Targets (checked; exit status 1 when one is missed): in-process p50 <= 3 ms for the page's
round trip; >= 300 answers/s with 32 clients; every answer 201; an exact log. Timings depend on
what else the machine runs: CPU per answer is printed for that reason. Loopback only; every
phase stops after a fixed count or deadline.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from bench.deck import add_deck, insert_states, study_history  # noqa: E402
from bench.stats import Targets, describe, summary  # noqa: E402

CARDS = 2_000
LOGS = 20_000
CLIENTS = 32
TARGET_P50_MS = 3.0  # issue 17 (was 5 ms)
TARGET_RATE = 300.0
WORKERS, THREADS = 2, 8  # the Makefile's `make run`


def database_url(db: Path | str) -> str:
    """A path is an SQLite file; a string is any SQLAlchemy URL (bench/scaling.py: PostgreSQL)."""
    return db if isinstance(db, str) else f"sqlite:///{db}"


def seed(db_path: Path | str, users: int) -> dict[str, Any]:
    """Migrate a fresh database: 2,000 cards, and `users` users with the same kind of history."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, text

    from quiz import accounts
    from quiz.db import db
    from quiz.models import Card, CardState, ReviewLog, User

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(db_path), "SECRET_KEY": "bench"})
    rng = random.Random(42)
    now = datetime.now(UTC)
    with app.app_context():
        upgrade()
        add_deck(db.session, CARDS)
        card_ids = [row[0] for row in db.session.execute(db.select(Card.id).order_by(Card.id))]
        first = accounts.create_user(db.session, "bench-0", "bench-password")
        tokens = [accounts.issue_token(db.session, first, now=now)]
        states, logs = study_history(rng, first.id, card_ids, now, logs=LOGS)
        insert_states(db.session, states)
        db.session.execute(insert(ReviewLog), logs)
        for n in range(1, users):
            # The same history for everyone, copied in SQL; one scrypt hash for all (hashing is
            # not what this benchmark measures).
            user = User(
                username=f"bench-{n}",
                username_key=f"bench-{n}",
                password_hash=first.password_hash,
            )
            db.session.add(user)
            db.session.flush()
            tokens.append(accounts.issue_token(db.session, user, now=now))
            for table, unique in ((CardState.__table__, None), (ReviewLog.__table__, "request_id")):
                names = [c.name for c in table.c if c.name not in ("id", "user_id", unique)]
                copied = ", ".join(names)
                extra = ", request_id" if unique else ""
                value = f", 'u{user.id}-' || request_id" if unique else ""
                db.session.execute(
                    text(
                        f"INSERT INTO {table.name} (user_id, {copied}{extra}) "
                        f"SELECT :user_id, {copied}{value} FROM {table.name} WHERE user_id = :first"
                    ),
                    {"user_id": user.id, "first": first.id},
                )
        db.session.commit()
        db.engine.dispose()
    return {"tokens": tokens}


def default_limits() -> tuple[int, int]:
    """(new, reviews) a day, as a new user has them: the model's defaults."""
    from quiz.models import UserSettings

    columns = UserSettings.__table__.c
    return columns.new_per_day.default.arg, columns.reviews_per_day.default.arg


def in_process(db_path: Path | str, token: str, rounds: int) -> dict[str, Any]:
    """Round trips through app.test_client(), each request in a fresh app context (none is held
    here): the page's one request (POST with "next": true) and the two-request flow, alternating
    on one user at the default daily limits."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(db_path), "SECRET_KEY": "bench"})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(1)
    shown = client.get("/api/v1/reviews/next", headers=headers).get_json()
    warm = 20
    two: list[float] = []
    one: list[float] = []
    statuses: dict[int, int] = {}
    cpu = {"two": 0.0, "one": 0.0}
    for i in range(2 * (rounds + warm)):
        combined = i % 2 == 1  # alternate, so both see the same queue and database size
        body = {
            "card_id": shown["card"]["id"],
            "rating": rng.choice([1, 3, 3, 3, 4]),
            "version": shown["version"],
            "request_id": f"inproc-{i}",
            "duration_ms": 8000,
        }
        start, cpu_start = time.perf_counter(), time.process_time()
        if combined:
            answered = client.post("/api/v1/reviews", headers=headers, json={**body, "next": True})
            following = answered.get_json().get("next")
        else:
            answered = client.post("/api/v1/reviews", headers=headers, json=body)
            following = client.get("/api/v1/reviews/next", headers=headers).get_json()
        elapsed = (time.perf_counter() - start) * 1000
        statuses[answered.status_code] = statuses.get(answered.status_code, 0) + 1
        if i >= 2 * warm:  # warm-up: the first requests compile SQL and fill caches
            (one if combined else two).append(elapsed)
            cpu["one" if combined else "two"] += (time.process_time() - cpu_start) * 1000
        if not following:
            raise SystemExit(f"queue ran dry after {i} answers (daily limits)")
        shown = following
    floor = []
    for i in range(rounds + warm):
        start = time.perf_counter()
        client.post("/api/v1/reviews", json={"card_id": 1, "rating": 3})
        client.get("/api/v1/reviews/next")
        if i >= warm:
            floor.append((time.perf_counter() - start) * 1000)
    topics = []
    for i in range(rounds + warm):
        start = time.perf_counter()
        client.get("/api/v1/topics", headers=headers)
        if i >= warm:
            topics.append((time.perf_counter() - start) * 1000)
    with app.app_context():
        from quiz.db import db

        db.engine.dispose()
    return {
        "rounds": rounds,
        "statuses": statuses,
        "combined": one,
        "two_requests": two,
        "baseline_401": floor,
        "baseline_topics": topics,
        # CPU per round trip: what the code costs, whatever else the machine is running.
        "combined_cpu_ms": cpu["one"] / rounds,
        "two_requests_cpu_ms": cpu["two"] / rounds,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(db_path: Path, port: int, token: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db_path}",
        "SECRET_KEY": "bench-" + uuid.uuid4().hex,
    }
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--threads",
            str(THREADS),
            "--timeout",
            "60",
            "--log-level",
            "warning",
            "--config",
            "quiz/gunicorn_config.py",
            "app:create_app()",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    # The port opens before the workers have imported the app: wait for real answers.
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request(
                "GET", "/api/v1/reviews/summary", headers={"Authorization": f"Bearer {token}"}
            )
            if conn.getresponse().status == 200:
                conn.close()
                return process
        except (OSError, http.client.HTTPException):
            time.sleep(0.2)
    os.killpg(process.pid, signal.SIGTERM)
    raise SystemExit("gunicorn did not start")


def warm_up(port: int, token: str) -> None:
    """A few requests over several connections, so every worker thread has its pool warm."""
    headers = {"Authorization": f"Bearer {token}"}

    def hit() -> None:
        for _ in range(5):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/api/v1/reviews/summary", headers=headers)
            conn.getresponse().read()
            conn.close()

    threads = [threading.Thread(target=hit) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _answer_part(data: Any) -> Any:
    """A response without the next card's previews (computed afresh on a retry)."""
    if not isinstance(data, dict):
        return data
    following = data.get("next")
    card = (following["card"]["id"], following["version"]) if following else None
    return {**{k: v for k, v in data.items() if k != "next"}, "next": card}


class Client:
    """One user studying in one tab over a keep-alive connection: answer what the queue serves."""

    def __init__(self, port: int, token: str, seed: int) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.rng = random.Random(seed)
        self.acked: dict[str, int] = {}  # request_id -> card_id, for each 201
        self.statuses: dict[int, int] = {}
        self.latencies: list[float] = []
        self.ran_dry = False
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple:
        for attempt in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                payload = json.dumps(body) if body is not None else None
                self.conn.request(method, path, payload, self.headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return response.status, json.loads(data) if data else None
            except (OSError, http.client.HTTPException):
                # A dropped connection: resend with the same request_id (counts once).
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def run(self, answers: int, deadline: float, prefix: str) -> None:
        status, shown = self.request("GET", "/api/v1/reviews/next")
        for _ in range(answers):
            if time.time() > deadline:
                break
            if status == 204 or not shown:
                self.ran_dry = True
                break
            card_id = shown["card"]["id"]
            body = {
                "card_id": card_id,
                "rating": self.rng.choice([1, 3, 3, 3, 4]),
                "version": shown["version"],
                "request_id": f"{prefix}-{uuid.uuid4().hex}",
                "duration_ms": 8000,
                "next": True,
            }
            started = time.perf_counter()
            status, data = self.request("POST", "/api/v1/reviews", body)
            self.latencies.append((time.perf_counter() - started) * 1000)
            if self.rng.random() < 0.05:  # the response "got lost": send it again
                status2, data2 = self.request("POST", "/api/v1/reviews", body)
                if (status2, _answer_part(data2)) != (status, _answer_part(data)):
                    raise SystemExit(
                        f"retry answered differently: {(status, data)} vs {(status2, data2)}"
                    )
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status != 201:
                break  # a refused answer would make this tab reload; stop and report it
            self.acked[body["request_id"]] = card_id
            shown = data["next"]

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def worker_cpu_seconds(master_pid: int) -> float:
    """User + system CPU so far of gunicorn's workers (the master's children, from /proc)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[1]) == master_pid:  # ppid
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def load(port: int, tokens: list[str], answers: int, prefix: str, seconds: float) -> dict:
    workers = [Client(port, token, seed=i) for i, token in enumerate(tokens)]
    deadline = time.time() + seconds
    threads = [threading.Thread(target=w.run, args=(answers, deadline, prefix)) for w in workers]
    start, cpu = time.perf_counter(), time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    client_cpu = time.process_time() - cpu  # this process: only the client threads run now
    for w in workers:
        w.close()
    acked: dict[str, int] = {}
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    for w in workers:
        acked.update(w.acked)
        latencies.extend(w.latencies)
        for k, v in w.statuses.items():
            statuses[k] = statuses.get(k, 0) + v
    return {
        "clients": len(workers),
        "seconds": elapsed,
        "acked": acked,
        "statuses": statuses,
        "latencies": latencies,
        "ran_dry": sum(w.ran_dry for w in workers),
        "rate": len(acked) / elapsed,
        "client_cpu_ms": client_cpu * 1000 / max(1, len(acked)),
    }


def check_log(db_path: Path, prefix: str, acked: dict[str, int]) -> dict[str, Any]:
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            "SELECT request_id, card_id FROM review_logs WHERE request_id LIKE ?", (prefix + "-%",)
        ).fetchall()
    stored = dict(rows)
    return {
        "rows": len(rows),
        "acknowledged": len(acked),
        "lost": len(set(acked) - set(stored)),
        "extra": len(set(stored) - set(acked)),
        "doubled": len(rows) - len(stored),
        "wrong_card": sum(1 for rid, card in acked.items() if stored.get(rid) not in (None, card)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    args = parser.parse_args()
    new_limit, review_limit = default_limits()
    # Two flows x (rounds + 20 warm-up) answers must fit in one user's day: 200 reviews + 20 new.
    rounds = 50 if args.quick else 80
    per_client = 40 if args.quick else 150  # below the 200 reviews a day each user may do
    targets = Targets()

    with tempfile.TemporaryDirectory(prefix="review-bench-") as tmp:
        db_path = Path(tmp) / "bench.sqlite3"
        t = time.perf_counter()
        tokens = seed(db_path, users=2 + CLIENTS)["tokens"]
        print(
            f"seeded {CARDS} cards and, for each of {len(tokens)} users, 1,600 card states "
            f"(1,000 due) and {LOGS:,} review-log rows in {time.perf_counter() - t:.1f} s; "
            f"daily limits as a new user has them: {new_limit} new / {review_limit} reviews"
        )

        inproc = in_process(db_path, tokens[0], rounds)
        print(
            f'in-process, one request (POST with "next": true, as the study page does): '
            f"{describe(inproc['combined'], 'ms')}, CPU {inproc['combined_cpu_ms']:.2f} ms"
        )
        print(
            f"  two requests (POST, then GET next): {describe(inproc['two_requests'], 'ms')}, "
            f"CPU {inproc['two_requests_cpu_ms']:.2f} ms; statuses {inproc['statuses']}"
        )
        print(
            f"  baselines: the same two requests refused with 401 (routing and JSON errors "
            f"only): {describe(inproc['baseline_401'], 'ms')}; GET /api/v1/topics: "
            f"{describe(inproc['baseline_topics'], 'ms')}"
        )

        port = free_port()
        server = start_gunicorn(db_path, port, tokens[0])
        try:
            warm_up(port, tokens[0])
            single = load(port, tokens[1:2], per_client * 2, "single", 30)
            cpu_before = worker_cpu_seconds(server.pid)
            many = load(port, tokens[2:], per_client, "many", 60)
            many["worker_cpu_ms"] = (
                (worker_cpu_seconds(server.pid) - cpu_before) * 1000 / max(1, len(many["acked"]))
            )
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(15)
        single_log = check_log(db_path, "single", single["acked"])
        many_log = check_log(db_path, "many", many["acked"])
        print(
            f"gunicorn {WORKERS}x{THREADS} on 127.0.0.1, {CLIENTS} users each answering what "
            f'their queue serves ("next": true): {many["rate"]:.0f} answers/s '
            f"({len(many['acked'])} in {many['seconds']:.1f} s, statuses {many['statuses']}, "
            f"{many['ran_dry']} queues ran dry); latency {describe(many['latencies'], 'ms')}; "
            f"worker CPU {many['worker_cpu_ms']:.2f} ms per answer "
            f"(= {2000 / many['worker_cpu_ms']:.0f}/s if both cores were free); the clients' "
            f"own CPU {many['client_cpu_ms']:.2f} ms per answer, on the same cores"
        )
        print(
            f"  baseline, one user alone: {single['rate']:.0f} answers/s, latency "
            f"{describe(single['latencies'], 'ms')}"
        )
        print(
            f"log check: {many_log['rows']} rows for {many_log['acknowledged']} acknowledged answers; "
            f"lost {many_log['lost']}, extra {many_log['extra']}, doubled {many_log['doubled']}, "
            f"wrong card {many_log['wrong_card']} (1 client: lost {single_log['lost']}, "
            f"doubled {single_log['doubled']})"
        )
        exact = all(
            log["lost"] == log["extra"] == log["doubled"] == log["wrong_card"] == 0
            for log in (single_log, many_log)
        )
        # The study page answers and receives the next card in one request: its round trip.
        targets.at_most(
            "in-process p50, answer + next card",
            statistics.median(inproc["combined"]),
            TARGET_P50_MS,
            " ms",
        )
        targets.at_least(f"answers/s with {CLIENTS} users", many["rate"], TARGET_RATE)
        statuses = [inproc["statuses"], many["statuses"], single["statuses"]]
        targets.holds("every answer acknowledged (201)", all(set(s) == {201} for s in statuses))
        targets.holds("log exact: none lost, none doubled, none extra", exact)
        result = {
            "daily_limits": {"new": new_limit, "reviews": review_limit},
            "in_process": {
                "combined_ms": summary(inproc["combined"]),
                "two_requests_ms": summary(inproc["two_requests"]),
                "baseline_401_ms": summary(inproc["baseline_401"]),
                "baseline_topics_ms": summary(inproc["baseline_topics"]),
                "combined_cpu_ms": inproc["combined_cpu_ms"],
                "two_requests_cpu_ms": inproc["two_requests_cpu_ms"],
                "statuses": inproc["statuses"],
            },
            "gunicorn": {
                "clients": CLIENTS,
                "answers_per_s": many["rate"],
                "latency_ms": summary(many["latencies"]),
                "statuses": many["statuses"],
                "ran_dry": many["ran_dry"],
                "baseline_single_client_per_s": single["rate"],
                "worker_cpu_ms_per_answer": many["worker_cpu_ms"],
                "client_cpu_ms_per_answer": many["client_cpu_ms"],
                "log": many_log,
                "single_log": single_log,
            },
            "targets_met": targets.ok,
        }
        out = ROOT / "bench" / "out"
        out.mkdir(exist_ok=True)
        (out / "review_throughput.json").write_text(json.dumps(result, indent=2, default=str))
        targets.finish("review_throughput")


if __name__ == "__main__":
    main()
