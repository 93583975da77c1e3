"""The drill catalogue: what the learner reads, starts from, and sees after solving.

Each drill practises one section of the owner's notes (content/01-neural-networks.md):
`topic` is the `###` heading text and `section` the `####` heading text without its number and
bold markers, so the web app can link a drill to the notes. Test cases live in `engine.cases`;
the visible ones are rendered here into `Drill.examples` for display.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.cases import Case, get_cases
from engine.compare import render, render_named

TOPIC_STRUCTURE = "神经网络结构"
TOPIC_BACKPROP = "反向传播（Backpropagation）与梯度计算"
SECTION_ACTIVATIONS = "激活函数"
SECTION_BACKPROP = "反向传播（Backpropagation）"
SECTION_NORMALIZATION = "归一化技术（Batch Normalization、Layer Normalization）"


@dataclass(frozen=True)
class Example:
    """A visible test case rendered for display (short Python-like text)."""

    name: str
    call: str  # e.g. "softmax(x, axis=0)"
    input: str  # one "name = value" line per argument
    expected: str


@dataclass(frozen=True)
class Drill:
    """One coding exercise. `id` is also the name of the function the learner writes."""

    id: str
    title: str
    topic: str
    section: str
    difficulty: str  # 入门 / 中等 / 进阶
    signature: str  # e.g. "softmax(x, axis=-1)"
    params: tuple[str, ...]  # parameter names in signature order
    returns: tuple[str, ...]  # names of the parts of a tuple result; () for a single value
    statement_md: str
    starter_code: str
    hints: tuple[str, ...]
    explanation_md: str
    solution_code: str
    examples: tuple[Example, ...]


def _call_text(drill_id: str, params: tuple[str, ...], case: Case) -> str:
    parts = list(params[: len(case.args)])
    parts += [f"{k}={render(v)}" for k, v in case.kwargs.items()]
    return f"{drill_id}({', '.join(parts)})"


def _examples(
    drill_id: str, params: tuple[str, ...], returns: tuple[str, ...]
) -> tuple[Example, ...]:
    examples = []
    for case in get_cases(drill_id):
        if case.hidden:
            continue
        # Keyword arguments are shown in the call itself; the input lists only the arrays.
        inputs = render_named(params, case.args, limit=1200)
        if returns:
            expected = render_named(returns, case.expected, limit=1200)
        else:
            expected = render(case.expected, limit=1200)
        examples.append(Example(case.name, _call_text(drill_id, params, case), inputs, expected))
    return tuple(examples)


def _def_line(signature: str, width: int = 88) -> str:
    """`def signature:`, wrapped with aligned parameters when longer than `width`."""
    line = f"def {signature}:"
    if len(line) <= width:
        return line
    head, inner = signature.split("(", 1)
    indent = " " * (len(head) + 5)
    lines, current = [], f"def {head}("
    for part in inner[:-1].split(", "):
        if len(current) + len(part) + 2 > width and current.strip() != f"def {head}(":
            lines.append(current.rstrip())
            current = indent
        current += part + ", "
    lines.append(current[:-2] + "):")
    return "\n".join(lines)


def _starter(signature: str, doc: str) -> str:
    return (
        f"import numpy as np\n\n\n{_def_line(signature)}\n"
        f'    """{doc}"""\n    raise NotImplementedError\n'
    )


_BLOCK_START = re.compile(r"\s*([-*+] |\d+\. |#|\$\$|```|\|)")


_CJK_PUNCTUATION = set("，。；：、！？（）「」“”‘’《》【】—…›")


def _gap(left: str, right: str) -> str:
    """What replaces a soft line break: nothing between Chinese characters or next to Chinese
    punctuation, a space where Latin text, code or math meets anything else."""
    if not (left.isascii() or right.isascii()):
        return ""
    return "" if left in _CJK_PUNCTUATION or right in _CJK_PUNCTUATION else " "


def _unwrap(markdown: str) -> str:
    """Join soft-wrapped paragraph lines, which the source keeps short for legibility.

    A newline inside a paragraph renders as a space, visible between Chinese characters, so
    lines are joined (see `_gap`). Blank lines, block starts (lists, headings, fences, display
    math) and code blocks are left alone.
    """
    out: list[str] = []
    in_fence = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            out.append(line)
            continue
        prev = out[-1] if out else ""
        joinable = (
            not in_fence
            and prev.strip()
            and line.strip()
            and not _BLOCK_START.match(line)
            and "$$" not in prev
            and "$$" not in line
            and not prev.lstrip().startswith(("```", "#"))
        )
        if joinable:
            tail, head = prev.rstrip(), line.strip()
            space = _gap(tail[-1], head[0])
            out[-1] = tail + space + head
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def _drill(
    id: str,
    *,
    title: str,
    topic: str,
    section: str,
    difficulty: str,
    signature: str,
    returns: tuple[str, ...] = (),
    statement: str,
    doc: str,
    hints: tuple[str, ...],
    explanation: str,
    solution: str,
) -> Drill:
    inner = signature[signature.index("(") + 1 : -1]
    params = tuple(p.split("=")[0].strip() for p in inner.split(","))
    return Drill(
        id=id,
        title=title,
        topic=topic,
        section=section,
        difficulty=difficulty,
        signature=signature,
        params=params,
        returns=returns,
        statement_md=_unwrap(statement.strip()),
        starter_code=_starter(signature, doc.strip("\n")),
        hints=hints,
        explanation_md=_unwrap(explanation.strip()),
        solution_code=solution.strip() + "\n",
        examples=_examples(id, params, returns),
    )


_COMMON_RULES = """
通用约定：输入是 NumPy 数组的副本，**不要原地修改**；输出的 dtype 与输入一致（float64 进、float64 出；
float32 输入时返回 float32 或更高精度）；数值按 float64 `rtol=1e-6, atol=1e-8`、float32 `rtol=1e-4,
atol=1e-5` 的容差比较，形状必须完全一致。
"""

_DRILL_LIST: list[Drill] = [
    _drill(
        "sigmoid",
        title="Sigmoid 激活函数",
        topic=TOPIC_STRUCTURE,
        section=SECTION_ACTIVATIONS,
        difficulty="入门",
        signature="sigmoid(x)",
        statement=r"""
