"""Mapping a runner's raw response to a RunOutcome: strict about the child's stream."""

from __future__ import annotations

import signal
from typing import Any

import numpy as np

from engine.sandbox import Call, Limits, wire
from engine.sandbox.outcome import build_outcome, parse_records

CALLS = [Call((np.zeros(2),)) for _ in range(3)]
LIMITS = Limits()


def rec(**fields: Any) -> bytes:
    return wire.frame(wire.encode(fields))


def call(i: int, value: Any = None, **extra: Any) -> bytes:
    return rec(
        kind="call",
        index=i,
        status="ok",
        value=np.full(2, float(i)) if value is None else value,
        **extra,
    )


LOAD = rec(kind="load", status="ok", error=None, error_type=None)
END = rec(kind="end")


def response(results: bytes, **extra: Any) -> dict[str, Any]:
    return {"results": results, "sandboxed": True, "exit_code": 0, "exit_signal": 0, **extra}


def test_ok_run() -> None:
    out = build_outcome(response(LOAD + call(0) + call(1) + call(2) + END), CALLS, "f", LIMITS)
    assert out.status == "ok" and out.sandboxed
    assert [c.value[0] for c in out.calls] == [0.0, 1.0, 2.0]


def test_ok_when_answered_at_the_end_record() -> None:
    out = build_outcome(
        response(LOAD + call(0) + call(1) + call(2) + END, exit_code=None, ended=True),
        CALLS,
        "f",
        LIMITS,
    )
    assert out.status == "ok"


def test_timeout_keeps_earlier_results() -> None:
    out = build_outcome(
        response(LOAD + call(0), timed_out=True, exit_code=None), CALLS, "f", LIMITS
    )
    assert out.status == "timeout" and [c.status for c in out.calls] == ["ok", "not_run", "not_run"]
    assert "超时" in out.message


def test_sigxcpu_and_cpu_burn_are_timeouts() -> None:
    assert (
        build_outcome(response(LOAD, exit_signal=signal.SIGXCPU), CALLS, "f", LIMITS).status
        == "timeout"
    )
    killed = response(LOAD, exit_signal=signal.SIGKILL, cpu_ms=3000.0)
    assert build_outcome(killed, CALLS, "f", LIMITS).status == "timeout"


def test_crash_and_exit_without_end() -> None:
    out = build_outcome(response(LOAD + call(0), exit_signal=signal.SIGSEGV), CALLS, "f", LIMITS)
    assert out.status == "crashed" and "SIGSEGV" in out.message and out.calls[0].status == "ok"
    assert (
        build_outcome(response(LOAD + call(0) + call(1) + call(2)), CALLS, "f", LIMITS).status
        == "crashed"
    )


def test_memory_statuses() -> None:
    mem = rec(
        kind="call",
        index=0,
        status="error",
        value=None,
        error="MemoryError",
        error_type="MemoryError",
    )
    assert build_outcome(response(LOAD + mem + END), CALLS, "f", LIMITS).status == "memory_limit"
    assert (
        build_outcome(response(LOAD, oom_killed=True, exit_signal=9), CALLS, "f", LIMITS).status
        == "memory_limit"
    )


def test_output_limits() -> None:
    assert (
        build_outcome(response(LOAD, result_over=True), CALLS, "f", LIMITS).status == "output_limit"
    )
    too_large = rec(kind="too_large", index=0)
    assert (
        build_outcome(response(LOAD + too_large + END), CALLS, "f", LIMITS).status == "output_limit"
    )


def test_only_the_runners_status_record_makes_an_internal_error() -> None:
    assert (
        build_outcome(response(b"", setup_error="init: boom"), CALLS, "f", LIMITS).status
        == "internal_error"
    )
    # The runner's set-up exit code (121), chosen by user code, is the user's failure.
    for code in (121, 1, 255):
        out = build_outcome(response(b"", exit_code=code), CALLS, "f", LIMITS)
        assert out.status == "crashed", (code, out.status)


def test_load_statuses_carry_the_error() -> None:
    bad = rec(
        kind="load", status="syntax_error", error="SyntaxError: bad", error_type="SyntaxError"
    )
    out = build_outcome(response(bad + END), CALLS, "softmax", LIMITS)
    assert out.status == "syntax_error" and "SyntaxError: bad" in out.message
    missing = rec(kind="load", status="missing_function", error=None, error_type=None)
    out = build_outcome(response(missing + END), CALLS, "softmax", LIMITS)
    assert out.status == "missing_function" and "softmax" in out.message


def test_forged_or_disordered_streams_are_crashes() -> None:
    streams = [
        call(0) + LOAD,  # a call before the load record
        LOAD + call(1),  # out of order
        LOAD + call(0) + call(0),  # duplicate
        LOAD + call(0) + call(1) + call(2) + call(3) + END,  # more calls than asked
        LOAD + END + call(0),  # after the end
        LOAD + wire.frame(b"garbage"),
        LOAD + rec(kind="call", index=0, status="accepted", value=None),
    ]
    for stream in streams:
        out = build_outcome(response(stream), CALLS, "f", LIMITS)
        assert out.status == "crashed", stream
        assert len(out.calls) == 3


def test_values_outside_the_contract_become_call_errors() -> None:
    out = build_outcome(
        response(
            LOAD
            + call(0, value="accepted")
            + call(1, value={"a": 1.0})
            + call(2, value=(1.0, None))
            + END
        ),
        CALLS,
        "f",
        LIMITS,
    )
    assert [c.status for c in out.calls] == ["error", "error", "ok"]
    assert out.calls[0].error_type == "TypeError"


def test_parse_records_reports_protocol_errors() -> None:
    load, calls, ended, too_large, error = parse_records(LOAD + b"\x05\x00", 3, LIMITS)
    assert (
        load is not None and calls == [] and not ended and not too_large and error is None
    )  # partial frame
    *_, error = parse_records(rec(kind="nonsense"), 3, LIMITS)
    assert error is not None


def test_echoed_arguments_are_taken_as_sent_with_the_same_outcome() -> None:
    from engine.sandbox.outcome import echoes

    calls = [Call((np.arange(3.0),), {"axis": -1}), Call((np.ones((2, 2)),))]
    stream = LOAD
    for i, c in enumerate(calls):
        after = (c.args[0] + 1,) if i == 1 else c.args  # the second call changed its argument
        stream += call(i, args_after=after, kwargs_after=dict(c.kwargs))
    stream += END
    plain = parse_records(stream, 2, LIMITS)
    fast = parse_records(stream, 2, LIMITS, echoes(calls))
    assert plain[2:] == fast[2:] == (True, False, None)
    for a, b in zip(plain[1], fast[1], strict=True):
        assert type(a.args_after) is type(b.args_after) is tuple
        for x, y in zip(a.args_after, b.args_after, strict=True):
            assert x.dtype == y.dtype and x.tobytes() == y.tobytes()
        assert a.kwargs_after == b.kwargs_after
    assert not fast[1][0].args_after[0].flags.writeable  # the shared, read-only copy
    assert fast[1][1].args_after[0].flags.writeable  # decoded: it differed from what was sent
