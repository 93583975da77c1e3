"""In-process request latency of the hot read and study paths, as the browser drives them.

    .venv/bin/python bench/hot_paths.py                 # 160 timed requests per line
    .venv/bin/python bench/hot_paths.py --quick         # 100 per line (make bench-check)
    .venv/bin/python bench/hot_paths.py --compare main  # the same benchmark on `main`, then here
    .venv/bin/python bench/hot_paths.py --profile study # cProfile of one path instead of timings
    .venv/bin/python bench/hot_paths.py --sqlite-steps  # SQLite VM instructions, not timings

One migrated SQLite file (the owner's notes synced, plus 2,000 synthetic cards) and one user with
1,600 studied cards (1,000 due) and 20,000 review-log rows each (two users: one studies in
the page, one through a script, each at the default daily limits of 20 new / 200 reviews). Every request goes through
`app.test_client()` in its own app context (none is held here), so nothing stays cached in `g`.
Lines:
1. the study page's answer: POST /api/v1/reviews with "next": true, authenticated as the page
   is (session cookie plus the X-CSRFToken header), to the card the queue served, with its
   version; and the same with a bearer token (scripts);
2. GET /api/v1/topics (bearer token) and GET /study (the page's HTML, session cookie);
3. baseline: POST /api/v1/reviews refused with 401 (routing, JSON error; no database).
Each line prints the wall time's p50 and tail (p99 from 1,000 samples, else the maximum), the
p50 of this thread's CPU time (less sensitive to other processes on a shared machine), the
SQL statements per request and the ratio of its p50 to the 401 line's (the machine's speed
drifts between and within runs; the ratio moves far less). Targets (checked; exit status 1
when missed): study round trip p50 <= 3 ms, GET /api/v1/topics p50 <= 2 ms.

`--root DIR` imports the app from another checkout (what `--compare REV` does with a
`git archive` of REV, running REV and this checkout twice each, in the order REV, this, this,
REV), so before and after come from the same benchmark and the same run.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent

TARGET_STUDY_MS = 3.0
TARGET_TOPICS_MS = 2.0
CARDS, STUDIED, DUE, LOGS = 2_000, 1_600, 1_000, 20_000
PASSWORD = "bench-password"
# The page studies as one user, the script as another: each stays under the default daily
# limits (20 new / 200 reviews), as a new user has them.
USERS = ("bench-page", "bench-script")


def _import_app(root: Path) -> Any:
    sys.path.insert(0, str(root))
    from app import create_app

    return create_app


def seed(create_app: Any, db_path: Path, content: Path) -> Any:
    # This script's own folder (on sys.path as the script's), whichever checkout `quiz` is from.
    from deck import add_deck
    from flask_migrate import upgrade
    from sqlalchemy import select

    from quiz import accounts
    from quiz.db import db
    from quiz.importer import sync_content
    from quiz.models import Card

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "SECRET_KEY": "bench"})
    rng = random.Random(42)
    now = datetime.now(UTC)
    with app.app_context():
        upgrade()
        sync_content(db.session, content)
        add_deck(db.session, CARDS, topic_position=100)
        # In id order, as a learner studies the notes: the first 1,600 cards are the studied ones.
        bench_cards = select(Card.id).where(Card.key.like("bench/%")).order_by(Card.id)
        ids = list(db.session.scalars(bench_cards))
        for username in USERS:
            user = accounts.create_user(db.session, username, PASSWORD)
            db.session.flush()
            _history(db.session, rng, user.id, ids, now)
        db.session.commit()
        db.engine.dispose()
    settle_like_a_worker()
    return app


def settle_like_a_worker() -> None:
    """What a gunicorn worker does once the app is loaded (`quiz/gunicorn_config.py`), when the
    checkout measured has it: an older one is measured as it was served."""
    try:
        from quiz.gunicorn_config import post_worker_init
    except ImportError:
        return
    post_worker_init(None)


def _history(session: Any, rng: random.Random, user_id: int, ids: list[int], now: datetime) -> None:
    from deck import insert_states, study_history
    from sqlalchemy import insert

    from quiz.models import ReviewLog

    states, logs = study_history(rng, user_id, ids, now, studied=STUDIED, due=DUE, logs=LOGS)
    insert_states(session, states)
    session.execute(insert(ReviewLog), logs)


class Client:
    """The browser (session cookie + CSRF header) and a script (bearer token), one user."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.client = app.test_client()
        page = self.client.get("/login")
        self.csrf = _csrf(page.get_data(as_text=True))
        login = self.client.post(
            "/login", data={"username": USERS[0], "password": PASSWORD, "csrf_token": self.csrf}
        )
        assert login.status_code == 302, login.status_code
        self.csrf = _csrf(self.client.get("/study").get_data(as_text=True))
        token = self.app.test_client().post(
            "/api/v1/tokens", json={"username": USERS[1], "password": PASSWORD}
        )
        self.bearer = {"Authorization": f"Bearer {token.get_json()['token']}"}
        self.shown = {
            True: self.client.get("/api/v1/reviews/next").get_json(),
            False: self.app.test_client()
            .get("/api/v1/reviews/next", headers=self.bearer)
            .get_json(),
        }
        self.rng = random.Random(1)
        self.answers = 0

    def answer(self, *, browser: bool) -> None:
        self.answers += 1
        body = {
            "card_id": self.shown[browser]["card"]["id"],
            "rating": self.rng.choice([1, 3, 3, 3, 4]),
            "version": self.shown[browser]["version"],
            "request_id": f"bench-{self.answers}",
            "duration_ms": 8000,
            "next": True,
        }
        if browser:
            headers = {"X-CSRFToken": self.csrf}
            response = self.client.post("/api/v1/reviews", json=body, headers=headers)
        else:
            response = self.app.test_client().post(
                "/api/v1/reviews", json=body, headers=self.bearer
            )
        assert response.status_code == 201, (response.status_code, response.get_data())
        # Read as the page's script reads it: `get_json()` here would run the app's own checked
        # parser (`quiz.edge`, for request bodies) on the response: 50-100 µs of client work.
        following = json.loads(response.get_data())["next"]
        if following is None:
            raise SystemExit(f"the queue ran dry after {self.answers} answers")
        self.shown[browser] = following

    def topics(self) -> None:
        response = self.app.test_client().get("/api/v1/topics", headers=self.bearer)
        assert response.status_code == 200, response.status_code

    def study_page(self) -> None:
        response = self.client.get("/study")
        assert response.status_code == 200, response.status_code
        response.get_data()

    def refused(self) -> None:
        response = self.app.test_client().post("/api/v1/reviews", json={"card_id": 1})
        assert response.status_code == 401, response.status_code


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


