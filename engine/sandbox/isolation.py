"""Linux isolation primitives for the warm runner: namespaces, mounts, uid drop, rlimits.

Stdlib only; the runner loads this file by path (seccomp.py and cgroups.py hold the other two
layers). Python 3.11 has no os.unshare/setns/mount/pivot_root, so libc is called through ctypes.
Every function raises OSError on failure: callers fail closed.
"""

from __future__ import annotations

import ctypes
import errno
import math
import os
import resource
import signal
from dataclasses import dataclass

_libc = ctypes.CDLL(None, use_errno=True)

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEW_ANY = (
    CLONE_NEWNS
    | CLONE_NEWUTS
    | CLONE_NEWIPC
    | CLONE_NEWUSER
    | CLONE_NEWPID
    | CLONE_NEWNET
    | CLONE_NEWCGROUP
)
# What each submission gets beyond the PID namespace (which the runner unshares before forking).
# The network namespace is the runner's own, empty one (see runner.py): creating and destroying
# one per submission costs ~1 ms plus kernel clean-up work, and with AF_INET refused by seccomp
# and every process of a submission dead before the next starts, nothing crosses it. IPC objects
# outlive their processes, so System V IPC gets a fresh namespace every time. The cgroup namespace
# hides the host's cgroup paths (and the runner's pid in our group names) from /proc/self/cgroup.
CHILD_NAMESPACES = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
SYS_PIVOT_ROOT = 155  # x86-64
SYS_PAUSE = 34  # x86-64
CLONE_VM = 0x100
CLONE_FILES = 0x400
CLONE_PIDFD = 0x1000
CHILD_PID = 2  # the submission is always PID 2 in its namespace, after the namespace's init

_libc.mount.argtypes = [
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_ulong,
    ctypes.c_char_p,
]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
_libc.prctl.argtypes = [
    ctypes.c_int,
    ctypes.c_ulong,
    ctypes.c_ulong,
    ctypes.c_ulong,
    ctypes.c_ulong,
]
_libc.clone.argtypes = [
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_int,
    ctypes.c_void_p,
    ctypes.POINTER(ctypes.c_int),
    ctypes.c_void_p,
    ctypes.c_void_p,
]
_libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]


def libc() -> ctypes.CDLL:
    return _libc


def check(result: int, what: str) -> None:
    """Raise OSError (with errno) when a libc call returned non-zero."""
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _b(path: str | None) -> bytes | None:
    return None if path is None else os.fsencode(path)


def unshare(flags: int) -> None:
    check(_libc.unshare(flags), f"unshare({flags:#x})")


def setns(fd: int, nstype: int) -> None:
    check(_libc.setns(fd, nstype), "setns")


def mount(
    source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None
) -> None:
    check(_libc.mount(_b(source), _b(target), _b(fstype), flags, _b(data)), f"mount {target}")


def umount2(target: str, flags: int) -> None:
    check(_libc.umount2(_b(target), flags), f"umount {target}")


def pivot_root(new_root: str, put_old: str) -> None:
    check(_libc.syscall(SYS_PIVOT_ROOT, _b(new_root), _b(put_old)), "pivot_root")


def prctl(option: int, arg: int = 0) -> None:
    check(_libc.prctl(option, arg, 0, 0, 0), f"prctl({option})")


def sethostname(name: str) -> None:
    data = name.encode()
    check(_libc.sethostname(data, len(data)), "sethostname")


MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_RELATIME = 1 << 21
# statvfs flag -> mount flag. Inside a user namespace the flags of a mount inherited from the
# host are locked: a remount that would drop one of them is refused, so carry them over.
_LOCKED_FLAGS = (
    (os.ST_NOEXEC, MS_NOEXEC),
    (os.ST_NOATIME, MS_NOATIME),
    (os.ST_NODIRATIME, MS_NODIRATIME),
    (os.ST_RELATIME, MS_RELATIME),
)


def _kept_flags(path: str) -> int:
    found = os.statvfs(path).f_flag
    return sum(ms for st, ms in _LOCKED_FLAGS if found & st)


def bind_readonly(source: str, target: str) -> None:
    """Bind `source` at `target` read-only: a bind ignores MS_RDONLY, so remount it after."""
    mount(source, target, None, MS_BIND | MS_REC)
    flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | _kept_flags(target)
    mount(None, target, None, flags)


# --- the read-only root every submission sees -------------------------------------------------


@dataclass(frozen=True)
class RootView:
    """A read-only tree built once in the runner's private mount namespace."""

    path: str  # the new root, itself a tmpfs mount point
    binds: tuple[str, ...] = ()  # the read-only directories bound inside, by real path