实现 Sigmoid（逻辑函数），逐元素计算：

$$\sigma(x) = \frac{1}{1 + e^{-x}}$$

- `x`：任意形状的浮点数组。
- 返回：与 `x` 形状、dtype 相同的数组。
- 对很大的 $|x|$ 也要给出有限且正确的结果：$\sigma(1000) = 1$，$\sigma(-1000) \approx 0$。

对应笔记「神经网络结构 › 激活函数」中的 Sigmoid。
"""
        + _COMMON_RULES,
        doc="""逐元素计算 Sigmoid：1 / (1 + e^(-x))。

    参数:
        x: np.ndarray，任意形状
    返回:
        与 x 形状、dtype 相同的 np.ndarray
    """,
        hints=(
            "`np.exp` 对整个数组逐元素计算，不需要写循环。",
            "x 很负时 `np.exp(-x)` 会溢出为 inf，但 `1 / (1 + inf)` 恰好是 0，结果仍然正确，"
            "只会产生一条 RuntimeWarning（不影响判定）。",
            "想彻底避免溢出：$e^{-|x|}$ 不会超过 1。$x \\ge 0$ 时用 $1/(1+e^{-x})$，"
            "$x < 0$ 时用等价的 $e^{x}/(1+e^{x})$。",
        ),
        explanation=r"""
笔记里的写法 `1 / (1 + np.exp(-x))` 是正确答案：$x \to -\infty$ 时 `np.exp(-x)` 溢出为 `inf`，
`1 / inf` 得到 0，只是附带一条溢出警告。真正会出错的是另一种等价写法
`np.exp(x) / (1 + np.exp(x))`：$x = 1000$ 时得到 `inf / inf = NaN`。

完全不溢出的写法利用 $z = e^{-|x|} \in (0, 1]$：

$$\sigma(x) = \begin{cases} \dfrac{1}{1+z}, & x \ge 0 \\[4pt] \dfrac{z}{1+z}, & x < 0 \end{cases}$$

`np.where` 会把两个分支都算出来再挑选，所以两个分支都必须对所有输入安全——用 $e^{-|x|}$ 正好做到。

面试延伸：$\sigma'(x) = \sigma(x)(1-\sigma(x)) \le 0.25$，$|x|$ 大时趋近于 0（饱和），
这就是深层网络中 Sigmoid 导致梯度消失的原因。
""",
        solution='''
import numpy as np


def sigmoid(x):
    """逐元素计算 Sigmoid，对任意大小的输入都数值稳定。"""
    z = np.exp(-np.abs(x))  # 落在 (0, 1]，不会溢出
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))
''',
    ),
    _drill(
        "relu",
        title="ReLU 激活函数",
        topic=TOPIC_STRUCTURE,
        section=SECTION_ACTIVATIONS,
        difficulty="入门",
        signature="relu(x)",
        statement=r"""
实现 ReLU（Rectified Linear Unit），逐元素计算：

$$\mathrm{ReLU}(x) = \max(0, x)$$

- `x`：任意形状的浮点数组。
- 返回：与 `x` 形状、dtype 相同的**新**数组。

对应笔记「神经网络结构 › 激活函数」中的 ReLU。
"""
        + _COMMON_RULES,
        doc="""逐元素计算 max(0, x)。

    参数:
        x: np.ndarray，任意形状
    返回:
        与 x 形状、dtype 相同的新 np.ndarray（不要修改 x）
    """,
        hints=(
            "`np.maximum(a, b)` 逐元素取最大值；Python 内置的 `max` 不能用于数组。",
            "`x[x < 0] = 0` 会原地修改调用方传入的数组。需要这种写法时先 `x = x.copy()`。",
            "返回布尔数组 `x > 0` 不对：要返回数值本身。",
        ),
        explanation=r"""
`np.maximum(x, 0)` 一行即可，它返回新数组，dtype 跟随 `x`。

常见错误是 `x[x < 0] = 0; return x`：结果数值正确，却把调用方的输入也改掉了——在网络里，
这会破坏反向传播需要保存的前向中间量。

面试延伸：ReLU 在正区间梯度恒为 1，缓解了梯度消失；但输入恒为负的神经元梯度恒为 0，
可能永久失活（“死亡 ReLU”），Leaky ReLU 用一个小斜率 $\alpha$ 解决这个问题。
""",
        solution='''
import numpy as np


def relu(x):
    """逐元素计算 max(0, x)，返回新数组。"""
    return np.maximum(x, 0)
''',
    ),
    _drill(
        "leaky_relu",
        title="Leaky ReLU 激活函数",
        topic=TOPIC_STRUCTURE,
        section=SECTION_ACTIVATIONS,
        difficulty="入门",
        signature="leaky_relu(x, alpha=0.01)",
        statement=r"""
实现 Leaky ReLU，逐元素计算：

$$f(x) = \begin{cases} x, & x > 0 \\ \alpha x, & x \le 0 \end{cases}$$

- `x`：任意形状的浮点数组；`alpha`：非负浮点数，默认 0.01，可能以位置参数或关键字参数传入。
- `alpha` 可以是任意非负数（与 PyTorch 的 `negative_slope` 一样），包括大于 1 的值。
- 返回：与 `x` 形状、dtype 相同的新数组。

