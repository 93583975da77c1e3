"""Review throughput: answering through the real API on SQLite, in-process and under gunicorn.

    .venv/bin/python bench/review_throughput.py            # full run (~1 min), JSON in bench/out/
    .venv/bin/python bench/review_throughput.py --quick    # fewer samples

A user with 2,000 cards and 20,000 review-log rows (seeded into a fresh migrated database;
1,600 cards studied, 1,000 of them due; in-process at the default 200 reviews a day, under
gunicorn with the limit lifted to 9,999 so thousands of answers do not run the queue dry).
Figures, each beside its baselines from the same run:
1. in-process (`app.test_client()`, token auth): p50/p95 and CPU of one answer + next-card
   round trip, as two requests (POST /api/v1/reviews, then GET /api/v1/reviews/next) and as
   the one request the study page sends (POST with "next": true). Baselines: the same two
   requests refused with 401 (the framework's floor), and GET /api/v1/topics.
2. gunicorn on 127.0.0.1 (the Makefile's 2 workers x 8 threads), 32 concurrent clients, each
   answering its own cards with distinct request_ids (5% sent twice, as a retry after a lost
   response would be): answers/s and worker CPU per answer. Baseline: one client alone.
   Afterwards the log must hold exactly the acknowledged answers: none lost, none doubled.

Targets: in-process p50 <= 5 ms; >= 300 answers/s with 32 clients; exact log. Exit status 1
only when the log is wrong (timings depend on what else the machine runs; CPU per answer is
printed for that reason). Loopback only; every phase stops after a fixed count or deadline.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402

CARDS = 2_000
LOGS = 20_000
CLIENTS = 32
TARGET_P50_MS = 5.0
TARGET_RATE = 300.0
WORKERS, THREADS = 2, 8  # the Makefile's `make run`


def seed(db_path: Path) -> dict[str, Any]:
    """Migrate a fresh database and give one user 2,000 cards and 20,000 log rows."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from quiz import accounts
    from quiz.db import db
    from quiz.models import Card, CardState, Document, ReviewLog, Topic

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "SECRET_KEY": "bench"})
    rng = random.Random(42)
    now = datetime.now(UTC)
    with app.app_context():
        upgrade()
        user = accounts.create_user(db.session, "bench", "bench-password")
        # The gunicorn phase answers thousands of cards in one sitting: lift the daily review
        # limit there (see set_review_limit); the in-process phase runs at the default 200.
        assert user.settings is not None
        user.settings.reviews_per_day = 9999
        token = accounts.issue_token(db.session, user)
        doc = Document(path="bench.md", sha256="0" * 64)
        db.session.add(doc)
        db.session.flush()
        topics = []
        for t in range(10):
            topic = Topic(document_id=doc.id, slug=f"bench-{t}", title=f"主题 {t}", position=t)
            db.session.add(topic)
            topics.append(topic)
        db.session.flush()
        body = "<p>" + "反向传播把损失对每个参数的梯度一层层传回去。" * 12 + "</p>"
        db.session.execute(
            insert(Card),
            [
                {
                    "key": f"bench/{i}",
                    "kind": "question",
                    "topic_id": topics[i % 10].id,
                    "sibling_key": f"bench/{i}",
                    "position": i,
                    "front_md": f"问题 {i}",
                    "back_md": "答案",
                    "front_html": f"<p>问题 {i}：为什么梯度会消失？</p>",
                    "back_html": body,
                    "short_html": "<p>链式法则里连乘的小于 1 的导数。</p>",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(CARDS)
            ],
        )
        card_ids = [row[0] for row in db.session.execute(db.select(Card.id).order_by(Card.id))]
        # 1,600 cards studied before: in review, 1,000 of them due by now.
        studied = card_ids[:1600]
        states = []
        for n, card_id in enumerate(studied):
            due = (
                now - timedelta(hours=rng.randint(1, 240))
                if n < 1000
                else now + timedelta(days=rng.randint(1, 60))
            )
            states.append(
                {
                    "user_id": user.id,
                    "card_id": card_id,
                    "state": 2,
                    "stability": rng.uniform(2, 60),
                    "difficulty": rng.uniform(3, 8),
                    "due": due,
                    "last_review": due - timedelta(days=rng.randint(2, 30)),
                    "reps": 12,
                    "lapses": rng.randint(0, 2),
                    "suspended": False,
                    "leech": False,
                    "version": 12,
                }
            )
        db.session.execute(insert(CardState), states)
        logs = []
        for i in range(LOGS):
            card_id = studied[i % len(studied)]
            at = now - timedelta(days=200) + timedelta(minutes=14 * i)
            at = min(at, now - timedelta(days=1))
            logs.append(
                {
                    "user_id": user.id,
                    "card_id": card_id,
                    "rating": rng.choice([1, 3, 3, 3, 4]),
                    "reviewed_at": at,
                    "duration_ms": 8000,
                    "state_before": 2,
                    "state_after": 2,
                    "before": {"state": 2},
                    "after": {"state": 2},
                    "request_id": f"seed-{i}",
                }
            )
        db.session.execute(insert(ReviewLog), logs)
        db.session.commit()
        versions = {s["card_id"]: s["version"] for s in states}
        db.engine.dispose()
    return {"token": token, "card_ids": card_ids, "versions": versions}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def set_review_limit(app: Any, limit: int) -> None:
    from sqlalchemy import update

    from quiz.db import db
    from quiz.models import UserSettings

    with app.app_context():
        db.session.execute(update(UserSettings).values(reviews_per_day=limit))
        db.session.commit()


def in_process(db_path: Path, token: str, rounds: int) -> dict[str, Any]:
    """Round trips through app.test_client(): two requests (POST, then GET next), and one
    POST with "next": true (what the study page sends). At the default limit of 200 reviews a
    day, which bounds how many due cards the queue counts for the progress bar."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "SECRET_KEY": "bench"})
    set_review_limit(app, 200)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(1)
    shown = client.get("/api/v1/reviews/next", headers=headers).get_json()
    warm = 20
    two, one, statuses = [], [], {}
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
            raise SystemExit(f"queue ran dry after {i} answers")
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
    set_review_limit(app, 9999)
    with app.app_context():
        from quiz.db import db

        db.engine.dispose()
    return {
        "baseline_topics_p50_ms": statistics.median(topics),
        "rounds": rounds,
        "statuses": statuses,
        "p50_ms": statistics.median(two),
        "p95_ms": percentile(two, 0.95),
        "combined_p50_ms": statistics.median(one),
        "combined_p95_ms": percentile(one, 0.95),
        "baseline_401_p50_ms": statistics.median(floor),
        # CPU per round trip: what the code costs, whatever else the machine is running.
        "cpu_ms": cpu["two"] / rounds,
        "combined_cpu_ms": cpu["one"] / rounds,
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


class Client:
    """One keep-alive connection answering its own cards, tracking their versions."""

    def __init__(
        self, port: int, token: str, cards: list[int], versions: dict[int, int], seed: int
    ) -> None:
        self.port, self.cards, self.versions = port, cards, versions
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.rng = random.Random(seed)
        self.acked: dict[str, int] = {}  # request_id -> card_id, for each 201
        self.statuses: dict[int, int] = {}
        self.conn: http.client.HTTPConnection | None = None

    def post(self, body: dict[str, Any]) -> tuple[int, Any]:
        for attempt in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                self.conn.request("POST", "/api/v1/reviews", json.dumps(body), self.headers)
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
        for i in range(answers):
            if time.time() > deadline:
                break
            card_id = self.cards[i % len(self.cards)]
            body = {
                "card_id": card_id,
                "rating": self.rng.choice([1, 3, 3, 3, 4]),
                "version": self.versions.get(card_id, 0),
                "request_id": f"{prefix}-{uuid.uuid4().hex}",
                "duration_ms": 8000,
            }
            status, data = self.post(body)
            if self.rng.random() < 0.05:  # the response "got lost": send it again
                status2, data2 = self.post(body)
                if (status2, data2) != (status, data):
                    raise SystemExit(
                        f"retry answered differently: {(status, data)} vs {(status2, data2)}"
                    )
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status == 201:
                self.acked[body["request_id"]] = card_id
                self.versions[card_id] = data["version"]

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


def load(
    port: int,
    token: str,
    card_ids: list[int],
    versions: dict[int, int],
    clients: int,
    answers: int,
    prefix: str,
    seconds: float,
) -> dict[str, Any]:
    shares = [card_ids[i::clients] for i in range(clients)]
    workers = [Client(port, token, shares[i], versions, seed=i) for i in range(clients)]
    deadline = time.time() + seconds
    threads = [threading.Thread(target=w.run, args=(answers, deadline, prefix)) for w in workers]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    for w in workers:
        w.close()
    acked: dict[str, int] = {}
    statuses: dict[int, int] = {}
    for w in workers:
        acked.update(w.acked)
        for k, v in w.statuses.items():
            statuses[k] = statuses.get(k, 0) + v
    return {
        "clients": clients,
        "seconds": elapsed,
        "acked": acked,
        "statuses": statuses,
        "rate": len(acked) / elapsed,
    }


def check_log(db_path: Path, prefix: str, acked: dict[str, int]) -> dict[str, Any]:
    import sqlite3

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
    # Two flows x (rounds + 20 warm-up) answers must fit in one day: 200 reviews + 20 new cards.
    rounds = 50 if args.quick else 80
    per_client = 40 if args.quick else 120

    with tempfile.TemporaryDirectory(prefix="review-bench-") as tmp:
        db_path = Path(tmp) / "bench.sqlite3"
        t = time.perf_counter()
        seeded = seed(db_path)
        print(f"seeded {CARDS} cards and {LOGS} review-log rows in {time.perf_counter() - t:.1f} s")

        inproc = in_process(db_path, seeded["token"], rounds)
        print(
            f"in-process answer + next, two requests (POST, then GET next): p50 "
            f"{inproc['p50_ms']:.2f} ms, p95 {inproc['p95_ms']:.2f} ms, CPU "
            f'{inproc["cpu_ms"]:.2f} ms; one request (POST with "next": true, as the study page '
            f"does): p50 {inproc['combined_p50_ms']:.2f} ms, p95 {inproc['combined_p95_ms']:.2f} ms, "
            f"CPU {inproc['combined_cpu_ms']:.2f} ms; {rounds} of each {inproc['statuses']}"
        )
        print(
            f"  target p50 <= {TARGET_P50_MS} ms for the page's round trip (one request); baseline, the same two requests refused with "
            f"401 (routing and JSON errors only): p50 {inproc['baseline_401_p50_ms']:.2f} ms; "
            f"GET /api/v1/topics (the foundation's simplest read): p50 "
            f"{inproc['baseline_topics_p50_ms']:.2f} ms"
        )

        # Versions changed for the cards answered in-process: read them back from the database.
        import sqlite3

        with sqlite3.connect(db_path) as conn:
            versions = dict(conn.execute("SELECT card_id, version FROM card_states").fetchall())
        port = free_port()
        server = start_gunicorn(db_path, port, seeded["token"])
        try:
            warm_up(port, seeded["token"])
            single = load(
                port, seeded["token"], seeded["card_ids"], versions, 1, per_client * 2, "single", 30
            )
            cpu_before = worker_cpu_seconds(server.pid)
            many = load(
                port, seeded["token"], seeded["card_ids"], versions, CLIENTS, per_client, "many", 60
            )
            many["worker_cpu_ms"] = (
                (worker_cpu_seconds(server.pid) - cpu_before) * 1000 / max(1, len(many["acked"]))
            )
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(15)
        single_log = check_log(db_path, "single", single["acked"])
        many_log = check_log(db_path, "many", many["acked"])
        print(
            f"gunicorn {WORKERS}x{THREADS} on 127.0.0.1, {CLIENTS} clients: {many['rate']:.0f} "
            f"answers/s ({len(many['acked'])} in {many['seconds']:.1f} s, statuses "
            f"{many['statuses']}), worker CPU {many['worker_cpu_ms']:.2f} ms per answer "
            f"(= {2000 / many['worker_cpu_ms']:.0f}/s if both cores were free)"
        )
        print(
            f"  target >= {TARGET_RATE:.0f} answers/s; baseline, one client alone: "
            f"{single['rate']:.0f} answers/s"
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
        # The study page answers and receives the next card in one request: that is its round trip.
        ok = inproc["combined_p50_ms"] <= TARGET_P50_MS and many["rate"] >= TARGET_RATE and exact
        result = {
            "in_process": inproc,
            "gunicorn": {
                "clients": CLIENTS,
                "answers_per_s": many["rate"],
                "statuses": many["statuses"],
                "baseline_single_client_per_s": single["rate"],
                "worker_cpu_ms_per_answer": many["worker_cpu_ms"],
                "log": many_log,
                "single_log": single_log,
            },
            "targets_met": ok,
        }
        out = ROOT / "bench" / "out"
        out.mkdir(exist_ok=True)
        (out / "review_throughput.json").write_text(json.dumps(result, indent=2, default=str))
        print("targets met" if ok else "TARGETS MISSED (see above)")
        # Only a wrong log is a failure of the code; timings depend on the machine's load.
        sys.exit(0 if exact else 1)


if __name__ == "__main__":
    main()