BASELINE = "baseline: POST /api/v1/reviews refused 401"


def paths(client: Client) -> dict[str, Callable[[], None]]:
    return {
        "study round trip (page: cookie + CSRF)": lambda: client.answer(browser=True),
        "study round trip (bearer token)": lambda: client.answer(browser=False),
        "GET /api/v1/topics (bearer token)": client.topics,
        "GET /study (page HTML)": client.study_page,
        BASELINE: client.refused,
    }


PROFILE_KEYS = {"study": 0, "study-token": 1, "topics": 2, "study-page": 3, "refused": 4}


def measure(app: Any, rounds: int) -> dict[str, dict[str, list[float]]]:
    from flask import has_app_context
    from sqlalchemy import event

    from quiz.db import db

    assert not has_app_context(), "a held app context would keep the user cached in g"
    with app.app_context():
        engine = db.engine
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    client = Client(app)
    named = paths(client)
    for run in named.values():  # warm: compiled SQL, templates, SQLite pages
        for _ in range(20):
            run()
    event.listen(engine, "before_cursor_execute", count)
    out: dict[str, dict[str, list[float]]] = {n: {"ms": [], "cpu": [], "sql": []} for n in named}
    for _ in range(rounds):
        for name, run in named.items():  # interleaved: every line sees the same machine
            statements[0] = 0
            started, cpu = time.perf_counter(), time.thread_time()
            run()
            out[name]["ms"].append((time.perf_counter() - started) * 1000)
            out[name]["cpu"].append((time.thread_time() - cpu) * 1000)
            out[name]["sql"].append(statements[0])
    event.remove(engine, "before_cursor_execute", count)
    return out


def sqlite_steps(app: Any, rounds: int) -> dict[str, list[int]]:
    """SQLite virtual-machine instructions per request, counted by a progress handler called on
    every instruction: the database's share of the work as a count, which other processes on
    the machine cannot move (timings here do, by 10-20% between runs on a shared machine)."""
    from bench.stats import sqlite_step_counter

    client = Client(app)
    named = paths(client)
    for run in named.values():
        for _ in range(20):
            run()
    out: dict[str, list[int]] = {name: [] for name in named}
    with sqlite_step_counter(app) as counter:
        for _ in range(rounds):
            for name, run in named.items():
                counter[0] = 0
                run()
                out[name].append(counter[0])
    return out