对应笔记「神经网络结构 › 激活函数」中的 Leaky ReLU。
"""
        + _COMMON_RULES,
        doc="""x > 0 处为 x，其余位置为 alpha * x。

    参数:
        x: np.ndarray，任意形状
        alpha: float，负半轴的斜率
    返回:
        与 x 形状、dtype 相同的 np.ndarray
    """,
        hints=(
            "`np.where(条件, 条件为真时的值, 条件为假时的值)` 按条件逐元素选择。",
            "笔记中的 $\\max(\\alpha x, x)$ 只在 $0 \\le \\alpha \\le 1$ 时与定义一致；"
            "$\\alpha > 1$ 时它会在正半轴取到 $\\alpha x$。请直接按分段定义实现。",
            "不要把 0.01 写死：用参数 `alpha`。",
        ),
        explanation=r"""
`np.where(x > 0, x, alpha * x)` 直接对应分段定义，对任何 $\alpha$ 都正确。

$\max(\alpha x, x)$ 是常见的简写，但它隐含假设 $\alpha \le 1$：当 $\alpha = 1.5$、$x = 2$ 时它给出 3
而不是 2。面试中写简写时最好顺口说明这个前提。

面试延伸：Leaky ReLU 在负半轴保留 $\alpha$ 的梯度，避免神经元“死亡”；
PReLU 把 $\alpha$ 变成可学习参数。
""",
        solution='''
import numpy as np


def leaky_relu(x, alpha=0.01):
    """x > 0 处为 x，其余位置为 alpha * x。"""
    return np.where(x > 0, x, alpha * x)
''',
    ),
    _drill(
        "softmax",
        title="数值稳定的 Softmax",
        topic=TOPIC_STRUCTURE,
        section=SECTION_ACTIVATIONS,
        difficulty="中等",
        signature="softmax(x, axis=-1)",
        statement=r"""
沿轴 `axis` 计算 Softmax：

$$\mathrm{softmax}(x)_i = \frac{e^{x_i}}{\sum_j e^{x_j}}$$

- `x`：任意形状（一维、二维、三维……）的浮点数组；`axis`：归一化的轴，默认最后一轴，可以为负数。
- 返回：与 `x` 形状、dtype 相同的数组，沿 `axis` 的每一组元素之和为 1。
- 必须数值稳定：输入可能是 1000 或 -1000 这样的大数，同一数组中不同行的数值范围也可能相差很大。

对应笔记「神经网络结构 › 激活函数」中的 Softmax 与面试题“如何避免数值溢出”。
"""
        + _COMMON_RULES,
        doc="""沿 axis 计算 softmax，结果沿 axis 求和为 1。

    参数:
        x: np.ndarray，任意形状
        axis: int，归一化的轴
    返回:
        与 x 形状、dtype 相同的 np.ndarray
    """,
        hints=(
            "同时减去一个常数不改变结果：$\\frac{e^{x_i - m}}{\\sum_j e^{x_j - m}} = "
            "\\frac{e^{x_i}}{\\sum_j e^{x_j}}$。取 $m = \\max_j x_j$，指数就不会溢出。",
            "最大值要沿 `axis` 分别取：`np.max(x, axis=axis, keepdims=True)`。"
            "笔记里的 `np.max(x)` 是全局最大值，某一行比别的行小很多时，这一行会全部下溢成 0，得到 0/0。",
            "求和同样要 `axis=axis, keepdims=True`，结果才能和原数组广播相除。",
        ),
        explanation=r"""
稳定写法的关键是**沿归一化的轴**减去最大值：

```python
shifted = x - np.max(x, axis=axis, keepdims=True)
e = np.exp(shifted)          # 每组最大的元素变成 e^0 = 1，不会溢出
return e / np.sum(e, axis=axis, keepdims=True)   # 分母至少为 1，不会 0/0
```

三个常见错误：

1. 不减最大值：$e^{1000}$ 溢出为 inf，得到 inf/inf = NaN（测试「大输入数值稳定性」）。
2. 减全局最大值（笔记中的写法）：对一维输入没问题；二维输入中如果一行在 0 附近、另一行在 1000
   附近，前一行全部下溢为 0（测试「各行数值范围差异很大」）。
3. 忘记 `keepdims=True`：形状 (N,) 的最大值和 (N, C) 的数组按最后一轴广播，`axis=0` 时结果错位或报错。

面试延伸：多分类训练时通常不单独算 softmax，而是用 log-softmax（log-sum-exp 技巧）直接算交叉熵，
既稳定又省一次除法。
""",
        solution='''
import numpy as np


def softmax(x, axis=-1):
    """沿 axis 计算数值稳定的 softmax。"""
    shifted = x - np.max(x, axis=axis, keepdims=True)  # 每组最大值变为 0，exp 不会溢出
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)
''',
    ),
    _drill(
        "sigmoid_backward",
        title="Sigmoid 的反向传播",
        topic=TOPIC_BACKPROP,
        section=SECTION_BACKPROP,
        difficulty="入门",
        signature="sigmoid_backward(dout, x)",
        statement=r"""
前向为 $\text{out} = \sigma(x)$。给定上游梯度 `dout` $= \partial L / \partial\,\text{out}$，
计算 `dx` $= \partial L / \partial x$：

$$\frac{\partial L}{\partial x} = \text{dout} \odot \sigma(x)\,\bigl(1 - \sigma(x)\bigr)$$

- `dout`、`x`：形状相同的浮点数组（任意形状）。注意 `x` 是 sigmoid 的**输入**，不是输出。
- 返回：`dx`，与 `x` 形状、dtype 相同。
- $|x|$ 很大（如 ±1000）时结果必须有限（此时梯度约为 0）。

