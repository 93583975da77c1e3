"""Starting a runner process: what the pool runs, importable without NumPy.

The command line (`python -m engine grade`) starts its runner through this before it imports
NumPy itself, so that the runner's start-up (interpreter, NumPy, isolation set-up, probe) runs
beside the caller's own imports instead of after them.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

RUNNER_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runner.py")
# The only environment a runner (and so every submission) ever sees.
RUNNER_ENV = {
    "PATH": "/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def site_dirs() -> list[str]:
    """Directories the runner needs on sys.path: NumPy's and pyseccomp's, nothing else.

    Found without importing either (find_spec only locates them).
    """
    dirs = []
    for name in ("numpy", "pyseccomp"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            origin = os.path.dirname(spec.origin)  # .../numpy or the pyseccomp module's folder
            dirs.append(os.path.dirname(origin) if name == "numpy" else origin)
    return list(dict.fromkeys(dirs))


def uid_base_from_env() -> int:
    return int(os.environ.get("GRADER_SANDBOX_UID_BASE", "60000"))


def spawn_runner(
    uid_base: int, spares: int | None = None, *, quiet: bool = False
) -> subprocess.Popen[bytes]:
    """`python -I -S runner.py`, speaking framed `wire` records on its stdin/stdout.

    `quiet`: stderr to /dev/null (a one-shot command line, whose caller would otherwise wait
    for the runner's exit to see the end of the command's stderr, e.g. after a usage error).
    Start-up problems still reach the caller, in the runner's hello.
    """
    argv = [sys.executable, "-I", "-S", RUNNER_PATH, "--uid-base", str(uid_base)]
    if spares is not None:
        argv += ["--spares", str(spares)]
    for d in site_dirs():
        argv += ["--site", d]
    return subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL if quiet else None,
        env=RUNNER_ENV,
        close_fds=True,
        start_new_session=True,  # a Ctrl-C aimed at the web server is not ours to take
        cwd="/",
    )
