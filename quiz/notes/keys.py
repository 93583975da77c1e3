"""Identity: normalised keys and slugs, derived from titles and question texts only."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_EMPHASIS_RE = re.compile(r"\*\*|__|~~|`")


def normalize_for_key(text: str) -> str:
    """Fold ``text`` so cosmetic edits do not change identity.

    NFKC maps full-width forms to ASCII ("（" -> "("), case is folded, Markdown emphasis is
    dropped, and only letters, digits and combining marks are kept (whitespace, punctuation and
    symbols are removed).
    """
    folded = unicodedata.normalize("NFKC", _EMPHASIS_RE.sub("", text)).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LNM")


def _digest(text: str, length: int) -> str:
    return hashlib.sha1(normalize_for_key(text).encode("utf-8")).hexdigest()[:length]


def _ascii_words(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", unicodedata.normalize("NFKC", text).lower())
    return "-".join(words)[:40].strip("-")


def title_slug(title: str, *, scope: str = "") -> str:
    """Readable, ASCII-only, stable slug: ASCII words of the title plus 8 hex of its hash.

    ``scope`` (the topic title, for sections) makes section slugs unique across topics without
    showing in the readable part; nothing positional goes in, so reordering keeps slugs.
    """
    digest = _digest(f"{scope}\x1f{title}" if scope else title, 8)
    words = _ascii_words(title)
    return f"{words}-{digest}" if words else digest


def question_key(topic_slug: str, section_slug: str, text: str) -> str:
    return f"{topic_slug}/{section_slug}/q/{_digest(text, 12)}"


def point_key(topic_slug: str, section_slug: str, title: str) -> str:
    return f"{topic_slug}/{section_slug}/kp/{_digest(title, 12)}"