对应笔记「反向传播与梯度计算 › 反向传播」的链式法则，以及「激活函数」中 Sigmoid 的梯度饱和。
"""
        + _COMMON_RULES,
        doc="""给定 dout = dL/d(sigmoid(x))，返回 dx = dL/dx。

    参数:
        dout: np.ndarray，上游梯度，与 x 同形
        x: np.ndarray，sigmoid 的输入
    返回:
        dx: 与 x 形状、dtype 相同的 np.ndarray
    """,
        hints=(
            "$\\sigma'(x) = \\sigma(x)\\,(1 - \\sigma(x))$。",
            "参数 `x` 是 sigmoid 的输入：先算 `s = sigmoid(x)`，再用 `s * (1 - s)`；"
            "直接写 `x * (1 - x)` 是把 x 当成了输出。",
            "链式法则在这里是逐元素相乘：`dout * ...`，不是矩阵乘法。",
            "用数值稳定的 sigmoid；$e^{-x}/(1+e^{-x})^2$ 在 x = -1000 时是 inf/inf = NaN。",
        ),
        explanation=r"""
$\sigma'(x) = \sigma(x)(1-\sigma(x))$，所以 `dx = dout * s * (1 - s)`，其中 `s` 用稳定的 sigmoid 计算。

实践中框架在前向时保存 `s`（输出），反向直接用 `s * (1 - s)`；这正是最常见的混淆来源——
题目给的是输入 `x`，如果写成 `dout * x * (1 - x)`，就把输入当成了输出。

面试延伸：$\sigma'$ 的最大值是 $0.25$（在 $x = 0$ 处）。$L$ 层 sigmoid 串联时梯度至少乘上
$0.25^L$，这就是梯度消失；ReLU 在正半轴导数为 1，没有这个问题。
""",
        solution='''
import numpy as np


def sigmoid_backward(dout, x):
    """dx = dout * s * (1 - s)，其中 s = sigmoid(x)。"""
    z = np.exp(-np.abs(x))
    s = np.where(x >= 0, 1 / (1 + z), z / (1 + z))  # 稳定的 sigmoid
    return dout * s * (1 - s)
''',
    ),
    _drill(
        "relu_backward",
        title="ReLU 的反向传播",
        topic=TOPIC_BACKPROP,
        section=SECTION_BACKPROP,
        difficulty="入门",
        signature="relu_backward(dout, x)",
        statement=r"""
前向为 $\text{out} = \max(0, x)$。给定上游梯度 `dout`，计算 `dx`：

$$\frac{\partial L}{\partial x} = \begin{cases} \text{dout}, & x > 0 \\ 0, & x \le 0 \end{cases}$$

- `dout`、`x`：形状相同的浮点数组（任意形状）。
- ReLU 在 $x = 0$ 处不可导，按 PyTorch 的约定取梯度为 **0**。
- 返回：`dx`，与 `x` 形状、dtype 相同的新数组（不要修改 `dout`）。

对应笔记「反向传播与梯度计算 › 反向传播」，以及「激活函数」中的“死亡 ReLU”。
"""
        + _COMMON_RULES,
        doc="""给定 dout = dL/d(relu(x))，返回 dx = dL/dx（x == 0 处梯度为 0）。

    参数:
        dout: np.ndarray，上游梯度，与 x 同形
        x: np.ndarray，relu 的输入
    返回:
        dx: 与 x 形状、dtype 相同的新 np.ndarray
    """,
        hints=(
            "梯度只在 x > 0 的位置“通过”，其余位置为 0。",
            "条件是 `x > 0` 而不是 `x >= 0`：x 恰好为 0 时梯度取 0。",
            "`dout[x <= 0] = 0` 会原地修改上游梯度；用 `np.where` 或先复制。",
        ),
        explanation=r"""
`np.where(x > 0, dout, 0)` 或 `dout * (x > 0)` 都可以，二者都返回新数组。

$x = 0$ 处的次梯度可以取 $[0, 1]$ 中任意值；PyTorch 和大多数框架取 0，测试「x 恰好为 0 处梯度为 0」
检查的就是这个约定。

面试延伸：如果某个神经元对所有样本都有 $x \le 0$，它的梯度永远为 0，参数不再更新——“死亡 ReLU”。
学习率过大、偏置初始化过负都可能导致这种情况。
""",
        solution='''
import numpy as np


def relu_backward(dout, x):
    """梯度只在 x > 0 处通过；x == 0 处取 0。"""
    return np.where(x > 0, dout, 0)
''',
    ),
    _drill(
        "linear_backward",
        title="全连接层的反向传播",
        topic=TOPIC_BACKPROP,
        section=SECTION_BACKPROP,
        difficulty="中等",
        signature="linear_backward(dout, x, w, b)",
        returns=("dx", "dw", "db"),
        statement=r"""
全连接层的前向为 $\text{out} = xW + b$，其中

- `x`：形状 (N, D)，`w`：形状 (D, M)，`b`：形状 (M,)，`dout` $= \partial L/\partial\,\text{out}$：形状 (N, M)。

返回元组 `(dx, dw, db)`，形状分别为 (N, D)、(D, M)、(M,)：

$$\frac{\partial L}{\partial x} = \text{dout}\, W^\top,\qquad
\frac{\partial L}{\partial W} = x^\top \text{dout},\qquad
\frac{\partial L}{\partial b} = \sum_{n} \text{dout}_{n,:}$$

对应笔记「反向传播与梯度计算 › 反向传播」中“计算每层权重梯度（∂L/∂W）”。
"""
        + _COMMON_RULES,
        doc="""out = x @ w + b 的反向传播。

    参数:
        dout: (N, M) 上游梯度
        x: (N, D) 输入
        w: (D, M) 权重
        b: (M,) 偏置
    返回:
        (dx, dw, db)，形状分别为 (N, D)、(D, M)、(M,)
    """,
        hints=(
            "用形状推导：dx 必须是 (N, D)，只有 (N, M) @ (M, D) 能得到它，所以 `dx = dout @ w.T`。",
            "同理 `dw = x.T @ dout`：(D, N) @ (N, M) = (D, M)。",
            "前向时 b 被广播加到每个样本上，反向就要对 batch 维求和（不是求平均）：`db = dout.sum(axis=0)`。",
        ),
        explanation=r"""
