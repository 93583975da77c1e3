"""Grading through the real sandbox: correct answers pass, typical wrong answers are caught by
the test named for the mistake, and every failure mode maps to the right verdict and message."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

import numpy as np
import pytest

from engine.cases import get_cases
from engine.drills import DRILLS
from engine.grader import CaseResult, GradeResult, grade
from engine.sandbox.api import Call, CallOutcome, Limits, QueueFull, RunOutcome
from tests.engine.correct_answers import CORRECT

Run = Callable[..., GradeResult]


def failing(result: GradeResult) -> set[str]:
    return {t.name for t in result.tests if t.status != "passed"}


def by_name(result: GradeResult, name: str) -> CaseResult:
    (test,) = [t for t in result.tests if t.name == name]
    return test


# ---------------------------------------------------------------------------------------------
# Correct answers: every reference solution, plus loop-based and alternative answers
# (CORRECT, in tests/engine/correct_answers.py: test_diagnosis uses them too)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("drill_id", list(DRILLS))
def test_reference_solution_is_accepted(run: Run, drill_id: str) -> None:
    result = run(drill_id, DRILLS[drill_id].solution_code)
    assert result.verdict == "accepted", result.message
    assert result.passed == result.total == len(get_cases(drill_id))
    assert result.sandboxed


@pytest.mark.parametrize(
    ("drill_id", "source"), [pytest.param(d, s, id=f"{d}-{label}") for d, label, s in CORRECT]
)
def test_alternative_correct_answers_are_accepted(run: Run, drill_id: str, source: str) -> None:
    result = run(drill_id, source)
    assert result.verdict == "accepted", [(t.name, t.message) for t in result.tests]


def test_notes_sigmoid_is_accepted_and_the_overflow_warning_is_shown(run: Run) -> None:
    result = run("sigmoid", CORRECT[0][2])
    assert result.verdict == "accepted"
    stability = by_name(result, "大输入数值稳定性")
    assert any("overflow encountered in exp" in w for w in stability.warnings)
    assert "不影响判定" in stability.message


# ---------------------------------------------------------------------------------------------
# Typical wrong answers, each caught by the test named for the mistake
# ---------------------------------------------------------------------------------------------

# (drill, mistake, source, tests that must fail, tests that must pass — or None for "any")
WRONG: list[tuple[str, str, str, set[str], set[str] | None]] = [
    (
        "sigmoid",
        "exp(x)/(1+exp(x)) 在 x=1000 处得到 NaN",
        "import numpy as np\ndef sigmoid(x):\n    return np.exp(x) / (1 + np.exp(x))\n",
        {"大输入数值稳定性"},
        {"基本示例", "随机二维矩阵"},
    ),
    (
        "sigmoid",
        "符号写反",
        "import numpy as np\ndef sigmoid(x):\n    return 1 / (1 + np.exp(x))\n",
        {"基本示例", "二维输入"},
        {"全零输入"},
    ),
    (
        "relu",
        "原地修改输入",
        "def relu(x):\n    x[x < 0] = 0\n    return x\n",
        {"基本示例", "全负输入"},
        {"全正输入"},
    ),
    (
        "relu",
        "返回布尔掩码",
        "def relu(x):\n    return x > 0\n",
        {"基本示例"},
        set(),
    ),
    (
        "leaky_relu",
        "max(alpha*x, x) 在 alpha>1 时错误",
        "import numpy as np\ndef leaky_relu(x, alpha=0.01):\n    return np.maximum(alpha * x, x)\n",
        {"alpha 大于 1"},
        {"默认 alpha", "alpha=0.2", "alpha=1 恒等映射", "恰好为 0 的元素"},
    ),
    (
        "leaky_relu",
        "把 alpha 写死为 0.01",
        "import numpy as np\ndef leaky_relu(x, alpha=0.01):\n    return np.where(x > 0, x, 0.01 * x)\n",
        {"alpha=0.2", "alpha 作为位置参数", "alpha=0 退化为 ReLU"},
        {"默认 alpha"},
    ),
    (
        "softmax",
        "不减最大值",
        """
        import numpy as np
        def softmax(x, axis=-1):
            e = np.exp(x)
            return e / e.sum(axis=axis, keepdims=True)
        """,
        {"大输入数值稳定性", "全为很大的负数"},
        {"一维向量", "随机二维矩阵", "axis=0"},
    ),
    (
        "softmax",
        "减全局最大值（只对一维正确地稳定）",
        """
        import numpy as np
        def softmax(x, axis=-1):
            e = np.exp(x - np.max(x))
            return e / e.sum(axis=axis, keepdims=True)
        """,
        {"各行数值范围差异很大"},
        {"一维向量", "大输入数值稳定性", "随机矩阵 axis=0"},
    ),
    (
        "softmax",
        "笔记中的一维写法：全局求和",
        """
        import numpy as np
        def softmax(x, axis=-1):
            e = np.exp(x - np.max(x))
            return e / np.sum(e)
        """,
        {"二维输入（按最后一轴）", "axis=0"},
        {"一维向量"},
    ),
    (
        "softmax",
        "忽略 axis 参数",
        """
        import numpy as np
        def softmax(x, axis=-1):
            e = np.exp(x - x.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)
        """,
        {"axis=0", "随机矩阵 axis=0", "三维输入（axis=1）"},
        {"一维向量", "随机矩阵 axis=1", "三维输入（axis=-1）"},
    ),
    (
        "sigmoid_backward",
        "把输入 x 当成 sigmoid 的输出",
        "def sigmoid_backward(dout, x):\n    return dout * x * (1 - x)\n",
        {"基本示例", "二维输入"},
        None,
    ),
    (
        "sigmoid_backward",
        "e^-x/(1+e^-x)^2 在 x=-1000 处得到 NaN",
        "import numpy as np\n"
        "def sigmoid_backward(dout, x):\n"
        "    return dout * np.exp(-x) / (1 + np.exp(-x)) ** 2\n",
        {"大输入数值稳定性"},
        {"基本示例"},
    ),
    (
        "relu_backward",
        "x >= 0 处让梯度通过",
        "import numpy as np\ndef relu_backward(dout, x):\n    return np.where(x >= 0, dout, 0)\n",
        {"基本示例", "x 恰好为 0 处梯度为 0"},
        {"二维输入", "随机二维矩阵"},
    ),
    (
        "relu_backward",
        "原地修改 dout",
        "def relu_backward(dout, x):\n    dout[x <= 0] = 0\n    return dout\n",
        {"基本示例", "全负输入"},
        {"全正输入"},
    ),
    (
        "linear_backward",
        "db 求平均而不是求和",
        "def linear_backward(dout, x, w, b):\n    return dout @ w.T, x.T @ dout, dout.mean(axis=0)\n",
        {"基本示例", "随机小矩阵"},
        {"batch 大小为 1"},
    ),
    (
        "linear_backward",
        "dw 转置（dout.T @ x）",
        "def linear_backward(dout, x, w, b):\n    return dout @ w.T, dout.T @ x, dout.sum(axis=0)\n",
        {"基本示例", "随机小矩阵"},
        None,
    ),
    (
        "softmax_cross_entropy",
        "先算概率再取 log",
        """
        import numpy as np
        def softmax_cross_entropy(logits, labels):
            n = len(labels)
            z = np.exp(logits - logits.max(axis=1, keepdims=True))
            p = z / z.sum(axis=1, keepdims=True)
            loss = -np.log(p[np.arange(n), labels]).mean()
            p[np.arange(n), labels] -= 1
            return loss, p / n
        """,
        {"极度自信的错误预测"},
        {"基本示例", "随机 logits"},
    ),
    (
        "softmax_cross_entropy",
        "对 batch 求和而不是平均",
        """
        import numpy as np
        def softmax_cross_entropy(logits, labels):
            n = len(labels)
            z = logits - logits.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            p = np.exp(logp)
            p[np.arange(n), labels] -= 1
            return -logp[np.arange(n), labels].sum(), p
        """,
        {"基本示例", "随机 logits"},
        {"单个样本", "batch 大小为 1"},
    ),
    (
        "mlp_backward",
        "ReLU 掩码用 h_pre >= 0",
        DRILLS["mlp_backward"].solution_code.replace("(h_pre > 0)", "(h_pre >= 0)"),
        {"隐藏层预激活恰为 0"},
        {"基本示例", "随机小网络", "隐藏层全部失活（死亡 ReLU）"},
    ),
    (
        "mlp_backward",
        "反向时忘记 ReLU 掩码",
        DRILLS["mlp_backward"].solution_code.replace(" * (h_pre > 0)", ""),
        {"隐藏层全部失活（死亡 ReLU）", "随机小网络"},
        {"隐藏层全部激活"},
    ),
    (
        "batchnorm_forward",
        "running_var 用有偏方差",
        DRILLS["batchnorm_forward"].solution_code.replace(" * n / (n - 1)", ""),
        {"训练模式基本示例", "训练模式随机输入"},
        {"eval 模式示例", "eval 模式使用滑动统计量"},
    ),
    (
        "batchnorm_forward",
        "eval 模式仍用 batch 统计量",
        DRILLS["batchnorm_forward"]
        .solution_code.replace("    if not training:", "    if False:")
        .replace(
            "    n = x.shape[0]", "    n = x.shape[0]\n    momentum = momentum if training else 0.0"
        ),
        {"eval 模式示例", "eval 模式使用滑动统计量"},
        {"训练模式基本示例", "训练模式随机输入"},
    ),
    (
        "batchnorm_forward",
        "像 PyTorch buffer 一样原地更新滑动统计量",
        """
        import numpy as np
        def batchnorm_forward(x, gamma, beta, running_mean, running_var,
                              momentum=0.1, eps=1e-5, training=True):
            if training:
                mean, var = x.mean(axis=0), x.var(axis=0)
                running_mean *= 1 - momentum
                running_mean += momentum * mean
                running_var *= 1 - momentum
                running_var += momentum * x.var(axis=0, ddof=1)
            else:
                mean, var = running_mean, running_var
            return gamma * (x - mean) / np.sqrt(var + eps) + beta, running_mean, running_var
        """,
        {"训练模式基本示例", "训练模式随机输入"},
        {"eval 模式示例"},
    ),
    (
        "batchnorm_backward",
        "忽略均值与方差对 x 的依赖",
        """
        import numpy as np
        def batchnorm_backward(dout, x, gamma, eps=1e-5):
            inv_std = 1 / np.sqrt(x.var(axis=0) + eps)
            xhat = (x - x.mean(axis=0)) * inv_std
            return dout * gamma * inv_std, (dout * xhat).sum(axis=0), dout.sum(axis=0)
        """,
        {"基本示例", "训练模式随机输入"},
        None,
    ),
    (
        "batchnorm_backward",
        "dgamma 与 dbeta 写反",
        DRILLS["batchnorm_backward"].solution_code.replace(
            "return dx, dgamma, dbeta", "return dx, dbeta, dgamma"
        ),
        {"基本示例"},
        None,
    ),
    (
        "layernorm_forward",
        "沿 batch 维归一化（写成了 BN）",
        """
        import numpy as np
        def layernorm_forward(x, gamma, beta, eps=1e-5):
            return gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps) + beta
        """,
        {"二维基本示例", "三维输入示例"},
        None,
    ),
    (
        "layernorm_forward",
        "eps 放在根号外",
        """
        import numpy as np
        def layernorm_forward(x, gamma, beta, eps=1e-5):
            mean = x.mean(axis=-1, keepdims=True)
            std = x.std(axis=-1, keepdims=True)
            return gamma * (x - mean) / (std + eps) + beta
        """,
        {"方差很小的行", "二维基本示例"},
        {"特征数为 1"},
    ),
    (
        "layernorm_backward",
        "dgamma 只对 axis=0 求和",
        DRILLS["layernorm_backward"].solution_code.replace(
            "(dout * x_hat).reshape(-1, d).sum(axis=0)", "(dout * x_hat).sum(axis=0)"
        ),
        {"三维输入示例", "三维输入", "四维输入"},
        {"二维基本示例", "随机二维输入"},
    ),
    (
        "layernorm_backward",
        "忽略均值与方差对 x 的依赖",
        """
        import numpy as np
        def layernorm_backward(dout, x, gamma, eps=1e-5):
            d = x.shape[-1]
            inv_std = 1 / np.sqrt(x.var(axis=-1, keepdims=True) + eps)
            xhat = (x - x.mean(axis=-1, keepdims=True)) * inv_std
            dgamma = (dout * xhat).reshape(-1, d).sum(axis=0)
            return dout * gamma * inv_std, dgamma, dout.reshape(-1, d).sum(axis=0)
        """,
        {"二维基本示例", "随机二维输入"},
        None,
    ),
]


@pytest.mark.parametrize(
    ("drill_id", "source", "must_fail", "must_pass"),
    [pytest.param(d, s, f, p, id=f"{d}-{label}") for d, label, s, f, p in WRONG],
)
def test_typical_wrong_answer_is_caught_by_the_named_test(
    run: Run, drill_id: str, source: str, must_fail: set[str], must_pass: set[str] | None
) -> None:
    result = run(drill_id, source)
    assert result.verdict == "wrong_answer", result.message
    assert must_fail <= failing(result)
    if must_pass is not None:
        assert not must_pass & failing(result), must_pass & failing(result)
    assert "答案错误" in result.message


def test_every_drill_has_at_least_two_wrong_answers_covered() -> None:
    counts = {d: 0 for d in DRILLS}
    for drill_id, *_ in WRONG:
        counts[drill_id] += 1
    assert min(counts.values()) >= 2, counts


def test_in_place_mutation_fails_with_a_message_that_says_so(run: Run) -> None:
    result = run("relu", "def relu(x):\n    x[x < 0] = 0\n    return x\n")
    test = by_name(result, "基本示例")
    assert test.status == "failed" and "原地修改了输入 `x`" in test.message
    assert by_name(result, "全负输入").message.startswith("函数原地修改了输入")
    (source,) = [s for d, label, s, *_ in WRONG if label.startswith("像 PyTorch buffer")]
    bn = run("batchnorm_forward", source)
    assert "`running_mean`、`running_var`" in by_name(bn, "训练模式基本示例").message


# ---------------------------------------------------------------------------------------------
# Structure and dtype
# ---------------------------------------------------------------------------------------------


def test_wrong_tuple_length_is_a_structure_failure(run: Run) -> None:
    result = run(
        "linear_backward",
        "def linear_backward(dout, x, w, b):\n    return dout @ w.T, x.T @ dout\n",
    )
    assert result.verdict == "wrong_answer"
    message = by_name(result, "基本示例").message
    assert "包含 3 个元素的元组（dx, dw, db）" in message and "2 个元素" in message


def test_broadcastable_but_wrong_shape_fails(run: Run) -> None:
    result = run(
        "linear_backward",
        "def linear_backward(dout, x, w, b):\n    return dout @ w.T, x.T @ dout, dout.sum(axis=0, keepdims=True)\n",
    )
    test = by_name(result, "基本示例")
    assert test.status == "failed" and "db 的形状应为 (2,)，实际为 (1, 2)" in test.message


def test_float16_result_fails_and_float64_for_float32_passes_with_a_note(run: Run) -> None:
    half = run(
        "relu", "import numpy as np\ndef relu(x):\n    return np.maximum(x, 0).astype(np.float16)\n"
    )
    assert half.verdict == "wrong_answer"
    assert "float16" in by_name(half, "基本示例").message
    wide = run(
        "relu", "import numpy as np\ndef relu(x):\n    return np.maximum(x, 0).astype(np.float64)\n"
    )
    assert wide.verdict == "accepted"
    note = by_name(wide, "float32 输入").message
    assert "PyTorch" in note and "float32" in note and "float64" in note


def test_float32_result_for_float64_input_fails(run: Run) -> None:
    source = """
        import numpy as np
        def softmax(x, axis=-1):
            e = np.exp(x - x.max(axis=axis, keepdims=True))
            return (e / e.sum(axis=axis, keepdims=True)).astype(np.float32)
        """
    result = run("softmax", source)
    assert result.verdict == "wrong_answer"
    assert "float32" in by_name(result, "一维向量").message
    assert by_name(result, "float32 输入").status == "passed"


def test_returning_none_says_return_is_missing(run: Run) -> None:
    result = run("relu", "def relu(x):\n    x * 2\n", mode="run")
    assert "return" in by_name(result, "基本示例").message


# ---------------------------------------------------------------------------------------------
# Errors and verdicts
# ---------------------------------------------------------------------------------------------


def test_missing_function_is_a_clear_runtime_error(run: Run) -> None:
    result = run("softmax", "import numpy as np\ndef soft_max(x, axis=-1):\n    return x\n")
    assert result.verdict == "runtime_error"
    assert "没有找到函数 `softmax`" in result.message
    assert all(t.status == "error" for t in result.tests)


def test_wrong_signature_is_a_clear_runtime_error(run: Run) -> None:
    result = run("softmax", "import numpy as np\ndef softmax(x):\n    return x\n")
    assert result.verdict == "runtime_error"
    test = by_name(result, "axis=0")
    assert test.status == "error"
    assert "函数签名与题目不符" in test.message and "softmax(x, axis=-1)" in test.message


def test_syntax_error(run: Run) -> None:
    result = run("relu", "def relu(x)\n    return x\n")
    assert result.verdict == "syntax_error"
    assert "语法错误" in result.message and "line 1" in result.message
    assert result.passed == 0 and len(result.tests) == result.total


def test_exception_in_the_function_shows_details_only_for_visible_tests(run: Run) -> None:
    source = "def relu(x):\n    raise ValueError(f'secret {x.sum()}')\n"
    result = run("relu", source)
    assert result.verdict == "runtime_error"
    visible = by_name(result, "基本示例")
    assert visible.status == "error" and "ValueError: secret" in visible.message
    hidden = by_name(result, "随机二维矩阵")
    assert hidden.status == "error" and "ValueError" in hidden.message
    # No line number either: which line raises is the submission's choice (a data channel).
    assert "secret" not in hidden.message and not re.search(r"\d", hidden.message)


def test_exception_at_import_time_is_a_runtime_error(run: Run) -> None:
    result = run("relu", "raise RuntimeError('boom')\ndef relu(x):\n    return x\n")
    assert result.verdict == "runtime_error" and "加载代码时" in result.message


def test_infinite_loop_is_a_time_limit(run: Run) -> None:
    limits = Limits(cpu_seconds=0.3, wall_seconds=1.0)
    result = run("relu", "def relu(x):\n    while True:\n        pass\n", limits=limits)
    assert result.verdict == "time_limit_exceeded"
    assert result.tests[0].status == "timeout"


def test_hidden_tests_reveal_name_and_status_but_no_data(run: Run) -> None:
    source = "import numpy as np\ndef sigmoid(x):\n    print('values', x)\n    return np.tanh(x)\n"
    data = run("sigmoid", source).to_dict()
    hidden = [t for t in data["tests"] if t["hidden"]]
    visible = [t for t in data["tests"] if not t["hidden"]]
    assert hidden and visible
    for test in hidden:
        assert test["status"] == "failed" and test["name"]
        assert test["stdout"] == "" and test["time_ms"] == 0
        # At most the error's order of magnitude: a power of ten.
        error = test["max_abs_error"]
        assert error is None or error == 10.0 ** round(math.log10(error))
        assert not {"input", "expected", "got"} & set(test)
        assert "期望" not in test["message"] and "位置" not in test["message"]
    for test in visible:
        assert test["stdout"].startswith("values") and len(test["stdout"]) <= 600
        assert test["input"] and test["expected"] and test["got"]
        assert "期望" in test["message"] and test["max_abs_error"] > 0


def test_hidden_tests_do_not_leak_data_through_warnings_or_exception_names(run: Run) -> None:
    source = """
        import warnings
        import numpy as np

        def sigmoid(x):
            warnings.warn(f"data {x.ravel()[0]}")
            if x.ndim >= 2:
                raise type(f"Leak{int(abs(x.ravel()[0]) * 1000)}", (Exception,), {})()
            return 1 / (1 + np.exp(-x))
        """
    result = run("sigmoid", source)
    visible = by_name(result, "基本示例")
    assert any("data -2.0" in w for w in visible.warnings)
    for test in result.tests:
        if test.hidden:
            assert not any("data" in w for w in test.warnings)
            assert "Leak" not in test.message
    assert "运行出错：异常" in by_name(result, "随机二维矩阵").message
    stable = by_name(result, "大输入数值稳定性")
    assert "RuntimeWarning: overflow encountered in exp" in stable.warnings


def test_module_level_output_is_shown_in_run_mode_only(run: Run) -> None:
    source = "print('loaded')\n" + DRILLS["relu"].solution_code
    assert run("relu", source, mode="run").stdout.strip() == "loaded"
    submitted = run("relu", source)
    assert "loaded" not in submitted.stdout and "运行" in submitted.stdout


def test_run_mode_runs_only_the_visible_examples(run: Run) -> None:
    result = run("softmax", DRILLS["softmax"].solution_code, mode="run")
    assert result.verdict == "accepted" and result.total == 3
    assert not any(t.hidden for t in result.tests)
    assert "隐藏测试" in result.message


def test_result_dict_shape(run: Run) -> None:
    data = run("relu", DRILLS["relu"].solution_code).to_dict()
    assert {
        "drill",
        "verdict",
        "passed",
        "total",
        "time_ms",
        "tests",
        "stdout",
        "sandboxed",
    } <= set(data)
    assert data["drill"] == "relu" and data["verdict"] == "accepted" and data["sandboxed"] is True
    test = data["tests"][0]
    assert {"name", "status", "hidden", "message", "max_abs_error", "time_ms", "stdout"} <= set(
        test
    )
    assert {"input", "expected", "got"} <= set(test)


def test_grade_accepts_a_drill_object_and_never_touches_cached_cases(run: Run) -> None:
    before = [np.array(a) for a in get_cases("relu")[0].args]
    grade(DRILLS["relu"], "def relu(x):\n    x[:] = 7\n    return x\n")
    np.testing.assert_array_equal(get_cases("relu")[0].args[0], before[0])


# ---------------------------------------------------------------------------------------------
# Verdict mapping of every sandbox outcome (a canned sandbox: no code runs here)
# ---------------------------------------------------------------------------------------------


class Canned:
    """A Sandbox that returns a fixed outcome shape, to pin the verdict mapping."""

    def __init__(self, status: str, call: CallOutcome | None = None, **kw: object) -> None:
        self.status, self.call, self.kw = status, call, kw

    def run(
        self, source: str, function: str, calls: Sequence[Call], limits: Limits | None = None
    ) -> RunOutcome:
        call = self.call or CallOutcome("not_run")
        return RunOutcome(self.status, [call for _ in calls], **self.kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        ("syntax_error", "syntax_error"),
        ("missing_function", "runtime_error"),
        ("load_error", "runtime_error"),
        ("crashed", "runtime_error"),
        ("timeout", "time_limit_exceeded"),
        ("memory_limit", "memory_limit_exceeded"),
        ("output_limit", "output_limit_exceeded"),
        ("refused", "internal_error"),
        ("internal_error", "internal_error"),
    ],
)
def test_run_status_maps_to_verdict(status: str, verdict: str) -> None:
    result = grade("relu", "", sandbox=Canned(status, message="说明", sandboxed=False))
    assert result.verdict == verdict
    assert result.sandboxed is False
    assert result.message


def test_memory_error_inside_a_call_is_a_memory_verdict() -> None:
    call = CallOutcome("error", error="MemoryError", error_type="MemoryError")
    assert grade("relu", "", sandbox=Canned("ok", call)).verdict == "memory_limit_exceeded"


def test_a_failing_sandbox_is_an_internal_error_not_a_crash() -> None:
    class Broken:
        def run(self, *args: object, **kwargs: object) -> RunOutcome:
            raise OSError("pipe closed")

    result = grade("relu", "", sandbox=Broken())  # type: ignore[arg-type]
    assert result.verdict == "internal_error" and "pipe closed" in result.message


def test_wrong_number_of_call_outcomes_is_an_internal_error() -> None:
    class Short:
        def run(self, *args: object, **kwargs: object) -> RunOutcome:
            return RunOutcome("ok", [])

    assert grade("relu", "", sandbox=Short()).verdict == "internal_error"  # type: ignore[arg-type]


def test_queue_full_propagates_for_the_caller_to_retry() -> None:
    class Busy:
        def run(self, *args: object, **kwargs: object) -> RunOutcome:
            raise QueueFull(retry_after=3)

    with pytest.raises(QueueFull):
        grade("relu", "", sandbox=Busy())  # type: ignore[arg-type]


def test_unknown_drill_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        grade("nope", "", sandbox=Canned("ok"))


def test_got_is_rendered_like_expected_whether_or_not_it_is_the_reference_bit_for_bit(
    run: Run,
) -> None:
    # A bit-identical answer reuses the expected text; any other is rendered as it is.
    same = run("linear_backward", DRILLS["linear_backward"].solution_code, mode="run")
    shown = [t for t in same.tests if not t.hidden]
    assert shown and all(t.got == t.expected for t in shown)
    off = (
        "import numpy as np\n"
        "def linear_backward(dout, x, w, b):\n"
        "    return dout @ w.T, x.T @ dout, dout.sum(axis=0) * 2\n"
    )
    changed = run("linear_backward", off, mode="run")
    first = next(t for t in changed.tests if not t.hidden)
    assert first.got != first.expected
    # dx and dw are the reference's (their text is reused), db is not.
    assert first.got.split("db = ")[0] == first.expected.split("db = ")[0]
