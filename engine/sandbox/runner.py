"""Warm runner process: one per pool slot, forks one isolated child per submission.

Started by the pool as ``python -I -S runner.py --site DIR ...`` with an allow-listed environment.
`-I -S` keep the script directory, the user site and .pth files off sys.path, so the `engine`
package (and the reference implementations) cannot be imported here or in any child; the few
sibling modules this needs (wire, isolation, child, probe) are loaded by file path.

Per submission (isolated mode)::

    runner (root; host namespaces but a private mount namespace built at start-up)
      └─ zygote  forked at start-up, before any request: it never holds a request's bytes
         └─ init  PID 1 of new pid/mnt/ipc/uts/cgroup namespaces, in the slot's cgroups,
            │     private /tmp, fresh /proc, pivot_root into a read-only view
            └─ user child  PID 2: fds 0-4 only, rlimits, uid drop, no_new_privs, seccomp, code

Why a zygote: a child forked from the runner would inherit the runner's heap, and freed memory
still holds the previous submission's source, inputs and results. The runner reads requests and
results; the zygote only ever receives pipe ends (SCM_RIGHTS over a socketpair) and a flag, so
nothing a submission can scan in its own address space came from another submission. The
request body travels runner -> pipe -> user child; the result pipes go user child -> runner.

The next init is forked and isolated *before* its request arrives (namespace creation costs
1-10 ms), and the answer goes back as soon as the child's end record is in: tearing the
namespaces down happens while the pool compares. SIGKILL of init ends everything in its
namespace, double-forked daemons included. Protocol with the pool: length-prefixed `wire`
records on the runner's stdin/stdout (moved to private fds): a small header (op, limits, isolate)
and a body (source, function, calls) that the runner forwards to init without decoding.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import gc
import importlib.util
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))


def _load(name: str) -> ModuleType:
    """Import a sibling module by path under a private name (never as `engine.*`)."""
    spec = importlib.util.spec_from_file_location(
        f"_sandbox_{name}", os.path.join(HERE, f"{name}.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up in sys.modules
    spec.loader.exec_module(module)
    return module


def _parse_args(argv: list[str]) -> dict[str, Any]:
    opts: dict[str, Any] = {"site": [], "uid_base": 60000, "uid_count": 1000}
    it = iter(argv)
    for arg in it:
        if arg == "--site":
            opts["site"].append(next(it))
        elif arg == "--uid-base":
            opts["uid_base"] = int(next(it))
        elif arg == "--uid-count":
            opts["uid_count"] = int(next(it))
        else:
            raise SystemExit(f"runner: unknown argument {arg}")
    return opts


OPTS = _parse_args(sys.argv[1:])
sys.path.extend(OPTS["site"])
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy  # noqa: E402,F401 - the point of a warm runner: imported once, shared by every fork

wire = _load("wire")
isolation = _load("isolation")
child = _load("child")
probe = _load("probe")

SETUP_FAILED = 121  # exit code of a child whose isolation could not be completed
PIPE_SIZE = 1 << 20
READ_CHUNK = 1 << 18
STATUS_FD, RESULT_FD, REQUEST_FD = 4, 3, 5
# The pipe ends the zygote hands to each init, in this order (SCM_RIGHTS keeps the order).
CHILD_ENDS = ("request", "result", "stdout", "stderr", "status")
DRAIN_BYTES = 2 * PIPE_SIZE  # what may still be read from a stream after the end record
# Children kept forked and isolated, each with its own cgroups: one runs while the others wait,
# and a slot is refilled only once its last init's namespaces are torn down (tens of ms).
SLOTS = 3
DRAIN_GRACE = 0.25  # seconds past the wall limit for reading what is left in the pipes
DEFAULT_TMP_BYTES = 4 << 20
END_PAYLOAD = wire.encode(child.END_RECORD)
PROBE_LIMITS = {
    "cpu_seconds": 2.0,
    "wall_seconds": 5.0,
    "memory_bytes": 512 * 2**20,
    "output_bytes": 4096,
    "result_bytes": 1 << 20,
    "max_processes": 1,
    "max_open_files": 64,
    "max_file_bytes": 1 << 20,
}


@dataclass
class Spare:
    """A forked init waiting for its request (already inside its namespaces when isolated)."""

    pid: int
    pidfd: int  # from the zygote: signals and exit polling without pid-reuse races
    isolate: bool
    request_w: int
    reads: dict[str, int]  # result, stdout, stderr, status
    slot: int = 0  # which of the runner's cgroup sets (SLOTS) its init joined


# Where the runner's private tmpfs goes. It must not cover anything the runner still needs (the
# checkout and its .venv may live under /tmp, as in CI's fresh clones), so never /tmp itself.
CARRIER_CANDIDATES = ("/run/mlquiz-sandbox", "/var/lib/mlquiz-sandbox", "/mnt")


def _carrier(readonly: list[str]) -> str:
    needed = [os.path.realpath(p) for p in [*readonly, *sys.path] if p]
    for candidate in CARRIER_CANDIDATES:
        try:
            os.makedirs(candidate, 0o700, exist_ok=True)
        except OSError:
            continue
        real = os.path.realpath(candidate)
        if not any(os.path.commonpath([real, path]) == real for path in needed):
            return candidate
    raise OSError(
        "no directory to carry the sandbox root (tried " + ", ".join(CARRIER_CANDIDATES) + ")"
    )


class Runner:
    """State set up once: the protocol fds, the root view, the seccomp program, our uid."""

    def __init__(self) -> None:
        # Move the protocol off fds 0/1 so a stray print in this process cannot corrupt it.
        self.req_fd = os.dup(0)
        self.resp_fd = os.dup(1)
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.close(devnull)
        self.errors: list[str] = []
        # One uid per cgroup slot: RLIMIT_NPROC counts per uid, so a child still being torn
        # down in one slot never eats into the process budget of the next child in another.
        # `uid` is the uid of the child being set up (the first slot's in the runner).
        self.uids: list[int] = []
        self.uid: int | None = None
        self._uid_locks: list[socket.socket] = []
        self.view: Any = None
        self.seccomp: Any = None
        self.pidns_fd: int | None = None
        # SLOTS sets of cgroups used in turn: the next child can start in one while the last
        # one's namespaces are still being torn down (which takes an RCU grace period, tens of
        # ms) in another. `cgroups` is the set of the child being set up or run.
        self.cgroup_sets: list[Any] = []
        self.cgroups: Any = None
        self._dying: dict[int, int] = {}  # slot -> pidfd of an init killed but maybe not gone
        self.spares: dict[int, Spare] = {}  # slot -> a forked init waiting for its request
        self._zygote_end: socket.socket | None = None
        self.host_ns = isolation.namespace_ids()
        # privileged (root): a uid per slot and cgroups on top of everything else. rootless
        # (anyone): our own user namespace, mapping only our uid, owns every other namespace.
        self.mode = "privileged" if os.geteuid() == 0 else "rootless"
        self.rootless = False  # True once our user namespace is in place
        if self.mode == "privileged":
            self._setup_isolation()
        else:
            try:
                isolation.enter_user_namespace(0)
            except OSError as exc:
                self.errors.append(f"user namespace: {exc}: {isolation.USERNS_HELP}")
            else:
                self.rootless = True
                self.uid = 0  # inside our namespace; it is the caller's uid outside
                self._setup_isolation()
        self.zygote_sock = self._start_zygote()

    def _start_zygote(self) -> socket.socket:
        """Fork the process that forks every init, now, before any request has been read."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        if self.rootless and self.pidns_fd is not None:
            # setns back to the host's PID namespace needs CAP_SYS_ADMIN over its owner (the
            # host's user namespace): give the zygote a PID namespace our user namespace owns.
            try:
                isolation.unshare(isolation.CLONE_NEWPID)
            except OSError as exc:
                self.errors.append(f"pid namespace: {exc}")
                _close_quietly(self.pidns_fd)
                self.pidns_fd = None
        pid = os.fork()
        if pid == 0:
            ours.close()
            if self.rootless and self.pidns_fd is not None:
                _close_quietly(self.pidns_fd)
                self.pidns_fd = os.open("/proc/self/ns/pid", os.O_RDONLY)
            try:
                self._zygote_loop(theirs)
            finally:
                os._exit(0)
        theirs.close()
        self.zygote_pid = pid
        return ours

    def _zygote_alive(self) -> bool:
        try:
            return os.waitpid(self.zygote_pid, os.WNOHANG)[0] == 0
        except ChildProcessError:
            return False

    def _zygote_loop(self, sock: socket.socket) -> None:
        """Fork one init per message; answer with its pid and a pidfd. Never reads a request."""
        self._zygote_end = sock
        os.close(self.req_fd)
        os.close(self.resp_fd)
        isolation.set_parent_death_signal()
        gc.freeze()
        while True:
            try:
                msg, fds, _flags, _addr = socket.recv_fds(sock, 16, len(CHILD_ENDS))
            except OSError:
                return
            if not msg:
                _reap_zombies()
                return  # the runner is gone (or closed our socket to let us go)
            _reap_zombies()
            try:
                if len(fds) != len(CHILD_ENDS):
                    raise OSError(errno.EINVAL, "zygote: wrong number of pipe ends")
                ends = dict(zip(CHILD_ENDS, fds, strict=True))
                pid = self._fork_init(ends, msg[:1] == b"I", int(msg[1:2]))
                pidfd = os.pidfd_open(pid)
                try:
                    socket.send_fds(sock, [b"ok" + pid.to_bytes(4, "little")], [pidfd])
                finally:
                    os.close(pidfd)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    sock.send(b"er" + repr(exc).encode()[:200])
            finally:
                for fd in fds:
                    _close_quietly(fd)

    def _fork_init(self, ends: dict[str, int], isolate: bool, slot: int) -> int:
        if isolate:
            isolation.unshare(isolation.CLONE_NEWPID)
        pid = -1
        try:
            pid = os.fork()
        finally:
            if isolate and pid != 0:
                # unshare(CLONE_NEWPID) only set the namespace of our *next* child: go back, or
                # the next fork would land in this submission's namespace (which takes one init).
                isolation.setns(self.pidns_fd, isolation.CLONE_NEWPID)
        if pid == 0:
            self.cgroups = self.cgroup_sets[slot] if self.cgroup_sets else None
            self.uid = self.uids[slot] if self.uids else self.uid
            self._init_process(ends, isolate)  # never returns
        return pid

    def _setup_isolation(self) -> None:
        try:
            if not self.rootless:
                self._claim_uid()  # in the host's network namespace, where every runner claims
        except OSError as exc:
            self.errors.append(f"uid: {exc}")
        try:
            # An empty network namespace (loopback down) for this runner and every submission
            # it forks; the pool talks to us over pipes, so we need no network either.
            isolation.unshare(isolation.CLONE_NEWNET)
        except OSError as exc:
            self.errors.append(f"network namespace: {exc}")
        try:
            self.pidns_fd = os.open("/proc/self/ns/pid", os.O_RDONLY)
            site_dirs = [
                os.path.join(d, name)
                for d in OPTS["site"]
                for name in ("numpy", "numpy.libs")
                if os.path.isdir(os.path.join(d, name))
            ]
            stdlib = os.path.dirname(os.__file__)
            readonly = ["/usr", *dict.fromkeys([stdlib, *site_dirs])]
            # The interpreter's own site-packages (boto3, requests, ...) stays out of sight.
            hidden = [os.path.join(stdlib, "site-packages")]
            self.view = isolation.build_root_view(_carrier(readonly), readonly, hidden)
        except OSError as exc:
            self.errors.append(f"mount: {exc}")
        if self.uid:
            try:
                self.cgroup_sets = [isolation.Cgroups(uid) for uid in self.uids]
            except OSError as exc:
                self.errors.append(f"cgroup: {exc}")
        try:
            self.seccomp = isolation.SeccompProgram(isolation.compile_seccomp_filter())
        except (OSError, ImportError, RuntimeError) as exc:
            self.errors.append(f"seccomp: {exc}")

    def _claim_uid(self) -> None:
        """Take SLOTS uids no other runner on this machine uses: RLIMIT_NPROC and kill() are
        per uid.

        Each claim is an abstract unix socket name, released by the kernel when we die.
        """
        for uid in range(OPTS["uid_base"], OPTS["uid_base"] + OPTS["uid_count"]):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.bind(f"\0mlquiz-sandbox-uid-{uid}")
            except OSError:
                sock.close()
                continue
            self._uid_locks.append(sock)
            self.uids.append(uid)
            if len(self.uids) == SLOTS:
                self.uid = self.uids[0]
                return
        for sock in self._uid_locks:
            sock.close()
        self._uid_locks, self.uids = [], []
        raise OSError(errno.EUSERS, "no free sandbox uids")

    @property
    def can_isolate(self) -> bool:
        has_uid = bool(self.uid) or self.rootless
        return bool(has_uid and self.view and self.seccomp and self.pidns_fd is not None)

    # --- protocol ---------------------------------------------------------------------------

    def read_request(self) -> tuple[dict[str, Any], bytes] | None:
        header = _read_frame(self.req_fd)
        body = _read_frame(self.req_fd) if header is not None else None
        if header is None or body is None:
            return None
        return wire.decode(header), body

    def respond(self, record: dict[str, Any]) -> None:
        _write_all(self.resp_fd, wire.frame(wire.encode(record)))

    def serve(self) -> None:
        layers = self.probe()
        self.respond(
            {
                "op": "hello",
                "uid": self.uid or 0,
                "uids": tuple(self.uids),
                "errors": tuple(self.errors),
                "layers": layers,
            }
        )
        gc.freeze()  # keep start-up objects out of the children's GC passes (fewer COW faults)
        while True:
            self._wait_for_request()
            message = self.read_request()
            if message is None:
                break
            header, body = message
            cleanup: Callable[[], None] | None = None
            try:
                if header.get("op") == "probe":
                    response: dict[str, Any] = {"op": "probe", "layers": self.probe()}
                else:
                    response, cleanup = self.execute(header, body)
            except OSError as exc:  # e.g. fork or unshare refused: this submission only
                response = {"op": "result", "setup_error": f"runner: {exc!r}"}
            if not self._zygote_alive():
                # Never fork a new zygote from here: this process has held requests. Say so
                # and leave; the pool starts a fresh runner (and reruns the request once).
                self.respond(dict(response, zygote_lost=True))
                break
            self.respond(response)
            if cleanup is not None:
                cleanup()  # after answering: namespace teardown overlaps the pool's work
        for spare in self.spares.values():
            self._discard(spare)
        for slot in list(self._dying):
            self._await_gone(slot)
        # Let the zygote reap its last inits and exit, and wait for it: their CPU time then
        # reaches our own accounting (and the pool's), as a direct child's would.
        self.zygote_sock.close()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.zygote_pid, 0)

    # --- one submission ---------------------------------------------------------------------

    def probe(self) -> dict[str, Any]:
        """Run the real isolation path with a built-in check instead of user code."""
        header = {"op": "probe", "isolate": self.can_isolate, "limits": PROBE_LIMITS}
        response, cleanup = self.execute(header, wire.encode({}))
        cleanup()
        layers: dict[str, Any] = {}
        try:
            for raw in wire.FrameReader(1 << 20).feed(response.get("results", b"")):
                record = wire.decode(raw)
                if record.get("kind") == "probe":
                    layers = dict(record["layers"])
        except (wire.WireError, ValueError, AttributeError):
            pass
        if response.get("setup_error"):
            layers["setup_error"] = response["setup_error"]
        layers["mode"] = self.mode
        if self.errors:
            layers["start_errors"] = tuple(self.errors)
        return layers

    def _wait_for_request(self) -> None:
        """Keep a ready child in each slot while waiting for the next request.

        A slot is refilled once the init that last used it is gone (its teardown would slow a
        new child's set-up and it may still count in the slot's cgroups); meanwhile a request
        is served by the other slot's spare. So back-to-back requests (the grader's visible
        then hidden child) each find a child already isolated and waiting.
        """
        while True:
            for slot in range(SLOTS):
                if slot not in self.spares and slot not in self._dying:
                    # On failure execute() tries again and reports the error with the request.
                    with contextlib.suppress(OSError):
                        self.spares[slot] = self._prefork(self.can_isolate, slot)
            dying = {pidfd: slot for slot, pidfd in self._dying.items()}
            ready = select.select([self.req_fd, *dying], [], [])[0]
            for fd in ready:
                if fd in dying:
                    self._await_gone(dying[fd])
            if self.req_fd in ready:
                return

    def _prefork(self, isolate: bool, slot: int) -> Spare:
        self._await_gone(slot)
        pipes = {name: os.pipe() for name in ("request", "result", "stdout", "stderr", "status")}
        for name in ("request", "result", "stdout", "stderr"):
            # The default 64 KiB works too, only with more context switches.
            with contextlib.suppress(OSError):
                fcntl.fcntl(pipes[name][0], fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        theirs = [pipes[n][0] if n == "request" else pipes[n][1] for n in CHILD_ENDS]
        try:
            message = (b"I" if isolate else b"P") + str(slot).encode()
            socket.send_fds(self.zygote_sock, [message], theirs)
            msg, fds, _flags, _addr = socket.recv_fds(self.zygote_sock, 256, 1)
        except OSError:
            for r, w in pipes.values():
                _close_quietly(r)
                _close_quietly(w)
            raise
        finally:
            for fd in theirs:
                _close_quietly(fd)
        if not msg.startswith(b"ok") or len(fds) != 1:
            for fd in fds:
                _close_quietly(fd)
            for name in ("request", "result", "stdout", "stderr", "status"):
                _close_quietly(pipes[name][1] if name == "request" else pipes[name][0])
            raise OSError(
                errno.ECHILD, f"zygote could not fork: {msg[2:].decode(errors='replace')}"
            )
        pid = int.from_bytes(msg[2:6], "little")
        reads = {name: pipes[name][0] for name in ("result", "stdout", "stderr", "status")}
        return Spare(pid, fds[0], isolate, pipes["request"][1], reads, slot)

    def _await_gone(self, slot: int) -> None:
        """Before a slot's cgroups take a new child: its last init (and namespace) is gone."""
        pidfd = self._dying.pop(slot, None)
        if pidfd is not None:
            _pidfd_wait(pidfd, 5.0)
            _close_quietly(pidfd)

    def _discard(self, spare: Spare) -> None:
        _pidfd_kill(spare.pidfd)
        _pidfd_wait(spare.pidfd, 5.0)
        _close_quietly(spare.request_w)
        for fd in spare.reads.values():
            _close_quietly(fd)
        _close_quietly(spare.pidfd)

    def _take_spare(self, isolate: bool) -> Spare:
        for slot in sorted(self.spares):
            spare = self.spares[slot]
            if spare.isolate == isolate and not _pidfd_exited(spare.pidfd):
                return self.spares.pop(slot)
        # None usable (killed from outside, or the other mode): make one in a free slot.
        slot = min(self.spares, key=lambda s: s in self._dying, default=0)
        if slot in self.spares:
            self._discard(self.spares.pop(slot))
        return self._prefork(isolate, slot)

    def execute(
        self, header: dict[str, Any], body: bytes
    ) -> tuple[dict[str, Any], Callable[[], None]]:
        """Hand the request to a ready init and supervise it; returns (response, cleanup)."""
        limits = header["limits"]
        isolate = bool(header.get("isolate")) and self.can_isolate
        spare = self._take_spare(isolate)
        scratch = None if isolate else tempfile.mkdtemp(prefix="sbx-")
        if scratch and self.uids:
            uid = self.uids[spare.slot]
            os.chown(scratch, uid, uid)  # degraded mode still drops root when it can
        oom_before = 0
        self.cgroups = self.cgroup_sets[spare.slot] if self.cgroup_sets else None
        if isolate and self.cgroups is not None:
            # Headroom over RLIMIT_AS for init and page tables; the cgroup bounds the total
            # when submissions may fork, RLIMIT_AS only bounds each process.
            self.cgroups.configure(
                int(limits["memory_bytes"]) + (64 << 20), int(limits["max_processes"]) + 1
            )
            oom_before = self.cgroups.oom_kills()

        def cleanup() -> None:
            _close_quietly(spare.request_w)
            _pidfd_kill(spare.pidfd)
            for fd in spare.reads.values():
                _close_quietly(fd)
            # init's exit completes only once its PID namespace is empty and torn down: the
            # wait happens before this slot's cgroups take another child (_await_gone), so
            # meanwhile the next child starts in the other slot.
            self._await_gone(spare.slot)
            self._dying[spare.slot] = spare.pidfd
            if not isolate and not self.rootless:  # (a rootless zygote's pids are not ours)
                _kill_group(spare.pid)
            if scratch:
                shutil.rmtree(scratch, ignore_errors=True)

        start = time.monotonic()
        try:
            forwarded = dict(header, scratch=scratch or "")
            _write_all(spare.request_w, wire.frame(wire.encode(forwarded)) + wire.frame(body))
        except OSError:  # init died before taking the request: its status record says why
            pass
        _close_quietly(spare.request_w)
        demote_after = float(header.get("demote_after") or 0.0) if isolate else 0.0
        max_frames = int(header.get("max_frames") or 0) or None
        response = self._supervise(spare, limits, start, demote_after, max_frames)
        if isolate and self.cgroups is not None:
            response["oom_killed"] = self.cgroups.oom_kills() > oom_before
        response["sandboxed"] = isolate
        return response, cleanup

    def _supervise(
        self,
        spare: Spare,
        limits: dict[str, Any],
        start: float,
        demote_after: float,
        max_frames: int | None,
    ) -> dict[str, Any]:
        """Collect output under caps until the end record or init's exit; kill at the deadline.

        After `demote_after` seconds the submission's CPU share drops, so short honest
        submissions on other slots keep their latency while an infinite loop burns its quota.
        Whatever the child writes, this returns by the wall deadline plus a short grace: the
        result stream is checked frame by frame (no empty frames, at most `max_frames`), and
        what is left in the pipes after the end record or init's exit is drained under the
        same deadline.
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
        pidfd = spare.pidfd
        deadline = start + float(limits["wall_seconds"])
        hard_deadline = deadline + DRAIN_GRACE
        demote_at = start + demote_after if demote_after > 0 and self.cgroups is not None else None
        timed_out = result_over = init_done = ended = bad_stream = False
        scanner = _FrameScanner(max_frames)
        poller = select.poll()
        for fd in (*open_fds, pidfd):
            poller.register(fd, select.POLLIN)
        while (open_fds or not init_done) and not ended:
            now = time.monotonic()
            if now >= hard_deadline:
                break
            remaining = deadline - now
            if remaining <= 0 and not timed_out:
                timed_out = True
                _pidfd_kill(pidfd)
            if demote_at is not None and now >= demote_at:
                demote_at = None
                self.cgroups.set_cpu_shares(isolation.CPU_SHARES_DEMOTED)
            wake = hard_deadline - now if timed_out or init_done else remaining
            if demote_at is not None:
                wake = min(wake, demote_at - now)
            events = poller.poll(max(1, int(wake * 1000) + 1))
            for fd, _event in events:
                if fd == pidfd:
                    init_done = True
                    poller.unregister(pidfd)
                    continue
                name = open_fds[fd]
                if not _read_into(fd, data[name], caps[name], dropped, name):
                    poller.unregister(fd)
                    del open_fds[fd]
                if name == "result" and not (result_over or bad_stream):
                    if dropped["result"]:
                        result_over = True
                        _pidfd_kill(pidfd)
                    elif not scanner.scan(data["result"]):
                        bad_stream = True
                        _pidfd_kill(pidfd)
                    ended = scanner.ended
        # Everything printed before the end record (or before init died) is already in the
        # pipes: read what is buffered, bounded in bytes and by the same deadline.
        for name in ("stdout", "stderr", "status"):
            fd = spare.reads[name]
            if fd in open_fds:
                _drain(fd, data[name], caps[name], dropped, name, hard_deadline)
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
        }
        if ended:
            return response
        status, setup_error = _status_records(bytes(data["status"]))
        if not status and not setup_error and not (timed_out or result_over or bad_stream):
            setup_error = "init ended without a status"
        response.update(
            exit_code=status.get("code"),
            exit_signal=status.get("signal"),
            cpu_ms=float(status.get("cpu_ms") or 0.0),
            setup_error=setup_error,
        )
        return response

    # --- inside the forked processes (never return) -----------------------------------------

    def _init_process(self, ends: dict[str, int], isolate: bool) -> None:
        """PID 1 of the sandbox: isolate, fork the (still waiting) user child, reap, report."""
        status_w = ends["status"]
        try:
            if self._zygote_end is not None:
                self._zygote_end.close()
            for lock in self._uid_locks:
                lock.close()  # the claims must end with the runner, not with us
            isolation.set_parent_death_signal()
            if isolate:
                if self.cgroups is not None:
                    self.cgroups.join()
                # The cgroup namespace comes after joining: /proc/self/cgroup then shows "/"
                # instead of the host's hierarchy and the runner's pid.
                isolation.unshare(isolation.CHILD_NAMESPACES)
                isolation.enter_root_view(self.view, self.uid, DEFAULT_TMP_BYTES)
                isolation.sethostname("sandbox")
            os.setsid()  # a killpg from inside cannot reach the runner's group
            # Fork before the request arrives: it is one fork less on the submission's path.
            user = os.fork()
            if user == 0:
                self._user_process(ends, isolate)
            for name in ("request", "result", "stdout", "stderr"):
                os.close(ends[name])
            while True:
                reaped, wait_status, usage = os.wait4(-1, 0)
                if reaped == user:
                    break
            record = {
                "kind": "exit",
                "code": os.waitstatus_to_exitcode(wait_status),
                "signal": os.WTERMSIG(wait_status) if os.WIFSIGNALED(wait_status) else 0,
                "cpu_ms": (usage.ru_utime + usage.ru_stime) * 1000.0,
                "maxrss_kb": usage.ru_maxrss,
            }
            os.write(status_w, wire.frame(wire.encode(record)))
            os._exit(0)
        except BaseException as exc:
            _report_setup_error(status_w, f"init: {exc!r}")
            os._exit(SETUP_FAILED)

    def _user_process(self, ends: dict[str, int], isolate: bool) -> None:
        """PID 2: wait for the request, then limits, uid drop, no_new_privs, seccomp, user code."""
        status_fd = ends["status"]
        try:
            # Before the request (off the submission's path): fds and the OOM score.
            # First in line for the OOM killer: losing init instead would lose the exit status.
            # (Raising needs no privilege; lowering init's would need CAP_SYS_RESOURCE.)
            _set_oom_score_adj(1000)
            devnull = os.open(os.devnull, os.O_RDONLY)
            # Only 0-4 survive: stdin (null), stdout, stderr, results, status (closed at seal);
            # the request pipe rides on 5 until it has been read.
            _install_fds(
                [
                    devnull,
                    ends["stdout"],
                    ends["stderr"],
                    ends["result"],
                    ends["status"],
                    ends["request"],
                ]
            )
            status_fd = STATUS_FD
            header_raw = _read_frame(REQUEST_FD)
            body_raw = _read_frame(REQUEST_FD) if header_raw is not None else None
            if header_raw is None or body_raw is None:
                os._exit(0)  # a spare that was discarded
            os.close(REQUEST_FD)
            header = wire.decode(header_raw)
            request = dict(wire.decode(body_raw), **header)
            limits = request["limits"]
            tmp_bytes = max(DEFAULT_TMP_BYTES, int(limits["max_file_bytes"]) * 4)
            if isolate and tmp_bytes != DEFAULT_TMP_BYTES:
                isolation.resize_tmp(tmp_bytes, self.uid)
            if self.rootless:
                # A user namespace of its own, nested in the runner's: an ordinary uid inside,
                # no capabilities. Before the rlimits: the kernel counts RLIMIT_NPROC per uid
                # per user namespace, and a namespace made under the lowered limit would apply
                # it to the runner's whole process tree as well.
                isolation.enter_user_namespace(isolation.ROOTLESS_INNER_UID)
                isolation.drop_capabilities()
            isolation.RlimitPlan(
                cpu_seconds=isolation.cpu_rlimit(float(limits["cpu_seconds"])),
                memory_bytes=int(limits["memory_bytes"]),
                file_bytes=int(limits["max_file_bytes"]),
                open_files=int(limits["max_open_files"]),
                processes=int(limits["max_processes"]),
            ).apply()
            if self.uid:
                isolation.drop_privileges(self.uid, self.uid)
            os.chdir("/tmp" if isolate else request.get("scratch") or "/")
            isolation.set_no_new_privs()
            isolation.set_parent_death_signal()  # cleared by the uid change: set it again
        except BaseException as exc:
            _report_setup_error(status_fd, f"child: {exc!r}")
            os._exit(SETUP_FAILED)

        def seal() -> None:
            """Last trusted step before user code: seccomp on, the status pipe closed."""
            try:
                if isolate:
                    self.seccomp.load()
                os.close(STATUS_FD)
            except BaseException as exc:
                _report_setup_error(STATUS_FD, f"seccomp: {exc!r}")
                os._exit(SETUP_FAILED)

        if request.get("op") == "probe":
            seal()
            layers = probe.observe(isolation, self.host_ns, limits, self.cgroups, HERE)
            child.ResultChannel(RESULT_FD, wire).send({"kind": "probe", "layers": layers})
            os._exit(0)
        child.run_submission(request, wire, RESULT_FD, seal)


# --- helpers ---------------------------------------------------------------------------------


def _read_into(fd: int, buf: bytearray, cap: int, dropped: dict[str, int], name: str) -> bool:
    """Read one chunk, keeping at most `cap` bytes in `buf`; False at EOF."""
    chunk = os.read(fd, READ_CHUNK)
    if not chunk:
        return False
    room = max(cap - len(buf), 0)
    buf += chunk[:room]
    dropped[name] += len(chunk) - min(room, len(chunk))
    return True


class _FrameScanner:
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
            length = wire.parse_frame_header(bytes(buf[self.pos : self.pos + size]))
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


def _status_records(data: bytes) -> tuple[dict[str, Any], str | None]:
    status: dict[str, Any] = {}
    setup_error = None
    try:
        for raw in wire.FrameReader(1 << 16).feed(data):
            record = wire.decode(raw)
            if record.get("kind") == "setup_error":
                setup_error = str(record.get("error"))
            elif record.get("kind") == "exit":
                status = record
    except (wire.WireError, ValueError, AttributeError) as exc:
        setup_error = f"bad status record: {exc}"
    return status, setup_error


def _pidfd_exited(pidfd: int) -> bool:
    """True once the process behind `pidfd` has exited (a spare killed while it waited)."""
    return bool(select.select([pidfd], [], [], 0)[0])


def _pidfd_wait(pidfd: int, timeout: float) -> None:
    select.select([pidfd], [], [], timeout)


def _pidfd_kill(pidfd: int) -> None:
    with contextlib.suppress(ProcessLookupError, OSError):
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)


def _reap_zombies() -> None:
    """The zygote's inits, once dead (the runner waited on their pidfds)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _drain(
    fd: int, buf: bytearray, cap: int, dropped: dict[str, int], name: str, deadline: float
) -> None:
    """Read what is buffered in a pipe: at most DRAIN_BYTES, and never past `deadline`."""
    os.set_blocking(fd, False)
    taken = 0
    try:
        while taken < DRAIN_BYTES and time.monotonic() < deadline:
            before = len(buf) + dropped[name]
            if not _read_into(fd, buf, cap, dropped, name):
                return
            taken += len(buf) + dropped[name] - before
    except BlockingIOError:
        pass


