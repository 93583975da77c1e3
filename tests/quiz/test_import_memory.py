"""A compressed import bomb of any shape costs a real gunicorn worker at most 256 MB.

The worker's peak resident memory (VmHWM, what the kernel saw at its highest) is read from
/proc after every shape: the bombs that pass no limit, and the largest files the limits still
let through to the JSON parser (they are then refused as not being a backup, or imported).
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from quiz import backup

ROOT = Path(__file__).resolve().parents[2]
LIMIT_MB = 256
MB = 1024 * 1024


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _call(port: int, method: str, path: str, body: bytes, headers: dict[str, str]) -> Any:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.fixture
def worker(synced_db_template: Any, tmp_path: Path) -> Iterator[tuple[int, int]]:
    """(port, worker pid) of gunicorn with one worker, as `make run` starts it."""
    db_url = synced_db_template.clone(tmp_path, "bomb")
    port = _port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "SECRET_KEY": "bomb-test",
        "OPENBLAS_NUM_THREADS": "1",
    }
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "4",
            "--timeout",
            "120",
            "--config",
            "quiz/gunicorn_config.py",
            "app:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _call(port, "GET", "/healthz", b"", {})[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        yield port, int(children[0])
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)


def _shapes() -> dict[str, bytes]:
    """Each shape as the bytes before compression."""
    limit, budget = backup.MAX_JSON_BYTES, backup.MAX_PARSE_COST
    header = b'{"format":"mlquiz-progress-backup","version":1,'
    return {
        # Past the limits: refused while decompressing or before parsing.
        "60 MB of {}": b'{"a":[' + b"{}," * (30 * MB) + b"{}]}",
        "deep nesting": b"[" * (40 * MB),
        "ints past the value cap": b"[" + b"1," * (3 * MB) + b"1]",
        # Under every limit: parsed, then refused as not being a complete backup.
        "one string at the size limit": header + b'"a":"' + b"a" * (limit - 200) + b'"}',
        "one string under the parse budget": header
        + b'"a":"'
        + b"a" * (budget // 2 - 4096)
        + b'"}',
        "wide text under the parse budget": header
        + b'"a":"'
        + b"a" * (budget // 8 - 4096)
        + "😀".encode()
        + b'"}',
        "strings at the value cap": header
        + b'"a":['
        + b",".join([b'"' + b"x" * 40 + b'"'] * (backup.MAX_JSON_VALUES - 10))
        + b"]}",
        "strings just under the parse budget": header
        + b'"a":['
        + b",".join([b'"' + b"x" * 40 + b'"'] * (backup.MAX_PARSE_COST // (2 * 43 + 57) - 5000))
        + b"]}",
        "objects under the parse budget": header
        + b'"a":['
        + b",".join([b'{"k":"' + b"y" * 30 + b'"}'] * (budget // (2 * 39 + 57 + 100 + 8) - 5000))
        + b"]}",
        "objects at the value cap": header
        + b'"a":['
        + b",".join([b'{"k":"' + b"y" * 30 + b'"}'] * (backup.MAX_JSON_VALUES // 2 - 10))
        + b"]}",
    }


def test_import_bombs_cost_a_worker_at_most_256_mb(
    worker: tuple[int, int], capsys: pytest.CaptureFixture[str]
) -> None:
    port, pid = worker
    headers = {"Content-Type": "application/json"}
    assert (
        _call(
            port, "POST", "/api/v1/users", b'{"username":"bomber","password":"password-1"}', headers
        )[0]
        == 201
    )
    status, body = _call(
        port, "POST", "/api/v1/tokens", b'{"username":"bomber","password":"password-1"}', headers
    )
    headers["Authorization"] = f"Bearer {body['token']}"
    baseline = _peak_mb(pid)
    report = [f"worker baseline peak {baseline:.0f} MB"]
    for name, payload in _shapes().items():
        bomb = gzip.compress(payload, compresslevel=9, mtime=0)
        del payload
        status, body = _call(port, "POST", "/api/v1/progress/backup", bomb, headers)
        peak = _peak_mb(pid)
        report.append(f"{name}: {len(bomb) // 1024} KB gzip -> {status}, peak {peak:.0f} MB")
        assert status in (400, 413), (name, status, body)
        assert "error" in body
        assert peak <= LIMIT_MB, "\n".join(report)
    with capsys.disabled():
        print("\n" + "\n".join(report))
