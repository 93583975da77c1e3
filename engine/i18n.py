"""The language of the grader's feedback: Chinese (the msgid, the default) or English.

The engine knows nothing of Flask: `engine.grader.grade(..., lang="en")` sets the language for
the duration of one grading (a context variable, so concurrent gradings do not mix), and every
text the learner reads goes through `t()`, whose Chinese template is the key of the English
table in `engine.texts_en`. A missing English text falls back to Chinese; tests/engine/
test_engine_i18n.py fails if any template, case name or catalogue entry lacks its English.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

LANGS = ("zh", "en")
_LANG: ContextVar[str] = ContextVar("engine_lang", default="zh")


def current() -> str:
    return _LANG.get()


@contextmanager
def language(lang: str) -> Iterator[None]:
    """Feedback built inside this block is in `lang` ("zh" or "en"; anything else: "zh")."""
    token = _LANG.set(lang if lang in LANGS else "zh")
    try:
        yield
    finally:
        _LANG.reset(token)


def t(zh: str, **values: Any) -> str:
    """The text in the current language; `values` fill the template's {placeholders}."""
    template = zh
    if _LANG.get() == "en":
        from engine.texts_en import MESSAGES

        template = MESSAGES.get(zh, zh)
    return template.format(**values) if values else template


def case_name(zh: str, lang: str | None = None) -> str:
    """A test or example name in `lang` (default: the current language)."""
    if (lang or _LANG.get()) != "en":
        return zh
    from engine.texts_en import CASE_NAMES

    return CASE_NAMES.get(zh, zh)


def mistake_text(mistake_id: str, title: str, detail: str) -> tuple[str, str]:
    """A catalogued mistake's title and explanation in the current language."""
    if _LANG.get() != "en":
        return title, detail
    from engine.texts_en import MISTAKES

    return MISTAKES.get(mistake_id, (title, detail))


def N_(zh: str) -> str:
    return zh


def sandbox_text(text: str) -> str:
    """The sandbox's own Chinese texts (limits hit, crash details, truncation marks) in the
    current language. The sandbox formats them where it runs; here each known template is
    matched back, its values kept, and the English template filled with them."""
    if _LANG.get() != "en" or not text:
        return text
    for pattern, english in _patterns():
        text = pattern.sub(functools.partial(_fill, english), text)
    return text


def _fill(template: str, match: re.Match[str]) -> str:
    return template.format(**match.groupdict())


@functools.cache
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    from engine.texts_en import SANDBOX

    return tuple((_pattern(zh), en) for zh, en in SANDBOX.items())


def _pattern(template: str) -> re.Pattern[str]:
    parts = []
    pieces = list(string.Formatter().parse(template))
    for i, (literal, field, _spec, _conv) in enumerate(pieces):
        parts.append(re.escape(literal))
        if field:
            last = i == len(pieces) - 1
            # A value at the very end runs up to the next punctuation or space (a number, a name).
            parts.append(f"(?P<{field}>[^（）()，。：；\\s]+)" if last else f"(?P<{field}>.+?)")
    return re.compile("".join(parts))


def drill_hints(drill: Any, lang: str = "zh") -> tuple[str, ...]:
    """A drill's hints (Markdown) in `lang`."""
    if lang != "en":
        return tuple(drill.hints)
    from engine.drills import ENGLISH

    english = ENGLISH.get(drill.id)
    return tuple(drill.hints) if english is None else english.hints


def starter_code(drill: Any, lang: str = "zh") -> str:
    """A drill's starter code, its docstring in `lang`."""
    if lang != "en":
        return str(drill.starter_code)
    from engine.drills import ENGLISH

    english = ENGLISH.get(drill.id)
    return str(drill.starter_code) if english is None else english.starter_code
