"""The zygote: forks every sandbox, and never holds a request.

Forked by the runner at start-up, before any request is read, as PID 1 of a PID namespace of its
own: its death (it dies with the runner) takes every sandbox with it. Per sandbox it receives
five pipe ends (SCM_RIGHTS) and a flag, and answers with two pidfds:

    zygote (PID 1 of the runner's sandbox namespace; numpy imported, no request ever)
      ├─ init        PID 1 of a new PID namespace: clone(CLONE_VM) that only pauses (isolation.py)
      └─ user child  forked into that namespace as PID 2: isolates itself (mount/IPC/UTS/cgroup
                     namespaces, pivot_root, cgroups), waits for its request, then rlimits, uid
                     drop, no_new_privs, seccomp and the user's code

The user child is the zygote's child, so the zygote reaps it and writes its exit record (code,
signal, CPU) on the status pipe, which the runner reads to its end. Killing the init ends the
namespace: the user child and anything it left behind.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import gc
import os
import select
import signal
import socket
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from engine.sandbox import cgroups as cgroups_mod
    from engine.sandbox import child, isolation, probe, seccomp, wire
else:  # loaded by path in the runner (runner.py), never as engine.*
    child, isolation, probe, seccomp, wire = (
        sys.modules[f"_sandbox_{name}"]
        for name in ("child", "isolation", "probe", "seccomp", "wire")
    )

SETUP_FAILED = 121  # exit code of a child whose isolation could not be completed
STATUS_FD, RESULT_FD, REQUEST_FD = 4, 3, 5
# The pipe ends the runner hands over for each sandbox, in this order (SCM_RIGHTS keeps it).
CHILD_ENDS = ("request", "result", "stdout", "stderr", "status")
DEFAULT_TMP_BYTES = 4 << 20


@dataclass
class Setup:
    """What the runner prepared once and every sandbox uses (never anything of a request)."""

    rootless: bool
    host_ns: dict[str, int]
    hidden_path: str  # must not be visible from inside (the probe checks)
    view: isolation.RootView | None = None
    seccomp: seccomp.SeccompProgram | None = None
    uid: int | None = None  # rootless: 0 inside the runner's user namespace
    uids: list[int] = field(default_factory=list)  # privileged: one per slot
    cgroup_sets: list[cgroups_mod.Cgroups] = field(default_factory=list)

    def slot_uid(self, slot: int) -> int | None:
        return self.uids[slot] if self.uids else self.uid


class Zygote:
    def __init__(self, setup: Setup, sock: socket.socket) -> None:
        self.setup = setup
        self.sock = sock
        self.pidns_fd = os.open("/proc/self/ns/pid", os.O_RDONLY)  # ours: back here after forks
        self.status: dict[int, int] = {}  # user child pid -> its status pipe (for the record)
        self.exits: dict[int, int] = {}  # pidfd of a user child -> its pid (wakes the loop)
        self.inits: dict[int, isolation.NamespaceInit] = {}  # kept (their stacks) until reaped
        self.streams = _streams_on_pipes()  # every submission's stdin/stdout/stderr

    def serve(self) -> None:
        """Fork one sandbox per message; reap user children and report their exit."""
        isolation.set_parent_death_signal()
        # Our stderr is the runner's caller's: the inits share our descriptor table, and
        # must not keep that caller waiting for it while they are torn down.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        # ~4 ms once, ~100 page faults less per submission (bench/grading_profile.py).
        child.warm_up(wire)
        # The inits share this memory. A submission cannot reach it through /proc/1/mem: the
        # inits run as root (privileged) or hold the runner's user namespace, where a
        # submission has no capability (rootless), so ptrace-mode access to them is refused.
        gc.freeze()
        while True:
            ready = select.select([self.sock.fileno(), *self.exits], [], [])[0]
            for fd in ready:
                if fd in self.exits:
                    # What it left in its process group, while the exited leader still holds
                    # the number (without a PID namespace of its own, nothing else ends them).
                    with contextlib.suppress(OSError):
                        os.killpg(self.exits[fd], signal.SIGKILL)
            self._reap()
            if self.sock.fileno() not in ready:
                continue
            try:
                msg, fds, _flags, _addr = socket.recv_fds(self.sock, 16, len(CHILD_ENDS))
            except OSError:
                return
            if not msg:
                return  # the runner is gone (or closed our socket to let us go)
            try:
                self._answer(msg, fds)
            finally:
                for fd in fds:
                    _close_quietly(fd)

    def _answer(self, msg: bytes, fds: list[int]) -> None:
        try:
            if len(fds) != len(CHILD_ENDS):
                raise OSError(errno.EINVAL, "zygote: wrong number of pipe ends")
            ends = dict(zip(CHILD_ENDS, fds, strict=True))
            kill_fd, pid, exit_fd = self._fork_sandbox(ends, msg[:1] == b"I", int(msg[1:2]))
        except OSError as exc:
            with contextlib.suppress(OSError):
                self.sock.send(b"er" + repr(exc).encode()[:200])
            return
        self.status[pid] = os.dup(ends["status"])
        self.exits[exit_fd] = pid
        try:
            socket.send_fds(self.sock, [b"ok" + pid.to_bytes(4, "little")], [kill_fd, exit_fd])
        finally:
            os.close(kill_fd)

    def _fork_sandbox(self, ends: dict[str, int], isolate: bool, slot: int) -> tuple[int, int, int]:
        """(pidfd to kill the sandbox with, the user child's pid, a pidfd for its exit)."""
        init = None
        if isolate:
            init = isolation.NamespaceInit()
            self.inits[init.pid] = init
            try:
                isolation.setns(init.pidfd, isolation.CLONE_NEWPID)
            except OSError:
                _kill(init.pidfd)
                os.close(init.pidfd)
                raise
        pid = -1
        try:
            pid = os.fork()
        finally:
            if init is not None and pid != 0:
                # setns only set the namespace of our *next* child: come back to ours.
                isolation.setns(self.pidns_fd, isolation.CLONE_NEWPID)
        if pid == 0:
            user_process(self.setup, ends, isolate, slot, self.streams)  # never returns
        exit_fd = os.pidfd_open(pid)
        return (init.pidfd if init is not None else os.dup(exit_fd)), pid, exit_fd

    def _reap(self) -> None:
        """Reap whatever has exited; a user child's exit goes on its status pipe."""
        while True:
            try:
                pid, wait_status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.inits.pop(pid, None)
            status_fd = self.status.pop(pid, None)
            if status_fd is None:
                continue  # an init (or, without a namespace, an orphan reparented to us)
            for fd in [fd for fd, owner in self.exits.items() if owner == pid]:
                del self.exits[fd]
                os.close(fd)
            record = {
                "kind": "exit",
                "code": os.waitstatus_to_exitcode(wait_status),
                "signal": os.WTERMSIG(wait_status) if os.WIFSIGNALED(wait_status) else 0,
                "cpu_ms": (usage.ru_utime + usage.ru_stime) * 1000.0,
                "maxrss_kb": usage.ru_maxrss,
            }
            with contextlib.suppress(OSError):
                os.write(status_fd, wire.frame(wire.encode(record)))
            os.close(status_fd)


# --- the user child (never returns) ----------------------------------------------------------


def user_process(
    setup: Setup, ends: dict[str, int], isolate: bool, slot: int, streams: child.Streams
) -> NoReturn:
    """PID 2: isolate, wait for the request, then limits, uid drop, no_new_privs, seccomp, code."""
    status_fd = ends["status"]
    uid = setup.slot_uid(slot)
    cgroups = setup.cgroup_sets[slot] if setup.cgroup_sets else None
    try:
        isolation.set_parent_death_signal()
        if isolate:
            assert setup.view is not None and uid is not None
            if cgroups is not None:
                cgroups.join()
            # The cgroup namespace comes after joining: /proc/self/cgroup then shows "/"
            # instead of the host's hierarchy and the runner's pid.
            isolation.unshare(isolation.CHILD_NAMESPACES)
            isolation.enter_root_view(setup.view, uid, DEFAULT_TMP_BYTES)
            isolation.sethostname("sandbox")
        os.setsid()  # a killpg from inside cannot reach the runner's group
        # First in line for the OOM killer (raising needs no privilege).
        _set_oom_score_adj(1000)
        devnull = os.open(os.devnull, os.O_RDONLY)
        # Only 0-4 survive: stdin (null), stdout, stderr, results, status (closed at seal);
        # the request pipe rides on 5 until it has been read. Everything of the zygote's (other
        # sandboxes' status pipes, its socket) is closed here.
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
        header_raw = read_frame(REQUEST_FD)
        body_raw = read_frame(REQUEST_FD) if header_raw is not None else None
        if header_raw is None or body_raw is None:
            os._exit(0)  # a spare that was discarded
        os.close(REQUEST_FD)
        request = dict(wire.decode(body_raw), **wire.decode(header_raw))
        limits = request["limits"]
        tmp_bytes = max(DEFAULT_TMP_BYTES, int(limits["max_file_bytes"]) * 4)
        if isolate and tmp_bytes != DEFAULT_TMP_BYTES:
            assert uid is not None
            isolation.resize_tmp(tmp_bytes, uid)
        if setup.rootless:
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
        if uid:
            isolation.drop_privileges(uid, uid)
        os.chdir("/tmp" if isolate else request.get("scratch") or "/")
        isolation.set_no_new_privs()
        isolation.set_parent_death_signal()  # cleared by the uid change: set it again
    except BaseException as exc:
        report_setup_error(status_fd, f"child: {exc!r}")
        os._exit(SETUP_FAILED)

    def seal() -> None:
        """Last trusted step before user code: seccomp on, the status pipe closed."""
        try:
            # Said first: a child lost before this point never ran user code, so the runner
            # may give its request to a fresh sandbox.
            os.write(STATUS_FD, SEALED_FRAME)
            if isolate:
                assert setup.seccomp is not None
                setup.seccomp.load()
            os.close(STATUS_FD)
        except BaseException as exc:
            report_setup_error(STATUS_FD, f"seccomp: {exc!r}")
            os._exit(SETUP_FAILED)

    if request.get("op") == "probe":
        seal()
        layers = probe.observe(isolation, setup.host_ns, limits, cgroups, setup.hidden_path)
        child.ResultChannel(RESULT_FD, wire).send({"kind": "probe", "layers": layers})
        os._exit(0)
    child.run_submission(request, wire, RESULT_FD, seal, streams)


# --- helpers ---------------------------------------------------------------------------------


def _streams_on_pipes() -> child.Streams:
    """The submissions' standard streams, made while fds 1 and 2 are pipes (see make_streams)."""
    read_fd, write_fd = os.pipe()
    saved = [os.dup(1), os.dup(2)]
    try:
        os.dup2(write_fd, 1)
        os.dup2(write_fd, 2)
        return child.make_streams()
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, read_fd, write_fd):
            os.close(fd)


