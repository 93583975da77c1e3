"""The parsed notes: topics, sections, knowledge points and questions (plain dataclasses)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

NoteKind = Literal["注意", "辨析"]


class NotesParseError(ValueError):
    """A notes file that cannot be parsed; ``line`` is 1-based."""

    def __init__(self, source: str, line: int, reason: str) -> None:
        super().__init__(f"{source}:{line}: {reason}")
        self.source = source
        self.line = line
        self.reason = reason

    def __reduce__(self) -> tuple[type[NotesParseError], tuple[str, int, str]]:
        # Keeps the error picklable despite the three-argument constructor.
        return (type(self), (self.source, self.line, self.reason))


@dataclass(frozen=True, slots=True)
class Note:
    """A "👉 **注意**：..." or "👉 **辨析**：..." remark attached to a knowledge point."""

    kind: NoteKind
    text: str


@dataclass(frozen=True, slots=True)
class KnowledgePoint:
    """One top-level bullet of a 知识点详解 block.

    ``body_md`` is the nested content dedented to a standalone list, with the notes removed
    (they are in ``notes``).
    """

    title: str
    body_md: str
    notes: tuple[Note, ...]
    line: int
    key: str


@dataclass(frozen=True, slots=True)
class Question:
    """A 面试高频题 entry; ``deep_answer`` is "" when the notes give none."""

    number: int
    text: str
    short_answer: str
    deep_answer: str
    line: int
    key: str


@dataclass(frozen=True, slots=True)
class CodeBlock:
    """A fenced code block: ``language`` is the first word of the info string ("" if none)."""

    language: str
    source: str
    line: int


@dataclass(frozen=True, slots=True)
class Section:
    """A ``####`` section of a topic."""

    number: int | None
    title: str
    slug: str
    line: int
    knowledge_points: tuple[KnowledgePoint, ...]
    questions: tuple[Question, ...]
    reminders: tuple[str, ...]
    practice: tuple[CodeBlock, ...]
    diagrams: tuple[CodeBlock, ...]
    review_tips: tuple[str, ...]
    body_md: str


@dataclass(frozen=True, slots=True)
class Topic:
    """A ``###`` topic and its sections."""

    title: str
    slug: str
    line: int
    sections: tuple[Section, ...]


@dataclass(frozen=True, slots=True)
class Document:
    """One parsed notes file."""

    source: str
    topics: tuple[Topic, ...]

    def iter_questions(self) -> Iterator[tuple[Topic, Section, Question]]:
        """Every question with its topic and section, in document order."""
        for topic in self.topics:
            for section in topic.sections:
                for question in section.questions:
                    yield topic, section, question

    def iter_knowledge_points(self) -> Iterator[tuple[Topic, Section, KnowledgePoint]]:
        """Every knowledge point with its topic and section, in document order."""
        for topic in self.topics:
            for section in topic.sections:
                for point in section.knowledge_points:
                    yield topic, section, point
