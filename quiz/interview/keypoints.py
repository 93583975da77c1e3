"""Key points of a model answer, their key terms, and which ones a typed answer covers.

How it works, and why:

* **Points.** The model answer is the note's 一句话答案 followed by its 深入回答. Each sentence
  (split on 。！？；, line breaks and list items) is one point an interviewer would listen for; the
  一句话答案 always comes first. Sentences with no key term ("因此需要权衡。") are not points, a
  sentence whose terms an earlier point already holds adds nothing, and at most `MAX_POINTS`
  are kept so the checklist stays readable.
* **Terms.** Chinese has no spaces, so substring tests on raw text cannot tell 梯度 from 梯度消失
  in a sentence; a segmenter is needed. We use **jieba** (pinned in requirements.txt): pure
  Python (no model download, no native build), the de-facto standard for Simplified Chinese, and
  its part-of-speech tagger lets us keep content words (nouns, English terms, distinguishing
  words like 非线性, verbal nouns) and drop function words and generic verbs (进行, 通过, 可以).
  Its dictionary is general-purpose and splits ML jargon (过拟合 → 过 / 拟合), so `DOMAIN_TERMS`
  adds the field's words to our own tokenizer instance (never jieba's global one).
* **Covered.** A point is suggested as covered when the typed answer contains at least half of
  its terms (rounded up). The answer is matched by substring after NFKC and case folding, not
  by its own segmentation: a learner's "梯度消失问题" must count for the term 梯度, however
  jieba splits their sentence. The learner then corrects the ticks; this is only a suggestion.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Any

MAX_POINTS = 6
MAX_TERMS = 5


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Words jieba's general dictionary splits or mis-tags; tagged as nouns so they are kept whole.
DOMAIN_TERMS = _words(
    "过拟合 欠拟合 正则化 归一化 标准化 批归一化 层归一化 隐藏层 输入层 输出层 全连接层 "
    "激活函数 损失函数 代价函数 目标函数 交叉熵 均方误差 反向传播 前向传播 梯度下降 梯度消失 "
    "梯度爆炸 梯度裁剪 学习率 动量 权重衰减 权重矩阵 偏置 神经元 感知机 非线性 线性变换 "
    "卷积 池化 卷积核 感受野 残差连接 注意力机制 自注意力 多头注意力 位置编码 词向量 嵌入 "
    "数值稳定性 数值溢出 下溢 上溢 链式法则 雅可比矩阵 特征提取 特征表示 泛化能力 "
    "早停 数据增强 小批量 随机梯度下降 优化器 鞍点 局部最优 初始化 方差 均值"
)

# Content words that say nothing about the topic: an answer should not earn a point for them.
STOP_TERMS = frozenset(
    _words(
        "进行 通过 使用 可以 需要 能够 导致 实现 问题 方法 情况 时候 方面 作用 过程 部分 "
        "效果 方式 时 中 能力 表示 一般 通常 包括 例如 比如 具有 存在 提高 增加 减少 避免 可能 小时 "
        "设计 选择 调整 根据 考虑 带来 解决 处理 帮助 保证 以及 这种 一种"
    )
)
_KEEP_FLAGS = ("n", "vn", "eng", "b", "nz", "v")
_PRIORITY = {"eng": 0, "nz": 0, "b": 1, "vn": 1, "n": 2, "v": 3}

_SENTENCE_SPLIT = re.compile(r"[。！？；!?;\n]+")
_FENCE = re.compile(r"```.*?```", re.S)
_DISPLAY_MATH = re.compile(r"\$\$.*?\$\$", re.S)
# Emphasis, code ticks, list markers, quote markers and the notes' 👉 pointer.
_MARKUP = re.compile(r"\*\*|__|`|👉|^\s*(?:>\s*)+|^\s*(?:[-*+]|\d+[.)])\s+", re.M)
_DEEP_LABEL = "**深入回答**："
_SHORT_LABEL = "**一句话答案**："


@dataclass(frozen=True)
class KeyPoint:
    """One thing the model answer says, and the words that show an answer said it too."""

    text: str
    terms: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "terms": list(self.terms)}


_lock = threading.Lock()
_tagger: Any = None


def _pos_tagger() -> Any:
    """jieba's tagger on our own tokenizer with the domain words, built once per process."""
    global _tagger
    with _lock:
        if _tagger is None:
            import jieba
            import jieba.posseg

            jieba.setLogLevel(logging.WARNING)  # it logs its dictionary loading at INFO
            tokenizer = jieba.Tokenizer()
            for word in DOMAIN_TERMS:
                tokenizer.add_word(word, freq=100_000, tag="nz")
            _tagger = jieba.posseg.POSTokenizer(tokenizer)
        return _tagger


