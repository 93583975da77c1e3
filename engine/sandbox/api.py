"""The contract between the grader and the sandbox that runs untrusted code.

The grader (trusted) builds `Call`s from its test cases, hands them with the user's source to a
`Sandbox`, and compares the decoded `CallOutcome.value`s against the reference itself. The sandbox
never sees expected outputs and never compares anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, Union

import numpy as np

# A value that crosses the sandbox boundary: arrays (float16/32/64, int32/64, bool), plain Python
# scalars, None, or (nested) tuples of those. Lists returned by user code arrive as tuples.
Value = Union[np.ndarray, float, int, bool, None, tuple["Value", ...]]  # noqa: UP007 (recursive alias)


@dataclass(frozen=True)
class Call:
    """One invocation of the user's function: positional and keyword arguments."""

    args: tuple[Value, ...]
    kwargs: dict[str, Value] = field(default_factory=dict)


class CallBatch(tuple[Call, ...]):
    """Calls that never change (a drill's cases, with read-only arrays), built once per process:
    a sandbox may encode them once and keep the encoding on the batch (the pool does)."""


@dataclass(frozen=True)
class Limits:
    cpu_seconds: float = 2.0
    wall_seconds: float = 5.0
    memory_bytes: int = 512 * 2**20
    output_bytes: int = 64 * 1024  # stdout and stderr, each
    # Everything sent back on the result pipe. The trusted side may hold a few copies of it, so
    # it is part of the grading parent's memory bound; honest answers send well under 1 MB.
    result_bytes: int = 8 * 2**20
    max_processes: int = 1
    max_open_files: int = 64
    max_file_bytes: int = 1 * 2**20


CallStatus = Literal["ok", "error", "not_run"]


@dataclass
class CallOutcome:
    status: CallStatus
    value: Value = None  # decoded from raw bytes by the trusted side; never a user object
    error: str | None = None  # "ValueError: ..." plus a short traceback of user frames
    error_type: str | None = None  # e.g. "MemoryError", "RecursionError", "ValueError"
    args_after: tuple[Value, ...] = ()  # the arguments as they were after the call
    kwargs_after: dict[str, Value] = field(default_factory=dict)
    warnings: list[str] = field(
        default_factory=list
    )  # e.g. "RuntimeWarning: overflow encountered in exp"
    stdout: str = ""  # what print() wrote during this call (capped)
    time_ms: float = 0.0


RunStatus = Literal[
    "ok",  # the module loaded and every call ran (each call may still have raised)
    "syntax_error",
    "missing_function",  # the module loaded but defines no callable with that name
    "load_error",  # the module raised while being imported
    "timeout",  # CPU or wall limit hit; calls not finished are "not_run"
    "memory_limit",
    "output_limit",  # result pipe over limits.result_bytes
    "crashed",  # the child died (signal, os._exit, sys.exit) before finishing
    "refused",  # isolation unavailable and unsandboxed running not allowed
    "internal_error",  # the runner itself failed; not the user's fault
]


@dataclass
class RunOutcome:
    status: RunStatus
    calls: list[CallOutcome]  # one per Call, in order, always the same length as the input
    stdout: str = ""  # everything written to fd 1 outside the per-call capture, truncated
    stderr: str = ""  # truncated
    message: str = ""  # human explanation (Chinese) for non-"ok" statuses
    sandboxed: bool = (
        True  # False only when GRADER_ALLOW_UNSANDBOXED=1 let it run without isolation
    )
    time_ms: float = 0.0


class QueueFull(Exception):
    """Every slot is busy and the waiting queue is full; try again after `retry_after` seconds."""

    def __init__(self, retry_after: int = 2) -> None:
        super().__init__("grader queue is full")
        self.retry_after = retry_after


class Sandbox(Protocol):
    def run(
        self, source: str, function: str, calls: Sequence[Call], limits: Limits = Limits()
    ) -> RunOutcome: ...
