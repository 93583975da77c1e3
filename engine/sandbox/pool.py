"""Trusted side of the sandbox: a pool of warm runner processes with a bounded queue.

The web process never executes user code: it encodes inputs, hands them to a runner over a pipe
and decodes raw arrays that come back. A runner that dies or stops answering is killed and
restarted; only the submission it was running reports `internal_error`.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import itertools
import math
import os
import select
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.sandbox import outcome, spawn, wire
from engine.sandbox.api import Call, CallBatch, Limits, QueueFull, RunOutcome

if TYPE_CHECKING:
    import logging

DEFAULT_LIMITS = Limits()


def _log() -> logging.Logger:
    # Imported when there is something to say: a one-shot command line that grades one answer
    # would otherwise pay ~3 ms for a module it never uses.
    import logging

    return logging.getLogger(__name__)


START_TIMEOUT = 30.0
RESPONSE_GRACE = 10.0  # beyond the wall limit before a silent runner is declared dead
PIPE_SIZE = 1 << 20  # of the pipes to and from a runner (the default is 64 KiB)
READ_CHUNK = 1 << 18


class RunnerDied(Exception):
    """The runner process exited or stopped answering."""


class RunnerProcess:
    """One warm runner: `python -I -S runner.py`, speaking framed `wire` records on stdin/stdout."""

    def __init__(
        self,
        uid_base: int,
        spares: int | None = None,
        proc: subprocess.Popen[bytes] | None = None,
    ) -> None:
        # `proc`: one already started by spawn.spawn_runner (the command line starts its runner
        # before importing NumPy).
        self.proc = proc if proc is not None else spawn.spawn_runner(uid_base, spares)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._out_fd = self.proc.stdout.fileno()
        for fd in (self.proc.stdin.fileno(), self._out_fd):
            # A request or response (tens of KB, more for big arrays) fits in the pipe at once:
            # one write and one wake-up on each side instead of one per 64 KiB.
            with contextlib.suppress(OSError):
                fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        self._reader = wire.FrameReader(1 << 31)
        self._chunk = bytearray(READ_CHUNK)
        self._pending: list[bytes] = []
        self.hello: dict[str, Any] = {}

    def wait_hello(self, timeout: float = START_TIMEOUT) -> dict[str, Any]:
        self.hello = self._receive(time.monotonic() + timeout)
        if self.hello.get("op") != "hello":
            raise RunnerDied("runner did not say hello")
        return self.hello

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def request(
        self, header: bytes | dict[str, Any], body: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        """Send one request (small header the runner reads, body it forwards) and await the answer.

        `header` may come encoded already (the pool reuses the encoding of a repeated header).
        """
        head = header if type(header) is bytes else wire.encode(header)
        parts = wire.encode_parts(body)
        size = sum(len(p) for p in parts)
        data = b"".join([wire.frame_header(len(head)), head, wire.frame_header(size), *parts])
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (OSError, ValueError) as exc:
            raise RunnerDied(f"cannot write to runner: {exc}") from exc
        return self._receive(time.monotonic() + timeout)

    def _receive(self, deadline: float) -> dict[str, Any]:
        while not self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RunnerDied("runner did not answer in time")
            ready, _, _ = select.select([self._out_fd], [], [], remaining)
            if not ready:
                continue
            # Into a buffer kept for it: os.read(fd, big) would allocate (mmap) and free as
            # much each time, which costs more than the read.
            n = os.readv(self._out_fd, [self._chunk])
            if not n:
                raise RunnerDied(f"runner exited (code {self.proc.poll()})")
            try:
                with memoryview(self._chunk) as chunk:
                    self._pending.extend(self._reader.feed(chunk[:n]))
            except wire.WireError as exc:
                raise RunnerDied(f"bad frame from runner: {exc}") from exc
        record = wire.decode(self._pending.pop(0))
        if type(record) is not dict:
            raise RunnerDied("runner sent a non-record")
        return record

    def close(self, timeout: float = 2.0, wait: bool = True) -> None:
        """EOF on stdin makes the runner leave its loop; kill it if it does not.

        `wait=False` (a command line about to exit): only the EOF; the runner tears its
        sandboxes down and leaves on its own.
        """
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except OSError:
            pass
        if not wait:
            return
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def allow_unsandboxed() -> bool:
    return os.environ.get("GRADER_ALLOW_UNSANDBOXED", "") == "1"


@dataclass(eq=False)
class _Ticket:
    """One admitted run: holds a unit of the slot budget until it ends or is demoted."""

    started: float
    key: Hashable = None
    demoted: bool = False


@dataclass(eq=False)
class _Waiter:
    key: Hashable
    seq: int
    granted: bool = False
    runner: RunnerProcess | None = None
    ticket: _Ticket | None = None


class Pool:
    """Warm runners behind a bounded queue, shared fairly between users.

    `slots` runs may start at once (CPU count by default). A run still going after
    `demote_after` seconds gives its slot back, and the runner drops its CPU share, so an infinite
    loop cannot hold honest submissions behind it for its whole CPU limit; up to `overflow` extra
    runners (default: 3 x `slots`) serve the queue meanwhile. Fairness: a user (any hashable key
    passed to `run`/`session`; None means "nobody in particular") holds at most `per_user` runners
    at a time, and a free runner goes to the waiting user with the fewest runs in progress, then
    to the one served longest ago: a few accounts resubmitting slow code cannot take every runner.
    When no run can start and `queue_size` callers already wait, `run` raises QueueFull at once.
    """

    def __init__(
        self,
        slots: int | None = None,
        queue_size: int | None = None,
        *,
        overflow: int | None = None,
        demote_after: float = 0.25,
        uid_base: int | None = None,
        per_user: int = 1,
        spares: int | None = None,
        prestarted: subprocess.Popen[bytes] | None = None,
    ) -> None:
        self.slots = max(1, slots or os.cpu_count() or 1)
        self.queue_size = self.slots * 4 if queue_size is None else max(0, queue_size)
        self.overflow = self.slots * 3 if overflow is None else max(0, overflow)
        self.demote_after = demote_after
        self.per_user = max(1, per_user)
        self.spares = spares  # sandboxes each runner keeps forked ahead (None: the runner's own)
        self._prestarted = prestarted  # the first runner, already started (spawn.spawn_runner)
        self.uid_base = uid_base or spawn.uid_base_from_env()
        self.pid = os.getpid()
        self._cond = threading.Condition()
        self._idle: deque[RunnerProcess] = deque()
        self._unstarted = self.slots + self.overflow  # runners we may still start
        self._budget = self.slots
        self._active: list[_Ticket] = []
        self._waiters: list[_Waiter] = []
        self._running: dict[Hashable, int] = {}
        self._served: dict[Hashable, int] = {}
        self._seq = itertools.count()
        self._closed = False
        self._avg_seconds = 0.05
        self._layers: dict[str, Any] | None = None
        self._evaluated: tuple[dict[str, Any] | None, bool, dict[str, Any]] | None = None

    # --- admission ---------------------------------------------------------------------------

    def _demote_overdue(self, now: float) -> float | None:
        """Free the budget of runs past `demote_after`; return when the next one is due."""
        next_due = None
        for ticket in self._active:
            if ticket.demoted:
                continue
            due = ticket.started + self.demote_after
            if now >= due:
                ticket.demoted = True
                self._budget += 1
            elif next_due is None or due < next_due:
                next_due = due
        return next_due

    def _can_start(self) -> bool:
        return self._budget > 0 and (bool(self._idle) or self._unstarted > 0)

    def _eligible(self, key: Hashable) -> bool:
        return self._running.get(key, 0) < self.per_user

    def _dispatch(self) -> None:
        """Hand free runners to waiters: fewest runs in progress first, then least recently
        served, then arrival order. Called with the lock held whenever capacity may have grown."""
        granted = False
        while self._can_start():
            eligible = [w for w in self._waiters if self._eligible(w.key)]
            if not eligible:
                break
            waiter = min(
                eligible,
                key=lambda w: (self._running.get(w.key, 0), self._served.get(w.key, -1), w.seq),
            )
            self._waiters.remove(waiter)
            self._budget -= 1
            waiter.ticket = _Ticket(time.monotonic(), waiter.key)
            self._active.append(waiter.ticket)
            self._running[waiter.key] = self._running.get(waiter.key, 0) + 1
            self._served[waiter.key] = next(self._seq)
            if self._idle:
                # Oldest idle first: the runner released last is still tearing down its namespaces.
                waiter.runner = self._idle.popleft()
            else:
                self._unstarted -= 1
            waiter.granted = granted = True
        if granted:
            self._cond.notify_all()

    def _acquire(self, user: Hashable = None) -> tuple[RunnerProcess | None, _Ticket]:
        key = object() if user is None else user
        with self._cond:
            if self._closed:
                raise RuntimeError("sandbox pool is shut down")
            self._demote_overdue(time.monotonic())
            startable = (
                self._can_start()
                and self._eligible(key)
                and not any(self._eligible(w.key) for w in self._waiters)
            )
            if not startable and len(self._waiters) >= self.queue_size:
                per_slot = (len(self._waiters) + 1) / self.slots
                raise QueueFull(retry_after=max(1, math.ceil(per_slot * self._avg_seconds)))
            waiter = _Waiter(key, next(self._seq))
            self._waiters.append(waiter)
            try:
                while True:
                    now = time.monotonic()
                    next_due = self._demote_overdue(now)
                    self._dispatch()
                    if waiter.granted:
                        break
                    if self._closed:
                        raise RuntimeError("sandbox pool is shut down")
                    self._cond.wait(None if next_due is None else max(0.001, next_due - now))
            finally:
                if not waiter.granted:
                    self._waiters.remove(waiter)
            assert waiter.ticket is not None
            return waiter.runner, waiter.ticket

    def _release(self, runner: RunnerProcess | None, ticket: _Ticket) -> None:
        with self._cond:
            self._active.remove(ticket)
            if not ticket.demoted:
                self._budget += 1
            left = self._running.get(ticket.key, 1) - 1
            if left:
                self._running[ticket.key] = left
            else:
                self._running.pop(ticket.key, None)
                if not any(w.key == ticket.key for w in self._waiters):
                    self._served.pop(ticket.key, None)  # keep the table small
            if self._closed:
                if runner is not None:
                    runner.close()
                return
            if runner is None:
                self._unstarted += 1
            else:
                self._idle.append(runner)
            self._dispatch()

    def _ensure_started(self, runner: RunnerProcess | None) -> RunnerProcess:
        if runner is not None and runner.alive:
            return runner
        if runner is not None:
            runner.close(timeout=0.5)
        fresh = RunnerProcess(self.uid_base, self.spares, self._prestarted)
        self._prestarted = None
        try:
            hello = fresh.wait_hello()
        except RunnerDied:
            fresh.close(timeout=0.5)
            raise
        if hello.get("errors"):
            _log().warning("sandbox runner start-up problems: %s", hello["errors"])
        if self._layers is None:
            self._layers = dict(hello.get("layers") or {})
        return fresh

    def _report(self, evaluate: Callable[[dict[str, Any], bool], dict[str, Any]]) -> dict[str, Any]:
        """The doctor's verdict on the probed layers, worked out again only when they or the
        GRADER_ALLOW_UNSANDBOXED setting change (not on every run)."""
        layers, allow = self._layers, allow_unsandboxed()
        cached = self._evaluated
        if cached is None or cached[0] is not layers or cached[1] != allow:
            cached = self._evaluated = (layers, allow, evaluate(layers or {}, allow))
        return cached[2]

    # --- public ------------------------------------------------------------------------------

    def sandbox_uids(self) -> set[int]:
        """The uids this pool's runners drop submissions to (for tests and the doctor)."""
        with self._cond:
            uids = {int(u) for r in self._idle for u in r.hello.get("uids") or ()}
            return uids | {int(r.hello.get("uid") or 0) for r in self._idle} - {0}

    def layers(self) -> dict[str, Any]:
        """What isolation the runners really get, measured by a probe child at start-up."""
        if self._layers is None:
            runner, ticket = self._acquire()
            try:
                runner = self._ensure_started(runner)
            except (RunnerDied, OSError):
                runner = None
                return {}
            finally:
                self._release(runner, ticket)
        return dict(self._layers or {})

    @contextlib.contextmanager
    def session(self, user: Hashable = None) -> Iterator[Lease]:
        """Hold one runner for several runs in a row (the grader's visible, then hidden, child).

        Each run still gets a fresh child from the runner's zygote; holding the runner only
        spares the second run a second wait in the queue.
        """
        started = time.monotonic()
        runner, ticket = self._acquire(user)
        lease = Lease(self, runner)
        try:
            yield lease
        finally:
            self._release(lease.runner, ticket)
            elapsed = time.monotonic() - started
            self._avg_seconds = 0.8 * self._avg_seconds + 0.2 * elapsed

    def run(
        self,
        source: str,
        function: str,
        calls: Sequence[Call],
        limits: Limits = DEFAULT_LIMITS,
        *,
        user: Hashable = None,
    ) -> RunOutcome:
        """Run `function` from `source` on each call in an isolated child; never compares."""
        with self.session(user) as lease:
            return lease.run(source, function, calls, limits)

    def close(self, wait: bool = True) -> None:
        """Stop the idle runners (and, as they come back, the leased ones); `wait=False` only
        tells them to leave (see RunnerProcess.close)."""
        with self._cond:
            self._closed = True
            idle, self._idle = list(self._idle), deque()
            self._cond.notify_all()
        for runner in idle:
            if runner is not None:
                runner.close(wait=wait)


