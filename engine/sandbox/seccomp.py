"""The seccomp deny-list every submission runs under: compiled once, loaded per child.

Stdlib only at load time (pyseccomp is imported once, by the runner, to compile the filter); the
runner loads this file by path, after isolation.py.
"""

from __future__ import annotations

import ctypes
import errno
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.sandbox import isolation
else:  # loaded by path in the runner, never as engine.*
    isolation = sys.modules["_sandbox_isolation"]

PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
# A second handle on prctl whose third argument is a pointer (the seccomp program).
_prctl_ptr = isolation.libc()["prctl"]
_prctl_ptr.argtypes = [
    ctypes.c_int,
    ctypes.c_ulong,
    ctypes.c_void_p,
    ctypes.c_ulong,
    ctypes.c_ulong,
]

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


class FilterCompilation:
    """The deny-list filter, compiled in a short-lived child started now; `program()` waits.

    Children load the bytes (~0.4 ms cheaper each than compiling). pyseccomp imports `threading`
    and `random`, whose fork handlers would then run in every sandbox forked later (~0.6 ms of
    CPU each): compiling in a throwaway child keeps them out of the runner and the zygote. The
    runner starts it before importing NumPy, so the two overlap.
    """

    def __init__(self) -> None:
        self._error: OSError | None = None
        self._read_fd = -1
        self._pid = -1
        try:
            self._read_fd, write_fd = os.pipe()
        except OSError as exc:
            self._error = exc
            return
        try:
            self._pid = os.fork()
        except OSError as exc:
            os.close(self._read_fd)
            os.close(write_fd)
            self._error = exc
            return
        if self._pid == 0:
            code = 1
            try:
                os.close(self._read_fd)
                view = memoryview(_compile_program())
                while view:
                    view = view[os.write(write_fd, view) :]
                code = 0
            finally:
                os._exit(code)
        os.close(write_fd)

    def program(self) -> bytes:
        """The BPF program; OSError when the child could not compile it."""
        if self._error is not None:
            raise self._error
        try:
            chunks = []
            while chunk := os.read(self._read_fd, 65536):
                chunks.append(chunk)
        finally:
            os.close(self._read_fd)
            _, status = os.waitpid(self._pid, 0)
        program = b"".join(chunks)
        if os.waitstatus_to_exitcode(status) != 0 or not program or len(program) % 8:
            raise OSError(errno.EINVAL, "seccomp filter could not be compiled")
        return program


def _compile_program() -> bytes:
    import pyseccomp as sc  # only the runner has it on sys.path; submissions never import it

    eperm = sc.ERRNO(errno.EPERM)
    flt = sc.SyscallFilter(sc.ALLOW)
    for name in DENIED_SYSCALLS:
        flt.add_rule(eperm, name)
    # No sockets of any family: results travel on an inherited pipe, nothing else is needed.
    flt.add_rule(eperm, "socket")
    flt.add_rule(eperm, "socketpair")
    # Signals only to itself: not to init, not to -1, not to a process group.
    flt.add_rule(eperm, "kill", sc.Arg(0, sc.NE, isolation.CHILD_PID))
    flt.add_rule(eperm, "tgkill", sc.Arg(0, sc.NE, isolation.CHILD_PID))
    flt.add_rule(eperm, "tkill", sc.Arg(0, sc.NE, isolation.CHILD_PID))
    # No new namespaces through clone; clone3 passes flags in memory we cannot inspect, so
    # answer ENOSYS and let glibc fall back to clone.
    for flag in _each_bit(isolation.CLONE_NEW_ANY):
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
    return b"".join(chunks)


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
        isolation.check(
            _prctl_ptr(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, self._address, 0, 0), "seccomp"
        )