def warm() -> None:
    """Load jieba's dictionary now (about a second), not on the learner's first answer."""
    _pos_tagger()


def is_warm() -> bool:
    return _tagger is not None


def normalize(text: str) -> str:
    """NFKC, case-folded, without whitespace: how terms and answers are compared."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def split_model_answer(back_md: str) -> tuple[str, str]:
    """(一句话答案, 深入回答) from a question card's back, as the importer writes it."""
    text = back_md.strip()
    short, _, deep = text.partition(_DEEP_LABEL)
    return short.removeprefix(_SHORT_LABEL).strip(), deep.strip()


def _plain(markdown: str) -> str:
    text = _DISPLAY_MATH.sub(" ", _FENCE.sub(" ", markdown))
    return _MARKUP.sub("", text)


def sentences(markdown: str) -> list[str]:
    """The sentences of a Markdown answer as plain text (code blocks and display math dropped)."""
    parts = (p.strip(" \t，,：:") for p in _SENTENCE_SPLIT.split(_plain(markdown)))
    return [p for p in parts if p]


def key_terms(sentence: str) -> tuple[str, ...]:
    """The content words of a sentence, most telling first, at most `MAX_TERMS`."""
    found: dict[str, tuple[int, int]] = {}
    for position, pair in enumerate(_pos_tagger().lcut(sentence)):
        word, flag = pair.word.strip(), pair.flag
        if not word or word in found or word in STOP_TERMS or not flag.startswith(_KEEP_FLAGS):
            continue
        is_ascii = word.isascii()
        if (is_ascii and (len(word) < 2 or not word[0].isalpha())) or (
            not is_ascii and len(word) < 2
        ):
            continue
        priority = _PRIORITY.get(flag, _PRIORITY["n"] if flag.startswith("n") else 3)
        found[word] = (priority, position)
    best = sorted(found, key=lambda w: found[w])[:MAX_TERMS]
    return tuple(sorted(best, key=lambda w: found[w][1]))


def key_points(short_md: str, deep_md: str) -> list[KeyPoint]:
    """The checklist for one question: the short answer first, then the deep answer's points."""
    points: list[KeyPoint] = []
    seen: set[str] = set()
    short = " ".join(sentences(short_md))
    candidates = ([short] if short else []) + sentences(deep_md)
    for text in candidates:
        terms = key_terms(text)
        new = [t for t in terms if t not in seen]
        if not terms or not new:
            continue  # nothing to listen for, or nothing an earlier point does not already hold
        points.append(KeyPoint(text, terms))
        seen.update(terms)
        if len(points) == MAX_POINTS:
            break
    return points


def needed(point: KeyPoint) -> int:
    """How many of a point's terms an answer must contain for the point to count."""
    return max(1, math.ceil(len(point.terms) / 2))


def matched_terms(point: KeyPoint, answer: str) -> tuple[str, ...]:
    text = normalize(answer)
    return tuple(t for t in point.terms if normalize(t) in text)


def suggest(points: list[KeyPoint], answer: str) -> list[bool]:
    """Which points the typed answer covers, as pre-ticked boxes for the learner to correct."""
    return [len(matched_terms(p, answer)) >= needed(p) for p in points]