class Lease:
    """A runner held by one caller (see `Pool.session`)."""

    def __init__(self, pool: Pool, runner: RunnerProcess | None) -> None:
        self.pool = pool
        self.runner = runner

    def run(
        self, source: str, function: str, calls: Sequence[Call], limits: Limits = DEFAULT_LIMITS
    ) -> RunOutcome:
        for attempt in (1, 2):
            result, retry = self._run_once(source, function, calls, limits)
            if not retry or attempt == 2:
                return result
        raise AssertionError("unreachable")

    def _run_once(
        self, source: str, function: str, calls: Sequence[Call], limits: Limits
    ) -> tuple[RunOutcome, bool]:
        from engine.sandbox.doctor import evaluate  # local: doctor imports this module

        pool = self.pool
        try:
            self.runner = pool._ensure_started(self.runner)
        except (RunnerDied, OSError) as exc:
            _log().error("sandbox runner failed to start: %s", exc)
            self.runner = None
            return outcome.failed("internal_error", calls, function, limits), False
        runner = self.runner
        report = pool._report(evaluate)
        if not report["ready"] and not report["unsandboxed"]:
            return outcome.failed("refused", calls, function, limits), False
        header = _header(limits, report["ready"], pool.demote_after, len(calls))
        body = {"source": source, "function": function, "calls": _wire_calls(calls)}
        try:
            response = runner.request(header, body, limits.wall_seconds + RESPONSE_GRACE)
        except RunnerDied as exc:
            _log().error("sandbox runner died: %s", exc)
            runner.close(timeout=0.5)
            self.runner = None
            failed = outcome.failed(
                "internal_error", calls, function, limits, sandboxed=report["ready"]
            )
            return failed, False
        if response.get("zygote_lost"):
            # The runner retired itself before (or instead of) running this: run it again on a
            # fresh runner, once.
            _log().error("sandbox runner lost its zygote; restarting it")
            runner.close(timeout=2.0)
            self.runner = None
            if response.get("setup_error"):
                failed = outcome.failed("internal_error", calls, function, limits)
                return failed, True
        if response.get("setup_error"):
            _log().error("sandbox setup failed: %s", response["setup_error"])
        result = outcome.build_outcome(response, calls, function, limits, _echoes(calls))
        if report["ready"] and not result.sandboxed and result.status != "internal_error":
            # Isolation was expected but the runner could not provide it: never report this
            # as a sandboxed success.
            return outcome.failed("internal_error", calls, function, limits), False
        return result, False


