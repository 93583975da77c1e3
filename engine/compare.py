"""Trusted comparison of a submission's decoded outputs against the reference, and rendering.

Runs only in the trusted process, on values the sandbox decoded from raw bytes (plain ndarrays,
Python scalars, tuples). Nothing here calls a method of a user object: exact type checks come
first, so an ndarray subclass or an object with a clever `__eq__` is refused, never consulted.

Rules:
- structure must match: a tuple of the same length (a returned list arrives as a tuple), an
  array of exactly the reference's shape (no broadcasting), or a scalar for a scalar (the loss
  may come back as a Python float, an np.float64 or a 0-d array);
- an array or scalar must be real floating point and at least as precise as the reference
  (float64 where the reference is float64; float32 or float64 where it is float32 — PyTorch
  would return float32, the more precise answer is accepted with a note);
- no NaN or inf where the reference is finite;
- values agree within a tolerance chosen by the reference's dtype (`TOLERANCES`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.i18n import current, t

# (rtol, atol) by the reference's itemsize: |got - expected| <= atol + rtol * |expected|.
TOLERANCES: dict[int, tuple[float, float]] = {8: (1e-6, 1e-8), 4: (1e-4, 1e-5), 2: (1e-2, 1e-3)}
FLOAT_NAMES = {2: "float16", 4: "float32", 8: "float64"}


@dataclass(frozen=True)
class Comparison:
    """The outcome of comparing one returned value with the reference.

    `summary` never contains data (safe for hidden tests); `detail` adds numbers, indices and
    excerpts for visible tests. `notes` are data-free remarks shown even when the test passes.
    """

    ok: bool
    summary: str = ""
    detail: str = ""
    max_abs_error: float | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    label: str = ""  # the part of a tuple result the messages start with ("dw1 ")
    kind: str = ""  # "nonfinite" for NaN/inf where the reference is finite
    # What was wrong, from a fixed vocabulary (REASONS): all a hidden test may tell.
    reasons: tuple[str, ...] = field(default_factory=tuple)


REASONS = ("type", "shape", "dtype", "nonfinite", "value")


def compare(
    expected: Any, got: Any, names: Sequence[str] = (), *, atol: float | None = None
) -> Comparison:
    """Compare a decoded submission output with the reference output.

    `names` label the elements of a tuple result (e.g. ("dx", "dw", "db")) in the messages;
    `atol` replaces the dtype's absolute tolerance (a case about accuracy in the tails).
    """
    if isinstance(expected, tuple):
        if type(got) is tuple and len(got) == len(expected):
            return _compare_tuple(expected, got, names, atol)
        label = _label(t("返回值"))
        want = t("包含 {n} 个元素的元组", n=len(expected))
        if names:
            want += t("（{names}）", names=", ".join(names))
        if type(got) is not tuple:
            return _fail(
                t("{label}应为{want}，实际返回了{kind}", label=label, want=want, kind=_kind(got)),
                t(
                    "{label}应为{want}，实际返回了{kind}",
                    label=label,
                    want=want,
                    kind=_kind(got, detailed=True),
                ),
                reason="type",
            )
        return _fail(
            t("{label}应为{want}，实际返回了 {n} 个元素的元组", label=label, want=want, n=len(got)),
            reason="type",
        )
    return _compare_leaf(expected, got, _label(t("返回值")), atol)


def _compare_tuple(
    expected: tuple[Any, ...], got: tuple[Any, ...], names: Sequence[str], atol: float | None
) -> Comparison:
    """Element by element, once the structure (a tuple of the right length) is right."""
    results = [
        _compare_leaf(e, g, f"{names[i]} " if i < len(names) else t("返回值[{i}] ", i=i), atol)
        for i, (e, g) in enumerate(zip(expected, got, strict=True))
    ]
    errors = [r.max_abs_error for r in results if r.max_abs_error is not None]
    notes = tuple(dict.fromkeys(n for r in results for n in r.notes))
    failed = [r for r in results if not r.ok]
    if not failed:
        return Comparison(True, max_abs_error=max(errors, default=None), notes=notes)
    return Comparison(
        False,
        summary=t("；").join(_merge_labels(failed, [r.summary for r in failed])),
        detail="\n".join(_merge_labels(failed, [r.detail for r in failed])),
        max_abs_error=max(errors, default=None),
        notes=notes,
        reasons=tuple(dict.fromkeys(x for r in failed for x in r.reasons)),
    )


def _label(text: str) -> str:
    """English needs a space between the label and the message; Chinese does not."""
    return text + " " if current() == "en" else text


def _merge_labels(failed: Sequence[Comparison], texts: Sequence[str]) -> list[str]:
    """One message per distinct problem: parts that fail the same way ("dw1 含 NaN…",
    "db1 含 NaN…") become one message naming them all."""
    groups: dict[str, tuple[list[str], str]] = {}
    for result, text in zip(failed, texts, strict=True):
        label = result.label
        rest = text[len(label) :] if label and text.startswith(label) else text
        # NaN details name a position each; the problem is the same, keep the first example.
        key = "nonfinite" if result.kind == "nonfinite" else rest
        labels, kept = groups.setdefault(key, ([], rest))
        labels.append(label.strip())
    return [t("、").join(labels) + " " + rest for labels, rest in groups.values()]


def _fail(
    summary: str,
    detail: str | None = None,
    max_abs_error: float | None = None,
    *,
    reason: str,
) -> Comparison:
    return Comparison(False, summary, detail or summary, max_abs_error, reasons=(reason,))


def _kind(value: Any, detailed: bool = False) -> str:
    """A short Chinese description of a decoded value; only `detailed` names an array's shape
    (a hidden test's shapes follow from its inputs, so summaries leave them out)."""
    if value is None:
        return t(" None（是否忘了 return？）")
    if type(value) is tuple:
        return t(" {n} 个元素的元组（list 也按元组传回）", n=len(value))
    if type(value) is np.ndarray:
        if detailed:
            return t(
                "形状为 {shape}、dtype 为 {dtype} 的数组", shape=value.shape, dtype=value.dtype
            )
        return t("dtype 为 {dtype} 的数组", dtype=value.dtype)
    if isinstance(value, bool):
        return t("布尔值")
    if isinstance(value, int):
        return t("整数")
    if isinstance(value, float):
        return t("标量")
    return t(" {name} 对象", name=type(value).__name__)


def _float_precision(value: Any) -> int | None:
    """Itemsize of a real floating value (8 for a Python float), or None if not floating."""
    if type(value) is float:
        return 8
    if isinstance(value, np.floating):
        return value.dtype.itemsize
    if type(value) is np.ndarray and value.dtype.kind == "f":
        result: int | None = value.dtype.itemsize
        return result
    return None


def _compare_leaf(expected: Any, got: Any, label: str, atol: float | None = None) -> Comparison:
    result = _leaf(expected, got, label, atol)
    return result if result.label == label else _with(result, label=label)


def _with(
    c: Comparison,
    *,
    label: str | None = None,
    notes: tuple[str, ...] | None = None,
    kind: str | None = None,
) -> Comparison:
    """`dataclasses.replace` for the fields set here, without its per-call introspection (it
    ran for every compared value)."""
    return Comparison(
        c.ok,
        c.summary,
        c.detail,
        c.max_abs_error,
        c.notes if notes is None else notes,
        c.label if label is None else label,
        c.kind if kind is None else kind,
        c.reasons,
    )


def _leaf(expected: Any, got: Any, label: str, atol: float | None) -> Comparison:
    exp = np.asarray(expected)  # the reference's own value: trusted
    scalar = exp.ndim == 0
    if scalar:
        ok_type = type(got) is float or isinstance(got, np.floating)
        ok_type = ok_type or (type(got) is np.ndarray and got.ndim == 0)
        if not ok_type:
            return _fail(
                t("{label}应为浮点标量，实际返回了{kind}", label=label, kind=_kind(got)),
                t(
                    "{label}应为浮点标量，实际返回了{kind}",
                    label=label,
                    kind=_kind(got, detailed=True),
                ),
                reason="type",
            )
    else:
        if type(got) is not np.ndarray:
            return _fail(
                t("{label}应为数组，实际返回了{kind}", label=label, kind=_kind(got)),
                t(
                    "{label}应为形状 {shape} 的数组，实际返回了{kind}",
                    label=label,
                    shape=exp.shape,
                    kind=_kind(got, detailed=True),
                ),
                reason="type",
            )
        if got.shape != exp.shape:
            return _fail(
                t("{label}的形状与期望不符", label=label),
                t(
                    "{label}的形状应为 {shape}，实际为 {got}（不做广播）",
                    label=label,
                    shape=exp.shape,
                    got=got.shape,
                ),
                reason="shape",
            )
    ref_size = exp.dtype.itemsize
    got_size = _float_precision(got)
    if got_size == ref_size:  # the usual case: no dtype to name
        return _compare_values(exp, np.asarray(got, dtype=np.float64), label, ref_size, atol)
    got_dtype = "float64" if type(got) is float else str(np.asarray(got).dtype)
    if got_size is None:
        return _fail(
            t(
                "{label}的 dtype 为 {dtype}，应为浮点类型（{want}）",
                label=label,
                dtype=got_dtype,
                want=FLOAT_NAMES[ref_size],
            ),
            reason="dtype",
        )
    if got_size < ref_size:
        return _fail(
            t(
                "{label}的 dtype 为 {dtype}，精度低于参考结果的 {want}"
                "（输出 dtype 应与输入一致，不能降低精度）",
                label=label,
                dtype=got_dtype,
                want=FLOAT_NAMES[ref_size],
            ),
            reason="dtype",
        )
    # More precise than the reference (got_size > ref_size): accepted, with a note.
    rtol, default_atol = TOLERANCES[ref_size]
    notes = (
        t(
            "输入为 {want}：按 PyTorch 约定输出应为 {want}；"
            "返回更高精度的 {dtype} 也接受，按 {want} 的容差"
            "（rtol={rtol:g}, atol={atol:g}）比较。",
            want=FLOAT_NAMES[ref_size],
            dtype=got_dtype,
            rtol=rtol,
            atol=default_atol,
        ),
    )
    # As before this rewrite: the dtype's own atol then, even for a case with a stricter one.
    got64 = np.asarray(got, dtype=np.float64)
    return _with(_compare_values(exp, got64, label, ref_size, default_atol), notes=notes)


def _compare_values(
    exp: np.ndarray, got: np.ndarray, label: str, ref_size: int, atol_override: float | None
) -> Comparison:
    rtol, atol = TOLERANCES[ref_size]
    atol = atol if atol_override is None else atol_override
    e, allowed = _reference(exp, rtol, atol)
    if allowed is not None:
        # Fast path, the same arithmetic as below: where the reference is finite everywhere and
        # every difference is within tolerance (NaN and inf never are), `both` is all True.
        diff = np.abs(np.subtract(got, e))
        if _all(np.less_equal(diff, allowed)):
            return Comparison(True, max_abs_error=float(_max(diff, initial=0.0)), label=label)
    finite = np.isfinite(e)
    both = finite & np.isfinite(got)
    diff = np.zeros(e.shape)
    np.subtract(got, e, out=diff, where=both)
    diff = np.abs(diff)
    close = np.where(finite, both & (diff <= atol + rtol * np.abs(e)), _same_nonfinite(e, got))
    max_abs = float(diff.max(initial=0.0)) if both.any() else None
    if close.all():
        return Comparison(True, max_abs_error=max_abs)

    nonfinite = finite & ~np.isfinite(got)
    if nonfinite.any():
        at = _first(nonfinite)
        count = int(nonfinite.sum())
        every = (
            t("全部") if count == e.size else t("{n} 个元素中有 {count} 个", n=e.size, count=count)
        )
        return _with(
            _fail(
                t(
                    "{label}含 NaN 或 inf，而参考结果是有限值（常见原因：exp 溢出或 0/0，"
                    "需要数值稳定的写法）",
                    label=label,
                ),
                t(
                    "{label}含 NaN 或 inf（{every}），而参考结果是有限值；例如{where}为 "
                    "{got}，参考结果为 {want}。常见原因：exp 溢出或 0/0，需要数值稳定的写法",
                    label=label,
                    every=every,
                    where=_where(at),
                    got=_fmt(got[at]),
                    want=_fmt(e[at]),
                ),
                max_abs,
                reason="nonfinite",
            ),
            kind="nonfinite",
        )

    bad = ~close
    at = _first(bad)
    count = int(bad.sum())
    allowed = atol + rtol * np.abs(e)
    worst = 0.0
    if np.all(allowed[bad] > 0):
        with np.errstate(over="ignore"):  # a huge error over a tiny tolerance is just "huge"
            worst = float(np.max(diff[bad] / allowed[bad], initial=0.0))
    times = t("（容差的 {worst:.3g} 倍）", worst=worst) if worst > 1 else ""
    # A relative error only means something where the expected value is not (nearly) 0.
    meaningful = bad & both & (np.abs(e) > max(atol, 1e-300))
    if meaningful.any():
        rel = float((diff[meaningful] / np.abs(e[meaningful])).max())
        relative = t("，最大相对误差 {rel:.3g}", rel=rel)
    else:
        relative = t("；超出容差的位置期望值都是 0（或接近 0），只看绝对误差")
    detail = t(
        "{label}数值不符：{n} 个元素中有 {count} 个超出容差（rtol={rtol:g}, atol={atol:g}）；"
        "最大绝对误差 {max_abs:.3g}{times}{relative}；"
        "首个不符的{where}：期望 {want}，得到 {got}",
        label=label,
        n=e.size,
        count=count,
        rtol=rtol,
        atol=atol,
        max_abs=max_abs,
        times=times,
        relative=relative,
        where=_where(at),
        want=_fmt(e[at]),
        got=_fmt(got[at]),
    )
    summary = t(
        "{label}数值不符（超出容差 rtol={rtol:g}, atol={atol:g}）",
        label=label,
        rtol=rtol,
        atol=atol,
    )
    return _fail(summary, detail, max_abs, reason="value")


_all = functools.partial(np.logical_and.reduce, axis=None)  # ndarray.all without its wrapper
_max = functools.partial(np.maximum.reduce, axis=None)
# The reference side of the fast path, per frozen reference array (a case's: read-only, owning
# its data, alive as long as the process) and tolerance; see _reference.
_PREPARED: dict[tuple[int, float, float], tuple[np.ndarray, np.ndarray, np.ndarray | None]] = {}


def _reference(exp: np.ndarray, rtol: float, atol: float) -> tuple[np.ndarray, np.ndarray | None]:
    """The reference as float64, and `atol + rtol * |e|` when it is finite and not empty (the
    fast path's condition; None otherwise). A pure function of a frozen case array, so it is
    computed once per array and tolerance; any other array, each time."""
    frozen = not exp.flags.writeable and exp.base is None
    key = (id(exp), rtol, atol)
    if frozen:
        known = _PREPARED.get(key)
        if known is not None and known[0] is exp:
            return known[1], known[2]
    e = exp.astype(np.float64, copy=False)  # only read: the reference's own array will do
    allowed = atol + rtol * np.abs(e) if e.size and _all(np.isfinite(e)) else None
    if frozen:
        if len(_PREPARED) >= 4096:
            _PREPARED.clear()
        _PREPARED[key] = (exp, e, allowed)  # holds `exp`: its id stays its own
    return e, allowed


def _same_nonfinite(e: np.ndarray, got: np.ndarray) -> npt.NDArray[np.bool_]:
    """Where the reference itself is NaN or inf, the answer must be the same non-finite value."""
    same: npt.NDArray[np.bool_] = (np.isnan(e) & np.isnan(got)) | (np.isinf(e) & (e == got))
    return same


def _first(mask: np.ndarray) -> tuple[int, ...]:
    """Index of the first True element (row-major); () for a 0-d mask."""
    return tuple(int(i) for i in np.argwhere(mask)[0]) if mask.ndim else ()


def _where(index: tuple[int, ...]) -> str:
    return t("位置 {index}", index=list(index)) if index else t("该值")


def _fmt(x: Any) -> str:
    # Ten significant digits: a difference in the sixth digit must not look like rounding.
    return f"{float(x):.10g}"


# ---------------------------------------------------------------------------------------------
# In-place mutation
# ---------------------------------------------------------------------------------------------


def mutated_arguments(
    param_names: Sequence[str],
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    args_after: Sequence[Any],
    kwargs_after: Mapping[str, Any],
) -> list[str]:
    """Names of the array arguments whose bytes, dtype or shape changed during the call.

    An empty `args_after` (a sandbox that reports nothing) means "not checked".
    """
    changed: list[str] = []
    if args_after:
        for i, (before, after) in enumerate(zip(args, args_after, strict=False)):
            if _changed(before, after):
                changed.append(param_names[i] if i < len(param_names) else t("参数 {n}", n=i + 1))
    for name, before in kwargs.items():
        if name in kwargs_after and _changed(before, kwargs_after[name]):
            changed.append(name)
    return changed


def _changed(before: Any, after: Any) -> bool:
    if not isinstance(before, np.ndarray):
        return False
    if type(after) is not np.ndarray:
        return True
    if after.dtype != before.dtype or after.shape != before.shape:
        return True
    return before.tobytes() != after.tobytes()


# ---------------------------------------------------------------------------------------------
# Rendering short excerpts for display
# ---------------------------------------------------------------------------------------------

MAX_RENDER_CHARS = 600
_THRESHOLD = 60  # arrays with more elements are summarised with "..."
_TUPLE_ITEMS = 8  # tuple elements rendered before "…"


def render(value: Any, limit: int = MAX_RENDER_CHARS) -> str:
    """Python-like text of a (decoded) value, truncated to `limit` characters."""
    text = _render(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_named(
    names: Sequence[str],
    values: Sequence[Any],
    limit: int = MAX_RENDER_CHARS,
    *,
    rendered: Sequence[str | None] = (),
) -> str:
    """`name = value` lines, e.g. the arguments of a call or the parts of a tuple result.

    `rendered`: lines already made by `render_line` for some of the values (None for the others).
    """
    lines = [
        known
        if (known := rendered[i] if i < len(rendered) else None) is not None
        else render_line(n, v)
        for i, (n, v) in enumerate(zip(names, values, strict=False))
    ]
    text = "\n".join(lines)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_line(name: str, value: Any) -> str:
    """One line of `render_named` (not truncated)."""
    return f"{name} = {_render(value, f'{name} = ')}"


def _render(value: Any, indent: str = "") -> str:
    if type(value) is np.ndarray:
        body = np.array2string(
            value,
            prefix=indent + "np.array(",
            precision=6,
            separator=", ",
            threshold=_THRESHOLD,
            edgeitems=3,
            max_line_width=88,
            floatmode="maxprec",
        )
        default = value.dtype in (np.dtype(np.float64), np.dtype(np.int64))
        dtype = "" if default else f", dtype=np.{value.dtype}"
        shape = f", shape={value.shape}" if value.size > _THRESHOLD else ""  # "..." was used
        return f"np.array({body}{dtype}{shape})"
    if type(value) is tuple:
        # Only the first few elements are rendered at all: a returned tuple may be huge.
        inner = ", ".join(_render(v) for v in value[:_TUPLE_ITEMS])
        if len(value) > _TUPLE_ITEMS:
            inner += t(", …（共 {n} 个元素）", n=len(value))
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, np.floating):
        return f"{float(value):.8g}"
    if isinstance(value, np.generic):
        return repr(value.item())
    if type(value) is float:
        return f"{value:.8g}" if np.isfinite(value) else repr(value)
    if type(value) in (int, bool) or value is None:
        return repr(value)
    return f"<{type(value).__name__}>"
