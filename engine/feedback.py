"""What the learner reads about a run: each test's result, the verdict and its summary, and
the little a hidden test may reveal (its run is sanitised here before anything is judged)."""

from __future__ import annotations

import builtins
import math
import re
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np

from engine.cases import Case
from engine.compare import (
    Comparison,
    compare,
    mutated_arguments,
    render,
    render_line,
    render_named,
)
from engine.drills import Drill
from engine.i18n import N_, case_name, current, sandbox_text, t
from engine.results import RUN_VERDICTS, CaseResult, Mode, Verdict
from engine.sandbox.api import CallOutcome, RunOutcome

TEST_STDOUT_CHARS = 500  # printed output kept per visible test
RUN_STDOUT_CHARS = 2000  # printed output kept outside the tests (module level)
ERROR_CHARS = 1500

# NumPy's floating-point warnings, as an exact list: "<category> encountered in <ufunc>". A
# hidden test may show one of these, nothing else (user code can warn with any text it likes).
_FP_CATEGORIES = ("overflow", "underflow", "invalid value", "divide by zero")
_UFUNCS = frozenset(
    # vars(), not dir() + getattr(): the latter imports every lazy submodule (f2py, testing...).
    [name for name, value in vars(np).items() if isinstance(value, np.ufunc)]
    + [f"scalar {op}" for op in ("divide", "multiply", "add", "subtract", "power", "negative")]
    + ["reduce", "cast", "matmul", "true_divide"]
)
HIDDEN_WARNINGS = frozenset(
    [f"RuntimeWarning: {c} encountered in {u}" for c in _FP_CATEGORIES for u in _UFUNCS]
    + [f"RuntimeWarning: {c} encountered" for c in _FP_CATEGORIES]
)
_HIDDEN_RUN_MESSAGES = {
    "ok": "",
    "syntax_error": "隐藏测试加载代码时出错（详情不显示）。",
    "load_error": "隐藏测试加载代码时出错（详情不显示）。",
    "missing_function": "隐藏测试中没有找到要求的函数。",
    "crashed": "程序在隐藏测试中异常退出（详情不显示）。",
}


def _builtin_exception(name: str | None) -> str | None:
    """The name if it is a built-in exception class's, else None ("an exception")."""
    value = getattr(builtins, name or "", None)
    if isinstance(value, type) and issubclass(value, BaseException):
        return name
    return None


def sanitize_hidden(outcome: RunOutcome, drill: Drill) -> RunOutcome:
    """Keep only facts this process computes or can check against a fixed vocabulary.

    Values and echoed arguments stay (they are compared here, never shown); error texts, type
    names that are not built-in, warning texts off the exact list, prints, per-test times, exit
    codes and load errors are dropped. A forged load record becomes a plain load error.
    """
    status = outcome.status
    if status in ("syntax_error", "load_error", "missing_function"):
        status = "load_error" if status == "syntax_error" else status
    calls = [
        CallOutcome(
            status=c.status,
            value=c.value,
            error_type=_builtin_exception(c.error_type) if c.status == "error" else None,
            args_after=c.args_after,
            kwargs_after=c.kwargs_after,
            warnings=[w for w in c.warnings if w in HIDDEN_WARNINGS],
        )
        for c in outcome.calls
    ]
    # Timeout, memory, output, refused, internal: the trusted side's own texts are kept.
    message = _HIDDEN_RUN_MESSAGES.get(status, outcome.message)
    return RunOutcome(status=status, calls=calls, message=message, sandboxed=outcome.sandboxed)


def run_stdout(outcome: RunOutcome, mode: Mode) -> str:
    """Output printed outside the calls (module level). In submit mode it is withheld: code run
    at exit (atexit, __del__) could print what it saw during the hidden tests."""
    if mode == "submit" and outcome.stdout:
        return t("（提交时不显示函数外的输出；请用“运行”查看）")
    return _cap(sandbox_text(outcome.stdout), RUN_STDOUT_CHARS)


def _cap(text: str, limit: int) -> str:
    return (
        text
        if len(text) <= limit
        else text[:limit] + "\n" + t("…（已截断，共 {n} 个字符）", n=len(text))
    )


