"""Where the CPU of one graded submission goes, split by process kind.

    .venv/bin/python bench/grading_profile.py                 # exact split from /proc
    .venv/bin/python bench/grading_profile.py --perf          # + inits vs submissions (perf)
    .venv/bin/python bench/grading_profile.py --cprofile      # + the grading process's profile
    .venv/bin/python bench/grading_profile.py --root DIR      # grade with another checkout's
                                                              # engine (a baseline, same run)

One runner (a pool of one slot), N accepted submissions through `engine.grader.grade` (visible
then hidden child), the drills in turn. CPU is read from the kernel's own accounting:

- grading process: this process, `os.times()` (own time);
- runner: /proc/<runner>/stat utime+stime, read just before the pool closes;
- zygote: the runner's one child, /proc/<zygote>/stat, read at the same moment;
- inits + submissions: what the zygote reaped meanwhile (its cutime+cstime): every init and,
  through it, every user child (the zygote reaps lazily: off by an init or two at the ends).

With --perf, `perf record -a` samples every CPU meanwhile and the fork events place each sampled
pid in the tree (runner -> zygote -> init -> user child), which splits the last figure; samples
of kernel threads (kworker: namespace teardown off the process's own clock) are shown beside.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int) -> tuple[float, float]:
    """(own, reaped children) CPU seconds of a live process."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return (utime + stime) / TICK, (cutime + cstime) / TICK


def reaped_faults(pid: int) -> int:
    """Minor page faults of the children a live process has reaped (cminflt)."""
    with open(f"/proc/{pid}/stat") as fh:
        return int(fh.read().rsplit(")", 1)[1].split()[8])


def children_of(pid: int) -> list[int]:
    found: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as fh:
            found += [int(p) for p in fh.read().split()]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=300, help="submissions (default 300)")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--perf", action="store_true", help="split inits/submissions by perf")
    parser.add_argument("--functions", type=int, default=0, help="with --perf: top N per kind")
    parser.add_argument(
        "--keep",
        type=Path,
        help="with --perf: record call graphs, keep the data "
        "and the pids of each kind in this directory (for perf report --pids)",
    )
    parser.add_argument("--cprofile", action="store_true", help="profile the grading process")
    args = parser.parse_args()
    sys.path.insert(0, str(args.root.resolve()))

    from engine.drills import DRILLS
    from engine.grader import grade
    from engine.sandbox import Pool

    drills = list(DRILLS)

    def submit(k: int) -> None:
        drill = drills[k % len(drills)]
        result = grade(drill, DRILLS[drill].solution_code, sandbox=pool)
        if result.verdict != "accepted":
            raise SystemExit(f"{drill}: {result.verdict} {result.message}")

    pool = Pool(slots=1, overflow=0)
    for k in range(len(drills)):
        submit(k)
    runner_pid = pool._idle[0].proc.pid
    zygotes = children_of(runner_pid)
    if len(zygotes) != 1:
        raise SystemExit(f"expected one zygote under the runner, found {zygotes}")
    zygote_pid = zygotes[0]
    perf = None
    perf_data = Path(tempfile.mkdtemp(prefix="grading-perf-")) / "perf.data"
    if args.perf:
        if shutil.which("perf") is None:
            raise SystemExit("--perf needs perf (apt-get install linux-perf)")
        perf = subprocess.Popen(
            ["perf", "record", "-a", "-F", "1999", "-e", "cpu-clock", "-o", str(perf_data)]
            + (["-g"] if args.keep else []),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)  # perf is recording
    # CPU time of this thread, not wall time (waits for the runner are not costs).
    profiler = cProfile.Profile(time.thread_time) if args.cprofile else None

    runner0, (zygote0, reaped0) = proc_cpu(runner_pid)[0], proc_cpu(zygote_pid)
    faults0 = reaped_faults(zygote_pid)
    before = os.times()
    wall0 = time.perf_counter()
    if profiler:
        profiler.enable()
    for k in range(args.n):
        submit(k)
    if profiler:
        profiler.disable()
    wall = time.perf_counter() - wall0
    runner1, (zygote1, reaped1) = proc_cpu(runner_pid)[0], proc_cpu(zygote_pid)
    faults = reaped_faults(zygote_pid) - faults0
    mid = os.times()
    pool.close()
    if perf is not None:
        perf.send_signal(signal.SIGINT)
        perf.wait()

    n = args.n
    own = (mid.user - before.user) + (mid.system - before.system)
    runner, zygote = runner1 - runner0, zygote1 - zygote0
    # The zygote reaps an init when it is asked for the next one: off by one or two at the ends.
    inits_users = reaped1 - reaped0
    rows = {
        "grading process": own,
        "runner": runner,
        "zygote": zygote,
        "inits + submissions": inits_users,
    }
    total = sum(rows.values())
    print(f"engine from {args.root}; {n} accepted submissions, one runner, wall {wall:.1f} s")
    print(f"load average: {os.getloadavg()[0]:.2f}")
    for name, seconds in rows.items():
        print(f"  {name:22s} {seconds * 1000 / n:6.2f} ms/submission")
    print(f"  {'total':22s} {total * 1000 / n:6.2f} ms/submission")
    print(f"  minor page faults of inits + submissions: {faults / n:.0f} per submission")
    if perf is not None:
        kinds = perf_split(perf_data, runner_pid, zygote_pid, n, args.functions)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(perf_data, args.keep / "perf.data")
            for name, pids in kinds.items():
                slug = name.split(" ")[0] or "other"
                (args.keep / f"{slug}.pids").write_text(",".join(map(str, sorted(pids))))
    shutil.rmtree(perf_data.parent, ignore_errors=True)
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(25)
        print(text.getvalue())