def _set_oom_score_adj(value: int) -> None:
    with open("/proc/self/oom_score_adj", "w") as fh:
        fh.write(str(value))


def _install_fds(fds: list[int]) -> None:
    """Make fds[i] become fd i, then close every other descriptor."""
    # Park the sources above the target range first so no dup2 clobbers a source still needed.
    parked = [fcntl.fcntl(fd, fcntl.F_DUPFD, 64) for fd in fds]
    for target, fd in enumerate(parked):
        os.dup2(fd, target, inheritable=False)
    os.closerange(len(fds), 2**30)  # close_range(2): one syscall however many are open


def _report_setup_error(fd: int, message: str) -> None:
    with contextlib.suppress(Exception):  # if even this fails there is nothing else to tell
        os.write(fd, wire.frame(wire.encode({"kind": "setup_error", "error": message[:2000]})))


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _close_quietly(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < n:
        chunk = os.read(fd, min(n - len(chunks), 1 << 20))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


def _read_frame(fd: int) -> bytes | None:
    head = _read_exact(fd, wire.FRAME_HEADER_SIZE)
    if head is None:
        return None
    return _read_exact(fd, wire.parse_frame_header(head))


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the pool decides when we stop
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    runner = Runner()
    try:
        runner.serve()
    finally:
        for cgroups in runner.cgroup_sets:
            cgroups.close()


if __name__ == "__main__":
    main()
