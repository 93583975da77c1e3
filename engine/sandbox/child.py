"""The submission side: load the user's module and run each call, streaming raw results.

Runs in the forked, isolated child after every layer but seccomp is in place. Stdlib + NumPy and
the `wire` module only (passed in, loaded by path): nothing here knows what the function is meant
to compute, and nothing is compared here. Each call's record is written as soon as the call ends,
so a later timeout or crash keeps the earlier results.
"""

from __future__ import annotations

import builtins
import collections
import contextlib
import io
import itertools
import linecache
import os
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any, NoReturn

import numpy as np

SUBMISSION_FILE = "<submission>"
MAX_ERROR_CHARS = 4000
MAX_WARNINGS = 20
MAX_WARNING_CHARS = 300
END_RECORD = {"kind": "end"}
IOV_MAX = 1024  # buffers per writev (Linux)


class CappedText(io.TextIOBase):
    """A text sink that keeps the first `limit` characters and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        s = str(s)
        room = self.limit - self.size
        if room > 0:
            self.parts.append(s[:room])
            self.size += min(room, len(s))
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def getvalue(self) -> str:
        text = "".join(self.parts)
        if self.dropped:
            text += f"\n…[输出过长，已截断 {self.dropped} 个字符]"
        return text


class TooLarge(Exception):
    """A record would take the result stream over its byte budget."""


class ResultChannel:
    """Writes length-prefixed records on the result pipe, within a byte budget.

    The runner enforces the same cap by killing the child; checking here first just saves
    copying megabytes that would be thrown away.
    """

    RESERVE = 4096  # room for the small records that follow a refused one

    def __init__(self, fd: int, wire: ModuleType, budget: int = 1 << 62) -> None:
        self.fd = fd
        self.wire = wire
        self.budget = budget
        self.sent = 0

    def send(self, record: dict[str, Any], *, reserve: int = RESERVE) -> None:
        parts = self.wire.encode_parts(record)
        total = sum(len(p) for p in parts)
        if self.sent + total + self.wire.FRAME_HEADER_SIZE + reserve > self.budget:
            raise TooLarge
        self.sent += total + self.wire.FRAME_HEADER_SIZE
        self._write_all([self.wire.frame_header(total), *parts])

    def _write_all(self, parts: list[bytes | memoryview]) -> None:
        """One writev per record where the pipe takes it: a write per part woke the runner
        for each of them (a dozen per call)."""
        pending = collections.deque(memoryview(p).cast("B") for p in parts if len(p))
        while pending:
            written = os.writev(self.fd, list(itertools.islice(pending, IOV_MAX)))
            while written:
                head = pending[0]
                if written >= len(head):
                    written -= len(head)
                    pending.popleft()
                else:
                    pending[0] = head[written:]
                    written = 0


def format_exception(exc: BaseException) -> str:
    """`Type: message` plus the traceback frames that belong to the submission only."""
    try:
        frames = [
            f for f in traceback.extract_tb(exc.__traceback__) if f.filename == SUBMISSION_FILE
        ]
        lines = traceback.format_list(frames)
        head = "Traceback (most recent call last):\n" if lines else ""
        text = head + "".join(lines) + "".join(traceback.format_exception_only(type(exc), exc))
    except Exception:  # a user exception whose __str__ raises must not take the reporter down
        text = f"{type(exc).__name__}: <unprintable>"
    if len(text) > MAX_ERROR_CHARS:
        text = text[: MAX_ERROR_CHARS // 2] + "\n…\n" + text[-MAX_ERROR_CHARS // 2 :]
    return text


def _type_name(exc: BaseException) -> str:
    try:
        return str(type(exc).__name__)[:100]
    except Exception:
        return "Exception"


def _warning_texts(caught: list[warnings.WarningMessage]) -> tuple[str, ...]:
    seen: list[str] = []
    for w in caught:
        try:
            text = f"{w.category.__name__}: {w.message}"[:MAX_WARNING_CHARS]
        except Exception:
            text = "Warning: <unprintable>"
        if text not in seen:
            seen.append(text)
        if len(seen) >= MAX_WARNINGS:
            break
    return tuple(seen)


def compile_submission(source: str) -> Any:
    """Compile before seccomp/user code; a SyntaxError comes back as a load record."""
    linecache.cache[SUBMISSION_FILE] = (len(source), None, source.splitlines(True), SUBMISSION_FILE)
    return compile(source, SUBMISSION_FILE, "exec", dont_inherit=True)


Streams = tuple[io.TextIOWrapper, io.TextIOWrapper, io.TextIOWrapper]


def make_streams() -> Streams:
    """Unbuffered text streams on fds 0, 1 and 2, for the zygote to make once.

    Each sandbox installs them as sys.stdin/stdout/stderr after its own pipes are on those fds:
    fresh streams no byte has ever passed through, so nothing the runner buffered can leak in or
    out. Made per sandbox they cost ~60 copy-on-write page faults each time. The zygote makes
    them while 1 and 2 are pipes, as they will be, so that they know they cannot seek.
    """

    def writer(fd: int) -> io.TextIOWrapper:
        return io.TextIOWrapper(
            io.FileIO(fd, "w", closefd=False),
            encoding="utf-8",
            errors="backslashreplace",
            write_through=True,
        )

    stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
    return stdin, writer(1), writer(2)


def run_submission(
    request: dict[str, Any],
    wire: ModuleType,
    result_fd: int,
    seal: Callable[[], None],
    streams: Streams,
) -> NoReturn:
    """Compile, `seal()` (seccomp, last trusted step), run, report; never returns."""
    out = ResultChannel(result_fd, wire, int(request["limits"]["result_bytes"]))
    output_limit = int(request["limits"]["output_bytes"])
    sys.stdin, sys.stdout, sys.stderr = streams
    try:
        code = compile_submission(request["source"])
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        seal()
        out.send(
            {
                "kind": "load",
                "status": "syntax_error",
                "error": format_exception(exc),
                "error_type": _type_name(exc),
            }
        )
        _finish(out, 0)
    seal()

    namespace: dict[str, Any] = {"__name__": "submission", "__builtins__": builtins}
    try:
        exec(code, namespace)
    except SystemExit as exc:
        _exit_now(exc)
    except BaseException as exc:
        status = "memory" if isinstance(exc, MemoryError) else "load_error"
        out.send(
            {
                "kind": "load",
                "status": status,
                "error": format_exception(exc),
                "error_type": _type_name(exc),
            }
        )
        _finish(out, 0)
    function = namespace.get(request["function"])
    if not callable(function):
        out.send({"kind": "load", "status": "missing_function", "error": None, "error_type": None})
        _finish(out, 0)
    out.send({"kind": "load", "status": "ok", "error": None, "error_type": None})

    for index, (args, kwargs) in enumerate(request["calls"]):
        record, stop = _run_call(function, index, args, kwargs, output_limit, wire)
        try:
            out.send(record)
        except TooLarge:
            out.send({"kind": "too_large", "index": index}, reserve=0)
            break
        if stop:
            break
    _finish(out, 0)


def _run_call(
    function: Callable[..., Any],
    index: int,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    output_limit: int,
    wire: ModuleType,
) -> tuple[dict[str, Any], bool]:
    captured = CappedText(output_limit)
    record: dict[str, Any] = {"kind": "call", "index": index, "status": "ok", "value": None}
    stop = False
    real_stdout = sys.stdout
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sys.stdout = captured
        start = time.perf_counter()
        try:
            with np.errstate(divide="warn", over="warn", invalid="warn", under="ignore"):
                value = function(*args, **kwargs)
        except SystemExit as exc:
            sys.stdout = real_stdout
            _exit_now(exc)
        except BaseException as exc:
            elapsed = time.perf_counter() - start
            sys.stdout = real_stdout
            record.update(status="error", error=format_exception(exc), error_type=_type_name(exc))
            # After a MemoryError the heap is suspect and later calls would hit it again.
            stop = isinstance(exc, MemoryError)
        else:
            elapsed = time.perf_counter() - start
            sys.stdout = real_stdout
            try:
                record["value"] = wire.Encoded(wire.encode_parts(value))
            except Exception as exc:
                reason = str(exc)[:300] if isinstance(exc, wire.WireError) else _type_name(exc)
                record.update(
                    status="error",
                    error=f"TypeError: 返回值无法传回评测端（只接受 NumPy 数组、数字、None 及其元组）：{reason}",
                    error_type="TypeError",
                )
        finally:
            sys.stdout = real_stdout
    record["time_ms"] = elapsed * 1000.0
    record["warnings"] = _warning_texts(caught)
    record["stdout"] = captured.getvalue()
    try:
        record["args_after"] = wire.Encoded(wire.encode_parts(args))
        record["kwargs_after"] = wire.Encoded(wire.encode_parts(kwargs))
    except Exception:
        record["args_after"], record["kwargs_after"] = (), {}
    return record, stop


def _exit_now(exc: SystemExit) -> NoReturn:
    """sys.exit() inside the submission ends the child without an end record: 'crashed'."""
    code = exc.code if isinstance(exc.code, int) else 1
    _flush()
    os._exit(code & 0xFF)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


def _finish(out: ResultChannel, code: int) -> NoReturn:
    # Flush first: the runner answers as soon as it sees the end record, and everything
    # written to stdout before it must already be in the pipe.
    _flush()
    with contextlib.suppress(OSError, TooLarge):
        out.send(END_RECORD, reserve=0)
    os._exit(code)


# A submission of our own, of the kind the drills ask for (matrix products, activations, a
# softmax with its loss, normalisation, gradients; float64 and float32, integer labels, one to
# three dimensions), with calls that print, warn, raise and change their arguments. Never a
# drill's model answer or a test case.
WARM_UP_SOURCE = """
import numpy as np