def judge(drill: Drill, case: Case, call: CallOutcome, run: RunOutcome) -> CaseResult:
    hidden = case.hidden
    result = CaseResult(
        name=case_name(case.name),
        status="error",
        hidden=hidden,
        message="",
        time_ms=0.0 if hidden else call.time_ms,
        stdout="" if hidden else _cap(sandbox_text(call.stdout), TEST_STDOUT_CHARS),
        warnings=_shown_warnings(call.warnings, hidden),
    )
    if not hidden:
        result.input, result.expected = _case_texts(drill, case, current())

    if call.status == "not_run":
        if run.status == "timeout":
            result.status = "timeout"
            result.message = t("超时：时间用完时这个测试还没有完成")
        else:
            status = _RUN_STATUS_NAMES.get(run.status)
            result.message = t("未运行（{status}）", status=t(status) if status else run.status)
        return result

    if call.status == "error":
        result.message = _error_message(drill, call, hidden)
        return _with_warnings(result)

    if not hidden:
        result.got = _render_got(drill, case, call.value)
    comparison = compare(case.expected, call.value, drill.returns, atol=case.atol)
    result.max_abs_error = (
        _magnitude(comparison.max_abs_error) if hidden else comparison.max_abs_error
    )
    mutated = mutated_arguments(
        drill.params, case.args, case.kwargs, call.args_after, call.kwargs_after
    )
    problems = []
    if not comparison.ok:
        problems.append(_hidden_reason(comparison) if hidden else comparison.detail)
    if mutated:
        names = t("、").join(f"`{n}`" for n in mutated)
        problems.append(
            t("函数原地修改了输入 {names}：请不要修改传入的数组，先复制或返回新数组", names=names)
        )
    if problems:
        result.status = "failed"
        result.message = "\n".join(problems)
    else:
        result.status = "passed"
        result.message = t("通过")
    if comparison.notes:
        result.message += "\n" + "\n".join(comparison.notes)
    return _with_warnings(result)


@cache
def _case_texts(drill: Drill, case: Case, lang: str) -> tuple[str, str]:
    """Rendered input and expected output of a visible case (constant, so rendered once per
    language: a long tuple's ellipsis is worded)."""
    text = render_named(drill.params, case.args)
    if case.kwargs:
        text += "\n" + render_named(list(case.kwargs), list(case.kwargs.values()))
    if drill.returns:
        return text, render_named(drill.returns, case.expected)
    return text, render(case.expected)


_HIDDEN_REASONS = {
    "type": N_("返回值的类型或结构不符"),
    "shape": N_("返回值的形状与期望不符"),
    "dtype": N_("返回值的 dtype 不符"),
    "nonfinite": N_("返回值含 NaN 或 inf，而参考结果是有限值（需要数值稳定的写法）"),
    "value": N_("数值不符（超出容差）"),
}


def _hidden_reason(comparison: Comparison) -> str:
    reasons = [t(_HIDDEN_REASONS[r]) for r in comparison.reasons if r in _HIDDEN_REASONS]
    return t("；").join(reasons) or t(_HIDDEN_REASONS["value"])


def _magnitude(error: float | None) -> float | None:
    """A hidden test's error as a power of ten (its order of magnitude), within 1e-16..1e16."""
    if error is None or not math.isfinite(error):
        return None
    if error == 0:
        return 0.0
    return float(10.0 ** min(16, max(-16, math.floor(math.log10(error)))))


def _shown_warnings(warnings: Sequence[str], hidden: bool) -> list[str]:
    unique = list(dict.fromkeys(warnings))
    if not hidden:
        return unique
    kept = [w for w in unique if w in HIDDEN_WARNINGS]
    if len(kept) < len(unique):
        kept.append(t("（隐藏测试中的其他警告不显示）"))
    return kept


def _with_warnings(result: CaseResult) -> CaseResult:
    if result.warnings:
        shown = t("；").join(result.warnings[:3])
        result.message += "\n" + t("NumPy 警告（不影响判定）：{shown}", shown=shown)
    return result


def _render_got(drill: Drill, case: Case, value: Any) -> str:
    """What the submission returned, as text. Where it is bit for bit the reference's output
    (most accepted answers), the text is the expected one, already rendered once per case."""
    if not drill.returns:
        if _identical(value, case.expected):
            return _case_texts(drill, case, current())[1]
        return render(value)
    if type(value) is not tuple or len(value) != len(drill.returns):
        return render(value)
    expected = case.expected
    if type(expected) is not tuple or len(expected) != len(value):
        return render_named(drill.returns, value)
    lines = _expected_lines(drill, case, current())
    identical = [lines[i] if _identical(v, expected[i]) else None for i, v in enumerate(value)]
    return render_named(drill.returns, value, rendered=identical)


@cache
def _expected_lines(drill: Drill, case: Case, lang: str) -> tuple[str, ...]:
    """`render_named`'s line for each part of a visible case's (tuple) reference output."""
    return tuple(render_line(n, v) for n, v in zip(drill.returns, case.expected, strict=False))


def _identical(got: Any, expected: Any) -> bool:
    """Same types, dtypes, shapes and bytes all the way down: `render` gives the same text."""
    if type(got) is not type(expected):
        return False
    if type(got) is np.ndarray:
        return bool(
            got.dtype == expected.dtype
            and got.shape == expected.shape
            and got.tobytes() == expected.tobytes()
        )
    if type(got) is tuple:
        return len(got) == len(expected) and all(map(_identical, got, expected))
    if type(got) is float:
        return bool(got.hex() == expected.hex())
    return got is None