矩阵求导最可靠的办法是“对形状”：每个梯度与对应变量同形，再看哪种乘法能拼出这个形状。

- $dx = \text{dout}\,W^\top$：(N, M)·(M, D) → (N, D)
- $dW = x^\top\,\text{dout}$：(D, N)·(N, M) → (D, M)
- $db = \sum_n \text{dout}_n$：前向中的广播在反向中变成求和。

常见错误：`db = dout.mean(axis=0)`（batch 为 1 时碰巧正确）、`db = dout`（形状错误）、
`dw = dout.T @ x`（得到的是 $dW^\top$）。

注意 `b` 不影响任何梯度，它出现在签名里只是为了与前向对称。
""",
        solution='''
import numpy as np


def linear_backward(dout, x, w, b):
    """out = x @ w + b 的反向传播，返回 (dx, dw, db)。"""
    dx = dout @ w.T          # (N, M) @ (M, D) -> (N, D)
    dw = x.T @ dout          # (D, N) @ (N, M) -> (D, M)
    db = dout.sum(axis=0)    # 前向的广播 -> 反向求和
    return dx, dw, db
''',
    ),
    _drill(
        "softmax_cross_entropy",
        title="Softmax 交叉熵损失与梯度",
        topic=TOPIC_BACKPROP,
        section=SECTION_BACKPROP,
        difficulty="中等",
        signature="softmax_cross_entropy(logits, labels)",
        returns=("loss", "dlogits"),
        statement=r"""
给定未归一化的分数 `logits`（形状 (N, C)）和整数标签 `labels`（形状 (N,)，取值 0…C−1），
计算 batch 平均的 softmax 交叉熵及其对 logits 的梯度：

$$L = -\frac{1}{N}\sum_{n=1}^{N} \log \frac{e^{z_{n,y_n}}}{\sum_{c} e^{z_{n,c}}},\qquad
\frac{\partial L}{\partial z} = \frac{1}{N}\bigl(\mathrm{softmax}(z) - \mathrm{onehot}(y)\bigr)$$

- 返回元组 `(loss, dlogits)`：`loss` 是浮点标量（Python float、np.float64 或 0 维数组都可以），
  `dlogits` 形状 (N, C)。
- 与 PyTorch 的 `F.cross_entropy(logits, labels)`（默认 `reduction="mean"`）一致。
- 必须数值稳定：logits 可能达到 ±1000，模型也可能对错误答案极度自信（此时损失很大，但应是有限值）。

对应笔记「反向传播与梯度计算 › 反向传播」中的“计算损失”和“计算输出层梯度（∂L/∂y）”。
"""
        + _COMMON_RULES,
        doc="""batch 平均的 softmax 交叉熵及其梯度。

    参数:
        logits: (N, C) 浮点数组
        labels: (N,) 整数数组，取值 0..C-1
    返回:
        (loss, dlogits)：loss 为浮点标量，dlogits 形状 (N, C)
    """,
        hints=(
            "log-sum-exp 技巧：$\\log p_{n,c} = z_{n,c} - m_n - \\log\\sum_j e^{z_{n,j} - m_n}$，"
            "其中 $m_n = \\max_j z_{n,j}$。",
            "先算 softmax 再取 `np.log`，概率下溢为 0 时会得到 log(0) = -inf；直接计算 log-softmax 就不会。",
            "用 `logp[np.arange(N), labels]` 取出每个样本正确类别的对数概率。",
            "梯度：`p = softmax(logits)`，`p[np.arange(N), labels] -= 1`，最后除以 N（损失是平均值）。",
        ),
        explanation=r"""
交叉熵与 softmax 合在一起求导，结果出奇地简单：$\partial L / \partial z = (p - \mathrm{onehot}(y)) / N$。

数值稳定性有两层：

1. softmax 本身要减去每行最大值（否则 $e^{1000}$ 溢出，测试「大输入数值稳定性」）。
2. 损失要用 log-softmax 计算，不要对 softmax 的结果取 log：正确类别的 logit 比最大值小 1000 时，
   它的概率下溢为 0，`np.log(0)` 得到 inf（测试「极度自信的错误预测」）。加一个 `1e-12`
   虽然避免了 inf，但损失被截断在约 27.6，也不对。

其它常见错误：对 batch 求和而不是平均（梯度差 N 倍）、忘记减去 one-hot、用 `dlogits[:, labels]`
（这会选中整列）代替 `dlogits[np.arange(N), labels]`。
""",
        solution='''
import numpy as np


def softmax_cross_entropy(logits, labels):
    """batch 平均的 softmax 交叉熵，返回 (loss, dlogits)。"""
    n = logits.shape[0]
    rows = np.arange(n)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # log-softmax
    loss = -log_probs[rows, labels].mean()
    dlogits = np.exp(log_probs)
    dlogits[rows, labels] -= 1
    return loss, dlogits / n
''',
    ),
    _drill(
        "mlp_backward",
        title="两层 MLP 的反向传播",
        topic=TOPIC_BACKPROP,
        section=SECTION_BACKPROP,
        difficulty="进阶",
        signature="mlp_backward(x, labels, w1, b1, w2, b2)",
        returns=("loss", "dw1", "db1", "dw2", "db2"),
        statement=r"""
实现一个两层全连接网络的前向传播、损失和反向传播：

$$h = \mathrm{ReLU}(x W_1 + b_1),\qquad z = h W_2 + b_2,\qquad
L = -\frac{1}{N}\sum_{n} \log \mathrm{softmax}(z_n)_{y_n}$$

- `x`：(N, D)，`labels`：(N,) 整数，`w1`：(D, H)，`b1`：(H,)，`w2`：(H, C)，`b2`：(C,)。
- 返回元组 `(loss, dw1, db1, dw2, db2)`：`loss` 为浮点标量，各梯度与对应参数同形。
- ReLU 在预激活恰为 0 处梯度取 0；损失的计算必须数值稳定。

