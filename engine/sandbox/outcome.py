"""Trusted side: turn a runner's raw response into a `RunOutcome`.

Everything here treats the child's bytes as hostile: records are decoded with the checked `wire`
decoder, every field is type-checked, call indices must arrive in order, and nothing a
submission prints on stdout/stderr is ever parsed.
"""

from __future__ import annotations

import signal
from collections.abc import Sequence
from typing import Any

import numpy as np

from engine.sandbox import wire
from engine.sandbox.api import Call, CallOutcome, CallStatus, Limits, RunOutcome, RunStatus

DEFAULT_LIMITS = Limits()

MAX_TEXT = 8000


class ProtocolError(Exception):
    """The result stream does not follow the protocol (a submission writing on the pipe)."""


_ARRAY_DTYPES = frozenset(wire.DTYPES.values())


def is_value(value: Any, depth: int = 0) -> bool:
    """True for what the api's `Value` allows: allowed arrays, plain scalars, None, tuples."""
    if depth > wire.MAX_DEPTH:
        return False
    kind = type(value)
    if kind is np.ndarray:
        return value.dtype in _ARRAY_DTYPES
    if value is None or kind is bool or kind is int or kind is float:
        return True
    if kind is tuple:
        return all(is_value(item, depth + 1) for item in value)
    return False


def _text(value: Any, limit: int = MAX_TEXT) -> str | None:
    if value is None:
        return None
    if type(value) is not str:
        raise ProtocolError("text field is not str")
    return value[:limit]


def _call_outcome(record: dict[str, Any], output_limit: int) -> CallOutcome:
    if record.get("status") not in ("ok", "error"):
        raise ProtocolError("bad call status")
    status: CallStatus = "ok" if record.get("status") == "ok" else "error"
    value = record.get("value")
    error = _text(record.get("error"))
    error_type = _text(record.get("error_type"), 100)
    if status == "ok" and not is_value(value):
        status, value = "error", None
        error_type = "TypeError"
        error = "TypeError: 返回值类型不受支持（只接受 NumPy 数组、数字、None 及其元组）"
    args_after = record.get("args_after", ())
    kwargs_after = record.get("kwargs_after", {})
    if type(args_after) is not tuple or not is_value(args_after):
        args_after = ()
    if type(kwargs_after) is not dict or not all(is_value(v) for v in kwargs_after.values()):
        kwargs_after = {}
    warnings = record.get("warnings", ())
    if type(warnings) is not tuple:
        raise ProtocolError("bad warnings")
    time_ms = record.get("time_ms", 0.0)
    return CallOutcome(
        status=status,
        value=value,
        error=error,
        error_type=error_type,
        args_after=args_after,
        kwargs_after=kwargs_after,
        warnings=[w[:300] for w in warnings[:20] if type(w) is str],
        stdout=_text(record.get("stdout"), output_limit + 200) or "",
        time_ms=float(time_ms) if type(time_ms) in (int, float) else 0.0,
    )


# A result stream may decode into at most this many tuple items and dict entries in all, nested
# at most this deep: every field of every record counts. Honest answers use a few dozen.
MAX_STREAM_ITEMS = 20_000
MAX_RESULT_DEPTH = 12
LOAD_STATUSES = ("ok", "syntax_error", "missing_function", "load_error", "memory")


def echoes(calls: Sequence[Call]) -> list[dict[str, wire.Known]]:
    """What each call's record holds when the function left its arguments alone: the child
    echoes them (args_after, kwargs_after), and those bytes need no decoding again."""
    found = []
    for call in calls:
        fields = {
            "args_after": wire.known(tuple(call.args), MAX_RESULT_DEPTH),
            "kwargs_after": wire.known(dict(call.kwargs), MAX_RESULT_DEPTH),
        }
        found.append({k: v for k, v in fields.items() if v is not None})
    return found


def parse_records(
    data: bytes,
    n_calls: int,
    limits: Limits,
    echoed: Sequence[dict[str, wire.Known]] = (),
) -> tuple[dict[str, Any] | None, list[CallOutcome], bool, bool, str | None]:
    """Decode the result stream, record by record, stopping at the first bad one.

    Returns (load record, call outcomes in order, end seen, a result was too large, protocol
    error or None). The work is bounded whatever the stream holds: at most n_calls + 3 records
    (load, calls, too_large, end), no empty ones, MAX_STREAM_ITEMS items, MAX_RESULT_DEPTH.
    `echoed` (see `echoes`): the next call's unchanged arguments are taken as they were sent,
    with the same budget spent.
    """
    load: dict[str, Any] | None = None
    calls: list[CallOutcome] = []
    ended = too_large = False
    budget = wire.Budget(MAX_STREAM_ITEMS, MAX_RESULT_DEPTH)
    try:
        for raw in wire.iter_frames(data, n_calls + 3):
            if ended:
                raise ProtocolError("record after the end")
            known = echoed[len(calls)] if len(calls) < len(echoed) else None
            record = wire.decode(raw, budget=budget, known=known)
            if type(record) is not dict:
                raise ProtocolError("record is not a dict")
            kind = record.get("kind")
            if kind == "load" and load is None:
                if record.get("status") not in LOAD_STATUSES:
                    raise ProtocolError("bad load status")
                load = record
            elif kind == "call" and load is not None and load.get("status") == "ok":
                if record.get("index") != len(calls) or len(calls) >= n_calls:
                    raise ProtocolError("call out of order")
                calls.append(_call_outcome(record, limits.output_bytes))
            elif kind == "too_large" and load is not None and not too_large:
                too_large = True
            elif kind == "end" and load is not None:
                ended = True
            else:
                raise ProtocolError(f"unexpected record {kind!r}")
    except (ProtocolError, wire.WireError, ValueError, TypeError) as exc:
        return load, calls, False, too_large, str(exc)
    return load, calls, ended, too_large, None


