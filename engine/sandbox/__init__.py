"""Run untrusted NumPy submissions in isolated children of warm runner processes.

    from engine.sandbox import Call, get_sandbox
    outcome = get_sandbox().run(source, "softmax", [Call((x,), {"axis": -1})])

`get_sandbox()` returns the process-wide pool (started lazily, thread-safe: call `run` from any
number of threads; it blocks the calling thread until the result is in). `shutdown()` stops the
runners (also registered with atexit). `doctor_report()` says which isolation layers a start-up
probe observed inside a real sandboxed child and whether grading may run (`ready`).

Environment (read when the pool is created):
    GRADER_SLOTS              runs that may start at once (default: CPU count)
    GRADER_QUEUE_SIZE         callers that may wait for a slot before QueueFull (default 4 x slots)
    GRADER_SANDBOX_UID_BASE   first uid handed to runners (default 60000; one uid per runner)
    GRADER_ALLOW_UNSANDBOXED  "1" runs submissions without isolation when it is unavailable,
                              marking results sandboxed=False (local development only)

Grading through the grader service (GRADER_SOCKET) or a Celery worker instead of this pool is
the web app's choice, made in one place: quiz.grading.

Confidentiality: every child is forked by a per-runner zygote created before any request, so no
submission's bytes are in the next one's address space; the pool leases a runner per grading
(`Pool.session`) and shares runners fairly between users (`user=` keys, one runner each).

Isolation modes (chosen by the runner at start-up; `doctor_report()["mode"]`):
    privileged  the runner is root: a distinct host uid per slot (RLIMIT_NPROC and kill() per
                uid), cgroups v1 memory/pids/cpu per slot, plus every layer below
    rootless    any user: the runner unshares a user namespace mapping only the caller's uid
                (as 0 inside), which owns every other namespace; each submission then enters
                a nested user namespace of its own as uid 1000 with no capabilities (RLIMIT_NPROC
                is counted per uid per user namespace, so per submission)
    both        PID namespace (a paused init + submission as PID 2), mount namespace with pivot_root to
                a minimal read-only root and private /tmp, empty network namespace, IPC, UTS and
                cgroup namespaces, seccomp deny-list, no_new_privs, rlimits, scrubbed environment

Which layer stops which attack of tests/engine/sandbox/test_adversarial.py (the suite runs in
both modes: `make test` = privileged as root + scripts/test-rootless.sh as nobody):

    attack (examples)                               privileged            rootless
    read /etc/shadow, the app DB, the repo, /root   mount ns + uid        mount ns (+ userns: the
                                                                          host files are not in
                                                                          the view at all)
    /proc/<runner>/environ, other submissions       PID ns, hidepid, uid  PID ns, hidepid, userns
    TCP/UDP to localhost, other socket families     net ns + seccomp      net ns + seccomp
    fork/thread bomb, subprocess, execve            RLIMIT_NPROC per uid  RLIMIT_NPROC per userns
                                                    + pids cgroup,        + seccomp (no execve)
                                                    seccomp (no execve)
    double-forked daemon                            PID ns (init killed)  PID ns (init killed)
    memory bomb (one process)                       RLIMIT_AS + cgroup    RLIMIT_AS
    memory bomb across children (max_processes>1)   memory cgroup total   NOT bounded as a total:
                                                                          processes x RLIMIT_AS
    infinite loop, ignoring SIGXCPU/SIGTERM         RLIMIT_CPU, wall kill RLIMIT_CPU, wall kill
    long submission hogging the CPU                 cpu.shares demotion   (no demotion)
    raise rlimits, setuid(0), new namespaces,       hard limits, uid,     hard limits, uid 0
      mount, ptrace, kill the runner                seccomp, PID ns       unmapped, no caps,
                                                                          seccomp, PID ns
    forged results, huge output, odd dtypes,        trusted-side decoding (wire, outcome.py):
      mutated inputs, sys.exit mid-test             the same in both modes

Layout: pool.py (trusted side) · spawn.py (starting a runner, without NumPy) · runner.py (warm
runner process, started as `python -I -S`: protocol, spares, set-up) · zygote.py (forks every
sandbox; the user child's isolation steps) · supervise.py (watching one run under caps and
deadlines) · child.py (runs the submission) · isolation.py (namespaces, mounts, uid, rlimits,
the namespace init) · seccomp.py · cgroups.py · wire.py (raw-array codec shared by both sides) ·
outcome.py (response -> RunOutcome) · doctor.py (fail-closed policy) · probe.py (what the
start-up probe observes) · api.py (contract) · service.py (the grader as a root service on a
unix socket, for an unprivileged web tier).
"""