对应笔记「反向传播与梯度计算 › 反向传播」的四个步骤：前向传播、计算损失、反向传播、（参数更新）。
"""
        + _COMMON_RULES,
        doc="""两层 MLP：logits = relu(x @ w1 + b1) @ w2 + b2，平均 softmax 交叉熵。

    参数:
        x: (N, D)；labels: (N,) 整数
        w1: (D, H)；b1: (H,)；w2: (H, C)；b2: (C,)
    返回:
        (loss, dw1, db1, dw2, db2)
    """,
        hints=(
            "先完整地前向一遍，并保存反向需要的中间量：`h_pre = x @ w1 + b1`、`h = relu(h_pre)`。",
            "顺序：dlogits → dw2 = h.T @ dlogits、db2 → dh = dlogits @ w2.T → "
            "dh_pre = dh * (h_pre > 0) → dw1 = x.T @ dh_pre、db1。",
            "dlogits 里已经包含了 1/N，后面各层不要再除一次。",
            "ReLU 的梯度掩码用 `h_pre > 0`：预激活恰为 0 的隐藏单元不传梯度。",
        ),
        explanation=r"""
这道题把前面几题串了起来：线性层 → ReLU → 线性层 → softmax 交叉熵。反向传播就是按相反的顺序
逐层应用链式法则，每一层只需要“上游梯度”和自己在前向时保存的中间量。

```text
dlogits = (softmax(z) - onehot(y)) / N        # (N, C)
dw2 = h.T @ dlogits;  db2 = dlogits.sum(0)
dh = dlogits @ w2.T                           # (N, H)
dh_pre = dh * (h_pre > 0)                     # ReLU
dw1 = x.T @ dh_pre;   db1 = dh_pre.sum(0)
```

常见错误：ReLU 掩码用了 `h > 0` 以外的东西（比如忘了掩码、或者用 `h_pre >= 0`，
测试「隐藏层预激活恰为 0」会抓到）、在每层再除以 N、偏置梯度求平均。

面试延伸：梯度检查（gradient check）——用中心差分 $\frac{L(\theta+h)-L(\theta-h)}{2h}$
与解析梯度比较，相对误差在 float64 下应小于 $10^{-7}$，是调试反向传播的标准手段。
""",
        solution='''
import numpy as np


def mlp_backward(x, labels, w1, b1, w2, b2):
    """两层 MLP 的损失与梯度，返回 (loss, dw1, db1, dw2, db2)。"""
    n = x.shape[0]
    rows = np.arange(n)
    # 前向
    h_pre = x @ w1 + b1
    h = np.maximum(h_pre, 0)
    logits = h @ w2 + b2
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[rows, labels].mean()
    # 反向
    dlogits = np.exp(log_probs)
    dlogits[rows, labels] -= 1
    dlogits /= n
    dw2 = h.T @ dlogits
    db2 = dlogits.sum(axis=0)
    dh_pre = (dlogits @ w2.T) * (h_pre > 0)
    dw1 = x.T @ dh_pre
    db1 = dh_pre.sum(axis=0)
    return loss, dw1, db1, dw2, db2
''',
    ),
    _drill(
        "batchnorm_forward",
        title="Batch Normalization 前向（含滑动统计量）",
        topic=TOPIC_BACKPROP,
        section=SECTION_NORMALIZATION,
        difficulty="中等",
        signature=(
            "batchnorm_forward(x, gamma, beta, running_mean, running_var, "
            "momentum=0.1, eps=1e-5, training=True)"
        ),
        returns=("out", "running_mean", "running_var"),
        statement=r"""
实现与 `torch.nn.BatchNorm1d` 一致的 Batch Normalization 前向传播。`x` 形状 (N, D)，
`gamma`、`beta`、`running_mean`、`running_var` 形状 (D,)。

**训练模式**（`training=True`）：沿 batch 维计算均值和**有偏**方差并归一化

$$\mu_B = \frac{1}{N}\sum_i x_i,\quad \sigma_B^2 = \frac{1}{N}\sum_i (x_i-\mu_B)^2,\quad
\text{out} = \gamma\,\frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}} + \beta$$

并更新滑动统计量（`running_var` 使用**无偏**方差 $\frac{N}{N-1}\sigma_B^2$）：

$$\text{running\_mean} \leftarrow (1-m)\,\text{running\_mean} + m\,\mu_B,\qquad
\text{running\_var} \leftarrow (1-m)\,\text{running\_var} + m\,\tfrac{N}{N-1}\sigma_B^2$$

**eval 模式**（`training=False`）：用 `running_mean`、`running_var` 归一化，滑动统计量原样返回。

- 返回元组 `(out, running_mean, running_var)`（更新后的**新**数组；不要像 PyTorch 的 buffer
  那样原地修改传入的数组）。训练模式下 N ≥ 2。

对应笔记「反向传播与梯度计算 › 归一化技术」中 Batch Normalization 的实现原理。
"""
        + _COMMON_RULES,
        doc="""与 torch.nn.BatchNorm1d 一致的前向传播。

    参数:
        x: (N, D)；gamma、beta、running_mean、running_var: (D,)
        momentum: 滑动平均系数；eps: 加在方差上的小常数
        training: True 用 batch 统计量并更新滑动统计量；False 用滑动统计量
    返回:
        (out, running_mean, running_var)，均为新数组
    """,
        hints=(
            "`x.mean(axis=0)`、`x.var(axis=0)` 沿 batch 维计算；`np.var` 默认 ddof=0，即有偏方差。",
            "归一化用有偏方差，更新 `running_var` 用无偏方差：乘 `N / (N - 1)`，或 `x.var(axis=0, ddof=1)`。",
            "eval 模式既不使用当前 batch 的统计量，也不更新滑动统计量。",
            "`running_mean *= 1 - momentum` 会原地修改输入：请计算并返回新数组。",
            "$\\epsilon$ 加在方差上、开根号之前：`np.sqrt(var + eps)`。",
        ),
        explanation=r"""
