"""Readable URL paths for topics: pinyin of the Chinese title, ASCII words kept as they are.

The identity slug (`Topic.slug`, part of every card key) never changes; this is only the
address shown to people, and the old hash addresses redirect to it.
"""

from __future__ import annotations

import re
import unicodedata

from pypinyin import Style, lazy_pinyin

MAX_LENGTH = 60


def readable_slug(title: str) -> str:
    """'反向传播（Backpropagation）与梯度计算' -> 'fan-xiang-chuan-bo-backpropagation-yu-ti-du-ji-suan'."""
    text = unicodedata.normalize("NFKC", title)
    words: list[str] = []
    for piece in lazy_pinyin(text, style=Style.NORMAL, errors="default"):
        words += re.findall(r"[a-z0-9]+", piece.lower())
    slug = ""
    for word in words:  # cut at a word boundary
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > MAX_LENGTH:
            break
        slug = candidate
    return slug or "topic"


def unique_slug(base: str, taken: set[str]) -> str:
    """base, or base-2, base-3, ... whichever is not taken yet."""
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug
