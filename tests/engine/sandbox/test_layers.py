"""Each isolation layer, observed from inside a real sandboxed child.

These run as root on Linux (as CI does: privileged mode), and again as an ordinary user (rootless
mode, SANDBOX_TEST_MODE=rootless). A missing layer fails here loudly: nothing is skipped.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from engine.sandbox import Call, Pool, doctor_report
from tests.engine.sandbox.conftest import RELU, ROOTLESS, X

PROBE_HEAD = "import numpy as np\nimport os\n\ndef relu(x):\n"


def inside(pool: Pool, body: str) -> str:
    """Run `body` inside relu() in the sandbox; return what it printed (it must not raise)."""
    source = (
        PROBE_HEAD
        + "".join(f"    {line}\n" for line in body.strip().splitlines())
        + "    return np.maximum(x, 0)\n"
    )
    out = pool.run(source, "relu", [Call((X.copy(),))])
    assert out.status == "ok", (out.status, out.message)
    call = out.calls[0]
    assert call.status == "ok", call.error
    np.testing.assert_array_equal(call.value, np.maximum(X, 0))
    return call.stdout.strip()


def test_runs_in_the_mode_asked_for(pool: Pool) -> None:
    if ROOTLESS:
        assert os.geteuid() != 0, "the rootless pass must run as an ordinary user"
    else:
        assert os.geteuid() == 0, "the sandbox tests expect root, as on CI"
    assert pool.layers()["mode"] == ("rootless" if ROOTLESS else "privileged")


@pytest.mark.skipif(not ROOTLESS, reason="rootless mode: the pass as an ordinary user")
def test_rootless_user_namespace_of_its_own(pool: Pool) -> None:
    """One ordinary uid inside, mapped to the caller's; no capabilities; uid 0 unmapped."""
    out = inside(pool, "print(os.getuid(), os.getgid(), open('/proc/self/uid_map').read())")
    uid, gid, inner, outer, count = out.split()
    assert (int(uid), int(gid)) == (1000, 1000)
    assert (int(inner), int(count)) == (1000, 1) and int(outer) == 0  # the runner's namespace
    status = inside(pool, "print(open('/proc/self/status').read())")
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    assert fields["CapEff"].strip() == fields["CapPrm"].strip() == "0000000000000000"


@pytest.mark.skipif(ROOTLESS, reason="privileged mode: distinct host uids need root")
def test_unprivileged_uid_of_its_own(pool: Pool) -> None:
    uid, gid, groups = inside(pool, "print(os.getuid(), os.getgid(), os.getgroups())").split(" ", 2)
    assert int(uid) not in (0, os.getuid()) and int(gid) != 0
    assert groups == "[]"
    assert int(uid) in pool.sandbox_uids()
    ids = inside(pool, "print(os.geteuid(), *os.getresuid(), *os.getresgid())").split()
    assert len(set(ids)) == 1 and int(ids[0]) in pool.sandbox_uids()
    # Each runner has uids of its own, one per cgroup slot (RLIMIT_NPROC counts per uid).
    assert len(pool.sandbox_uids()) == 3 * len(pool._idle)


def test_no_new_privs_seccomp_and_nondumpable(pool: Pool) -> None:
    status = inside(pool, "print(open('/proc/self/status').read())")
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    assert fields["NoNewPrivs"].strip() == "1"
    assert fields["Seccomp"].strip() == "2"
    assert fields["CapEff"].strip() == "0000000000000000"
    assert fields["CapPrm"].strip() == "0000000000000000"


def test_parent_death_signal_is_set(pool: Pool) -> None:
    out = inside(
        pool,
        """
import ctypes
libc = ctypes.CDLL(None)
sig = ctypes.c_int(0)
libc.prctl(2, ctypes.byref(sig), 0, 0, 0)
print(sig.value)
""",
    )
    assert out == "9"


def test_pid_namespace(pool: Pool) -> None:
    # PID 2 under the namespace's (hidden) init; its parent, the zygote, is outside: ppid 0.
    assert (
        inside(
            pool,
            "print(os.getpid(), os.getppid(), sorted(p for p in os.listdir('/proc') if p.isdigit()))",
        )
        == "2 0 ['2']"
    )


def test_the_namespace_init_is_out_of_reach(pool: Pool) -> None:
    """The init shares the zygote's memory: nothing of it may be opened from inside."""
    out = inside(
        pool,
        """
for name in ('mem', 'maps', 'environ', 'status', 'fd', 'root'):
    try:
        os.listdir('/proc/1/' + name) if name in ('fd', 'root') else open('/proc/1/' + name, 'rb').read(1)
        print(name, 'OPEN')
    except OSError as exc:
        print(name, type(exc).__name__)
""",
    )
    assert "OPEN" not in out and out.count("\n") == 5, out


