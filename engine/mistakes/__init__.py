"""The catalogue of known mistakes, per drill: what interviewers probe and learners get wrong.

Each entry is a small pure NumPy function that computes the *mistaken* result for the drill's
arguments, with an id, a Chinese title, an explanation that teaches without giving the code,
and the anchor of the notes section it links to. `engine.diagnosis` runs them on a failing
submission's test inputs (in the trusted process) and names the one whose outputs match.

Entries that differ from the reference only by modifying an argument in place say so in
`mutates`: their function returns the right values, the diagnosis checks the mutation.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from textwrap import dedent
from typing import Any

__all__ = ["Mistake", "mistakes_for", "notes_anchor", "CATALOGUE"]


@dataclass(frozen=True)
class Mistake:
    id: str  # "<drill>.<key>", stable: it is part of the API
    drill: str
    title: str
    explanation: str
    compute: Callable[..., Any]
    mutates: tuple[str, ...] = ()
    topic: str | None = None  # the notes section it links to; None: the drill's own
    section: str | None = None
    variants: tuple[Callable[..., Any], ...] = ()  # other spellings of the same slip

    def anchor(self) -> str:
        """The notes anchor (section id on the topic page) this mistake links to."""
        from engine.drills import get_drill

        drill = get_drill(self.drill)
        return notes_anchor(self.topic or drill.topic, self.section or drill.section)


_REGISTRY: list[Mistake] = []


def mistake(
    drill: str,
    key: str,
    title: str,
    explanation: str,
    *,
    mutates: tuple[str, ...] = (),
    topic: str | None = None,
    section: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as the mistaken computation of `drill`."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        text = _join_lines(dedent(explanation).strip())
        _REGISTRY.append(
            Mistake(f"{drill}.{key}", drill, title, text, function, mutates, topic, section)
        )
        return function

    return register


def variant(mistake_id: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as another way of making an already listed mistake."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        for i, entry in enumerate(_REGISTRY):
            if entry.id == mistake_id:
                _REGISTRY[i] = replace(entry, variants=(*entry.variants, function))
                return function
        raise KeyError(mistake_id)

    return register


def _join_lines(text: str) -> str:
    """Soft line breaks vanish between Chinese text and become spaces between Latin words."""
    out = ""
    for line in (part.strip() for part in text.splitlines()):
        if out and line and out[-1].isascii() and line[0].isascii():
            out += " "
        out += line
    return out


# The notes' own slug rule (quiz.notes.keys.title_slug), repeated here because the engine imports nothing
# from the web side; tests/engine/test_mistakes.py checks every anchor against the parsed notes.
_EMPHASIS = re.compile(r"\*\*|__|~~|`")


def _fold(text: str) -> str:
    folded = unicodedata.normalize("NFKC", _EMPHASIS.sub("", text)).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LNM")


def notes_anchor(topic: str, section: str) -> str:
    """The id of a `####` section on its topic page of the notes."""
    digest = hashlib.sha1(_fold(f"{topic}\x1f{section}").encode("utf-8")).hexdigest()[:8]
    words = "-".join(re.findall(r"[a-z0-9]+", unicodedata.normalize("NFKC", section).lower()))
    words = words[:40].strip("-")
    return f"{words}-{digest}" if words else digest


def _load() -> dict[str, tuple[Mistake, ...]]:
    from engine.mistakes import activations, backprop, norms  # noqa: F401  (registers)

    catalogue: dict[str, list[Mistake]] = {}
    for entry in _REGISTRY:
        catalogue.setdefault(entry.drill, []).append(entry)
    return {drill: tuple(entries) for drill, entries in catalogue.items()}


CATALOGUE: dict[str, tuple[Mistake, ...]] = _load()


def mistakes_for(drill_id: str) -> tuple[Mistake, ...]:
    return CATALOGUE.get(drill_id, ())
