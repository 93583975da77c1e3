"""Private PostgreSQL and Redis servers for the tests, the distributed test and the benchmarks.

`python -m tests.services -- CMD...` starts a throwaway PostgreSQL cluster and a Redis server
in a temporary folder on free loopback ports, runs CMD with TEST_DATABASE_URL and
TEST_REDIS_URL pointing at them, and stops both afterwards — also when CMD fails or the run
is interrupted. PostgreSQL refuses to run as root, so as root the server runs as `postgres`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _pg_bin() -> Path:
    """The newest installed server's binaries (Debian keeps them per major version)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parts[-3])
    )
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _pg_bin()
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
# Durability buys nothing for a throwaway test cluster; these settings make it several times
# faster to create and drop the per-test databases.
PG_TEST_SETTINGS = (
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
    "-c max_connections=300 -c shared_buffers=64MB"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@dataclass
class Postgres:
    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        subprocess.run(
            _as_postgres(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(self.folder / "data"),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ]
            ),
            capture_output=True,
            check=False,
        )


def start_postgres(folder: Path) -> Postgres:
    """initdb and start a cluster owned by `postgres` (when root) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o777)  # the postgres user writes its data and socket here
    port = free_port()
    quiet = {"capture_output": True, "check": True}
    subprocess.run(
        _as_postgres(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(folder / "data"),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        ),
        **quiet,
    )
    subprocess.run(
        _as_postgres(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(folder / "data"),
                "-w",
                "-l",
                str(folder / "pg.log"),
                "-o",
                f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 {PG_TEST_SETTINGS}",
                "start",
            ]
        ),
        **quiet,
    )
    return Postgres(folder, port)


@dataclass
class Redis:
    port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s,
            ):
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None


def start_redis(folder: Path, port: int | None = None) -> Redis:
    folder.mkdir(parents=True, exist_ok=True)
    redis = Redis(port or free_port(), folder)
    redis.start()
    return redis


@contextlib.contextmanager
def services(*, redis: bool = True) -> Iterator[tuple[Postgres, Redis | None]]:
    """PostgreSQL (and Redis) for the duration of the block; removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="quiz-services-"))
    folder.chmod(0o755)  # the postgres user must reach its data folder inside
    pg: Postgres | None = None
    rd: Redis | None = None
    try:
        pg = start_postgres(folder / "pg")
        rd = start_redis(folder / "redis") if redis else None
        yield pg, rd
    finally:
        if rd is not None:
            rd.stop()
        if pg is not None:
            pg.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print("usage: python -m tests.services -- COMMAND...", file=sys.stderr)
        return 2
    # SIGTERM (e.g. CI cancelling the job) must still run the clean-up below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with services() as (pg, rd):
        assert rd is not None
        env = {**os.environ, "TEST_DATABASE_URL": pg.url, "TEST_REDIS_URL": rd.url}
        print(f"PostgreSQL on port {pg.port}, Redis on port {rd.port}", flush=True)
        return subprocess.call(argv, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


ROOT = Path(__file__).resolve().parent.parent


def start_worker(
    database_url: str, broker_url: str, log_path: Path, *, slots: int = 2, **env: str
) -> subprocess.Popen[bytes]:
    """A real grader worker process (what `make worker` runs), logging to `log_path`.

    Returns once it answers a ping, so jobs sent afterwards are picked up at once.
    """
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "GRADER_BROKER_URL": broker_url,
        "SECRET_KEY": "worker-test",
        "GRADER_SLOTS": str(slots),
        **env,
    }
    log = log_path.open("ab")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "quiz.worker",
            "worker",
            "--pool",
            "threads",
            "--concurrency",
            str(slots),
            "--prefetch-multiplier",
            "1",
            "--queues",
            "grading",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "info",
            "--hostname",
            f"w{free_port()}@%h",
        ],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # kill -9 of this worker must not take the test run with it
    )
    log.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"worker exited: {log_path.read_text()[-2000:]}")
        if b"ready." in log_path.read_bytes():
            return process
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"worker not ready: {log_path.read_text()[-2000:]}")


def start_web(
    env: dict[str, str], log_path: Path, *, app: str = "app:create_app()", threads: int = 8
) -> tuple[subprocess.Popen[bytes], str]:
    """A real gunicorn web process (one worker) on a free loopback port, with `env` as its
    whole environment; returns (process, base URL) once /healthz answers 200."""
    port = free_port()
    with log_path.open("ab") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                str(threads),
                app,
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if call("GET", f"{base}/healthz")[0] == 200:
                return process, base
        except OSError:
            time.sleep(0.2)
    stop(process, hard=True)
    raise RuntimeError(f"web process did not start: {log_path.read_text()[-2000:]}")


def stop(process: subprocess.Popen[bytes], *, hard: bool = False) -> None:
    """TERM (a warm shutdown: the running job finishes) or KILL; then reap it."""
    if process.poll() is None:
        process.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def call(method: str, url: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    """A JSON request to a test server; (status, parsed body) whatever the status."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read() or b"null")
