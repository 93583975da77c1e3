"""The grader service: the web tier grades through a unix socket and holds no privilege itself.

A real service (real pool, real socket) in a thread of this process; the clients are real socket
connections, one of them from another uid.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import engine.sandbox as sandbox_pkg
from engine.grader import grade
from engine.sandbox import Call, Limits, Pool, QueueFull, wire
from engine.sandbox.service import (
    MAX_REQUEST_BYTES,
    GraderService,
    ServiceClient,
    outcome_from_wire,
    outcome_to_wire,
)
from tests.engine.sandbox.conftest import RELU, ROOTLESS, X

SYSTEM_PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="module")
def service(pool: Pool) -> Iterator[GraderService]:
    # A folder any user can traverse (pytest's tmp_path is mode 0700).
    folder = tempfile.mkdtemp(prefix="grader-test-")
    os.chmod(folder, 0o755)
    group = None if ROOTLESS else "nogroup"
    svc = GraderService(os.path.join(folder, "grader.sock"), group=group, pool=pool)
    thread = threading.Thread(target=svc.serve_forever, daemon=True)
    thread.start()
    try:
        yield svc
    finally:
        svc.close()
        thread.join(5)
        shutil.rmtree(folder, ignore_errors=True)


def _raw_exchange(path: str, data: bytes) -> dict | None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(path)
        sock.sendall(data)
        head = sock.recv(8, socket.MSG_WAITALL)
        if len(head) < 8:
            return None
        body = sock.recv(wire.parse_frame_header(head), socket.MSG_WAITALL)
        answer = wire.decode(body)
        assert sock.recv(1) == b""  # the service hung up after refusing
        return answer


def test_grades_through_the_socket(service: GraderService) -> None:
    client = ServiceClient(service.path)
    out = client.run(RELU, "relu", [Call((X.copy(),))])
    assert out.status == "ok" and out.sandboxed
    np.testing.assert_array_equal(out.calls[0].value, np.maximum(X, 0))
    result = grade("relu", RELU, sandbox=client, user="learner-1")
    assert result.verdict == "accepted" and result.sandboxed
    wrong = grade("relu", RELU.replace("np.maximum(x, 0)", "x"), sandbox=client)
    assert wrong.verdict == "wrong_answer"


def test_one_connection_is_one_session(service: GraderService) -> None:
    """Visible then hidden child on the same leased runner, as with the in-process pool."""
    client = ServiceClient(service.path)
    with client.session("learner-2") as lease:
        first = lease.run(RELU, "relu", [Call((X.copy(),))])
        second = lease.run("def relu(x):\n    raise ValueError('boom')\n", "relu", [Call((X,))])
    assert first.status == "ok" and second.calls[0].error_type == "ValueError"


def test_outcome_round_trip_keeps_every_field(pool: Pool) -> None:
    out = pool.run(RELU + "print('hi')\n", "relu", [Call((X.copy(),), {})])
    back = outcome_from_wire(wire.decode(wire.encode(outcome_to_wire(out))))
    assert back.status == out.status and back.stdout == out.stdout
    assert back.calls[0].warnings == out.calls[0].warnings
    np.testing.assert_array_equal(back.calls[0].value, out.calls[0].value)


@pytest.mark.parametrize(
    "request_",
    [
        {"op": "shell", "cmd": "id"},
        {"op": "run", "source": RELU, "function": "os.system", "calls": (), "limits": {}},
        {"op": "run", "source": RELU, "function": "relu", "calls": (((X,), {}),), "limits": {}}
        | {"limits": {"cpu_seconds": 10_000.0}},
        {"op": "run", "source": RELU, "function": "relu", "calls": (), "limits": {"uid": 0}},
        {"op": "run", "source": "x" * (300 * 1024), "function": "relu", "calls": ()},
        {"op": "run", "source": RELU, "function": "relu", "calls": ("rm -rf /",), "limits": {}},
    ],
    ids=[
        "unknown_op",
        "bad_function",
        "limit_too_high",
        "unknown_limit",
        "huge_source",
        "bad_call",
    ],
)
def test_refuses_anything_but_a_sane_grading_request(
    service: GraderService, request_: dict
) -> None:
    answer = _raw_exchange(service.path, wire.frame(wire.encode(request_)))
    assert answer is not None and answer["op"] == "error", answer
    assert ServiceClient(service.path).run(RELU, "relu", [Call((X.copy(),))]).status == "ok"


def test_refuses_oversized_and_garbage_frames(service: GraderService) -> None:
    too_big = wire.frame_header(MAX_REQUEST_BYTES + 1)
    assert _raw_exchange(service.path, too_big)["op"] == "error"
    assert _raw_exchange(service.path, wire.frame(b"\xff" * 32))["op"] == "error"
    assert _raw_exchange(service.path, wire.frame(wire.encode((1, 2))))["op"] == "error"


@pytest.mark.skipif(ROOTLESS, reason="needs root to hand the socket to a group and switch users")
def test_only_the_web_group_may_connect(service: GraderService) -> None:
    mode = os.stat(service.path)
    assert stat.S_IMODE(mode.st_mode) == 0o660 and mode.st_gid != 0
    connect = f"import socket; socket.socket(socket.AF_UNIX).connect({service.path!r})"
    # `daemon` is in neither the socket's group nor root: refused by the file's permissions.
    denied = subprocess.run(
        ["runuser", "-u", "daemon", "--", SYSTEM_PYTHON, "-c", connect],
        capture_output=True,
        text=True,
    )
    assert denied.returncode != 0 and "PermissionError" in denied.stderr
    allowed = subprocess.run(
        ["runuser", "-u", "daemon", "-g", "nogroup", "--", SYSTEM_PYTHON, "-c", connect],
        capture_output=True,
        text=True,
    )
    assert allowed.returncode == 0, allowed.stderr


def test_doctor_report_of_the_service_is_the_services(service: GraderService) -> None:
    """The client's doctor report is the service's runners' (quiz.grading picks the client)."""
    report = sandbox_pkg.doctor_report(ServiceClient(service.path))
    assert report["backend"] == "unix-socket" and report["ready"] is True
    assert report["mode"] == ("rootless" if ROOTLESS else "privileged")
    assert isinstance(sandbox_pkg.get_sandbox(), Pool)  # no setting changes the engine's pool


def test_queue_full_travels_back(pool: Pool, tmp_path: Path) -> None:
    """A saturated pool answers queue_full; the client raises QueueFull like the pool does."""
    tiny = Pool(slots=1, queue_size=0, overflow=0)
    tiny.layers()
    svc = GraderService(str(tmp_path / "g.sock"), pool=tiny)
    thread = threading.Thread(target=svc.serve_forever, daemon=True)
    thread.start()
    slow = "import time\ndef relu(x):\n    time.sleep(1.5)\n    return x\n"
    client = ServiceClient(svc.path)
    try:
        holder = threading.Thread(target=client.run, args=(slow, "relu", [Call((X,))]))
        holder.start()
        deadline = time.monotonic() + 1.0
        while not tiny._active and time.monotonic() < deadline:
            time.sleep(0.01)
        with pytest.raises(QueueFull) as refused:
            client.run(RELU, "relu", [Call((X,))], Limits(wall_seconds=2.0))
        holder.join()
        assert refused.value.retry_after >= 1
    finally:
        svc.close()
        thread.join(5)
        tiny.close()