def _set_oom_score_adj(value: int) -> None:
    # Raw fds, not open(): a text file object costs each sandbox ~60 copy-on-write page faults.
    fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
    try:
        os.write(fd, str(value).encode())
    finally:
        os.close(fd)


def _install_fds(fds: list[int]) -> None:
    """Make fds[i] become fd i, then close every other descriptor."""
    # Park the sources above the target range first so no dup2 clobbers a source still needed.
    parked = [fcntl.fcntl(fd, fcntl.F_DUPFD, 64) for fd in fds]
    for target, fd in enumerate(parked):
        os.dup2(fd, target, inheritable=False)
    os.closerange(len(fds), 2**30)  # close_range(2): one syscall however many are open


SEALED_FRAME = wire.frame(wire.encode({"kind": "sealed"}))


def report_setup_error(fd: int, message: str) -> None:
    with contextlib.suppress(Exception):  # if even this fails there is nothing else to tell
        os.write(fd, wire.frame(wire.encode({"kind": "setup_error", "error": message[:2000]})))


def _kill(pidfd: int) -> None:
    with contextlib.suppress(OSError):
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)


def _close_quietly(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


def read_exact(fd: int, n: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < n:
        chunk = os.read(fd, min(n - len(chunks), 1 << 20))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


def read_frame(fd: int) -> bytes | None:
    head = read_exact(fd, wire.FRAME_HEADER_SIZE)
    if head is None:
        return None
    return read_exact(fd, wire.parse_frame_header(head))
