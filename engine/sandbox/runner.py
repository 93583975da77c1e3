"""Warm runner process: one per pool slot, runs each submission in a fresh isolated child.

Started by the pool as ``python -I -S runner.py --site DIR ...`` with an allow-listed environment.
`-I -S` keep the script directory, the user site and .pth files off sys.path, so the `engine`
package (and the reference implementations) cannot be imported here or in any child; the few
sibling modules this needs are loaded by file path under private names.

Per submission (isolated mode)::

    runner (root or a user namespace of its own; private mount and network namespaces)
      └─ zygote  forked at start-up, before any request: PID 1 of a PID namespace of its own
         ├─ init        PID 1 of the submission's PID namespace (a paused clone, isolation.py)
         └─ user child  PID 2 there: mount/IPC/UTS/cgroup namespaces, pivot_root into a
                        read-only view, private /tmp, fresh /proc, cgroups, rlimits, uid drop,
                        no_new_privs, seccomp, then the code (zygote.py)

Why a zygote: a child forked from the runner would inherit the runner's heap, and freed memory
still holds the previous submission's source, inputs and results. The runner reads requests and
results; the zygote only ever receives pipe ends (SCM_RIGHTS over a socketpair) and a flag, so
nothing a submission can scan in its own address space came from another submission. The
request body travels runner -> pipe -> user child; the result pipes go user child -> runner.

The next sandboxes are forked and isolated *before* their request arrives (`--spares`, one per
cgroup slot), and the answer goes back as soon as the child's end record is in: tearing the
namespace down happens while the pool compares. Protocol with the pool: length-prefixed `wire`
records on the runner's stdin/stdout (moved to private fds): a small header (op, limits, isolate)
and a body (source, function, calls) that the runner forwards to the child without decoding.
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
import time
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

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
    opts: dict[str, Any] = {"site": [], "uid_base": 60000, "uid_count": 1000, "spares": 3}
    it = iter(argv)
    for arg in it:
        if arg == "--site":
            opts["site"].append(next(it))
        elif arg in ("--uid-base", "--uid-count", "--spares"):
            opts[arg[2:].replace("-", "_")] = int(next(it))
        else:
            raise SystemExit(f"runner: unknown argument {arg}")
    return opts


OPTS = _parse_args(sys.argv[1:] if __name__ == "__main__" else [])
if __name__ == "__main__":
    sys.path.extend(OPTS["site"])
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

if TYPE_CHECKING:
    from engine.sandbox import cgroups, child, isolation, probe, seccomp, supervise, wire, zygote
else:  # in this order: later ones find the earlier ones in sys.modules
    isolation, seccomp = _load("isolation"), _load("seccomp")  # stdlib only

# Started before NumPy's import, which it overlaps (and a fork of a process without NumPy):
# ~20 ms off a runner's start (bench/cli_cold.py, bench/README.md).
FILTER = seccomp.FilterCompilation() if __name__ == "__main__" else None

import numpy  # noqa: E402,F401 - the point of a warm runner: imported once, shared by every fork

if not TYPE_CHECKING:
    wire, cgroups, child, probe, supervise, zygote = (
        _load(name) for name in ("wire", "cgroups", "child", "probe", "supervise", "zygote")
    )

Spare = supervise.Spare
# Sandboxes kept forked and isolated, each with its own cgroups and uid: one runs while the
# others wait, and a slot is refilled only once its last sandbox is torn down (tens of ms).
SLOTS = max(2, min(8, int(OPTS["spares"])))
PIPE_SIZE = supervise.PIPE_SIZE
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
    """State set up once: the protocol fds, the root view, the seccomp program, our uids."""

    def __init__(self) -> None:
        # Move the protocol off fds 0/1 so a stray print in this process cannot corrupt it.
        self.req_fd = os.dup(0)
        self.resp_fd = os.dup(1)
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.close(devnull)
        self.errors: list[str] = []
        self._headers: dict[bytes, dict[str, Any]] = {}  # see _header
        self._isolated_headers: dict[int, bytes] = {}
        self.setup = zygote.Setup(
            rootless=False, host_ns=isolation.namespace_ids(), hidden_path=HERE
        )
        # One uid per slot: RLIMIT_NPROC counts per uid, so a child still being torn down in one
        # slot never eats into the process budget of the next child in another.
        self._uid_locks: list[socket.socket] = []
        self._first_move: int | None = None  # pid of the child that joins a cgroup first
        self.pid_namespaces = False  # unshare(CLONE_NEWPID) works here
        self._dying: dict[int, int] = {}  # slot -> pidfd of a sandbox killed but maybe not gone
        self.spares: dict[int, Spare] = {}  # slot -> a sandbox waiting for its request
        # privileged (root): a uid per slot and cgroups on top of everything else. rootless
        # (anyone): our own user namespace, mapping only our uid, owns every other namespace.
        self.mode = "privileged" if os.geteuid() == 0 else "rootless"
        if self.mode == "privileged":
            self._setup_isolation()
        else:
            try:
                isolation.enter_user_namespace(0)
            except OSError as exc:
                self.errors.append(f"user namespace: {exc}: {isolation.USERNS_HELP}")
            else:
                self.setup.rootless = True
                self.setup.uid = 0  # inside our namespace; it is the caller's uid outside
                self._setup_isolation()
        self.zygote_sock = self._start_zygote()

    def _start_zygote(self) -> socket.socket:
        """Fork the process that forks every sandbox, now, before any request has been read."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            # The zygote is PID 1 of a PID namespace of its own: when it dies (with us), the
            # kernel ends every sandbox, inits included (they cannot hold a death signal).
            isolation.unshare(isolation.CLONE_NEWPID)
            self.pid_namespaces = True
        except OSError as exc:
            self.errors.append(f"pid namespace: {exc}")
        pid = os.fork()
        if pid == 0:
            ours.close()
            os.close(self.req_fd)
            os.close(self.resp_fd)
            try:
                zygote.Zygote(self.setup, theirs).serve()
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

    def _setup_isolation(self) -> None:
        try:
            if not self.setup.rootless:
                self._claim_uids()  # in the host's network namespace, where every runner claims
        except OSError as exc:
            self.errors.append(f"uid: {exc}")
        try:
            # An empty network namespace (loopback down) for this runner and every submission
            # it forks; the pool talks to us over pipes, so we need no network either.
            isolation.unshare(isolation.CLONE_NEWNET)
        except OSError as exc:
            self.errors.append(f"network namespace: {exc}")
        try:
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
            self.setup.view = isolation.build_root_view(_carrier(readonly), readonly, hidden)
        except OSError as exc:
            self.errors.append(f"mount: {exc}")
        if self.setup.uids:
            try:
                self.setup.cgroup_sets = [cgroups.Cgroups(uid) for uid in self.setup.uids]
            except OSError as exc:
                self.errors.append(f"cgroup: {exc}")
            else:  # its wait ends before the probe's sandbox joins the first slot's groups
                self._first_move = self.setup.cgroup_sets[-1].join_in_throwaway_child()
        try:
            compilation = FILTER or seccomp.FilterCompilation()
            self.setup.seccomp = seccomp.SeccompProgram(compilation.program())
        except (OSError, ImportError, RuntimeError) as exc:
            self.errors.append(f"seccomp: {exc}")

    def _claim_uids(self) -> None:
        """Take SLOTS uids no other runner on this machine uses: RLIMIT_NPROC and kill() are
        per uid.

        Each claim is an abstract unix socket name, released by the kernel when we die.
        """
        uids: list[int] = []
        for uid in range(OPTS["uid_base"], OPTS["uid_base"] + OPTS["uid_count"]):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.bind(f"\0mlquiz-sandbox-uid-{uid}")
            except OSError:
                sock.close()
                continue
            self._uid_locks.append(sock)
            uids.append(uid)
            if len(uids) == SLOTS:
                self.setup.uids, self.setup.uid = uids, uids[0]
                return
        for sock in self._uid_locks:
            sock.close()
        self._uid_locks = []
        raise OSError(errno.EUSERS, "no free sandbox uids")

    @property
    def can_isolate(self) -> bool:
        has_uid = bool(self.setup.uid) or self.setup.rootless
        return bool(has_uid and self.setup.view and self.setup.seccomp and self.pid_namespaces)

    # --- protocol ---------------------------------------------------------------------------

    def read_request(self) -> tuple[dict[str, Any], bytes] | None:
        header = zygote.read_frame(self.req_fd)
        body = zygote.read_frame(self.req_fd) if header is not None else None
        if header is None or body is None:
            return None
        return self._header(header), body

    def _header(self, raw: bytes) -> dict[str, Any]:
        """The decoded header. The pool repeats the same few (its own: trusted), so each is
        decoded once, and the framed header an isolated child reads (the pool's plus an empty
        scratch directory) is encoded once with it."""
        header = self._headers.get(raw)
        if header is None:
            if len(self._headers) >= 64:
                self._headers.clear()
                self._isolated_headers.clear()
            header = self._headers[raw] = wire.decode(raw)
            if type(header) is dict:  # keyed by identity: the header lives as long as the entry
                framed = wire.frame(wire.encode(dict(header, scratch="")))
                self._isolated_headers[id(header)] = framed
        return header

    def respond(self, record: dict[str, Any]) -> None:
        parts = wire.encode_parts(record)
        size = sum(len(p) for p in parts)
        data = memoryview(b"".join([wire.frame_header(size), *parts]))
        while data:
            data = data[os.write(self.resp_fd, data) :]

    def serve(self) -> None:
        layers = self.probe()
        if self._first_move is not None:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._first_move, 0)
        self.respond(
            {
                "op": "hello",
                "uid": self.setup.uid or 0,
                "uids": tuple(self.setup.uids),
                "errors": tuple(self.errors),
                "layers": layers,
            }
        )
        gc.freeze()  # keep start-up objects out of the GC passes
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
        # Nothing more to say: let a caller that waits for our stderr (a command line's) go now.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        # Leave at once: the zygote is PID 1 of the namespace every sandbox lives in, so its
        # death ends them all, spares included, and the kernel reaps them through it (their CPU
        # reaches our accounting, and the pool's, as a direct child's would).
        self.zygote_sock.close()
        with contextlib.suppress(OSError):
            os.kill(self.zygote_pid, signal.SIGKILL)
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
        """Keep a ready sandbox in each slot while waiting for the next request.

        A slot is refilled once the sandbox that last used it is gone (its teardown would slow
        a new child's set-up and it may still count in the slot's cgroups); meanwhile a request
        is served by another slot's spare. So back-to-back requests (the grader's visible then
        hidden child) each find a child already isolated and waiting.
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
        pipes = {name: os.pipe() for name in zygote.CHILD_ENDS}
        for name in ("request", "result", "stdout", "stderr"):
            # The default 64 KiB works too, only with more context switches.
            with contextlib.suppress(OSError):
                fcntl.fcntl(pipes[name][0], fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        ours = {name: pipes[name][1 if name == "request" else 0] for name in zygote.CHILD_ENDS}
        theirs = [pipes[n][0] if n == "request" else pipes[n][1] for n in zygote.CHILD_ENDS]
        try:
            message = (b"I" if isolate else b"P") + str(slot).encode()
            socket.send_fds(self.zygote_sock, [message], theirs)
            msg, fds, _flags, _addr = socket.recv_fds(self.zygote_sock, 256, 2)
        except OSError:
            for fd in ours.values():
                _close_quietly(fd)
            raise
        finally:
            for fd in theirs:
                _close_quietly(fd)
        if not msg.startswith(b"ok") or len(fds) != 2:
            for fd in [*fds, *ours.values()]:
                _close_quietly(fd)
            raise OSError(
                errno.ECHILD, f"zygote could not fork: {msg[2:].decode(errors='replace')}"
            )
        pid = int.from_bytes(msg[2:6], "little")
        reads = {name: fd for name, fd in ours.items() if name != "request"}
        return Spare(pid, fds[0], fds[1], isolate, ours["request"], reads, slot)

    def _await_gone(self, slot: int) -> None:
        """Before a slot's cgroups take a new child: its last sandbox is gone."""
        pidfd = self._dying.pop(slot, None)
        if pidfd is not None:
            supervise.pidfd_wait(pidfd, 5.0)
            _close_quietly(pidfd)

    def _discard(self, spare: Spare) -> None:
        supervise.pidfd_kill(spare.pidfd)
        supervise.pidfd_wait(spare.pidfd, 5.0)
        for fd in (spare.request_w, *spare.reads.values(), spare.pidfd, spare.exit_fd):
            _close_quietly(fd)

    def _take_spare(self, isolate: bool) -> Spare:
        for slot in sorted(self.spares):
            spare = self.spares[slot]
            alive = not supervise.any_exited(spare.exit_fd, spare.pidfd)
            if spare.isolate == isolate and alive:
                return self.spares.pop(slot)
        # None usable (killed from outside, or the other mode): make one in a free slot.
        slot = min(self.spares, key=lambda s: s in self._dying, default=0)
        if slot in self.spares:
            self._discard(self.spares.pop(slot))
        return self._prefork(isolate, slot)

    def execute(
        self, header: dict[str, Any], body: bytes
    ) -> tuple[dict[str, Any], Callable[[], None]]:
        """Hand the request to a waiting child and supervise it; returns (response, cleanup)."""
        isolate = bool(header.get("isolate")) and self.can_isolate
        spare = self._take_spare(isolate)
        response, cleanup = self._run(spare, header, body)
        if not response["sealed"] and not response["timed_out"]:
            # The sandbox was lost before user code ran (killed from outside while it waited,
            # say by the OOM killer, after the liveness check above): one freshly forked
            # sandbox in the same slot takes the request.
            cleanup()
            response, cleanup = self._run(self._prefork(isolate, spare.slot), header, body)
        return response, cleanup

    def _run(
        self, spare: Spare, header: dict[str, Any], body: bytes
    ) -> tuple[dict[str, Any], Callable[[], None]]:
        limits = header["limits"]
        isolate = spare.isolate
        scratch = None if isolate else _scratch_dir()
        if scratch and self.setup.uids:
            uid = self.setup.uids[spare.slot]
            os.chown(scratch, uid, uid)  # degraded mode still drops root when it can
        sets = self.setup.cgroup_sets
        slot_cgroups = sets[spare.slot] if isolate and sets else None
        oom_before = 0
        if slot_cgroups is not None:
            # Headroom over RLIMIT_AS for page tables; the cgroup bounds the total when
            # submissions may fork, RLIMIT_AS only bounds each process.
            slot_cgroups.configure(
                int(limits["memory_bytes"]) + (64 << 20), int(limits["max_processes"]) + 1
            )
            oom_before = slot_cgroups.oom_kills()

        def cleanup() -> None:
            supervise.pidfd_kill(spare.pidfd)
            for fd in (spare.request_w, *spare.reads.values(), spare.exit_fd):
                _close_quietly(fd)
            # The namespace is gone only once torn down: the wait happens before this slot's
            # cgroups take another child (_await_gone), so meanwhile the next child starts in
            # another slot.
            self._await_gone(spare.slot)
            self._dying[spare.slot] = spare.pidfd
            if scratch:
                shutil.rmtree(scratch, ignore_errors=True)

        start = time.monotonic()
        try:
            forwarded = None if scratch else self._isolated_headers.get(id(header))
            if forwarded is None:
                forwarded = wire.frame(wire.encode(dict(header, scratch=scratch or "")))
            data = memoryview(b"".join([forwarded, wire.frame_header(len(body)), body]))
            while data:
                data = data[os.write(spare.request_w, data) :]
        except OSError:  # the child died before taking the request: its status says why
            pass
        _close_quietly(spare.request_w)
        demote_after = float(header.get("demote_after") or 0.0)
        demote_at = start + demote_after if demote_after > 0 and slot_cgroups else None

        def demote() -> None:
            if slot_cgroups is not None:
                slot_cgroups.set_cpu_shares(cgroups.CPU_SHARES_DEMOTED)

        max_frames = int(header.get("max_frames") or 0) or None
        response = supervise.supervise(spare, limits, start, demote_at, demote, max_frames)
        if slot_cgroups is not None:
            response["oom_killed"] = slot_cgroups.oom_kills() > oom_before
        response["sandboxed"] = isolate
        return response, cleanup


def _scratch_dir() -> str:
    """A working directory for an unisolated child (degraded mode only)."""
    # Imported here, never at start-up: tempfile brings `random`, whose fork handler would then
    # reseed in every sandbox the zygote forks (a tenth of a millisecond of CPU each).
    import tempfile

    return tempfile.mkdtemp(prefix="sbx-")


def _close_quietly(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the pool decides when we stop
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    runner = Runner()
    try:
        runner.serve()
    finally:
        for group in runner.setup.cgroup_sets:
            group.close()
    os._exit(0)  # no interpreter finalization: nothing is left to flush


if __name__ == "__main__":
    main()