def build_root_view(carrier: str, readonly_dirs: list[str], hide_dirs: list[str]) -> RootView:
    """Build the sandbox's root filesystem in the runner's own (private) mount namespace.

    `carrier` is an existing directory we may cover with a tmpfs (only in this namespace).
    `readonly_dirs` are bound read-only at the same path inside; their parents are recreated
    with mode 0755 so an unprivileged uid can reach them (the Python prefix sits under /root).
    `hide_dirs` (inside bound dirs) get covered by an empty read-only tmpfs.
    """
    unshare(CLONE_NEWNS)
    # Never before unsharing: on the host this would change propagation for everyone.
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    mount("sbx", carrier, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
    root = os.path.join(carrier, "root")
    os.mkdir(root, 0o755)
    mount("sbxroot", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
    for name in ("tmp", "proc", "dev", "etc", "var", "var/tmp", "dev/shm"):
        os.makedirs(os.path.join(root, name), 0o755, exist_ok=True)
    for name, target in (("bin", "usr/bin"), ("lib", "usr/lib"), ("lib64", "usr/lib64")):
        if os.path.isdir(os.path.join("/", target)):
            os.symlink(target, os.path.join(root, name))
    for dev in ("null", "zero", "random", "urandom"):
        inside = os.path.join(root, "dev", dev)
        open(inside, "w").close()
        mount(f"/dev/{dev}", inside, None, MS_BIND)
        flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC | _kept_flags(inside)
        mount(None, inside, None, flags)
    with open(os.path.join(root, "etc", "hostname"), "w") as fh:
        fh.write("sandbox\n")
    bound: list[str] = []
    for src in readonly_dirs:
        real = os.path.realpath(src)
        if any(os.path.commonpath([real, done]) == done for done in bound):
            continue  # already visible through a bind of a parent (Debian's python in /usr)
        bound.append(real)
        inside = root + real
        os.makedirs(inside, 0o755, exist_ok=True)
        # makedirs honours the umask; make every component traversable for the sandbox uid.
        part = inside
        while part != root:
            os.chmod(part, 0o755)
            part = os.path.dirname(part)
        bind_readonly(src, inside)
    for hidden in hide_dirs:
        inside = root + os.path.realpath(hidden)
        if os.path.isdir(inside):
            mount("empty", inside, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=0555")
    mount(None, root, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
    return RootView(root, tuple(os.path.realpath(src) for src in readonly_dirs))


def enter_root_view(view: RootView, uid: int, tmp_bytes: int) -> None:
    """In a fresh mount + PID namespace (as its init): private /tmp, fresh /proc, pivot_root."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    size = max(tmp_bytes, 1 << 20)
    opts = f"size={size},nr_inodes=1024,mode=0700,uid={uid},gid={uid}"
    for scratch in ("tmp", "var/tmp", "dev/shm"):
        mount("tmp", os.path.join(view.path, scratch), "tmpfs", MS_NOSUID | MS_NODEV, opts)
        # A checkout under /tmp (CI's fresh clones) has its NumPy there: the fresh scratch
        # tmpfs would hide it, so bind it again, read-only, at the same path on top.
        for src in view.binds:
            if src.startswith(f"/{scratch}/"):
                inside = view.path + src
                os.makedirs(inside, 0o755, exist_ok=True)
                bind_readonly(src, inside)
                # Read-only parents as well: rootless, the submission owns what init made here.
                part = os.path.dirname(inside)
                while part != os.path.join(view.path, scratch):
                    os.chmod(part, 0o555)
                    part = os.path.dirname(part)
    # hidepid=2: the submission sees only its own processes, not the root-owned init.
    mount(
        "proc",
        os.path.join(view.path, "proc"),
        "proc",
        MS_NOSUID | MS_NODEV | MS_NOEXEC,
        "hidepid=2",
    )
    os.chdir(view.path)
    pivot_root(".", ".")
    umount2(".", MNT_DETACH)
    os.chdir("/")


def resize_tmp(size: int, uid: int) -> None:
    """Give the submission's /tmp (already mounted, after pivot_root) a different size cap."""
    opts = f"size={size},nr_inodes=1024,mode=0700,uid={uid},gid={uid}"
    mount(None, "/tmp", None, MS_REMOUNT | MS_NOSUID | MS_NODEV, opts)


# --- credentials and limits -----------------------------------------------------------------

ROOTLESS_INNER_UID = 1000  # what a rootless submission sees as its uid (and gid)
USERNS_HELP = (
    "user namespaces are refused for this user: enable them with "
    "`sysctl -w kernel.unprivileged_userns_clone=1` (older Debian/Ubuntu kernels), "
    "`sysctl -w user.max_user_namespaces=15000` (when it is 0), "
    "`sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` (Ubuntu 23.10+), or allow "
    "unshare/clone(CLONE_NEWUSER) in the container's seccomp profile; or run the grader as root"
)


def enter_user_namespace(inside_id: int) -> None:
    """Unshare a user namespace mapping only our own uid and gid, seen inside as `inside_id`.

    An unprivileged process may map exactly its own ids, and only after refusing setgroups.
    We then hold every capability, but only over namespaces this user namespace will own.
    """
    uid, gid = os.geteuid(), os.getegid()
    unshare(CLONE_NEWUSER)
    for name, text in (
        ("setgroups", "deny"),
        ("uid_map", f"{inside_id} {uid} 1\n"),
        ("gid_map", f"{inside_id} {gid} 1\n"),
    ):
        with open(f"/proc/self/{name}", "w") as fh:
            fh.write(text)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def drop_capabilities() -> None:
    """Empty effective, permitted and inheritable sets: nothing to regain (exec is refused)."""
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    check(_libc.capset(ctypes.byref(header), data), "capset")
    if proc_status_field("CapEff").strip("0") or proc_status_field("CapPrm").strip("0"):
        raise OSError(errno.EPERM, "capabilities still held after capset")


def drop_privileges(uid: int, gid: int) -> None:
    """Become uid/gid for real (groups first: without CAP_SETGID we could no longer drop them)."""
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid or os.getgid() != gid or os.getgroups():
        raise OSError(errno.EPERM, "uid drop did not take effect")
    try:
        os.setuid(0)
    except PermissionError:
        pass
    else:
        raise OSError(errno.EPERM, "could regain root after the uid drop")


def set_parent_death_signal() -> None:
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def set_no_new_privs() -> None:
    prctl(PR_SET_NO_NEW_PRIVS, 1)


def cpu_rlimit(seconds: float) -> int:
    """RLIMIT_CPU counts whole seconds: round up, at least one."""
    return max(1, math.ceil(seconds))


@dataclass(frozen=True)
class RlimitPlan:
    cpu_seconds: int
    memory_bytes: int
    file_bytes: int
    open_files: int
    processes: int

    def apply(self) -> None:
        """Set hard = soft (CPU: hard one second later, so SIGXCPU comes first)."""
        pairs = {
            resource.RLIMIT_CPU: (self.cpu_seconds, self.cpu_seconds + 1),
            resource.RLIMIT_AS: (self.memory_bytes, self.memory_bytes),
            resource.RLIMIT_FSIZE: (self.file_bytes, self.file_bytes),
            resource.RLIMIT_NOFILE: (self.open_files, self.open_files),
            resource.RLIMIT_NPROC: (self.processes, self.processes),
            resource.RLIMIT_CORE: (0, 0),
            resource.RLIMIT_MEMLOCK: (0, 0),
            resource.RLIMIT_MSGQUEUE: (0, 0),
        }
        for which, pair in pairs.items():
            resource.setrlimit(which, pair)


# --- the PID namespace's init ----------------------------------------------------------------

INIT_STACK_BYTES = 16 * 1024
_SYSCALL = ctypes.cast(_libc.syscall, ctypes.c_void_p).value


class NamespaceInit:
    """PID 1 of a fresh PID namespace that only waits to be killed; SIGKILL of it ends every
    process of the namespace (double-forked daemons included).

    Made with clone(CLONE_VM | CLONE_FILES): it shares the caller's memory and descriptor
    table, so making it copies no page tables and its exit frees nothing (a forked Python init
    cost ~4 ms of CPU per sandbox here). It runs libc's `syscall(SYS_pause)` on a stack of its
    own and never touches the caller's memory; with no signal handler installed, only a kill
    ends the pause, and glibc's clone then exits the task directly. It shares the caller's
    memory, so the caller must be out of the sandbox's ptrace reach (root, or the runner's user
    namespace: see zygote.py); and since it cannot hold a parent-death signal, the caller is the
    init of an enclosing PID namespace, whose death takes these inits along.
    """

    def __init__(self) -> None:
        self._stack = ctypes.create_string_buffer(INIT_STACK_BYTES)  # kept until it is reaped
        top = (ctypes.addressof(self._stack) + INIT_STACK_BYTES) & ~0xF
        pidfd = ctypes.c_int(-1)
        flags = CLONE_VM | CLONE_FILES | CLONE_NEWPID | CLONE_PIDFD | signal.SIGCHLD
        pid = _libc.clone(_SYSCALL, top, flags, SYS_PAUSE, ctypes.byref(pidfd), None, None)
        if pid <= 0:
            err = ctypes.get_errno()
            raise OSError(err, f"clone (namespace init): {os.strerror(err)}")
        self.pid: int = pid
        self.pidfd: int = pidfd.value


def namespace_ids() -> dict[str, int]:
    """Inode of each namespace this process is in (compare before/after to prove a new one)."""
    ids = {}
    for name in ("pid", "net", "mnt", "ipc", "uts", "cgroup", "user"):
        try:
            ids[name] = os.stat(f"/proc/self/ns/{name}").st_ino
        except OSError:
            ids[name] = 0
    return ids


def proc_status_field(name: str) -> str:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(name + ":"):
                return line.split(":", 1)[1].strip()
    return ""
