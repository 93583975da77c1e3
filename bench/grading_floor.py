"""What a graded submission costs at the least, in this design: two forked children, no isolation.

    .venv/bin/python bench/grading_floor.py            # 300 submissions, the drills in turn
    .venv/bin/python bench/grading_floor.py -n 600

Beside `bench/grading_profile.py` (the real path, every layer on), this measures the part of it
that no isolation work can remove while each submission gets a visible and a hidden child of its
own (issue 10): a parent with the zygote's image (NumPy and the sandbox modules loaded by path,
no `engine` package, no `threading`, warmed up and its standard streams made once as the zygote
does, objects frozen) forks one child per half of a submission;
each child decodes its request, compiles and runs the model answer on the cases (the same
`child.run_submission`), streams its results back on a pipe and exits. The first column forks
children that exit at once: the cost of two processes of this image, whatever they do. The last
column is not this design: one child per submission running both halves' calls, what giving up
the separate hidden child (the code that sees hidden inputs is never the code whose output the
learner reads) would save at the least. No namespaces, mounts, cgroups, rlimits, uid change or
seccomp; no runner; no grading process. CPU comes from the kernel's accounting, as in
grading_profile.py: the parent's own time and what it reaped.
"""

from __future__ import annotations

import argparse
import ast
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs in a clean interpreter (`-I -S`, like the runner), so that nothing of this script's own
# imports is in the image that is forked.
PARENT = r"""
import gc, importlib.util, os, resource, sys, time
sys.path.extend(SITE)
import numpy  # noqa: F401

def load(name):
    spec = importlib.util.spec_from_file_location(f"_sandbox_{name}", f"{SANDBOX}/{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module

wire = load("wire")
child = load("child")
bodies = [open(p, "rb").read() for p in PATHS]
merged = [open(p, "rb").read() for p in MERGED]
child.warm_up(wire)  # as the zygote does, and like it the standard streams made once:
streams = child.make_streams()
gc.freeze()


def one(body, bare=False):
    result_r, result_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        if bare:
            os._exit(0)
        os.close(result_r)
        request = wire.decode(body)
        child.run_submission(request, wire, result_w, lambda: None, streams)
    os.close(result_w)
    while os.read(result_r, 1 << 16):
        pass
    os.close(result_r)
    os.waitpid(pid, 0)


def cpu(a, b):
    return (b.ru_utime + b.ru_stime - a.ru_utime - a.ru_stime) * 1000.0


def measure(bare, requests=bodies, forks=2 * N):
    for body in requests[:20]:
        one(body, bare)
    own0 = resource.getrusage(resource.RUSAGE_SELF)
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall0 = time.perf_counter()
    for k in range(forks):
        one(requests[k % len(requests)], bare)
    wall = time.perf_counter() - wall0
    own1 = resource.getrusage(resource.RUSAGE_SELF)
    kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    faults = (kids1.ru_minflt - kids0.ru_minflt) / forks  # minor page faults per child
    return cpu(own0, own1), cpu(kids0, kids1), wall * 1000.0, faults


print(repr((measure(True), measure(False), measure(False, merged, N))))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=300, help="submissions (default 300)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from engine.cases import get_cases
    from engine.drills import DRILLS
    from engine.sandbox import spawn, wire
    from engine.sandbox.api import Limits

    limits = {name: getattr(Limits(), name) for name in Limits.__dataclass_fields__}
    tmp = Path(tempfile.mkdtemp(prefix="grading-floor-"))
    paths, merged = [], []
    for drill_id, drill in DRILLS.items():
        # A submission: its visible child, then its hidden one; and, for comparison only, one
        # child with both halves' calls (not this design: see the module docstring).
        for hidden in (False, True, None):
            cases = [c for c in get_cases(drill_id) if hidden is None or c.hidden == hidden]
            calls = tuple(
                (
                    tuple(np.array(a) if isinstance(a, np.ndarray) else a for a in c.args),
                    {
                        k: np.array(v) if isinstance(v, np.ndarray) else v
                        for k, v in c.kwargs.items()
                    },
                )
                for c in cases
            )
            request = {
                "source": drill.solution_code,
                "function": drill_id,
                "calls": calls,
                "limits": limits,
            }
            listed = merged if hidden is None else paths
            path = tmp / f"{'merged' if hidden is None else 'half'}-{len(listed):03d}.bin"
            path.write_bytes(wire.encode(request))
            listed.append(str(path))
    code = (
        f"SITE = {spawn.site_dirs()!r}\nSANDBOX = {str(ROOT / 'engine' / 'sandbox')!r}\n"
        f"PATHS = {paths!r}\nMERGED = {merged!r}\nN = {args.n}\n" + PARENT
    )
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code],
        env=spawn.RUNNER_ENV,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    columns = ast.literal_eval(out.strip().splitlines()[-1])
    n = args.n
    print(f"{n} submissions, two forked children each, no isolation; load {os.getloadavg()[0]:.2f}")
    heads = ("fork + exit", "+ the answer", "one child (not this design)")
    print(f"  {'CPU ms per submission':28s}" + "".join(f" {h:>{len(h) + 2}s}" for h in heads))
    rows = {  # per submission, except the faults (per child)
        "parent (fork, pipe, wait)": lambda c: c[0] / n,
        "children": lambda c: c[1] / n,
        "total": lambda c: (c[0] + c[1]) / n,
        "wall": lambda c: c[2] / n,
        "page faults per child": lambda c: c[3],
    }
    for label, value in rows.items():
        cells = (f" {value(c):{len(h) + 2}.2f}" for c, h in zip(columns, heads, strict=True))
        print(f"  {label:28s}" + "".join(cells))


if __name__ == "__main__":
    main()
