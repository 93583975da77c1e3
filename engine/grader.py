"""Grade a submission: run it in the sandbox, compare in this (trusted) process, explain in Chinese.

`grade(drill, source)` is a function of plain values: the web app, the CLI and the tests all call
it the same way. It raises nothing for anything the learner did; the only exception that escapes
is `QueueFull` from the sandbox (the caller should answer "try again in N seconds"). The feedback
itself is worded in `engine.feedback`; the result types live in `engine.results`.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Hashable, Iterator
from typing import TYPE_CHECKING, Any

from engine import feedback
from engine.cases import Case, get_cases
from engine.drills import Drill, get_drill
from engine.i18n import language, t
from engine.results import CaseResult, GradeResult, Mode, TestStatus, Verdict
from engine.sandbox.api import Call, CallBatch, CallOutcome, Limits, QueueFull, RunOutcome

if TYPE_CHECKING:
    from engine.sandbox.api import Sandbox

__all__ = [
    "MAX_SOURCE_BYTES",
    "CaseResult",
    "GradeResult",
    "Mode",
    "TestStatus",
    "Verdict",
    "grade",
]

MAX_SOURCE_BYTES = 65536  # callers reject longer sources before grading


def grade(
    drill: str | Drill,
    source: str,
    *,
    mode: Mode = "submit",
    sandbox: Sandbox | None = None,
    limits: Limits | None = None,
    user: Hashable = None,
    lang: str = "zh",
) -> GradeResult:
    """Run `source` against the drill's cases ("run": visible examples only) and judge it.

    Visible and hidden cases run in two separate children, the hidden one only once the visible
    results are in: the code that sees hidden inputs is never the code whose output (prints,
    error texts, timings) the learner reads. From the hidden child only what this process
    computes comes back (see `feedback.sanitize_hidden`). `user` lets the pool share runners
    fairly.

    Raises KeyError for an unknown drill id and QueueFull when the sandbox is saturated;
    everything the submission does is reported in the result instead. The feedback is in
    `lang` ("zh", the default, or "en"): the learner's language at submission time.
    """
    with language(lang):
        return _grade(drill, source, mode, sandbox, limits, user)


def _grade(
    drill: str | Drill,
    source: str,
    mode: Mode,
    sandbox: Sandbox | None,
    limits: Limits | None,
    user: Hashable,
) -> GradeResult:
    start = time.perf_counter()
    if isinstance(drill, str):
        drill = get_drill(drill)
    cases = get_cases(drill.id)
    visible = [c for c in cases if not c.hidden]
    hidden = [c for c in cases if c.hidden] if mode == "submit" else []
    shown_calls, hidden_calls = _calls(drill.id, hidden=False), _calls(drill.id, hidden=True)
    try:
        if sandbox is None:
            from engine.sandbox import get_sandbox  # lazy: the pool starts on first use

            sandbox = get_sandbox()
        with _runs(sandbox, user) as run:
            shown = _run(run, source, drill.id, shown_calls, limits)
            if hidden and shown.status == "ok":
                secret = feedback.sanitize_hidden(
                    _run(run, source, drill.id, hidden_calls, limits), drill
                )
            else:
                secret = _skipped(shown, len(hidden))
    except QueueFull:
        raise
    except Exception as exc:  # the sandbox failing is never the learner's fault
        shown = RunOutcome(
            status="internal_error",
            calls=[CallOutcome("not_run") for _ in visible],
            message=t("评测沙箱不可用：{error}", error=f"{type(exc).__name__}: {exc}"),
        )
        secret = _skipped(shown, len(hidden))

    tests = [
        feedback.judge(drill, c, call, shown) for c, call in zip(visible, shown.calls, strict=True)
    ]
    tests += [
        feedback.judge(drill, c, call, secret) for c, call in zip(hidden, secret.calls, strict=True)
    ]
    deciding = shown if shown.status != "ok" or not hidden else secret
    verdict = feedback.verdict_for(deciding, tests, [*shown.calls, *secret.calls])
    passed = sum(t.status == "passed" for t in tests)
    diagnosis = _diagnose(drill, [*visible, *hidden], [*shown.calls, *secret.calls], verdict)
    elapsed = (time.perf_counter() - start) * 1000
    return GradeResult(
        drill=drill.id,
        verdict=verdict,
        passed=passed,
        total=len(tests),
        # Measured here, and coarse once hidden tests ran: never a per-test timing.
        time_ms=_rounded_total(elapsed) if hidden else elapsed,
        tests=tests,
        stdout=feedback.run_stdout(shown, mode),
        message=feedback.summary(drill, verdict, deciding, tests, mode),
        sandboxed=shown.sandboxed and secret.sandboxed,
        mode=mode,
        diagnosis=diagnosis,
    )


def _diagnose(
    drill: Drill,
    cases: list[Case],
    calls: list[CallOutcome],
    verdict: Verdict,
) -> dict[str, Any] | None:
    """Name the mistake behind a wrong answer (never an accepted one); None when unsure.

    Runs here, on decoded values only (hidden ones included): it names a catalogued mistake
    and quotes numbers from visible tests only (engine.diagnosis).
    """
    if verdict != "wrong_answer":
        return None
    from engine.diagnosis import diagnose

    try:
        found = diagnose(drill, cases, calls)
    except Exception:  # feedback is a bonus: it must never cost the learner the verdict
        return None
    return found.to_dict() if found else None


TOTAL_TIME_STEP_MS = 50.0


def _rounded_total(ms: float) -> float:
    return max(1.0, round(ms / TOTAL_TIME_STEP_MS)) * TOTAL_TIME_STEP_MS


@contextlib.contextmanager
def _runs(sandbox: Sandbox, user: Hashable) -> Iterator[Callable[..., RunOutcome]]:
    """One runner for both children when the sandbox can lease one (the pool can)."""
    session = getattr(sandbox, "session", None)
    if session is None:
        yield sandbox.run
    else:
        with session(user) as lease:
            yield lease.run


def _run(
    run: Callable[..., RunOutcome],
    source: str,
    function: str,
    calls: CallBatch,
    limits: Limits | None,
) -> RunOutcome:
    if not calls:
        return RunOutcome(status="ok", calls=[])
    outcome = run(source, function, calls, limits or Limits())
    if len(outcome.calls) != len(calls):  # contract breach: do not guess which is which
        return RunOutcome(
            status="internal_error",
            calls=[CallOutcome("not_run") for _ in calls],
            message=t("评测沙箱返回的结果数量与测试数量不一致"),
            sandboxed=outcome.sandboxed,
        )
    return outcome


def _skipped(shown: RunOutcome, n: int) -> RunOutcome:
    """The hidden cases when they were not run (run mode, or the visible run already failed)."""
    return RunOutcome(
        status=shown.status, calls=[CallOutcome("not_run") for _ in range(n)], sandboxed=True
    )


@functools.cache
def _calls(drill_id: str, *, hidden: bool) -> CallBatch:
    """The calls of a drill's visible (or hidden) cases, built once per process like the cases.

    The arrays are the cases' own, read-only: a sandbox only encodes them (once: the pool keeps
    the encoding on the batch), and what the child does to its copies comes back as args_after.
    """
    return CallBatch(
        Call(c.args, dict(c.kwargs)) for c in get_cases(drill_id) if c.hidden == hidden
    )
