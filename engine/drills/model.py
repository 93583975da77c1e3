"""What a drill is: the learner's statement, starting point and, after solving, the explanation.

Each drill practises one section of the owner's notes (content/01-neural-networks.md): `topic` is
the `###` heading text and `section` the `####` heading text without its number and bold markers,
so the web app can link a drill to the notes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

TOPIC_STRUCTURE = "神经网络结构"
TOPIC_BACKPROP = "反向传播（Backpropagation）与梯度计算"
SECTION_ACTIVATIONS = "激活函数"
SECTION_BACKPROP = "反向传播（Backpropagation）"
SECTION_NORMALIZATION = "归一化技术（Batch Normalization、Layer Normalization）"

# The sections of the notes that drills practise, by topic (a drill file names one of each).
TOPICS = {
    TOPIC_STRUCTURE: (SECTION_ACTIVATIONS,),
    TOPIC_BACKPROP: (SECTION_BACKPROP, SECTION_NORMALIZATION),
}
DIFFICULTIES = ("入门", "中等", "进阶")


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
    # Rendering every drill's examples took half of the catalogue's load time, and a command-line
    # grade shows none of them: they are rendered when first asked for.
    render_examples: Callable[[], tuple[Example, ...]] = field(repr=False, compare=False)

    @cached_property
    def examples(self) -> tuple[Example, ...]:
        """The visible test cases, rendered for display."""
        return self.render_examples()


@dataclass(frozen=True)
class English:
    """What a learner reads before solving, in English (the explanation stays Chinese)."""

    title: str
    statement_md: str
    starter_code: str
    hints: tuple[str, ...]