from __future__ import annotations

import atexit
import importlib
import os
import subprocess
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.sandbox.api import (
        Call,
        CallOutcome,
        CallStatus,
        Limits,
        QueueFull,
        RunOutcome,
        RunStatus,
        Sandbox,
        Value,
    )
    from engine.sandbox.pool import Pool

__all__ = [
    "Call",
    "CallOutcome",
    "CallStatus",
    "Limits",
    "Pool",
    "QueueFull",
    "RunOutcome",
    "RunStatus",
    "Sandbox",
    "Value",
    "doctor_report",
    "get_sandbox",
    "shutdown",
    "start_for_one_grade",
]
# Imported on first use (PEP 562): `import engine.sandbox` costs no NumPy import, so the command
# line can start its runner first (start_for_one_grade).
_LAZY = {name: "api" for name in __all__[:10]} | {"Pool": "pool"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"engine.sandbox.{module}"), name)
    globals()[name] = value
    return value


_lock = threading.Lock()
_pool: Pool | None = None
_prestarted: subprocess.Popen[bytes] | None = None  # start_for_one_grade's runner, not yet used


def _slots_from_env() -> int | None:
    value = os.environ.get("GRADER_SLOTS")
    return int(value) if value else None


def _queue_from_env() -> int | None:
    value = os.environ.get("GRADER_QUEUE_SIZE")
    return int(value) if value else None


def get_sandbox() -> Pool:
    """This process's pool of warm runners, started lazily (one per process: a forked worker
    gets its own fresh pool), in privileged or rootless mode.

    Whether a process grades with it at all (rather than through the grader service on a unix
    socket, or by handing the submission to a Celery worker) is decided in one place, the web
    app's grading backend: quiz.grading (GRADER_SOCKET, GRADER_BROKER_URL).
    """
    global _pool, _prestarted
    from engine.sandbox.pool import Pool

    with _lock:
        if _pool is None or _pool.pid != os.getpid():
            if _prestarted is not None:  # one grading: that runner, two sandboxes ahead
                _pool = Pool(slots=1, queue_size=1, overflow=0, spares=2, prestarted=_prestarted)
                _prestarted = None
            else:
                _pool = Pool(slots=_slots_from_env(), queue_size=_queue_from_env())
        return _pool


def start_for_one_grade() -> None:
    """Start the runner one grading needs, now (the command line calls this first thing).

    Its interpreter start, NumPy import, isolation set-up and probe then run beside the
    caller's own imports; the next `get_sandbox()` adopts it, keeping two sandboxes forked
    ahead (the visible child's and the hidden one's). No-op with a pool already running.
    """
    global _prestarted
    from engine.sandbox import spawn

    with _lock:
        if (_pool is None or _pool.pid != os.getpid()) and _prestarted is None:
            _prestarted = spawn.spawn_runner(spawn.uid_base_from_env(), spares=2, quiet=True)


def doctor_report(sandbox: Sandbox | None = None) -> dict[str, Any]:
    """Which layers are active (probed inside a real sandboxed child) and whether we may run.

    `sandbox`: whose runners to report, this process's pool by default; a grader service
    client (anything with `doctor()`) asks the service, whose runners are the ones that matter.
    """
    from engine.sandbox.doctor import evaluate
    from engine.sandbox.pool import Pool, allow_unsandboxed

    sandbox = get_sandbox() if sandbox is None else sandbox
    if isinstance(sandbox, Pool):
        report = evaluate(sandbox.layers(), allow_unsandboxed())
        return dict(report, backend="in-process")
    doctor = getattr(sandbox, "doctor", None)
    if doctor is None:  # a stand-in sandbox of the tests
        return evaluate(sandbox.layers(), allow_unsandboxed())  # type: ignore[attr-defined]
    return dict(doctor(), backend="unix-socket")


def shutdown(wait: bool = True) -> None:
    """Stop the runners (tests, atexit). A later get_sandbox() starts a new pool.

    `wait=False` (a command line about to exit) only tells them to leave: they tear their
    sandboxes down on their own, after the caller has gone.
    """
    global _pool, _prestarted
    with _lock:
        pool, _pool = _pool, None
        prestarted, _prestarted = _prestarted, None
    if prestarted is not None and prestarted.stdin is not None:
        prestarted.stdin.close()  # unused: end of input makes it leave
        if wait:
            prestarted.wait()
    if pool is not None and pool.pid == os.getpid():
        pool.close(wait=wait)


atexit.register(shutdown)