def perf_split(
    data: Path, runner_pid: int, zygote_pid: int, n: int, verbose: int
) -> dict[str, list[int]]:
    """Samples per process kind, from the fork tree perf recorded."""
    script = subprocess.run(
        [
            "perf",
            "script",
            "-i",
            str(data),
            "--show-task-events",
            "-F",
            "comm,pid,event,ip,sym,dso",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    parent: dict[int, int] = {}
    samples: Counter[int] = Counter()
    symbols: dict[int, Counter[str]] = {}
    comms: dict[int, str] = {}
    fork = re.compile(r"PERF_RECORD_FORK\((\d+):\d+\):\((\d+):\d+\)")
    for line in script.splitlines():
        match = fork.search(line)
        if match:
            parent[int(match.group(1))] = int(match.group(2))
            continue
        head, sep, where = line.partition("cpu-clock:")
        parts = head.split()
        if sep and len(parts) >= 2 and parts[-1].isdigit():
            pid = int(parts[-1])
            samples[pid] += 1
            comms.setdefault(pid, parts[0])
            fields = where.split()
            symbol = " ".join(fields[1:]) if len(fields) > 1 else "?"
            symbols.setdefault(pid, Counter())[symbol] += 1

    def kind(pid: int) -> str:
        if pid == os.getpid():
            return "grading process"
        if pid == runner_pid:
            return "runner"
        if pid == zygote_pid:
            return "zygote"
        up = parent.get(pid)
        if up == zygote_pid:  # user children (and their paused inits), or the old layout's inits
            return "sandbox"
        if up is not None and parent.get(up) == zygote_pid:
            return "user child under an init"
        if comms.get(pid, "").startswith("kworker"):
            return "kernel workers (anyone's)"
        return ""

    by_kind: Counter[str] = Counter()
    top: dict[str, Counter[str]] = {}
    kinds: dict[str, list[int]] = {}
    for pid, count in samples.items():
        name = kind(pid)
        kinds.setdefault(name, []).append(pid)
        by_kind[name] += count
        top.setdefault(name, Counter()).update(symbols.get(pid, Counter()))
    print("  perf samples (1999 Hz) per submission, by kind:")
    for name, count in by_kind.most_common():
        if name:
            print(f"    {name:26s} {count / 1999 * 1000 / n:6.2f} ms")
    if verbose:
        for name, count in by_kind.most_common():
            if not name or name.startswith("kernel"):
                continue
            print(f"  top functions of the {name} ({count} samples):")
            for symbol, k in top[name].most_common(verbose):
                print(f"    {k / count:6.1%}  {symbol}")
    return kinds


if __name__ == "__main__":
    main()