_RUN_STATUS_NAMES = {
    "syntax_error": N_("代码有语法错误"),
    "missing_function": N_("没有找到要求的函数"),
    "load_error": N_("加载代码时出错"),
    "timeout": N_("超时"),
    "memory_limit": N_("内存超限"),
    "output_limit": N_("输出超限"),
    "crashed": N_("进程意外退出"),
    "refused": N_("评测环境不可用"),
    "internal_error": N_("评测系统内部错误"),
}

_SIGNATURE_ERROR = re.compile(
    r"(unexpected keyword argument|required positional argument|positional arguments? but|"
    r"takes \d+ positional|got multiple values for argument)"
)


def _error_message(drill: Drill, call: CallOutcome, hidden: bool) -> str:
    error_type = call.error_type or "Exception"
    text = sandbox_text(call.error or error_type)
    if error_type == "MemoryError":
        return t("内存不足（MemoryError）：数组太大或创建了过多的中间结果")
    if error_type == "RecursionError":
        return t("递归过深（RecursionError）")
    if error_type == "TypeError" and _SIGNATURE_ERROR.search(text):
        return (
            t("函数签名与题目不符：题目要求 `{signature}`。", signature=drill.signature)
            + "\n"
            + ("" if hidden else _cap(text, ERROR_CHARS))
        ).strip()
    if hidden:
        # Only a built-in exception's name: a user-made class name could spell out the data.
        # No line number either: user code picks which line raises.
        shown = _builtin_exception(call.error_type) or t("异常")
        return t("运行出错：{error}。隐藏测试不显示错误详情，请先通过可见示例自查。", error=shown)
    return t("运行出错：{error}", error=_cap(text, ERROR_CHARS))


def verdict_for(run: RunOutcome, tests: list[CaseResult], calls: list[CallOutcome]) -> Verdict:
    if run.status != "ok":
        return RUN_VERDICTS.get(run.status, "internal_error")
    # Worst first: a MemoryError inside a call is a memory verdict, not a plain runtime error.
    if any(c.status == "error" and c.error_type == "MemoryError" for c in calls):
        return "memory_limit_exceeded"
    if any(t.status == "error" for t in tests):
        return "runtime_error"
    if any(t.status != "passed" for t in tests):
        return "wrong_answer"
    return "accepted"


def summary(
    drill: Drill, verdict: Verdict, run: RunOutcome, tests: list[CaseResult], mode: Mode
) -> str:
    detail = sandbox_text(run.message.strip())
    total = len(tests)
    passed = sum(t.status == "passed" for t in tests)
    if verdict == "accepted" and mode == "run":
        return t("可见示例全部通过（{total} 个）。提交后还会运行隐藏测试。", total=total)
    if verdict == "accepted":
        return t("通过：全部 {total} 个测试均正确。", total=total)
    if verdict == "wrong_answer":
        first = next(t for t in tests if t.status != "passed")
        return t(
            "答案错误：{total} 个测试中通过 {passed} 个，首个未通过的测试是「{name}」。",
            total=total,
            passed=passed,
            name=first.name,
        )
    if verdict == "syntax_error":
        shown = detail or _cap(run.stderr.strip(), ERROR_CHARS) or t("代码无法解析。")
        return t("语法错误：") + shown
    if run.status == "missing_function":
        return t(
            "运行错误：没有找到函数 `{name}`。请在代码顶层用 `def {signature}:` 定义它，不要改函数名。",
            name=drill.id,
            signature=drill.signature,
        )
    if run.status == "load_error":
        return t("运行错误：加载代码时抛出了异常（函数外的顶层代码出错）。") + _tail(
            detail or run.stderr
        )
    if run.status == "crashed":
        return t("运行错误：进程意外退出（例如调用了 sys.exit、os._exit 或触发了崩溃）。") + _tail(
            detail
        )
    if verdict == "runtime_error":
        first = next(t for t in tests if t.status == "error")
        return t("运行错误：测试「{name}」抛出了异常。", name=first.name)
    # For resource limits the sandbox's own message names the limit that was hit.
    if verdict == "time_limit_exceeded":
        return detail or t("运行超时：超过了时间限制（可能有死循环，或实现太慢）。")
    if verdict == "memory_limit_exceeded":
        return detail or t("内存超限：程序使用的内存超过了限制。")
    if verdict == "output_limit_exceeded":
        return detail or t("输出超限：打印的内容或返回的结果过大。")
    return t("评测系统内部错误，这不是你的代码的问题，请稍后重试。") + _tail(detail)


def _tail(detail: str) -> str:
    return f"\n{_cap(detail.strip(), ERROR_CHARS)}" if detail.strip() else ""