def _stream_text(raw: Any, dropped: Any, limit: int) -> str:
    text = raw.decode("utf-8", "replace") if type(raw) is bytes else ""
    if type(dropped) is int and dropped > 0:
        text += f"\n…[输出过长，已截断 {dropped} 字节]"
    return text[: limit + 200]


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


MESSAGES: dict[str, str] = {
    "syntax_error": "代码有语法错误，无法编译。请根据错误信息修改后再提交。",
    "missing_function": "没有找到函数 `{function}`：请保留题目给出的函数名和签名。",
    "load_error": "模块加载时出错：顶层代码抛出了异常（函数之外的语句也会在加载时执行）。",
    "timeout": "运行超时：超过了 CPU {cpu:g} 秒或总时长 {wall:g} 秒的限制，请检查是否有死循环或过慢的实现。",
    "memory_limit": "内存超限：超过了 {mb} MB 的限制，请避免创建过大的数组。",
    "output_limit": "返回的结果过大：超过了 {result_mb} MB 的限制。",
    "crashed": "程序异常退出（{detail}）：例如调用了 sys.exit()/os._exit()，或触发了段错误。",
    "internal_error": "评测服务内部错误，请稍后重试（不是你的代码的问题）。",
    "refused": (
        "评测沙箱未就绪：本机无法启用代码隔离（需要 Linux 命名空间和 seccomp，"
        "运行 python -m engine doctor 可查看缺少哪一层），"
        "为安全起见拒绝运行提交的代码。请联系管理员；仅在本地开发时可设置 "
        "GRADER_ALLOW_UNSANDBOXED=1 以无隔离模式运行。"
    ),
}


def message_for(
    status: str, *, function: str = "", limits: Limits = DEFAULT_LIMITS, detail: str = ""
) -> str:
    if status == "ok":
        return ""
    return MESSAGES[status].format(
        function=function,
        cpu=limits.cpu_seconds,
        wall=limits.wall_seconds,
        mb=limits.memory_bytes // 2**20,
        result_mb=max(1, limits.result_bytes // 2**20),
        detail=detail,
    )


def not_run(n: int) -> list[CallOutcome]:
    return [CallOutcome(status="not_run") for _ in range(n)]


def failed(
    status: RunStatus,
    calls: Sequence[Call],
    function: str,
    limits: Limits,
    *,
    sandboxed: bool = True,
) -> RunOutcome:
    """An outcome for a run that never reached user code (refused, internal error)."""
    return RunOutcome(
        status=status,
        calls=not_run(len(calls)),
        message=message_for(status, function=function, limits=limits),
        sandboxed=sandboxed,
    )


def build_outcome(
    response: dict[str, Any],
    calls: Sequence[Call],
    function: str,
    limits: Limits,
    echoed: Sequence[dict[str, wire.Known]] = (),
) -> RunOutcome:
    """Map a runner response to the api's outcome; the first matching rule wins."""
    n = len(calls)
    sandboxed = bool(response.get("sandboxed", False))
    # Only the runner's own status record (the status pipe is closed before user code runs)
    # can make this the sandbox's fault; an exit code, whatever its value, is the user's.
    if response.get("setup_error") and not response.get("oom_killed"):
        return failed("internal_error", calls, function, limits, sandboxed=sandboxed)
    load, done, ended, too_large, protocol_error = parse_records(
        response.get("results", b""), n, limits, echoed
    )
    exit_code = response.get("exit_code")
    exit_signal = response.get("exit_signal") or 0
    cpu_ms = float(response.get("cpu_ms") or 0.0)
    cpu_limit_ms = max(1.0, -(-limits.cpu_seconds // 1)) * 1000.0
    detail = ""
    load_status = load.get("status") if load else None

    if (
        response.get("timed_out")
        or exit_signal == signal.SIGXCPU
        or (exit_signal == signal.SIGKILL and cpu_ms >= cpu_limit_ms * 0.95)
    ):
        status: RunStatus = "timeout"
    elif response.get("result_over") or too_large:
        status = "output_limit"
    elif load_status in ("syntax_error", "missing_function", "load_error"):
        status = load_status
    elif (
        load_status == "memory"
        or response.get("oom_killed")
        or any(c.error_type == "MemoryError" for c in done)
    ):
        status = "memory_limit"
    elif (
        protocol_error is None
        and ended
        and len(done) == n
        and (response.get("ended") or exit_code == 0)
    ):
        status = "ok"
    else:
        status = "crashed"
        if protocol_error or ended or response.get("bad_stream"):
            detail = "结果通道中出现了无法识别的数据"
        elif exit_signal:
            detail = f"被信号 {_signal_name(exit_signal)} 终止"
        else:
            detail = f"退出码 {exit_code}"

    error_fields: dict[str, Any] = {}
    if load_status in ("syntax_error", "load_error", "memory") and load is not None:
        error_fields = {
            "error": _text(load.get("error")),
            "error_type": _text(load.get("error_type"), 100),
        }
    message = message_for(status, function=function, limits=limits, detail=detail)
    if error_fields.get("error"):
        message = f"{message}\n{error_fields['error']}"
    output_limit = limits.output_bytes
    return RunOutcome(
        status=status,
        calls=done + not_run(n - len(done)),
        stdout=_stream_text(response.get("stdout"), response.get("stdout_dropped"), output_limit),
        stderr=_stream_text(response.get("stderr"), response.get("stderr_dropped"), output_limit),
        message=message,
        sandboxed=sandboxed,
        time_ms=float(response.get("wall_ms") or 0.0),
    )
