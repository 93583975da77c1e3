"""The runner's watch over one running sandbox: collect its output under caps and deadlines.

Stdlib only plus `wire`; the runner loads this file by path. Whatever the child writes, the
supervision returns by the wall deadline plus a short grace: the result stream is checked frame
by frame (no empty frames, at most `max_frames`), and what is left in the pipes after the end
record or the child's exit is drained under the same deadline.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.sandbox import child, wire
else:  # loaded by path in the runner (runner.py), never as engine.*
    child, wire = sys.modules["_sandbox_child"], sys.modules["_sandbox_wire"]

PIPE_SIZE = 1 << 20
READ_CHUNK = 1 << 18
DRAIN_BYTES = 2 * PIPE_SIZE  # what may still be read from a stream after the end record
DRAIN_GRACE = 0.25  # seconds past the wall limit for reading what is left in the pipes
END_PAYLOAD = wire.encode(child.END_RECORD)


@dataclass
class Spare:
    """A sandbox forked in advance, waiting for its request (already isolated when `isolate`)."""

    pid: int  # the user child's, in the zygote's PID namespace
    pidfd: int  # kills the sandbox: its namespace's init (or the child itself, not isolated)
    exit_fd: int  # the user child's pidfd: readable once it has exited
    isolate: bool
    request_w: int
    reads: dict[str, int]  # result, stdout, stderr, status
    slot: int = 0  # which of the runner's cgroup sets and uids it uses


def supervise(
    spare: Spare,
    limits: dict[str, Any],
    start: float,
    demote_at: float | None,
    demote: Callable[[], None],
    max_frames: int | None,
) -> dict[str, Any]:
    """Collect output until the end record or the end of the status pipe; kill at the deadline.

    The status pipe ends once the child has exited and the zygote has written its exit record
    (the child closes its own end before user code runs). At `demote_at` the submission's CPU
    share drops (`demote`), so short honest submissions on other slots keep their latency while
    an infinite loop burns its quota.
    """
    caps = {
        "result": int(limits["result_bytes"]),
        "stdout": int(limits["output_bytes"]),
        "stderr": int(limits["output_bytes"]),
        "status": 1 << 16,
    }
    data = {name: bytearray() for name in spare.reads}
    dropped = dict.fromkeys(spare.reads, 0)
    open_fds = {fd: name for name, fd in spare.reads.items()}
    status_fd = spare.reads["status"]
    deadline = start + float(limits["wall_seconds"])
    hard_deadline = deadline + DRAIN_GRACE
    timed_out = result_over = ended = bad_stream = False
    scanner = FrameScanner(max_frames)
    poller = select.poll()
    for fd in open_fds:
        poller.register(fd, select.POLLIN)
    poll, monotonic, results = poller.poll, time.monotonic, data["result"]
    while status_fd in open_fds and not ended:
        now = monotonic()
        if now >= hard_deadline:
            break
        remaining = deadline - now
        if remaining <= 0 and not timed_out:
            timed_out = True
            pidfd_kill(spare.pidfd)
        if demote_at is not None and now >= demote_at:
            demote_at = None
            demote()
        wake = hard_deadline - now if timed_out else remaining
        if demote_at is not None:
            wake = min(wake, demote_at - now)
        for fd, _event in poll(max(1, int(wake * 1000) + 1)):
            name = open_fds[fd]
            if not read_into(fd, data[name], caps[name], dropped, name):
                poller.unregister(fd)
                del open_fds[fd]
            if name == "result" and not (result_over or bad_stream):
                if dropped["result"]:
                    result_over = True
                    pidfd_kill(spare.pidfd)
                elif not scanner.scan(results):
                    bad_stream = True
                    pidfd_kill(spare.pidfd)
                ended = scanner.ended
    # Everything printed before the end record (or before the child exited) is already in the
    # pipes: read what is buffered, bounded in bytes and by the same deadline. A pipe with
    # nothing buffered and not at its end (poll says so, in one call) has nothing to drain.
    settled = ended or result_over or bad_stream
    ready = {fd for fd, _event in poll(0)} if open_fds else set()
    for name in ("result", "stdout", "stderr", "status"):
        fd = spare.reads[name]
        if fd in ready and not (name == "result" and settled):
            drain(fd, data[name], caps[name], dropped, name, hard_deadline)
    if not settled:
        if dropped["result"]:
            result_over = True
        elif not scanner.scan(data["result"]):
            bad_stream = True
        ended = scanner.ended
    if bad_stream:
        del data["result"][scanner.pos :]  # keep the records before the bad one
    response: dict[str, Any] = {
        "op": "result",
        "timed_out": timed_out,
        "result_over": result_over,
        "bad_stream": bad_stream,
        "results": bytes(data["result"]),
        "stdout": bytes(data["stdout"]),
        "stderr": bytes(data["stderr"]),
        "stdout_dropped": dropped["stdout"],
        "stderr_dropped": dropped["stderr"],
        "ended": ended,
        "wall_ms": (time.monotonic() - start) * 1000.0,
        "setup_error": None,
        "sealed": True,
    }
    if ended:
        return response
    status, setup_error, response["sealed"] = status_records(bytes(data["status"]))
    if not status and not setup_error and not (timed_out or result_over or bad_stream):
        setup_error = "the child ended without a status"
    response.update(
        exit_code=status.get("code"),
        exit_signal=status.get("signal"),
        cpu_ms=float(status.get("cpu_ms") or 0.0),
        setup_error=setup_error,
    )
    return response


_scratch: list[bytearray] = []  # one read buffer, made at the first read (after the fork)


def read_into(fd: int, buf: bytearray, cap: int, dropped: dict[str, int], name: str) -> bool:
    """Read one chunk, keeping at most `cap` bytes in `buf`; False at EOF."""
    if not _scratch:
        _scratch.append(bytearray(READ_CHUNK))
    # Into a buffer kept for it: os.read(fd, READ_CHUNK) would allocate (mmap) and free a
    # quarter megabyte per read, which costs more than the read itself.
    n = os.readv(fd, _scratch)
    if not n:
        return False
    room = max(cap - len(buf), 0)
    with memoryview(_scratch[0]) as chunk:
        buf += chunk[: min(room, n)]
    dropped[name] += n - min(room, n)
    return True


class FrameScanner:
    """Walks the result stream as it arrives: finds the end record, refuses a bad stream.

    A stream is bad when a frame is empty (a record is never empty) or when there are more
    frames than the request can produce: each costs the trusted side work, so a flood of tiny
    frames is stopped at the first one too many instead of being walked to the byte cap.
    """

    def __init__(self, max_frames: int | None) -> None:
        self.max_frames = max_frames
        self.pos = 0  # offset of the next unscanned frame
        self.frames = 0
        self.ended = False

    def scan(self, buf: bytearray) -> bool:
        size = wire.FRAME_HEADER_SIZE
        while not self.ended and len(buf) >= self.pos + size:
            length = wire.frame_length_at(buf, self.pos)
            if length == 0 or (self.max_frames is not None and self.frames >= self.max_frames):
                return False
            end = self.pos + size + length
            if len(buf) < end:
                break
            self.frames += 1
            if length == len(END_PAYLOAD) and buf[self.pos + size : end] == END_PAYLOAD:
                self.ended = True
            self.pos = end
        return True


def status_records(data: bytes) -> tuple[dict[str, Any], str | None, bool]:
    """The exit record, a setup error, and whether the child reached user code (sealed)."""
    status: dict[str, Any] = {}
    setup_error = None
    sealed = False
    try:
        for raw in wire.FrameReader(1 << 16).feed(data):
            record = wire.decode(raw)
            if record.get("kind") == "setup_error":
                setup_error = str(record.get("error"))
            elif record.get("kind") == "exit":
                status = record
            elif record.get("kind") == "sealed":
                sealed = True
    except (wire.WireError, ValueError, AttributeError) as exc:
        setup_error = f"bad status record: {exc}"
    return status, setup_error, sealed


def drain(
    fd: int, buf: bytearray, cap: int, dropped: dict[str, int], name: str, deadline: float
) -> None:
    """Read what is buffered in a pipe: at most DRAIN_BYTES, and never past `deadline`."""
    os.set_blocking(fd, False)
    taken = 0
    try:
        while taken < DRAIN_BYTES and time.monotonic() < deadline:
            before = len(buf) + dropped[name]
            if not read_into(fd, buf, cap, dropped, name):
                return
            taken += len(buf) + dropped[name] - before
    except BlockingIOError:
        pass


def any_exited(*pidfds: int) -> bool:
    """True once any of the processes behind `pidfds` has exited (one select for them all)."""
    return bool(select.select(pidfds, [], [], 0)[0])


def pidfd_wait(pidfd: int, timeout: float) -> None:
    select.select([pidfd], [], [], timeout)


def pidfd_kill(pidfd: int) -> None:
    with contextlib.suppress(ProcessLookupError, OSError):
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
