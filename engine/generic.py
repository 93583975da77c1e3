"""Generic numeric diagnoses from expected vs got, when no catalogued mistake explains a failure.

Each check must hold on *every* failing test, and be consistent with the passing ones, or it
says nothing. Numbers (a factor, a shape) are quoted only when they come from visible tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.cases import Case
from engine.compare import TOLERANCES, compare, mutated_arguments
from engine.i18n import current, t

if TYPE_CHECKING:
    from engine.drills import Drill
    from engine.sandbox.api import CallOutcome

Found = tuple[str, str, str]  # (key, title, detail)
LARGE = 100.0  # an input beyond this is "large": exp overflows past ~709
WIDE = 1400.0  # a slice spanning more than this overflows exp for any shift but its maximum


@dataclass
class _Leaf:
    """One failing part of one failing test: the reference value and what came back."""

    case: Case
    label: str  # "" for a single result, else the part's name ("dw1")
    expected: np.ndarray
    got: Any
    atol: float | None


def generic_diagnosis(
    drill: Drill, cases: Sequence[Case], calls: Sequence[CallOutcome]
) -> Found | None:
    failing: list[tuple[Case, CallOutcome]] = []
    passing: list[tuple[Case, CallOutcome]] = []
    for case, call in zip(cases, calls, strict=True):
        ok = compare(case.expected, call.value, drill.returns, atol=case.atol).ok
        (passing if ok else failing).append((case, call))
    if not failing:
        return _mutation(drill, cases, calls)
    leaves = [leaf for case, call in failing for leaf in _failing_leaves(drill, case, call.value)]
    if not leaves:
        return None
    for check in (_structure, _nonfinite, _tiny):
        found = check(leaves)
        if found:
            return found
    for split_check in (_only_float32, _only_wide, _only_large):
        found = split_check(drill, [c for c, _ in failing], [c for c, _ in passing])
        if found:
            return found
    found = _wrong_axis(drill, [c for c, _ in failing], [call for _, call in failing])
    if found:
        return found
    for check in (_at_zero, _sign, _factor, _transposed):
        found = check(leaves)
        if found:
            return found
    return None


def _failing_leaves(drill: Drill, case: Case, got: Any) -> list[_Leaf]:
    expected = case.expected
    if isinstance(expected, tuple):
        if type(got) is not tuple or len(got) != len(expected):
            return [_Leaf(case, t("返回值"), np.asarray(0.0), got, case.atol)]  # wrong structure
        names = drill.returns or tuple(t("返回值[{i}]", i=i).strip() for i in range(len(expected)))
        return [
            _Leaf(case, names[i], np.asarray(e), g, case.atol)
            for i, (e, g) in enumerate(zip(expected, got, strict=True))
            if not compare(e, g, atol=case.atol).ok
        ]
    return [_Leaf(case, "", np.asarray(expected), got, case.atol)]


def _names(leaves: Sequence[_Leaf]) -> str:
    labels = list(dict.fromkeys(leaf.label for leaf in leaves if leaf.label))
    if labels:
        return t("、").join(labels) + " "
    return "The result " if current() == "en" else ""  # English needs a subject


def _array(value: Any) -> np.ndarray | None:
    if type(value) is float or isinstance(value, np.generic):
        return np.asarray(value)
    return value if type(value) is np.ndarray else None


def _any_visible(leaves: Sequence[_Leaf]) -> bool:
    return any(not leaf.case.hidden for leaf in leaves)


# ---- structure -------------------------------------------------------------------------------


def _structure(leaves: Sequence[_Leaf]) -> Found | None:
    arrays = [(leaf, _array(leaf.got)) for leaf in leaves]
    if any(leaf.got is None for leaf in leaves):
        return (
            "no_return",
            t("函数没有返回结果"),
            t("至少有一个测试得到了 None：检查每条分支最后是否都 return 了结果。"),
        )
    if any(a is None for _, a in arrays):
        return None
    shapes = [(leaf, a) for leaf, a in arrays if a is not None and a.shape != leaf.expected.shape]
    if shapes and len(shapes) == len(arrays):
        who = _names([leaf for leaf, _ in shapes])
        if all(a.ndim == 2 and a.shape == leaf.expected.shape[::-1] for leaf, a in shapes):
            return (
                "transposed_shape",
                t("{who}形状是期望形状的转置", who=who).strip(),
                t(
                    "梯度与对应的参数同形。按形状推导矩阵乘法的顺序：(D, N) 乘 (N, M) 得到 (D, M)，"
                    "哪个矩阵需要转置、放在左边还是右边，由形状唯一确定。"
                ),
            )
        if all(
            a.size == leaf.expected.size
            and [n for n in a.shape if n != 1] == [n for n in leaf.expected.shape if n != 1]
            for leaf, a in shapes
        ):
            return (
                "unit_dims",
                t("{who}多了（或少了）长度为 1 的维度", who=who).strip(),
                t(
                    "数值的个数对，但形状里多了或少了长度为 1 的轴：归约时用了 keepdims=True 却直接返回，"
                    "或者返回前没有把结果整理成题目要求的形状。"
                ),
            )
        if all(a.ndim < leaf.expected.ndim for leaf, a in shapes):
            return (
                "fewer_dims",
                t("{who}比期望少了维度", who=who).strip(),
                t(
                    "结果少了一个或几个轴：多做了一次归约（求和、求最大值沿错了轴），或者归约时没有"
                    "保留维度（keepdims）就用于后续计算。对照题目写出每一步的形状。"
                ),
            )
        if all(a.ndim > leaf.expected.ndim for leaf, a in shapes):
            return (
                "more_dims",
                t("{who}比期望多了维度", who=who).strip(),
                t(
                    "结果多了轴：漏了一次沿 batch 维的求和（参数被广播到每个样本，梯度要加起来），"
                    "或者广播出了意料之外的形状。"
                ),
            )
        return None
    if shapes:
        return None
    kinds = {a.dtype.kind for _, a in arrays if a is not None}
    if kinds & {"b", "i", "u"} and kinds <= {"b", "i", "u"}:
        return (
            "integer_dtype",
            t("{who}返回了整数或布尔数组", who=_names(leaves)).strip(),
            t(
                "结果应当是浮点数组。比较运算得到的是布尔掩码，整数常量参与的运算可能得到整数："
                "返回数值本身，并让 dtype 跟随输入。"
            ),
        )
    small = [
        leaf
        for leaf, a in arrays
        if a is not None and a.dtype.itemsize < leaf.expected.dtype.itemsize
    ]
    if small and len(small) == len(leaves):
        return (
            "low_precision",
            t("{who}的精度低于输入（例如 float64 进、float32 出）", who=_names(leaves)).strip(),
            t("输出的 dtype 应与输入一致。检查是否用 astype 或写死了 dtype 的常量数组降低了精度。"),
        )
    return None


def _nonfinite(leaves: Sequence[_Leaf]) -> Found | None:
    bad = []
    for leaf in leaves:
        got = np.asarray(leaf.got, dtype=np.float64)
        if (np.isfinite(leaf.expected) & ~np.isfinite(got)).any():
            bad.append(leaf)
    if not bad or len(bad) != len(leaves):
        return None
    if all(_largest(leaf.case) >= LARGE for leaf in bad):
        return None  # the large-input checks below say more
    return (
        "nonfinite",
        t("{who}出现了 NaN 或 inf", who=_names(bad)).strip(),
        t(
            "参考结果是有限值。常见原因：0/0（例如方差为 0 时没有 ε 保护）、log(0)、"
            "对负数开根号、或 exp 溢出。找出产生第一个 NaN 的那一步。"
        ),
    )


# ---- which tests fail ------------------------------------------------------------------------


def _floats(case: Case) -> list[np.ndarray]:
    values = [*case.args, *case.kwargs.values()]
    return [v for v in values if isinstance(v, np.ndarray) and v.dtype.kind == "f"]


def _largest(case: Case) -> float:
    return max((float(np.abs(a).max(initial=0.0)) for a in _floats(case)), default=0.0)


def _only_float32(drill: Drill, failing: list[Case], passing: list[Case]) -> Found | None:
    def is32(case: Case) -> bool:
        arrays = _floats(case)
        return bool(arrays) and all(a.dtype == np.float32 for a in arrays)

    if not all(is32(c) for c in failing) or not any(not is32(c) for c in passing):
        return None
    return (
        "float32_only",
        t("只在 float32 输入上出错"),
        t(
            "float64 的测试都通过了，问题出在单精度：float32 只有约 7 位有效数字。常见原因：用 "
            "E[x²] − E[x]² 计算方差（两个大数相减，有效数字被抵消）、在 float32 里先累加很多大数、"
            "或把中间结果转成了更低的精度。先减去均值再平方，让相减发生在数值相近的量之间。"
        ),
    )


_SLICE_AXIS = {"softmax": None, "softmax_cross_entropy": 1}  # None: the axis argument


def _span(drill: Drill, case: Case) -> float:
    axis = _SLICE_AXIS[drill.id]
    if axis is None:
        axis = case.kwargs.get("axis", case.args[1] if len(case.args) > 1 else -1)
    x = case.args[0]
    return float(np.ptp(x, axis=axis).max(initial=0.0)) if x.size else 0.0


def _only_wide(drill: Drill, failing: list[Case], passing: list[Case]) -> Found | None:
    if drill.id not in _SLICE_AXIS:
        return None
    if not all(_span(drill, c) > WIDE for c in failing):
        return None
    if not any(_largest(c) >= LARGE for c in passing):
        return None  # nothing shows that large inputs as such are handled
    return (
        "wide_slices",
        t("只在同一组内数值跨度极大的切片上出错：减去的不是每组的最大值"),
        t(
            "一组里同时有 −1000 和 1000 这样的数时，只有减去这一组的最大值，才能保证每个指数的参数都 ≤ 0"
            "（不溢出）且最大的一项恰好是 e⁰ = 1（分母不为 0）。减去最小值、均值或某个固定的数，"
            "总有一端会溢出或全部下溢。"
        ),
    )


def _only_large(drill: Drill, failing: list[Case], passing: list[Case]) -> Found | None:
    if not all(_largest(c) >= LARGE for c in failing):
        return None
    if not any(_largest(c) < LARGE for c in passing):
        return None
    return (
        "large_inputs",
        t("只在输入很大（数百乃至上千）的测试上出错：数值溢出或下溢"),
        t(
            "普通大小的输入都通过了。e^x 在 x > 709 时溢出为 inf，在 x < −745 时下溢为 0，"
            "于是出现 inf/inf、0/0 或 log(0)。改写公式，让指数的参数不会是很大的正数"
            "（例如先减去最大值，或按符号分情况）。"
        ),
    )


def _wrong_axis(drill: Drill, failing: list[Case], calls: list[CallOutcome]) -> Found | None:
    """For a drill with an `axis` argument: every failure equals the reference along one other
    axis (the same axis number each time, as a hard-coded axis would give)."""
    if "axis" not in drill.params:
        return None
    from engine import reference
    from engine.diagnosis import agree

    function = getattr(reference, drill.id)
    chosen: set[int] = set()
    for case, call in zip(failing, calls, strict=True):
        x = case.args[0]
        given = case.kwargs.get("axis", case.args[1] if len(case.args) > 1 else -1)
        others = [a for a in range(x.ndim) if a != given % x.ndim]
        hits = [a for a in others if agree(function(x, axis=a), call.value, case.expected)]
        if not hits:
            return None
        chosen.update(hits)
    if len(chosen) != 1:
        return None
    return (
        "wrong_axis",
        t("沿错了轴归一化：结果等于沿另一个轴计算的正确答案"),
        t(
            "每个出错的测试都恰好等于在另一个轴上做同样计算的结果。检查求最大值、求和时用的是不是调用方"
            "传入的 axis（并保留维度以便广播），而不是写死的某一轴。"
        ),
    )


# ---- how the values differ -------------------------------------------------------------------


def _floats_of(leaf: _Leaf) -> tuple[np.ndarray, np.ndarray] | None:
    got = _array(leaf.got)
    if got is None or got.shape != leaf.expected.shape or got.dtype.kind != "f":
        return None
    e, g = leaf.expected.astype(np.float64), got.astype(np.float64)
    if not (np.isfinite(e).all() and np.isfinite(g).all()):
        return None
    return e, g


def _close(a: np.ndarray, b: np.ndarray, leaf: _Leaf) -> bool:
    rtol, atol = TOLERANCES[leaf.expected.dtype.itemsize]
    return bool(np.allclose(a, b, rtol=rtol, atol=atol if leaf.atol is None else leaf.atol))


def _each(leaves: Sequence[_Leaf], test: Any) -> bool:
    for leaf in leaves:
        pair = _floats_of(leaf)
        if pair is None or not test(*pair, leaf):
            return False
    return True


def _at_zero(leaves: Sequence[_Leaf]) -> Found | None:
    def only_at_zero(e: np.ndarray, g: np.ndarray, leaf: _Leaf) -> bool:
        zeros = np.zeros(e.shape, dtype=bool)
        for a in _floats(leaf.case):
            if a.shape == e.shape:
                zeros |= a == 0
        rtol, atol = TOLERANCES[leaf.expected.dtype.itemsize]
        wrong = ~np.isclose(g, e, rtol=rtol, atol=atol)
        return bool(wrong.any() and zeros.any() and not (wrong & ~zeros).any())

    if not _each(leaves, only_at_zero):
        return None
    return (
        "at_zero",
        t("只在输入恰好为 0 的位置出错"),
        t(
            "其它位置都对，差别只出现在 x == 0 处：检查分段条件的边界，是 > 还是 >=。"
            "ReLU 一类函数在 0 处不可导，框架约定取 0 处的梯度为 0。"
        ),
    )


def _sign(leaves: Sequence[_Leaf]) -> Found | None:
    if not _each(leaves, lambda e, g, leaf: _close(g, -e, leaf)):
        return None
    return (
        "sign",
        t("{who}的符号反了", who=_names(leaves)).strip(),
        t(
            "数值大小都对，只是正负相反。检查减法的顺序（a − b 还是 b − a）、导数公式里的负号，"
            "以及梯度下降与梯度本身的区别。"
        ),
    )


def _ratio(e: np.ndarray, g: np.ndarray) -> float | None:
    scale = float(np.abs(e).max(initial=0.0))  # keeps the dot products finite (1e300 inputs)
    if scale == 0:
        return None
    es, gs = e.ravel() / scale, g.ravel() / scale
    return float(np.dot(gs, es) / np.dot(es, es))


def _factor(leaves: Sequence[_Leaf]) -> Found | None:
    ratios, batch = [], []
    for leaf in leaves:
        pair = _floats_of(leaf)
        if pair is None:
            return None
        e, g = pair
        c = _ratio(e, g)
        if c is None or abs(c - 1) < 1e-3 or abs(c) < 1e-12 or not _close(g, c * e, leaf):
            return None
        ratios.append(c)
        first = leaf.case.args[0]
        batch.append(float(first.shape[0]) if isinstance(first, np.ndarray) and first.ndim else 0)
    who = _names(leaves)
    if all(n > 1 and abs(c / n - 1) < 1e-6 for c, n in zip(ratios, batch, strict=True)):
        return (
            "factor_n",
            t("{who}是期望值的 N 倍（N 为 batch 大小）", who=who).strip(),
            t(
                "多了一个 N 倍：该取平均的地方求了和，或者漏了损失里的 1/N。"
                "损失是 batch 的平均时，它的梯度也带着 1/N。"
            ),
        )
    if all(n > 1 and abs(c * n - 1) < 1e-6 for c, n in zip(ratios, batch, strict=True)):
        return (
            "factor_inv_n",
            t("{who}是期望值的 1/N（N 为 batch 大小）", who=who).strip(),
            t(
                "少了一个 N 倍：该求和的地方取了平均，或者在已经带 1/N 的梯度上又除了一次 N。"
                "参数被广播到 batch 的每个样本时，梯度要把各样本的贡献加起来。"
            ),
        )
    if max(ratios) - min(ratios) > 1e-6 * max(abs(r) for r in ratios):
        return None
    # The same factor on every test: quoting it is safe once a visible test shows it.
    shown = t("（约为 {ratio:.6g} 倍）", ratio=ratios[0]) if _any_visible(leaves) else ""
    return (
        "constant_factor",
        t("{who}与期望值相差一个常数倍{shown}", who=who, shown=shown).strip(),
        t(
            "结果的形状和方向都对，只是整体缩放了。检查公式里的常数因子：1/2、1/N、"
            "导数里的系数，或者多乘（少乘）了某个参数。"
        ),
    )


def _transposed(leaves: Sequence[_Leaf]) -> Found | None:
    def is_t(e: np.ndarray, g: np.ndarray, leaf: _Leaf) -> bool:
        return e.ndim == 2 and e.shape[0] == e.shape[1] and _close(g, e.T, leaf)

    if not _each(leaves, is_t):
        return None
    return (
        "transposed",
        t("{who}是期望结果的转置", who=_names(leaves)).strip(),
        t(
            "方阵的转置形状不变，所以不会报错，但数值错位了。按形状推导矩阵乘法的顺序，"
            "看清哪一个因子需要转置。"
        ),
    )


def _tiny(leaves: Sequence[_Leaf]) -> Found | None:
    def tiny_only(e: np.ndarray, g: np.ndarray, leaf: _Leaf) -> bool:
        rtol, atol = TOLERANCES[leaf.expected.dtype.itemsize]
        tol = atol if leaf.atol is None else leaf.atol
        wrong = ~np.isclose(g, e, rtol=rtol, atol=tol)
        return bool(wrong.any() and (np.abs(e[wrong]) < 1e-8).all())

    if not _each(leaves, tiny_only):
        return None
    return (
        "tiny_values",
        t("只在真实值极小的位置相对误差过大：有效数字被相减抵消"),
        t(
            "结果极小（例如 1e−14 以下）的位置，答案只剩舍入误差甚至是 0，或者被截断成了别的小数。"
            "常见原因：“1 减去一个非常接近 1 的数”，或把输入裁剪（clip）到了有限范围。改用不做这种减法、"
            "也不截断输入的等价公式，让小结果直接由小量计算出来。"
        ),
    )


def _mutation(drill: Drill, cases: Sequence[Case], calls: Sequence[CallOutcome]) -> Found | None:
    names: list[str] = []
    for case, call in zip(cases, calls, strict=True):
        names += mutated_arguments(
            drill.params, case.args, case.kwargs, call.args_after, call.kwargs_after
        )
    if not names:
        return None
    shown = t("、").join(f"`{n}`" for n in dict.fromkeys(names))
    return (
        "in_place",
        t("数值正确，但原地修改了输入 {shown}", shown=shown),
        t(
            "调用方的数组被改掉了：原地运算（+=、*=、切片赋值、out= 参数）写回了传入的数组。"
            "先复制一份，或者让每一步都产生新数组。"
        ),
    )
