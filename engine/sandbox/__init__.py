"""Run untrusted NumPy submissions in isolated children of warm runner processes.

    from engine.sandbox import Call, get_sandbox
    outcome = get_sandbox().run(source, "softmax", [Call((x,), {"axis": -1})])

`get_sandbox()` returns the process-wide pool (started lazily, thread-safe; call `shutdown()` to
stop it). `doctor_report()` says which isolation layers are active and whether grading may run.
"""

from __future__ import annotations

import atexit
import os
import threading
from typing import Any

from engine.sandbox.api import (
    Call,
    CallOutcome,
    CallStatus,
    Limits,
    QueueFull,
    RunOutcome,
    RunStatus,
    Sandbox,
    Value,
)
from engine.sandbox.doctor import evaluate
from engine.sandbox.pool import Pool, allow_unsandboxed

__all__ = [
    "Call",
    "CallOutcome",
    "CallStatus",
    "Limits",
    "Pool",
    "QueueFull",
    "RunOutcome",
    "RunStatus",
    "Sandbox",
    "Value",
    "doctor_report",
    "get_sandbox",
    "shutdown",
]

_lock = threading.Lock()
_pool: Pool | None = None


def _slots_from_env() -> int | None:
    value = os.environ.get("GRADER_SLOTS")
    return int(value) if value else None


def _queue_from_env() -> int | None:
    value = os.environ.get("GRADER_QUEUE_SIZE")
    return int(value) if value else None


def get_sandbox() -> Pool:
    """The process-wide pool (one per process: a forked worker gets its own fresh pool)."""
    global _pool
    with _lock:
        if _pool is None or _pool.pid != os.getpid():
            _pool = Pool(slots=_slots_from_env(), queue_size=_queue_from_env())
        return _pool


def doctor_report() -> dict[str, Any]:
    """Which layers are active (probed inside a real sandboxed child) and whether we may run."""
    return evaluate(get_sandbox().layers(), allow_unsandboxed())


def shutdown() -> None:
    """Stop the runners (tests, atexit). A later get_sandbox() starts a new pool."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None and pool.pid == os.getpid():
        pool.close()


atexit.register(shutdown)
