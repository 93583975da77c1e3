"""The grader as a local service: the only process that keeps root, behind a unix socket.

    python -m engine.sandbox.service --socket /run/mlquiz/grader.sock --group mlquiz

With GRADER_SOCKET set, the web app's grading backend (quiz.grading) grades through a
`ServiceClient` instead of an in-process pool: the web tier (running as an ordinary user) then
holds no capability and never forks a runner. The service speaks one small protocol and nothing else:

    connection = one grading session (the grader's visible child, then its hidden one, on the
                 same leased runner); it is closed by the client or after IDLE_SECONDS
    request    = wire frame {"op": "run", "source", "function", "calls": ((args, kwargs), ...),
                 "limits": {Limits field: number}, "user": str | None}  or  {"op": "doctor"}
    response   = wire frame {"op": "result", "outcome": RunOutcome as plain values}
                 | {"op": "queue_full", "retry_after": int} | {"op": "doctor", "report": {...}}
                 | {"op": "error", "error": str}

Every request is checked before any work: frame size, decode budget, field types, sizes and
limit ranges. The socket is made mode 0660, owned by root and the web user's group, so no other
local user can submit code.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import grp
import logging
import os
import socket
import stat
import threading
from collections.abc import Hashable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from engine.sandbox import wire
from engine.sandbox.api import Call, CallOutcome, Limits, QueueFull, RunOutcome

log = logging.getLogger(__name__)

DEFAULT_LIMITS = Limits()
MAX_REQUEST_BYTES = 64 << 20  # inputs of the largest drill's hidden cases are a few MB
MAX_RESPONSE_BYTES = 256 << 20  # several result_bytes-sized outcomes at most
MAX_SOURCE_CHARS = 256 * 1024
MAX_CALLS = 1000
MAX_ITEMS = 1_000_000  # tuple items and dict entries a request may decode
IDLE_SECONDS = 30.0
MAX_CONNECTIONS = 64
# The most a request may ask for: the web tier is trusted less than this process.
LIMIT_CEILINGS = {
    "cpu_seconds": 30.0,
    "wall_seconds": 60.0,
    "memory_bytes": 2 << 30,
    "output_bytes": 1 << 20,
    "result_bytes": 64 << 20,
    "max_processes": 16,
    "max_open_files": 256,
    "max_file_bytes": 64 << 20,
}


class ProtocolError(ValueError):
    """A request the service refuses to act on."""


# --- framing ---------------------------------------------------------------------------------


def _send(sock: socket.socket, record: dict[str, Any]) -> None:
    sock.sendall(wire.frame(wire.encode(record)))


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _recv(sock: socket.socket, max_bytes: int) -> bytes | None:
    head = _recv_exact(sock, wire.FRAME_HEADER_SIZE)
    if head is None:
        return None
    length = wire.parse_frame_header(head)
    if length > max_bytes:
        raise ProtocolError(f"frame of {length} bytes is over {max_bytes}")
    return _recv_exact(sock, length)


# --- outcome <-> plain values ------------------------------------------------------------------


def outcome_to_wire(outcome: RunOutcome) -> dict[str, Any]:
    plain = {f.name: getattr(outcome, f.name) for f in dataclasses.fields(outcome)}
    plain["calls"] = tuple(
        {f.name: getattr(c, f.name) for f in dataclasses.fields(c)}
        | {"warnings": tuple(c.warnings)}
        for c in outcome.calls
    )
    return plain


def outcome_from_wire(plain: dict[str, Any]) -> RunOutcome:
    calls = [
        CallOutcome(**(dict(c) | {"warnings": list(c.get("warnings", ()))}))
        for c in plain.get("calls", ())
    ]
    return RunOutcome(**(dict(plain) | {"calls": calls}))


# --- request validation ----------------------------------------------------------------------


def parse_run(request: dict[str, Any]) -> tuple[str, str, list[Call], Limits, str | None]:
    source, function = request.get("source"), request.get("function")
    if type(source) is not str or len(source) > MAX_SOURCE_CHARS:
        raise ProtocolError("source must be a string of at most 256 KiB")
    if type(function) is not str or not function.isidentifier() or len(function) > 100:
        raise ProtocolError("function must be an identifier")
    raw_calls = request.get("calls")
    if type(raw_calls) is not tuple or len(raw_calls) > MAX_CALLS:
        raise ProtocolError("calls must be a tuple of at most 1000 (args, kwargs)")
    calls = []
    for item in raw_calls:
        if type(item) is not tuple or len(item) != 2:
            raise ProtocolError("each call is (args, kwargs)")
        args, kwargs = item
        if type(args) is not tuple or type(kwargs) is not dict:
            raise ProtocolError("each call is (args tuple, kwargs dict)")
        calls.append(Call(args, kwargs))
    raw_limits = request.get("limits")
    if type(raw_limits) is not dict:
        raise ProtocolError("limits must be a dict")
    values: dict[str, Any] = {}
    for name, ceiling in LIMIT_CEILINGS.items():
        if name not in raw_limits:
            continue
        value = raw_limits[name]
        if type(value) not in (int, float) or not 0 < value <= ceiling:
            raise ProtocolError(f"limit {name} out of range")
        values[name] = type(getattr(Limits(), name))(value)
    if set(raw_limits) - set(LIMIT_CEILINGS):
        raise ProtocolError("unknown limit")
    user = request.get("user")
    if user is not None and (type(user) is not str or len(user) > 200):
        raise ProtocolError("user must be a short string")
    return source, function, calls, Limits(**values), user


# --- server ----------------------------------------------------------------------------------


class LeasingSandbox(Protocol):
    """What the service needs of a pool: its probed layers and leases of a runner."""

    def layers(self) -> dict[str, Any]: ...

    def session(self, user: Hashable = None) -> AbstractContextManager[Any]: ...


class GraderService:
    """Accepts connections on a unix socket; each one leases a runner of the pool in turn."""

    def __init__(
        self, path: str, group: str | None = None, pool: LeasingSandbox | None = None
    ) -> None:
        if pool is None:
            from engine.sandbox import get_sandbox

            pool = get_sandbox()
        self.pool: LeasingSandbox = pool
        self.path = path
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        os.makedirs(os.path.dirname(path) or ".", 0o755, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISSOCK(os.lstat(path).st_mode):
                os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # never world-connectable, not even for an instant
        try:
            self.sock.bind(path)
        finally:
            os.umask(old)
        if group:
            os.chown(path, -1, grp.getgrnam(group).gr_gid)
            os.chmod(path, 0o660)
        self.sock.listen(MAX_CONNECTIONS)

    def serve_forever(self) -> None:
        self.pool.layers()  # start a runner and probe before the first request
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # closed (close() below)
            if not self._slots.acquire(blocking=False):
                with contextlib.suppress(OSError):
                    _send(conn, {"op": "queue_full", "retry_after": 2})
                conn.close()
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)

    def _handle(self, conn: socket.socket) -> None:
        try:
            with conn, self._session() as session:
                conn.settimeout(IDLE_SECONDS)
                while True:
                    try:
                        raw = _recv(conn, MAX_REQUEST_BYTES)
                        if raw is None:
                            return
                        request = wire.decode(raw, max_items=MAX_ITEMS)
                        if type(request) is not dict:
                            raise ProtocolError("a request is a dict")
                        _send(conn, self._answer(request, session))
                    except (ProtocolError, wire.WireError) as exc:
                        _send(conn, {"op": "error", "error": str(exc)[:200]})
                        return  # a confused client gets no second chance on this connection
        except (OSError, TimeoutError):
            return
        finally:
            self._slots.release()

    @contextlib.contextmanager
    def _session(self) -> Iterator[dict[str, Any]]:
        """The lease is taken at the first run and held until the connection ends."""
        state: dict[str, Any] = {"stack": contextlib.ExitStack(), "lease": None}
        with state["stack"]:
            yield state

    def _answer(self, request: dict[str, Any], session: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "doctor":
            from engine.sandbox import doctor_report

            return {"op": "doctor", "report": doctor_report()}
        if op != "run":
            raise ProtocolError("unknown op")
        source, function, calls, limits, user = parse_run(request)
        if session["lease"] is None:
            try:
                session["lease"] = session["stack"].enter_context(self.pool.session(user))
            except QueueFull as exc:
                return {"op": "queue_full", "retry_after": exc.retry_after}
        outcome = session["lease"].run(source, function, calls, limits)
        return {"op": "result", "outcome": outcome_to_wire(outcome)}


# --- client ----------------------------------------------------------------------------------


class ServiceClient:
    """The `Sandbox` the web tier uses when GRADER_SOCKET is set (no pool in this process)."""

    def __init__(self, path: str, timeout: float = 120.0) -> None:
        self.path = path
        self.timeout = timeout

    @contextlib.contextmanager
    def session(self, user: Hashable = None) -> Iterator[_RemoteLease]:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
            yield _RemoteLease(sock, None if user is None else str(user))
        finally:
            sock.close()

    def run(
        self, source: str, function: str, calls: Sequence[Call], limits: Limits = DEFAULT_LIMITS
    ) -> RunOutcome:
        with self.session() as lease:
            return lease.run(source, function, calls, limits)

    def doctor(self) -> dict[str, Any]:
        with self.session() as lease:
            answer = lease.ask({"op": "doctor"})
        if answer.get("op") != "doctor":
            raise ConnectionError(f"grader service: {answer.get('error', answer.get('op'))}")
        return dict(answer["report"])


class _RemoteLease:
    def __init__(self, sock: socket.socket, user: str | None) -> None:
        self.sock = sock
        self.user = user

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        _send(self.sock, request)
        raw = _recv(self.sock, MAX_RESPONSE_BYTES)
        if raw is None:
            raise ConnectionError("grader service closed the connection")
        answer = wire.decode(raw)
        if type(answer) is not dict:
            raise ConnectionError("grader service sent a non-record")
        return answer

    def run(
        self, source: str, function: str, calls: Sequence[Call], limits: Limits = DEFAULT_LIMITS
    ) -> RunOutcome:
        answer = self.ask(
            {
                "op": "run",
                "source": source,
                "function": function,
                "calls": tuple((tuple(c.args), dict(c.kwargs)) for c in calls),
                "limits": dataclasses.asdict(limits),
                "user": self.user,
            }
        )
        if answer.get("op") == "queue_full":
            raise QueueFull(int(answer.get("retry_after") or 2))
        if answer.get("op") != "result":
            raise ConnectionError(f"grader service: {answer.get('error', answer.get('op'))}")
        return outcome_from_wire(answer["outcome"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="grading service on a unix socket")
    parser.add_argument("--socket", required=True, help="path of the unix socket")
    parser.add_argument("--group", help="group allowed to connect (the web user's)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="grader: %(message)s")
    service = GraderService(args.socket, args.group)
    log.info("listening on %s (mode %s)", args.socket, service.pool.layers().get("mode"))
    service.serve_forever()


if __name__ == "__main__":
    main()