BN 在训练和推理时行为不同，这是面试中最常被追问的细节：

- 训练时用当前 batch 的均值与有偏方差归一化，同时用指数滑动平均累积总体统计量；
- 推理时 batch 可能只有一个样本，于是改用累积的 `running_mean`、`running_var`，输出只依赖单个样本。

PyTorch 的一个细节：归一化用有偏方差 $\sigma_B^2$，而 `running_var` 累积的是无偏估计
$\frac{N}{N-1}\sigma_B^2$（它估计的是总体方差）。测试「训练模式基本示例」的 `running_var` 会暴露用错方差的答案；
「eval 模式使用滑动统计量」会暴露推理时仍用 batch 统计量的答案。

方差为 0 的特征（整列相同）时 $x - \mu_B = 0$，有 $\epsilon$ 保护，输出就是 $\beta$；
若把 $\epsilon$ 放在根号外或省略，会得到 0/0。
""",
        solution='''
import numpy as np


def batchnorm_forward(x, gamma, beta, running_mean, running_var,
                      momentum=0.1, eps=1e-5, training=True):
    """与 torch.nn.BatchNorm1d 一致的前向，返回 (out, running_mean, running_var)。"""
    if not training:
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
        return out, running_mean.copy(), running_var.copy()
    n = x.shape[0]
    mean = x.mean(axis=0)
    var = x.var(axis=0)  # 有偏方差：用于归一化
    out = gamma * (x - mean) / np.sqrt(var + eps) + beta
    new_mean = (1 - momentum) * running_mean + momentum * mean
    new_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)  # 无偏方差
    return out, new_mean, new_var
''',
    ),
    _drill(
        "batchnorm_backward",
        title="Batch Normalization 反向传播",
        topic=TOPIC_BACKPROP,
        section=SECTION_NORMALIZATION,
        difficulty="进阶",
        signature="batchnorm_backward(dout, x, gamma, eps=1e-5)",
        returns=("dx", "dgamma", "dbeta"),
        statement=r"""
训练模式下 Batch Normalization 的前向为（统计量沿 batch 维，方差有偏）：

$$\hat{x} = \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}},\qquad \text{out} = \gamma\,\hat{x} + \beta$$

给定上游梯度 `dout`（形状 (N, D)）、输入 `x`（(N, D)）和 `gamma`（(D,)），
返回 `(dx, dgamma, dbeta)`，形状分别为 (N, D)、(D,)、(D,)。
注意 $\mu_B$ 和 $\sigma_B^2$ 都是 $x$ 的函数，梯度要经过它们传回 $x$。

对应笔记「反向传播与梯度计算 › 归一化技术」：把反向传播的链式法则用在 BN 上。
"""
        + _COMMON_RULES,
        doc="""训练模式 BN 的反向传播（统计量由 x 重新计算）。

    参数:
        dout: (N, D) 上游梯度；x: (N, D) 输入；gamma: (D,)
        eps: 加在方差上的小常数
    返回:
        (dx, dgamma, dbeta)，形状 (N, D)、(D,)、(D,)
    """,
        hints=(
            "`dbeta = dout.sum(axis=0)`，`dgamma = (dout * x_hat).sum(axis=0)`。",
            "dx 不只是 `dout * gamma / sqrt(var + eps)`：均值和方差也依赖 x，还要减去两项修正。",
            "令 $d\\hat{x} = \\text{dout}\\cdot\\gamma$，化简后 "
            "$dx = \\frac{1}{N\\sqrt{\\sigma^2+\\epsilon}}\\bigl(N\\,d\\hat{x} - \\sum_i d\\hat{x}_i - "
            "\\hat{x}\\sum_i d\\hat{x}_i\\,\\hat{x}_i\\bigr)$，求和沿 batch 维。",
            "归一化用有偏方差（`np.var` 默认 ddof=0），反向也一样。",
        ),
        explanation=r"""
按计算图逐步求导（$\hat x \to \sigma^2 \to \mu \to x$）之后可以化简成一行：

$$dx = \frac{1}{N\sqrt{\sigma_B^2+\epsilon}}\Bigl(N\,d\hat{x} - \sum_i d\hat{x}_i
- \hat{x}\sum_i d\hat{x}_i\,\hat{x}_i\Bigr),\qquad d\hat x = \text{dout}\cdot\gamma$$

两项修正的直观含义：归一化后的每列均值恒为 0、方差恒为 1，所以 $dx$ 中与“整体平移”（第二项）
和“整体缩放”（第三项）方向相同的分量被投影掉了。由此可以验证：`dout` 为常数时 $dx = 0$。

常见错误：只写 `dout * gamma / sqrt(var + eps)`（忽略 $\mu$、$\sigma^2$ 对 $x$ 的依赖）、
dgamma 与 dbeta 写反、用无偏方差。
""",
        solution='''
import numpy as np


def batchnorm_backward(dout, x, gamma, eps=1e-5):
    """训练模式 BN 的反向传播，返回 (dx, dgamma, dbeta)。"""
    n = x.shape[0]
    inv_std = 1 / np.sqrt(x.var(axis=0) + eps)
    x_hat = (x - x.mean(axis=0)) * inv_std
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dx = inv_std / n * (n * dx_hat - dx_hat.sum(axis=0)
                        - x_hat * (dx_hat * x_hat).sum(axis=0))
    return dx, dgamma, dbeta
''',
    ),
    _drill(
        "layernorm_forward",
        title="Layer Normalization 前向",
        topic=TOPIC_BACKPROP,
        section=SECTION_NORMALIZATION,
        difficulty="中等",
        signature="layernorm_forward(x, gamma, beta, eps=1e-5)",
        statement=r"""