@functools.lru_cache(maxsize=64)
def _header(limits: Limits, isolate: bool, demote_after: float, n_calls: int) -> bytes:
    """The encoded request header: the same few values for almost every run."""
    return wire.encode(
        {
            "op": "run",
            "limits": {k: getattr(limits, k) for k in Limits.__dataclass_fields__},
            "isolate": isolate,
            "demote_after": demote_after,
            # load, one per call, too_large, end: anything beyond is refused by the runner.
            "max_frames": n_calls + 3,
        }
    )


def _wire_calls(calls: Sequence[Call]) -> Any:
    """The calls as the child decodes them; a CallBatch (a drill's cases) is encoded only once
    and the encoding kept on it (its arrays are read-only, so the views stay valid)."""
    if type(calls) is CallBatch:
        encoded = calls.__dict__.get("wire")
        if encoded is None:
            encoded = calls.__dict__["wire"] = wire.Encoded(wire.encode_parts(_plain(calls)))
        return encoded
    return _plain(calls)


def _echoes(calls: Sequence[Call]) -> list[dict[str, wire.Known]]:
    """outcome.echoes, kept on a CallBatch like its encoding; none for other calls."""
    if type(calls) is not CallBatch:
        return []
    found = calls.__dict__.get("echoes")
    if found is None:
        found = calls.__dict__["echoes"] = outcome.echoes(calls)
    return list(found)


def _plain(calls: Sequence[Call]) -> tuple[tuple[tuple[Any, ...], dict[str, Any]], ...]:
    return tuple((tuple(c.args), dict(c.kwargs)) for c in calls)