def test_no_network(pool: Pool) -> None:
    out = inside(
        pool,
        """
devs = [l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:]]
routes = open('/proc/net/route').read().splitlines()[1:]
print(devs, routes, open('/proc/net/if_inet6').read().split())
""",
    )
    assert out == "['lo'] [] []"  # only loopback, without addresses, and no routes
    # Seen from outside: the runner's namespace (which its submissions share) has lo down.
    pool.layers()
    runner_pid = pool._idle[0].proc.pid
    # Rootless, the runner's network namespace belongs to its user namespace: enter that first.
    userns = [f"--user=/proc/{runner_pid}/ns/user", "--preserve-credentials"] if ROOTLESS else []
    link = subprocess.run(
        ["nsenter", *userns, f"--net=/proc/{runner_pid}/ns/net", "ip", "-o", "link", "show"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert link.count("\n") == 1 and ": lo:" in link and "state DOWN" in link
    assert ",UP" not in link and "<UP" not in link


def test_network_namespace_is_new(pool: Pool) -> None:
    inode = inside(
        pool,
        "print(os.stat('/proc/self/ns/net').st_ino, os.stat('/proc/self/ns/mnt').st_ino, os.stat('/proc/self/ns/ipc').st_ino, os.stat('/proc/self/ns/uts').st_ino)",
    )
    here = [os.stat(f"/proc/self/ns/{n}").st_ino for n in ("net", "mnt", "ipc", "uts")]
    assert all(a != b for a, b in zip(map(int, inode.split()), here, strict=True))
    assert inside(pool, "import socket; print(socket.gethostname())") == "sandbox"


def test_tmp_is_empty_private_and_fresh_each_time(pool: Pool) -> None:
    # Empty, except that a NumPy under /tmp or /var/tmp (CI's fresh clones, the rootless pass's
    # venv) shows its top folder there: the read-only path leading to it.
    numpy_path = str(Path(np.__file__).resolve())

    def skeleton(scratch: str) -> list[str]:
        if not numpy_path.startswith(scratch + "/"):
            return []
        return [numpy_path[len(scratch) + 1 :].split("/")[0]]

    assert (
        inside(
            pool, "print(os.listdir('/tmp'), os.getcwd()); open('/tmp/leftover', 'w').write('x')"
        )
        == f"{skeleton('/tmp')} /tmp"
    )
    assert (
        inside(pool, "print(os.listdir('/tmp'), os.listdir('/var/tmp'), os.listdir('/dev/shm'))")
        == f"{skeleton('/tmp')} {skeleton('/var/tmp')} []"
    )
    assert not os.path.exists("/tmp/leftover")


def test_root_filesystem_is_minimal_and_read_only(pool: Pool) -> None:
    out = inside(
        pool,
        """
print(sorted(os.listdir('/')))
print(sorted(os.listdir('/dev')), sorted(os.listdir('/etc')))
for p in ('/usr/pwn', '/etc/pwn', np.__file__ + '.pwn'):
    try:
        open(p, 'w')
        print('WROTE', p)
    except OSError as e:
        print(e.errno)
""",
    )
    lines = out.splitlines()
    # Besides the system's own, only the top folders leading to NumPy (e.g. /work or /tmp) and
    # to the standard library (/root here, /usr for Debian's python).
    tops = {Path(path).resolve().parts[1] for path in (np.__file__, os.__file__)}
    expected = {"bin", "dev", "etc", "lib", "lib64", "proc", "tmp", "usr", "var"}
    assert eval(lines[0]) == sorted(expected | tops)
    assert lines[1] == "['null', 'random', 'shm', 'urandom', 'zero'] ['hostname']"
    assert "WROTE" not in out


def test_seccomp_refuses_dangerous_calls(pool: Pool) -> None:
    out = inside(
        pool,
        """
import ctypes, socket, errno
libc = ctypes.CDLL(None, use_errno=True)
def code(r):
    return 'ok' if r != -1 else errno.errorcode[ctypes.get_errno()]
res = {}
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    res['socket'] = 'ok'
except OSError as e:
    res['socket'] = errno.errorcode[e.errno]
for name, make in (('unix', lambda: socket.socket(socket.AF_UNIX)), ('pair', socket.socketpair)):
    try:
        make()
        res[name] = 'ok'
    except OSError as e:
        res[name] = errno.errorcode[e.errno]
res['ptrace'] = code(libc.ptrace(0, 0, 0, 0))
res['unshare'] = code(libc.unshare(0x40000000))
res['mount'] = code(libc.mount(b'x', b'/tmp', b'tmpfs', 0, None))
res['kill1'] = code(libc.kill(1, 0))
res['kill_self'] = code(libc.kill(os.getpid(), 0))
res['bpf'] = code(libc.syscall(321, 0, 0, 0))
res['clone_newuser'] = code(libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0))
try:
    os.execv('/usr/bin/true', ['true'])
except OSError as e:
    res['execve'] = errno.errorcode[e.errno]
print(sorted(res.items()))
""",
    )
    assert eval(out) == sorted(
        {
            "socket": "EPERM",
            "unix": "EPERM",
            "pair": "EPERM",
            "ptrace": "EPERM",
            "unshare": "EPERM",
            "mount": "EPERM",
            "kill1": "EPERM",
            "kill_self": "ok",
            "bpf": "EPERM",
            "clone_newuser": "EPERM",
            "execve": "EPERM",
        }.items()
    )


def test_rlimits(pool: Pool) -> None:
    out = inside(
        pool,
        """
import resource as r
print([r.getrlimit(k) for k in (r.RLIMIT_CPU, r.RLIMIT_AS, r.RLIMIT_NPROC, r.RLIMIT_NOFILE, r.RLIMIT_FSIZE, r.RLIMIT_CORE)])
""",
    )
    assert eval(out) == [(2, 3), (512 * 2**20,) * 2, (1, 1), (64, 64), (2**20, 2**20), (0, 0)]


def test_cgroup_membership_behind_a_cgroup_namespace(pool: Pool) -> None:
    """The submission is in the slot's groups (the probe checks it from inside), but its
    /proc/self/cgroup shows only "/": no host hierarchy, no runner pid in a group name."""
    out = inside(pool, "print(open('/proc/self/cgroup').read())")
    groups = {line.split(":")[1]: line.split(":")[2] for line in out.splitlines()}
    assert groups and set(groups.values()) == {"/"}, groups
    assert "mlquiz-sandbox" not in out and "uid-" not in out
    layers = pool.layers()
    # Rootless: cgroups v1 are not delegated to ordinary users, so no groups of our own.
    assert layers["cgroup"] is (not ROOTLESS) and layers["cgroup_namespace"] is True


def test_environment_and_file_descriptors(pool: Pool) -> None:
    out = inside(pool, "print(sorted(os.environ), sorted(os.listdir('/proc/self/fd')))")
    env, fds = out.split("] [")
    assert "SECRET_KEY" not in env and "DATABASE_URL" not in env
    assert set(eval(env + "]")) <= {
        "PATH",
        "LANG",
        "OPENBLAS_NUM_THREADS",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
    }
    # 0-3 plus the one listdir itself opens.
    assert len(eval("[" + fds)) <= 5


def test_reference_not_importable(pool: Pool) -> None:
    out = inside(
        pool,
        """
import sys
try:
    import engine
    print('IMPORTED')
except ImportError:
    print('no engine', [m for m in sys.modules if 'engine' in m or 'reference' in m], sys.flags.isolated, sys.flags.no_site)
""",
    )
    assert out == "no engine [] 1 1"


def test_doctor_report_on_this_machine() -> None:
    """The process-wide pool on this machine: every layer of the mode active, ready to grade."""
    report = doctor_report()  # left running: other tests in the session share it
    missing = [name for name, on in report["layers"].items() if not on]
    assert report["ready"] is True, (missing, report)
    assert report["mode"] == ("rootless" if ROOTLESS else "privileged")
    assert missing == (["cgroup"] if ROOTLESS else [])
    assert "user_namespace" in report["layers"] if ROOTLESS else "uid_drop" in report["layers"]
    assert report["message"] == ""
    assert report["sandbox_uid"] not in (None, 0, os.getuid())


@pytest.mark.parametrize(
    "layer",
    [
        "user_namespace" if ROOTLESS else "uid_drop",
        "capabilities_dropped",
        "seccomp",
        "net_namespace",
        "pid_namespace",
        "mount_namespace",
        "rlimits",
    ],
)
def test_probe_observes_each_layer(layer: str, pool: Pool) -> None:
    assert pool.layers()[layer] is True


def test_sandboxes_inherit_no_fork_handlers(pool: Pool) -> None:
    """The zygote never imports `threading` or `random`: their fork handlers would run in every
    sandbox it forks (~0.5 ms of CPU each)."""
    out = inside(
        pool, "import sys\nprint([m for m in ('threading', 'random') if m in sys.modules])"
    )
    assert out == "[]"


def test_standard_streams_of_a_submission(pool: Pool) -> None:
    """Made once by the zygote, they behave as streams on the sandbox's own pipes."""
    source = (
        "import sys\n"
        "print(sys.stdout.seekable(), sys.stdout.encoding, sys.stdin.read() == '', 'é')\n"
        "sys.stderr.write('to stderr \\udcff\\n')\n" + RELU
    )
    out = pool.run(source, "relu", [Call((X.copy(),))])
    assert out.status == "ok", out.message
    assert out.stdout == "False utf-8 True é\n"
    assert out.stderr == "to stderr \\udcff\n"