实现与 `torch.nn.LayerNorm(D)` 一致的 Layer Normalization：对**每个样本**沿最后一轴（特征维）归一化，

$$\mu = \frac{1}{D}\sum_{d} x_d,\quad \sigma^2 = \frac{1}{D}\sum_d (x_d - \mu)^2,\quad
\text{out} = \gamma\,\frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta$$

- `x`：秩 ≥ 2 的浮点数组，例如 (N, D) 或 (B, T, D)；`gamma`、`beta`：(D,)。
- 返回：`out`，与 `x` 形状、dtype 相同。

对应笔记「反向传播与梯度计算 › 归一化技术」中的 Layer Normalization（与 BN 的区别：统计的轴不同）。
"""
        + _COMMON_RULES,
        doc="""沿最后一轴做 Layer Normalization。

    参数:
        x: 秩 >= 2 的数组，最后一轴为特征维 D
        gamma, beta: (D,)
        eps: 加在方差上的小常数
    返回:
        与 x 形状、dtype 相同的 np.ndarray
    """,
        hints=(
            "`x.mean(axis=-1, keepdims=True)` 得到形状 (..., 1) 的均值，可以直接与 x 广播。",
            "与 BN 的唯一区别是统计的轴：LN 沿特征维（最后一轴），BN 沿 batch 维（axis=0）。",
            "用有偏方差（`np.var` 默认 ddof=0），与 PyTorch 一致；$\\epsilon$ 在根号里面。",
        ),
        explanation=r"""
LN 对每个样本独立地归一化，所以结果不依赖 batch 大小，训练和推理行为一致，也不需要滑动统计量——
这正是它适合 RNN 和 Transformer 的原因（笔记：“LN 不会受到 batch size 影响”）。

实现上只要把统计轴设为 `-1` 并保留维度，就能处理任意秩的输入。

常见错误：沿 axis=0 统计（那是 BN）、忘记 `keepdims=True`、用无偏方差，
或把 $\epsilon$ 放在根号外（$\frac{x-\mu}{\sigma + \epsilon}$）——在方差很小的行上差别明显
（测试「方差很小的行」）。
""",
        solution='''
import numpy as np


def layernorm_forward(x, gamma, beta, eps=1e-5):
    """沿最后一轴归一化，再按特征缩放和平移。"""
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta
''',
    ),
    _drill(
        "layernorm_backward",
        title="Layer Normalization 反向传播",
        topic=TOPIC_BACKPROP,
        section=SECTION_NORMALIZATION,
        difficulty="进阶",
        signature="layernorm_backward(dout, x, gamma, eps=1e-5)",
        returns=("dx", "dgamma", "dbeta"),
        statement=r"""
Layer Normalization 的前向为（统计量沿最后一轴，方差有偏）：

$$\hat{x} = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}},\qquad \text{out} = \gamma\,\hat{x} + \beta$$

给定上游梯度 `dout` 与输入 `x`（同形，秩 ≥ 2，最后一轴为 D）以及 `gamma`（(D,)），
返回 `(dx, dgamma, dbeta)`：`dx` 与 `x` 同形；`dgamma`、`dbeta` 形状 (D,)，
**对除最后一轴外的所有轴求和**。

对应笔记「反向传播与梯度计算 › 归一化技术」中的 Layer Normalization。
"""
        + _COMMON_RULES,
        doc="""Layer Normalization 的反向传播。

    参数:
        dout, x: 同形数组，秩 >= 2，最后一轴为 D
        gamma: (D,)
        eps: 加在方差上的小常数
    返回:
        (dx, dgamma, dbeta)：dx 与 x 同形，dgamma、dbeta 形状 (D,)
    """,
        hints=(
            "dx 的公式与 BN 相同，只是求和沿最后一轴（每个样本独立）：记得 `keepdims=True`。",
            "dgamma、dbeta 对除最后一轴外的所有轴求和：`(dout * x_hat).reshape(-1, D).sum(axis=0)`。",
            "对三维输入只 `sum(axis=0)` 会得到 (T, D) 而不是 (D,)。",
        ),
        explanation=r"""
LN 的反向与 BN 是同一个公式，只是把“沿 batch 维”换成“沿特征维”：

$$dx = \frac{1}{D\sqrt{\sigma^2+\epsilon}}\Bigl(D\,d\hat{x} - \sum_d d\hat{x}_d
- \hat{x}\sum_d d\hat{x}_d\,\hat{x}_d\Bigr),\qquad d\hat x = \text{dout}\cdot\gamma$$

而 $\gamma$、$\beta$ 被所有样本（以及序列中的所有位置）共享，所以它们的梯度要对所有前导轴求和——
这是“参数被广播，梯度就求和”规则的又一个例子。把数组 reshape 成 (-1, D) 是处理任意秩最简单的方式。
""",
        solution='''
import numpy as np


def layernorm_backward(dout, x, gamma, eps=1e-5):
    """Layer Normalization 的反向传播，返回 (dx, dgamma, dbeta)。"""
    d = x.shape[-1]
    inv_std = 1 / np.sqrt(x.var(axis=-1, keepdims=True) + eps)
    x_hat = (x - x.mean(axis=-1, keepdims=True)) * inv_std
    dx_hat = dout * gamma
    dx = inv_std / d * (d * dx_hat - dx_hat.sum(axis=-1, keepdims=True)
                        - x_hat * (dx_hat * x_hat).sum(axis=-1, keepdims=True))
    dgamma = (dout * x_hat).reshape(-1, d).sum(axis=0)
    dbeta = dout.reshape(-1, d).sum(axis=0)
    return dx, dgamma, dbeta
''',
    ),
]

DRILLS: dict[str, Drill] = {drill.id: drill for drill in _DRILL_LIST}


def get_drill(drill_id: str) -> Drill:
    """The drill with this id; raises KeyError if there is none."""
    return DRILLS[drill_id]
