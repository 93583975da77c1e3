"""Round two: nothing of one submission reaches the next, and no hidden input reaches the learner.

Theft: a victim runs, then a thief on the same runner scans its frames, `gc` and every readable
page of its address space for the victim's markers (source, input, result, printed output).
Exfiltration: for each channel a hidden test could use to talk (load-error text, exception
text and "line N", warning text, per-test time, exit code, prints in submit mode, forged
records, exception class names), a program tries it; nothing it chose may come back.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from engine.drills import DRILLS
from engine.grader import GradeResult, grade
from engine.sandbox import Call, Limits, Pool, RunOutcome
from tests.engine.sandbox import attacks
from tests.engine.sandbox.leaks import (
    ANSWER,
    HEAD,
    HIDDEN_CALL,
    assert_nothing_hidden_in,
    thief_report,
)

ROOT = Path(__file__).resolve().parents[3]
SCAN_LIMITS = Limits(cpu_seconds=8.0, wall_seconds=15.0)


@pytest.fixture(scope="module")
def one_runner() -> Iterator[Pool]:
    """One runner only: the thief is bound to run where the victim ran."""
    pool = Pool(slots=1, queue_size=4, overflow=0)
    try:
        yield pool
    finally:
        pool.close()


def run_victim(pool: Pool) -> list[str]:
    tokens = [attacks.token() for _ in range(4)]
    source_t, result_t, printed_t, input_t = tokens
    out = pool.run(
        attacks.victim_source(source_t, result_t, printed_t),
        "relu",
        [Call((attacks.marker_array(input_t),))],
    )
    assert out.status == "ok", out.message
    assert printed_t in out.calls[0].stdout  # the victim really held its markers
    assert (attacks.PREFIX + result_t).encode() in out.calls[0].value.tobytes()
    return tokens


def assert_thief_found_nothing(outcome: RunOutcome | GradeResult, tokens: list[str]) -> None:
    blob = repr(outcome)
    for t in tokens:
        assert t not in blob


def test_thief_finds_nothing_of_the_previous_submission(one_runner: Pool) -> None:
    tokens = run_victim(one_runner)
    out = one_runner.run(attacks.THIEF, "relu", [Call((np.ones(3),))], SCAN_LIMITS)
    assert out.status == "ok", (out.status, out.message, out.calls[0].error)
    found_self, scanned_mb, others = thief_report(out.calls[0].stdout)
    assert found_self and scanned_mb >= 20, out.calls[0].stdout  # the scan really ran
    assert others == "[]", out.calls[0].stdout
    assert_thief_found_nothing(out, tokens)


def test_the_thief_does_find_what_is_in_its_own_memory(one_runner: Pool) -> None:
    """Control: the same scan finds a marker that is there (its own input's raw bytes)."""
    planted = attacks.token()
    out = one_runner.run(
        attacks.THIEF, "relu", [Call((attacks.marker_array(planted),))], SCAN_LIMITS
    )
    found_self, _, others = thief_report(out.calls[0].stdout)
    assert found_self and planted in others, out.calls[0].stdout


def test_thief_in_the_same_lease_finds_nothing(one_runner: Pool) -> None:
    """The grader's two children share a runner: the second still starts clean."""
    with one_runner.session("someone") as lease:
        tokens = [attacks.token() for _ in range(4)]
        victim = lease.run(
            attacks.victim_source(*tokens[:3]),
            "relu",
            [Call((attacks.marker_array(tokens[3]),))],
        )
        assert victim.status == "ok"
        out = lease.run(attacks.THIEF, "relu", [Call((np.ones(3),))], SCAN_LIMITS)
    found_self, _, others = thief_report(out.calls[0].stdout)
    assert found_self and others == "[]", out.calls[0].stdout
    assert_thief_found_nothing(out, tokens)


def test_thief_through_the_grader_finds_nothing(one_runner: Pool) -> None:
    tokens = run_victim(one_runner)
    source = attacks.THIEF
    result = grade("relu", source, mode="run", sandbox=one_runner, limits=SCAN_LIMITS)
    found_self, _, others = thief_report(result.tests[0].stdout)
    assert found_self and others == "[]"
    assert_thief_found_nothing(result, tokens)


# --- hidden inputs ---------------------------------------------------------------------------

# True only for relu's hidden inputs (the visible ones are multiples of 0.5).
HIDDEN_LOAD = "len(sys._getframe(1).f_locals.get('request', {}).get('calls', ())) > 2"


def struct_frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(8, "little") + payload


def _wire_dict(**fields: str | float | int) -> bytes:
    """A record in the wire format, built by hand as a hostile child would."""
    out = b"d" + len(fields).to_bytes(4, "little")
    for key, value in fields.items():
        out += b"s" + len(key).to_bytes(8, "little") + key.encode()
        if isinstance(value, str):
            out += b"s" + len(value.encode()).to_bytes(8, "little") + value.encode()
        elif isinstance(value, float):
            out += b"f" + np.float64(value).tobytes()
        else:
            out += b"i" + int(value).to_bytes(8, "little", signed=True)
    return out


FORGED_LOAD = struct_frame(
    _wire_dict(kind="load", status="syntax_error", error="LEAK forged", error_type="SyntaxError")
) + struct_frame(_wire_dict(kind="end"))
FORGED_CALL = (
    struct_frame(_wire_dict(kind="load", status="ok"))
    + struct_frame(
        _wire_dict(kind="call", index=0, status="error", error="LEAK 1.2345", time_ms=98765.0)
    )
    + struct_frame(_wire_dict(kind="end"))
)

EXFILTRATION = {
    "load_error_text": (
        f"if {HIDDEN_LOAD}:\n"
        "    raise ValueError('LEAK ' + repr(sys._getframe(1).f_locals['request']['calls']))\n"
        f"def relu(x):\n{ANSWER}",
        {"runtime_error"},
    ),
    "exception_text": (
        f"def relu(x):\n    if {HIDDEN_CALL}:\n        raise ValueError(f'LEAK {{x!r}}')\n{ANSWER}",
        {"runtime_error"},
    ),
    "exception_line_number": (
        f"def relu(x):\n    if {HIDDEN_CALL}:\n"
        "        exec(compile('\\n' * 136 + 'raise ValueError(1)', '<submission>', 'exec'))\n"
        f"{ANSWER}",
        {"runtime_error"},
    ),
    "exception_class_name": (
        f"def relu(x):\n    if {HIDDEN_CALL}:\n"
        "        raise type('LEAK%d' % int(abs(x.ravel()[0]) * 1e6), (Exception,), {})()\n"
        f"{ANSWER}",
        {"runtime_error"},
    ),
    "warning_text": (
        f"def relu(x):\n    if {HIDDEN_CALL}:\n"
        "        warnings.warn('overflow encountered in LEAK%d' % int(abs(x.ravel()[0]) * 1e6),"
        " RuntimeWarning)\n"
        "        warnings.warn('LEAK %r' % x, UserWarning)\n"
        f"{ANSWER}",
        {"accepted"},
    ),
    "per_test_time": (
        f"def relu(x):\n    if {HIDDEN_CALL}:\n"
        "        time.sleep(0.001 + min(abs(float(x.ravel()[0])), 2.0) * 0.02)\n"
        f"{ANSWER}",
        {"accepted"},
    ),
    "exit_code": (
        f"def relu(x):\n    if {HIDDEN_CALL}:\n"
        "        os._exit(173 if x.ravel()[0] > 0 else 174)\n"
        f"{ANSWER}",
        {"runtime_error"},
    ),
    "prints_in_submit_mode": (
        "atexit.register(lambda: print('LEAK at exit', SEEN))\nSEEN = []\n"
        f"def relu(x):\n    if {HIDDEN_CALL}:\n"
        "        SEEN.append(x.ravel()[0])\n"
        "        print('LEAK', x)\n        os.write(1, b'LEAK raw')\n        os.write(2, b'LEAK err')\n"
        f"{ANSWER}",
        {"accepted"},
    ),
    "forged_syntax_error": (
        f"if {HIDDEN_LOAD}:\n    os.write(3, {FORGED_LOAD!r})\n    os._exit(0)\n"
        f"def relu(x):\n{ANSWER}",
        {"runtime_error"},
    ),
    "forged_call_records": (
        f"if {HIDDEN_LOAD}:\n    os.write(3, {FORGED_CALL!r})\n    os._exit(0)\n"
        f"def relu(x):\n{ANSWER}",
        {"runtime_error"},
    ),
    "signal_number": (
        f"def relu(x):\n    if {HIDDEN_CALL}:\n"
        "        import signal\n        os.kill(os.getpid(), signal.SIGUSR1 if x.ravel()[0] > 0 else signal.SIGUSR2)\n"
        f"{ANSWER}",
        {"runtime_error"},
    ),
}


@pytest.mark.parametrize("name", sorted(EXFILTRATION))
def test_hidden_inputs_cannot_be_exfiltrated(name: str, pool: Pool) -> None:
    body, verdicts = EXFILTRATION[name]
    source = HEAD + body
    result = grade("relu", source, mode="submit", sandbox=pool)
    assert result.verdict in verdicts, (result.verdict, result.message)
    data = result.to_dict()
    assert_nothing_hidden_in(json.dumps(data, ensure_ascii=False), "relu")
    hidden = [t for t in data["tests"] if t["hidden"]]
    assert hidden and all(t["time_ms"] == 0 and t["stdout"] == "" for t in hidden)
    assert data["time_ms"] % 50 == 0  # the total only, measured here and rounded
    # The visible children were the learner's own business and still report normally.
    assert [t["status"] for t in data["tests"] if not t["hidden"]] == ["passed", "passed"] or (
        name in ("load_error_text", "forged_syntax_error", "forged_call_records")
    )


def test_hidden_child_starts_only_after_the_visible_one_ended(pool: Pool) -> None:
    """The visible child never holds hidden inputs; the hidden one starts once it is gone."""
    source = HEAD + (
        "CALLS = sys._getframe(0).f_back.f_locals['request']['calls']\n"
        "def relu(x):\n"
        "    print('calls', len(CALLS), 'pids', sorted(os.listdir('/proc'))[:3])\n"
        f"{ANSWER}"
    )
    result = grade("relu", source, mode="submit", sandbox=pool)
    assert result.verdict == "accepted"
    visible = [t for t in result.tests if not t.hidden]
    assert all("calls 2 " in t.stdout for t in visible), [t.stdout for t in visible]


def test_run_mode_never_starts_a_hidden_child(pool: Pool) -> None:
    source = HEAD + f"if {HIDDEN_LOAD}:\n    os._exit(3)\ndef relu(x):\n{ANSWER}"
    result = grade("relu", source, mode="run", sandbox=pool)
    assert result.verdict == "accepted" and not any(t.hidden for t in result.tests)


def test_exit_121_at_load_is_the_users_failure(pool: Pool) -> None:
    """121 is the runner's own set-up failure code: chosen by user code it proves nothing."""
    result = grade("relu", "import os\nos._exit(121)\n", mode="submit", sandbox=pool)
    assert result.verdict == "runtime_error", result.message
    out = pool.run("import os\ndef relu(x):\n    os._exit(121)\n", "relu", [Call((np.ones(2),))])
    assert out.status == "crashed"


def test_cli_json_carries_nothing_hidden(tmp_path: Path) -> None:
    source = HEAD + (
        f"def relu(x):\n    if {HIDDEN_CALL}:\n"
        "        print('LEAK', x)\n        warnings.warn('LEAK', UserWarning)\n"
        "        raise ValueError(f'LEAK {x!r}')\n"
        f"{ANSWER}"
    )
    path = tmp_path / "answer.py"
    path.write_text(source, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "engine", "grade", "relu", str(path), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    data = json.loads(result.stdout)
    assert data["verdict"] == "runtime_error", data["message"]
    assert_nothing_hidden_in(result.stdout + result.stderr, "relu")
    human = subprocess.run(
        [sys.executable, "-m", "engine", "grade", "relu", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert_nothing_hidden_in(human.stdout + human.stderr, "relu")


def test_reference_answers_still_pass_with_two_children(pool: Pool) -> None:
    for drill_id in ("softmax", "mlp_backward", "batchnorm_forward"):
        result = grade(drill_id, DRILLS[drill_id].solution_code, sandbox=pool)
        assert result.verdict == "accepted", (drill_id, result.message)
