"""Linux isolation primitives for the warm runner: namespaces, mounts, uid drop, rlimits, seccomp.

Stdlib only (pyseccomp is imported lazily, once, to compile the filter); the runner loads this
file by path. Python 3.11 has no os.unshare/setns/mount/pivot_root, so libc is called through
ctypes. Every function raises OSError on failure: callers fail closed.
"""

from __future__ import annotations

import contextlib
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
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SYS_PIVOT_ROOT = 155  # x86-64

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
# A second handle on prctl whose third argument is a pointer (the seccomp program).
_prctl_ptr = _libc["prctl"]
_prctl_ptr.argtypes = [
    ctypes.c_int,
    ctypes.c_ulong,
    ctypes.c_void_p,
    ctypes.c_ulong,
    ctypes.c_ulong,
]
_libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _b(path: str | None) -> bytes | None:
    return None if path is None else os.fsencode(path)


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), f"unshare({flags:#x})")


def setns(fd: int, nstype: int) -> None:
    _check(_libc.setns(fd, nstype), "setns")


def mount(
    source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None
) -> None:
    _check(_libc.mount(_b(source), _b(target), _b(fstype), flags, _b(data)), f"mount {target}")


def umount2(target: str, flags: int) -> None:
    _check(_libc.umount2(_b(target), flags), f"umount {target}")


def pivot_root(new_root: str, put_old: str) -> None:
    _check(_libc.syscall(SYS_PIVOT_ROOT, _b(new_root), _b(put_old)), "pivot_root")


def prctl(option: int, arg: int = 0) -> None:
    _check(_libc.prctl(option, arg, 0, 0, 0), f"prctl({option})")


def sethostname(name: str) -> None:
    data = name.encode()
    _check(_libc.sethostname(data, len(data)), "sethostname")


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
    _check(_libc.capset(ctypes.byref(header), data), "capset")
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


# --- seccomp --------------------------------------------------------------------------------

DENIED_SYSCALLS = (
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "execve",
    "execveat",
    "bpf",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "keyctl",
    "add_key",
    "request_key",
    "perf_event_open",
    "userfaultfd",
    "open_by_handle_at",
    "name_to_handle_at",
    "pidfd_open",
    "pidfd_getfd",
    "pidfd_send_signal",
    "rt_sigqueueinfo",
    "rt_tgsigqueueinfo",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "syslog",
    "acct",
    "quotactl",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "move_mount",
    "open_tree",
    "mount_setattr",
    "personality",
    "setdomainname",
    "sethostname",
    "settimeofday",
    "clock_settime",
    "adjtimex",
    "clock_adjtime",
    "lookup_dcookie",
    "vhangup",
    "iopl",
    "ioperm",
)
CHILD_PID = 2  # the submission is always PID 2 in its namespace, after the trusted init


def compile_seccomp_filter() -> bytes:
    """Compile the deny-list filter once; children load the BPF bytes (~0.4 ms cheaper each)."""
    import pyseccomp as sc  # only the runner has it on sys.path; submissions never import it

    eperm = sc.ERRNO(errno.EPERM)
    flt = sc.SyscallFilter(sc.ALLOW)
    for name in DENIED_SYSCALLS:
        flt.add_rule(eperm, name)
    # No sockets of any family: results travel on an inherited pipe, nothing else is needed.
    flt.add_rule(eperm, "socket")
    flt.add_rule(eperm, "socketpair")
    # Signals only to itself: not to init, not to -1, not to a process group.
    flt.add_rule(eperm, "kill", sc.Arg(0, sc.NE, CHILD_PID))
    flt.add_rule(eperm, "tgkill", sc.Arg(0, sc.NE, CHILD_PID))
    flt.add_rule(eperm, "tkill", sc.Arg(0, sc.NE, CHILD_PID))
    # No new namespaces through clone; clone3 passes flags in memory we cannot inspect, so
    # answer ENOSYS and let glibc fall back to clone.
    for flag in _each_bit(CLONE_NEW_ANY):
        flt.add_rule(eperm, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    flt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    read_fd, write_fd = os.pipe()
    try:
        with os.fdopen(write_fd, "wb", closefd=True) as out:
            flt.export_bpf(out)
        chunks = []
        while chunk := os.read(read_fd, 65536):
            chunks.append(chunk)
    finally:
        os.close(read_fd)
    program = b"".join(chunks)
    if not program or len(program) % 8:
        raise OSError(errno.EINVAL, "seccomp export produced no program")
    return program


def _each_bit(mask: int) -> list[int]:
    return [1 << k for k in range(mask.bit_length()) if mask >> k & 1]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class SeccompProgram:
    """A compiled filter with its `sock_fprog` built once in the runner.

    Forked children then make a single prctl() call: building the ctypes structures in each
    child cost more than the kernel's work (their pages are fresh copy-on-write faults).
    """

    def __init__(self, program: bytes) -> None:
        self.program = program
        self._buffer = ctypes.create_string_buffer(program, len(program))
        self._fprog = _SockFprog(len(program) // 8, ctypes.addressof(self._buffer))
        self._address = ctypes.addressof(self._fprog)

    def load(self) -> None:
        """Install the filter in the calling process (needs NO_NEW_PRIVS first)."""
        _check(_prctl_ptr(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, self._address, 0, 0), "seccomp")


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


# --- cgroups (v1 here: memory, pids and cpu controllers) -------------------------------------

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

    def oom_kills(self) -> int:
        with open(os.path.join(self.dirs["memory"], "memory.oom_control")) as fh:
            for line in fh:
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
        for path in self.dirs.values():
            # The shared parent goes too once the last runner has left it.
            for empty in (path, os.path.dirname(path)):
                try:
                    os.rmdir(empty)
                except OSError:
                    break
