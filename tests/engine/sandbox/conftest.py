"""Fixtures for the sandbox tests: a dedicated pool started with secrets in its environment."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from engine.sandbox import Call, Limits, Pool, RunOutcome

# CI runs this suite twice: as root (privileged mode) and as an ordinary user (rootless mode,
# `make test-rootless`), which sets SANDBOX_TEST_MODE=rootless.
ROOTLESS = os.environ.get("SANDBOX_TEST_MODE") == "rootless"

RELU = "import numpy as np\n\ndef relu(x):\n    return np.maximum(x, 0)\n"
X = np.array([[-1.5, 0.0, 2.0], [3.0, -4.0, 0.5]])


class Secrets:
    """Values that must never show up in anything a submission sends back."""

    def __init__(self, root: Path) -> None:
        self.env = {
            "SECRET_KEY": "sk-" + secrets.token_hex(12),
            "DATABASE_URL": "sqlite:////srv/app-" + secrets.token_hex(12) + ".db",
        }
        self.file_text = "db-secret-" + secrets.token_hex(12)
        # Stands in for the app's SQLite file / instance secret: root-owned, mode 0600, outside /tmp.
        self.dir = root
        self.file = root / "app.db"
        self.file.write_text(self.file_text)
        self.file.chmod(0o600)

    @property
    def values(self) -> list[str]:
        return [*self.env.values(), self.file_text]

    def assert_absent(self, outcome: RunOutcome) -> None:
        texts = [outcome.stdout, outcome.stderr, outcome.message]
        for call in outcome.calls:
            texts += [call.stdout, call.error or "", " ".join(call.warnings), repr(call.value)]
        blob = "\n".join(texts)
        for value in self.values:
            assert value not in blob


@pytest.fixture(scope="session")
def leak_secrets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secrets]:
    directory = tmp_path_factory.mktemp("instance")
    directory.chmod(0o700)
    found = Secrets(directory)
    saved = {k: os.environ.get(k) for k in found.env}
    os.environ.update(found.env)
    try:
        yield found
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def pool(leak_secrets: Secrets) -> Iterator[Pool]:
    """Started while SECRET_KEY/DATABASE_URL are set in this process: they must not leak."""
    p = Pool(slots=2, queue_size=8)
    try:
        yield p
    finally:
        p.close()


def honest_relu(pool: Pool) -> None:
    """The sandbox is still healthy: an ordinary correct answer runs and returns its value."""
    out = pool.run(RELU, "relu", [Call((X.copy(),))])
    assert out.status == "ok", (out.status, out.message)
    assert out.sandboxed
    np.testing.assert_array_equal(out.calls[0].value, np.maximum(X, 0))


def sandbox_processes(pool: Pool, uids: set[int] | None = None) -> list[int]:
    """Host pids of submissions' processes still alive.

    Privileged: processes running as one of the pool's sandbox uids. Rootless: every process
    shares our uid, so: those two PID namespaces below ours (runner -> zygote's namespace -> a
    submission's) that have left the runners' user namespace (a waiting spare has not yet).
    """
    uids = pool.sandbox_uids() if uids is None else uids  # (a leased runner is not listed)
    depth = _pid_depth("self")
    procs: dict[int, tuple[int, int, str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
            userns = os.readlink(f"/proc/{entry}/ns/user")
        except OSError:
            continue
        uid = int(fields["Uid"].split()[1])
        procs[int(entry)] = (uid, len(fields["NSpid"].split()) - depth, userns)
    if not ROOTLESS:
        return [pid for pid, (uid, _, _) in procs.items() if uid in uids]
    ours = os.getuid()
    runner_ns = {ns for uid, nested, ns in procs.values() if uid == ours and nested == 1}
    # Only ours (our runners' descendants): other rootless test runs on the machine share our uid.
    mine = _descendants([os.getpid()])
    return [
        pid
        for pid, (uid, nested, ns) in procs.items()
        if uid == ours and nested >= 2 and ns not in runner_ns and pid in mine
    ]


def _descendants(roots: list[int]) -> set[int]:
    found: set[int] = set()
    todo = list(roots)
    while todo:
        pid = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{pid}/task/{task}/children") as fh:
                    children = [int(c) for c in fh.read().split()]
            except OSError:
                continue
            todo += [c for c in children if c not in found]
            found.update(children)
    return found


def _pid_depth(pid: str) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("NSpid:"):
                return len(line.split()) - 1
    return 1


def wait_no_sandbox_processes(pool: Pool, timeout: float = 3.0) -> list[int]:
    """The runner kills the namespace right after answering: give it a moment."""
    deadline = time.monotonic() + timeout
    while (left := sandbox_processes(pool)) and time.monotonic() < deadline:
        time.sleep(0.02)
    return left


SHORT = Limits(cpu_seconds=1.0, wall_seconds=1.0)