def layer(x, w, labels, eps=1e-5):
    z = x @ w
    a = np.maximum(z, 0) + 0.01 * np.minimum(z, 0)
    s = 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    loss = -np.log(p[np.arange(len(labels)), labels] + 1e-12).mean()
    mu, var = a.mean(axis=0), a.var(axis=0)
    n = (a - mu) / np.sqrt(var + eps)
    d = (p - np.eye(w.shape[1], dtype=x.dtype)[labels]) / len(labels)
    g = np.where(z > 0, 1.0, 0.01) * d
    x *= 1
    print("layer", loss)
    return n, s * (1 - s), float(loss), x.T @ g, np.tanh(z).sum(axis=0), (a > 0).astype(x.dtype)

def elementwise(z, fail=False):
    if fail:
        raise ValueError("warm-up")
    out = z.copy()
    out[out < 0] *= 0.01
    big = np.exp(z * 1000).max()  # overflows: a RuntimeWarning
    return out, np.abs(z) ** 2, np.sum(z, axis=-1), np.max(z), big, None
"""


def warm_up(wire: ModuleType) -> None:
    """Run the submission path once on our own code, in the zygote, before it forks a sandbox.

    A submission's first run creates things lazily: the specialised bytecode of this module and
    of `wire`, NumPy's loop caches per ufunc and dtype and its lazily imported helpers, the
    traceback and warnings machinery. In a forked child each of those first writes is a
    copy-on-write page fault; made here once, every child finds them in the zygote's image.
    Only the fixed source above and arrays made here ever run: no request, drill or case.
    """
    namespace: dict[str, Any] = {"__name__": "submission", "__builtins__": builtins}
    exec(compile_submission(WARM_UP_SOURCE), namespace)
    # Not np.random: NumPy imports it on first use, and with it `random` and `threading`, whose
    # fork handlers would then run in every child.
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
    for dtype, labels in ((np.float64, np.int64), (np.float32, np.int32)):
        x = np.sin(np.arange(12.0)).reshape(4, 3).astype(dtype)
        w = np.cos(np.arange(15.0)).reshape(3, 5).astype(dtype)
        calls.append(("layer", (x, w, np.array([0, 4, 2, 1], dtype=labels)), {}))
        calls.append(("elementwise", (np.sin(np.arange(24.0)).reshape(2, 3, 4).astype(dtype),), {}))
        calls.append(("elementwise", (np.cos(np.arange(5.0)).astype(dtype),), {}))
    calls.append(("elementwise", (None,), {"fail": True}))
    # Through the wire and back, as a request reaches a child.
    calls = wire.decode(wire.encode({"calls": tuple(calls)}))["calls"]
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    try:
        out = ResultChannel(write_fd, wire)
        for index, (name, args, kwargs) in enumerate(calls):
            record, _ = _run_call(namespace[name], index, args, kwargs, MAX_ERROR_CHARS, wire)
            out.send(record)  # a few kB: the pipe holds it, and is emptied before the next
            with contextlib.suppress(BlockingIOError):
                while os.read(read_fd, 1 << 16):
                    pass
    finally:
        os.close(read_fd)
        os.close(write_fd)
        linecache.cache.pop(SUBMISSION_FILE, None)
        namespace.clear()  # the functions and their globals form a cycle: let it go now
