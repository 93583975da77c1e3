"""Per-slot cgroups (v1 here: memory, pids and cpu controllers) for the privileged runner.

Stdlib only; the runner loads this file by path.
"""

from __future__ import annotations

import contextlib
import errno
import os

CGROUP_ROOT = "/sys/fs/cgroup"
CGROUP_CONTROLLERS = ("memory", "pids", "cpu")
CPU_SHARES_NORMAL = 1024
CPU_SHARES_DEMOTED = 2  # a long-running submission yields the CPU to short honest ones


def _remove_stale_groups(base: str) -> None:
    """Remove groups left by runners that died (rmdir fails, harmlessly, while still in use)."""
    try:
        names = os.listdir(base)
    except FileNotFoundError:
        return
    for name in names:
        pid = name.rsplit("-", 1)[-1]
        if name.startswith("uid-") and pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            with contextlib.suppress(OSError):
                os.rmdir(os.path.join(base, name))


def _own_cgroup(controller: str) -> str:
    """Our path in `controller`'s hierarchy, so our groups nest inside whatever limits us."""
    with open("/proc/self/cgroup") as fh:
        for line in fh:
            _, names, path = line.rstrip("\n").split(":", 2)
            if controller in names.split(","):
                return path
    raise OSError(errno.ENOENT, f"no {controller} cgroup")


class Cgroups:
    """One group per controller for one runner; init joins them, its children inherit.

    Named after the runner's pid as well as the uid: if a runner is killed, its init may linger
    as a zombie (counted by the pids controller) until the host's init reaps it, and the
    replacement runner must not inherit that count.
    """

    def __init__(self, uid: int, name: str = "") -> None:
        self.dirs: dict[str, str] = {}
        for controller in CGROUP_CONTROLLERS:
            parent = os.path.join(CGROUP_ROOT, controller) + _own_cgroup(controller)
            base = os.path.join(parent, "mlquiz-sandbox")
            _remove_stale_groups(base)
            path = os.path.join(base, f"uid-{uid}{name}-{os.getpid()}")
            os.makedirs(path, 0o755, exist_ok=True)
            self.dirs[controller] = path
        self._procs = [
            os.open(os.path.join(d, "cgroup.procs"), os.O_WRONLY) for d in self.dirs.values()
        ]
        self._written: dict[str, bytes] = {}
        self._oom_fd: int | None = None

    def _write(self, controller: str, name: str, value: int) -> None:
        path = os.path.join(self.dirs[controller], name)
        data = str(value).encode()
        if self._written.get(path) == data:
            return  # each write is a syscall pair on the hot path; most runs repeat the limits
        with open(path, "wb", buffering=0) as fh:
            fh.write(data)
        self._written[path] = data

    def configure(self, memory_bytes: int, processes: int) -> None:
        self._write("memory", "memory.limit_in_bytes", memory_bytes)
        self._write("pids", "pids.max", processes)
        self.set_cpu_shares(CPU_SHARES_NORMAL)

    def set_cpu_shares(self, shares: int) -> None:
        self._write("cpu", "cpu.shares", shares)

    def join(self) -> None:
        """Move the calling process (init, before it forks the submission) into every group."""
        for fd in self._procs:
            os.write(fd, b"0")

    def join_in_throwaway_child(self) -> int | None:
        """Fork a child that joins our groups and exits; its pid (to reap), None if no fork.

        The first move into a cgroup after a quiet spell waits for an RCU grace period (the
        kernel's cgroup_threadgroup_rwsem: ~16 ms here, waiting, not CPU), and moves soon after
        it pass at once. Paid by this child while the runner goes on, the start-up probe's
        sandbox finds the way clear.
        """
        try:
            pid = os.fork()
        except OSError:
            return None
        if pid == 0:
            try:
                self.join()
            finally:
                os._exit(0)
        return pid

    def oom_kills(self) -> int:
        # Read twice per submission: an fd kept open and pread (1-2 us) instead of an open,
        # read and close of the cgroup file (15-170 us measured in the runner). Opened at the
        # first call, in the runner, after the zygote was forked: no sandbox inherits it.
        if self._oom_fd is None:
            path = os.path.join(self.dirs["memory"], "memory.oom_control")
            self._oom_fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        for line in os.pread(self._oom_fd, 4096, 0).decode().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def member(self) -> bool:
        """True when the calling process is in every one of our groups.

        Inside the sandbox's cgroup namespace, rooted at our group, each path reads "/"; the
        memory group's own files then show our limit there.
        """
        wanted = {c: d[len(os.path.join(CGROUP_ROOT, c)) :] for c, d in self.dirs.items()}
        if all(_own_cgroup(c) == path for c, path in wanted.items()):
            return True
        return all(_own_cgroup(c) == "/" for c in wanted)

    def close(self) -> None:
        for fd in self._procs:
            os.close(fd)
        if self._oom_fd is not None:
            os.close(self._oom_fd)
            self._oom_fd = None
        for path in self.dirs.values():
            # The shared parent goes too once the last runner has left it.
            for empty in (path, os.path.dirname(path)):
                try:
                    os.rmdir(empty)
                except OSError:
                    break