def profile(app: Any, key: str, rounds: int, sort: str, lines: int) -> None:
    client = Client(app)
    run = list(paths(client).values())[PROFILE_KEYS[key]]
    for _ in range(20):
        run()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(rounds):
        run()
    profiler.disable()
    out = HERE / "bench" / "out"
    out.mkdir(exist_ok=True)
    profiler.dump_stats(out / f"hot_paths-{key}.prof")
    print(f"{rounds} requests of {key}; full profile in bench/out/hot_paths-{key}.prof")
    pstats.Stats(profiler).sort_stats(sort).print_stats(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 timed requests per line")
    # At most 200 reviews a day per user: 20 warm-up answers and 160 timed ones fit.
    parser.add_argument("--rounds", type=int, default=160, help="timed requests per line")
    parser.add_argument("--root", type=Path, default=HERE, help="checkout to import the app from")
    parser.add_argument("--compare", metavar="REV", help="run on REV (git archive), then here")
    parser.add_argument("--profile", choices=sorted(PROFILE_KEYS), help="profile one path")
    parser.add_argument(
        "--sqlite-steps",
        action="store_true",
        help="count SQLite VM instructions per request instead of timing (load-independent)",
    )
    parser.add_argument("--sort", default="cumulative", help="pstats sort key (--profile)")
    parser.add_argument("--lines", type=int, default=45, help="pstats lines (--profile)")
    args = parser.parse_args()
    rounds = 100 if args.quick else args.rounds
    if args.compare:
        sys.path.insert(0, str(HERE))
        from bench.compare import compare

        extra = ["--sqlite-steps"] if args.sqlite_steps else []
        sys.exit(compare(__file__, args.compare, ["--rounds", str(rounds), *extra]))
    create_app = _import_app(args.root.resolve())
    from bench.stats import Targets, describe

    with tempfile.TemporaryDirectory(prefix="bench-hot-paths-") as tmp:
        app = seed(create_app, Path(tmp) / "bench.sqlite3", HERE / "content")
        if args.profile:
            profile(app, args.profile, rounds, args.sort, args.lines)
            return
        if args.sqlite_steps:
            print(f"code from {args.root}; SQLite VM instructions per request (median)")
            for name, counts in sqlite_steps(app, rounds).items():
                line = f"  {name:<44} {statistics.median(counts):>9,.0f}"
                if name.startswith("study round trip"):
                    # The queue reads today's answers: its cost grows through the day.
                    tenth = max(1, len(counts) // 10)
                    early, late = counts[:tenth], counts[-tenth:]
                    line += (
                        f"  (first tenth {statistics.median(early):,.0f},"
                        f" last tenth {statistics.median(late):,.0f})"
                    )
                print(line)
            return
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"code from {args.root}; load average {load} on {os.cpu_count()} CPUs")
        results = measure(app, rounds)
        # The refused request, timed interleaved with the others: its p50 follows the machine's
        # speed, which drifted by a quarter within one run here, so each line also gets its
        # ratio to it (what holds between runs; the absolute figures do not).
        floor = statistics.median(results[BASELINE]["ms"])
        for name, samples in results.items():
            sql = "/".join(str(n) for n in sorted(set(samples["sql"])))
            ratio = (
                ""
                if name == BASELINE
                else f"; {statistics.median(samples['ms']) / floor:.2f}x floor"
            )
            print(
                f"  {name:<44} wall {describe(samples['ms'], 'ms')}; "
                f"CPU p50 {statistics.median(samples['cpu']):.2f} ms; SQL statements {sql}{ratio}"
            )
    targets = Targets()
    names = list(results)
    targets.at_most(
        "study round trip (page) p50",
        statistics.median(results[names[0]]["ms"]),
        TARGET_STUDY_MS,
        " ms",
    )
    targets.at_most(
        "GET /api/v1/topics p50",
        statistics.median(results[names[2]]["ms"]),
        TARGET_TOPICS_MS,
        " ms",
    )
    targets.finish("hot paths")


if __name__ == "__main__":
    main()
