"""Start-up self-check, run inside a real sandboxed child instead of user code.

Reports which isolation layers are in force as seen from the inside: the doctor report and the
fail-closed decision rest on these observations, not on what the runner believes it set up.
Stdlib only; the runner loads this file by path.
"""

from __future__ import annotations

import os
import resource
import socket
from typing import Any

ALLOWED_ENV = {
    "PATH",
    "LANG",
    "LC_ALL",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
}


def observe(
    isolation: Any,
    host_ns: dict[str, int],
    limits: dict[str, Any],
    cgroups: Any,
    hidden_path: str,
) -> dict[str, Any]:
    """Each layer as a bool (plus the uid). `hidden_path` must not be visible from inside."""
    ns = isolation.namespace_ids()
    uid, gid = os.getuid(), os.getgid()
    expected = {
        resource.RLIMIT_CPU: isolation.cpu_rlimit(float(limits["cpu_seconds"])),
        resource.RLIMIT_AS: int(limits["memory_bytes"]),
        resource.RLIMIT_NPROC: int(limits["max_processes"]),
        resource.RLIMIT_NOFILE: int(limits["max_open_files"]),
        resource.RLIMIT_FSIZE: int(limits["max_file_bytes"]),
        resource.RLIMIT_CORE: 0,
    }
    return {
        "uid": uid,
        "uid_drop": 0 not in (uid, os.geteuid(), gid, os.getegid()) and not os.getgroups(),
        "capabilities_dropped": _no_capabilities(isolation),
        # Rootless: our own user namespace, an ordinary uid in it, mapped to one uid outside.
        "user_namespace": ns["user"] != host_ns.get("user") and 0 not in (uid, gid),
        "no_new_privs": isolation.proc_status_field("NoNewPrivs") == "1",
        "seccomp": isolation.proc_status_field("Seccomp") == "2" and _inet_socket_refused(),
        "pid_namespace": os.getpid() == isolation.CHILD_PID and ns["pid"] != host_ns["pid"],
        "net_namespace": ns["net"] != host_ns["net"] and _only_loopback(),
        "mount_namespace": ns["mnt"] != host_ns["mnt"] and not os.path.exists(hidden_path),
        "ipc_namespace": ns["ipc"] != host_ns["ipc"],
        "uts_namespace": ns["uts"] != host_ns["uts"],
        "tmp_private": _tmp_private(),
        "env_scrubbed": set(os.environ) <= ALLOWED_ENV,
        "rlimits": all(resource.getrlimit(k)[0] == v for k, v in expected.items()),
        "cgroup": cgroups is not None and cgroups.member(),
        "cgroup_namespace": ns["cgroup"] != host_ns.get("cgroup") and _cgroup_paths_hidden(),
    }


def _no_capabilities(isolation: Any) -> bool:
    fields = ("CapInh", "CapPrm", "CapEff", "CapAmb")
    return all(not isolation.proc_status_field(f).strip("0") for f in fields)


def _cgroup_paths_hidden() -> bool:
    """/proc/self/cgroup names no host path (and so no runner pid): every entry is "/"."""
    try:
        with open("/proc/self/cgroup") as fh:
            return all(line.rstrip("\n").split(":", 2)[2] == "/" for line in fh if line.strip())
    except (OSError, IndexError):
        return False


def _tmp_private() -> bool:
    """A writable /tmp holding nothing of anyone else's. The one thing allowed in it is the
    read-only path to NumPy when the checkout itself lives under /tmp (CI's fresh clones)."""
    if not (os.path.isdir("/tmp") and os.access("/tmp", os.W_OK)):
        return False
    return all(not os.access(os.path.join("/tmp", name), os.W_OK) for name in os.listdir("/tmp"))


def _inet_socket_refused() -> bool:
    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
    except PermissionError:
        return True
    except OSError:
        return False
    return False


def _only_loopback() -> bool:
    try:
        with open("/proc/net/dev") as fh:
            names = [line.split(":")[0].strip() for line in fh.readlines()[2:]]
    except OSError:
        return False
    return names in ([], ["lo"])
