"""Pure parser for the owner's Markdown interview notes (no Flask, no database, no clock).

The notes follow a loose house style (see ``content/01-neural-networks.md``)::

    ### 主题                      -> Topic
    #### **2. 激活函数**          -> Section (number 2, title "激活函数")
    **🔑 知识点详解**              -> knowledge points: top-level bullets "- **标题**：" / "- 标题："
    **🔥 面试高频题**              -> numbered questions with "一句话答案" / "深入回答" sub-bullets
    **🌟 重点提醒** / **📝 实践经验** / **🔧 工具辅助** / **💡 复习建议**

Block headers are recognised by name, with or without emoji or bold, on their own line or glued
to the end of the previous line (the owner's editor sometimes joins them).

Identity: every knowledge point and question carries a ``key`` that the importer uses as the
card's identity. Keys are derived from the *question text* (or the knowledge point *title*) after
normalisation (NFKC, case-folded, whitespace, punctuation and Markdown emphasis removed), never
from answers, positions or numbers. So editing an answer, renumbering or reordering keeps the
card and its review history; rewording the question itself yields a new key, and the old card is
retired because its key is no longer produced. Slugs are derived from titles only, for the same
reason.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast

__all__ = [
    "CodeBlock",
    "Document",
    "KnowledgePoint",
    "Note",
    "NotesParseError",
    "Question",
    "Section",
    "Topic",
    "load_directory",
    "normalize_for_key",
    "parse_document",
    "parse_file",
]

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


# --------------------------------------------------------------------------------------------
# Identity helpers


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


def _slug(title: str, *, scope: str = "") -> str:
    """Readable, ASCII-only, stable slug: ASCII words of the title plus 8 hex of its hash.

    ``scope`` (the topic title, for sections) makes section slugs unique across topics without
    showing in the readable part; nothing positional goes in, so reordering keeps slugs.
    """
    digest = _digest(f"{scope}\x1f{title}" if scope else title, 8)
    words = _ascii_words(title)
    return f"{words}-{digest}" if words else digest


def _question_key(topic_slug: str, section_slug: str, text: str) -> str:
    return f"{topic_slug}/{section_slug}/q/{_digest(text, 12)}"


def _point_key(topic_slug: str, section_slug: str, title: str) -> str:
    return f"{topic_slug}/{section_slug}/kp/{_digest(title, 12)}"


# --------------------------------------------------------------------------------------------
# Line-level syntax

BLOCK_NAMES = ("知识点详解", "面试高频题", "重点提醒", "实践经验", "工具辅助", "复习建议")
_NAMES = "|".join(BLOCK_NAMES)
# Emoji (with variation selectors / ZWJ) are neither word characters nor whitespace.
_EMOJI = r"[^\w\s*_:：#]{1,8}"
_BOLD = r"(?:\*\*|__)"

_HEADING_RE = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_RULE_RE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_FENCE_OPEN_RE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_FENCE_CLOSE_RE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*$")
_HEADER_OWN_RE = re.compile(
    rf"^[ \t]*(?:#{{1,6}}[ \t]*)?{_BOLD}?[ \t]*(?:{_EMOJI}[ \t]*)?(?P<name>{_NAMES})"
    rf"[ \t]*[:：]?[ \t]*{_BOLD}?[ \t]*[:：]?[ \t]*$"
)
# Only the bold form counts when glued to text: a plain "...复习建议" may just be prose.
_HEADER_GLUED_RE = re.compile(
    rf"^(?P<before>.*?\S)[ \t]+{_BOLD}[ \t]*(?:{_EMOJI}[ \t]*)?(?P<name>{_NAMES})"
    rf"[ \t]*[:：]?[ \t]*{_BOLD}[ \t]*[:：]?[ \t]*$"
)
_ITEM_RE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<marker>[-*+]|\d{1,9}[.)、])(?:(?P<space>[ \t]+)(?P<text>.*)|[ \t]*$)"
)
# The lookbehind starts a match only at the beginning of a whitespace run: a search then costs
# linear time on long runs of spaces (without it, every start inside the run rescans it).
_NOTE_RE = re.compile(
    rf"(?<![ \t])[ \t]*👉[ \t]*{_BOLD}?(?P<kind>注意|辨析){_BOLD}?[ \t]*[:：][ \t]*(?P<text>.*?)[ \t]*$"
)
_LABEL_RE = re.compile(
    rf"^[ \t]*(?:[-*+][ \t]+)?{_BOLD}?(?P<label>一句话答案|深入回答){_BOLD}?[ \t]*[:：]"
    rf"[ \t]*(?:{_BOLD}(?=[ \t]|$))?[ \t]*(?P<text>.*)$"
)
_SECTION_NUMBER_RE = re.compile(r"^(?P<number>\d{1,4})[ \t]*[.、．)）][ \t]*(?P<title>.+)$")
_BOLD_TITLE_RE = re.compile(rf"^(?P<b>{_BOLD})(?P<title>.+?)(?P=b)[ \t]*[:：]?[ \t]*(?P<rest>.*)$")


def _indent(text: str) -> int:
    stripped = text.lstrip(" \t")
    return len(text[: len(text) - len(stripped)].expandtabs(4))


def _dedent(text: str, width: int) -> str:
    """Remove up to ``width`` columns of leading whitespace."""
    expanded_head = text[: len(text) - len(text.lstrip(" \t"))].expandtabs(4)
    rest = text.lstrip(" \t")
    return expanded_head[min(width, len(expanded_head)) :] + rest


def _strip_bold(text: str) -> str:
    return re.sub(r"\*\*|__", "", text).strip()


@dataclass(slots=True)
class _Line:
    """One logical line: ``fence`` is "open", "inner", "close" or "" (outside code)."""

    no: int
    text: str
    fence: str = ""
    info: str = ""

    @property
    def blank(self) -> bool:
        return not self.text.strip()


def _scan(text: str, source: str) -> list[_Line]:
    """Split into lines and mark fenced code, so nothing inside code is read as structure."""
    lines: list[_Line] = []
    open_fence: tuple[str, int, int] | None = None  # (char, length, line)
    for no, raw in enumerate(text.split("\n"), start=1):
        if "\x00" in raw:
            raise NotesParseError(source, no, "文件包含二进制内容（NUL 字符），不是文本笔记")
        if open_fence is None:
            m = _FENCE_OPEN_RE.match(raw)
            if m and not (m["fence"][0] == "`" and "`" in m["info"]):
                open_fence = (m["fence"][0], len(m["fence"]), no)
                lines.append(_Line(no, raw, "open", m["info"].strip()))
            else:
                lines.append(_Line(no, raw))
            continue
        m = _FENCE_CLOSE_RE.match(raw)
        if m and m["fence"][0] == open_fence[0] and len(m["fence"]) >= open_fence[1]:
            lines.append(_Line(no, raw, "close"))
            open_fence = None
        else:
            lines.append(_Line(no, raw, "inner"))
    if open_fence is not None:
        raise NotesParseError(source, open_fence[2], "代码块没有闭合（缺少结尾的 ``` ）")
    return lines


def _split_glued_headers(lines: list[_Line]) -> list[_Line]:
    """Move a block header glued to the end of a line onto its own logical line."""
    out: list[_Line] = []
    for line in lines:
        text = line.text if line.fence else _fold_blanks(line.text)
        m = None if line.fence else _HEADER_GLUED_RE.match(text)
        if m and not _own_header(text):
            out.append(_Line(line.no, m["before"].rstrip()))
            out.append(_Line(line.no, m.group(0)[len(m["before"]) :].strip()))
        else:
            out.append(line)
    return out


_LONG_BLANKS_RE = re.compile(r"(?<=\S)[ \t]{16,}")


def _fold_blanks(text: str) -> str:
    """The line with each long run of blanks after text folded to one space.

    The header patterns have several optional parts each followed by `[ \t]*`: on a long run
    of blanks the regex engine tries every way of splitting it (polynomial time; a 12 KB line
    took seconds). Folding first keeps matching linear. Markdown renders a run of blanks inside
    a line as one space, so the folded text shows the same; indentation is kept.
    """
    return _LONG_BLANKS_RE.sub(" ", text)


_BLANKS_RE = re.compile(r"[ \t]+")


def _own_header(text: str) -> re.Match[str] | None:
    # A header line is a header however far it is indented: fold every run, leading included.
    return _HEADER_OWN_RE.match(_BLANKS_RE.sub(" ", text))


def _header_name(line: _Line) -> str | None:
    if line.fence:
        return None
    m = _own_header(line.text)
    return m["name"] if m else None


# --------------------------------------------------------------------------------------------
# Lists


@dataclass(slots=True)
class _Item:
    no: int
    marker: str
    head: str
    content_col: int
    body: list[_Line] = field(default_factory=list)

    def body_lines(self) -> list[str]:
        """Nested lines dedented to the item's content column, blank edges trimmed."""
        texts = [_dedent(line.text, self.content_col) for line in self.body]
        while texts and not texts[-1].strip():
            texts.pop()
        while texts and not texts[0].strip():
            texts.pop(0)
        return texts


def _content_col(m: re.Match[str]) -> int:
    indent = _indent(m["indent"])
    space = len((m["space"] or " ").expandtabs(4))
    # CommonMark: 5+ spaces after the marker mean indented code, so content starts after one.
    return indent + len(m["marker"]) + (space if 1 <= space <= 4 else 1)


def _split_items(lines: list[_Line], *, nested: re.Pattern[str] | None = None) -> list[_Item]:
    """Top-level list items of a block (CommonMark-ish: children sit at the content column).

    A line matching ``nested`` never starts a top-level item (answers written flush left).
    Lines outside any item (prose, separators) are dropped: they still reach the section's
    ``body_md``.
    """
    items: list[_Item] = []
    current: _Item | None = None
    fence_in_item = False
    prev_blank = False
    floor = 0  # lines indented at least this far belong to the current item
    for line in lines:
        if line.fence in ("inner", "close"):
            if fence_in_item and current is not None:
                current.body.append(line)
            continue
        if line.blank:
            if current is not None:
                current.body.append(line)
            prev_blank = True
            continue
        indent = _indent(line.text)
        inside = current is not None and indent >= floor
        m = _ITEM_RE.match(line.text)
        is_nested = nested is not None and nested.match(line.text) is not None
        if is_nested and current is not None and m:
            # A flush-left answer bullet: its own children count as part of the item too.
            floor = min(floor, _content_col(m))
        if line.fence == "open":
            fence_in_item = inside
            if inside and current is not None:
                current.body.append(line)
            else:
                current = None
        elif _RULE_RE.match(line.text) and not inside:
            current = None
        elif m and not inside and indent <= 3 and not is_nested:
            current = _Item(line.no, m["marker"], (m["text"] or "").strip(), _content_col(m))
            floor = current.content_col
            items.append(current)
        elif current is not None and (inside or not prev_blank or is_nested):
            current.body.append(line)  # nested content or a lazy continuation line
        else:
            current = None
        prev_blank = False
    return items


# --------------------------------------------------------------------------------------------
# Blocks


@dataclass(slots=True)
class _Ctx:
    source: str
    topic_slug: str
    section_slug: str


def _knowledge_points(lines: list[_Line], ctx: _Ctx) -> list[KnowledgePoint]:
    points = []
    for item in _split_items(lines):
        m = _BOLD_TITLE_RE.match(item.head)
        if m:
            title, rest = m["title"], m["rest"]
        else:
            title, *tail = re.split(r"[:：]", item.head, maxsplit=1)
            rest = tail[0] if tail else ""
        title = title.strip().rstrip(":：").strip()
        if not normalize_for_key(title):
            raise NotesParseError(ctx.source, item.no, "知识点缺少标题（应为“- **标题**：”）")
        body: list[str] = []
        notes: list[Note] = []
        for text in ([rest] if rest.strip() else []) + item.body_lines():
            note = _NOTE_RE.search(text)
            if note is None:
                body.append(text)
                continue
            notes.append(Note(cast(NoteKind, note["kind"]), note["text"]))
            before = text[: note.start()].rstrip()
            if before.strip():
                body.append(before)  # the note was glued to the end of a list line
        while body and not body[-1].strip():
            body.pop()
        points.append(
            KnowledgePoint(
                title=title,
                body_md="\n".join(body),
                notes=tuple(notes),
                line=item.no,
                key=_point_key(ctx.topic_slug, ctx.section_slug, title),
            )
        )
    return points


def _questions(lines: list[_Line], ctx: _Ctx) -> list[Question]:
    questions = []
    for line in lines:  # anything before the first question would be lost: refuse it
        if line.blank or line.fence or _RULE_RE.match(line.text):
            continue
        if not _ITEM_RE.match(line.text) or _LABEL_RE.match(line.text):
            raise NotesParseError(
                ctx.source, line.no, "面试高频题应以编号列表开始（如“1. 问题？”）"
            )
        break
    for index, item in enumerate(_split_items(lines, nested=_LABEL_RE), start=1):
        text_lines = [item.head]
        answers: dict[str, list[str]] = {}
        label_lines: dict[str, int] = {}
        current: list[str] = text_lines
        label_col = 0
        for line in item.body:
            m = None if line.fence else _LABEL_RE.match(line.text)
            if m:
                if m["label"] in answers:
                    raise NotesParseError(ctx.source, line.no, f"同一道题出现了两次“{m['label']}”")
                current = answers[m["label"]] = [m["text"].strip()]
                label_lines[m["label"]] = line.no
                item_m = _ITEM_RE.match(line.text)
                label_col = _content_col(item_m) if item_m else _indent(line.text)
            elif current is text_lines:
                text_lines.append(line.text.strip())
            else:
                current.append(_dedent(line.text, label_col))
        text = _strip_bold(" ".join(t for t in text_lines if t))
        if not normalize_for_key(text):
            raise NotesParseError(ctx.source, item.no, "面试题缺少题目文字")
        short = "\n".join(answers.get("一句话答案", [])).strip()
        if not short:
            no = label_lines.get("一句话答案", item.no)
            raise NotesParseError(ctx.source, no, f"面试题“{text}”缺少“一句话答案”")
        number = int(item.marker[:-1]) if item.marker[:-1].isdigit() else index
        questions.append(
            Question(
                number=number,
                text=text,
                short_answer=short,
                deep_answer="\n".join(answers.get("深入回答", [])).strip(),
                line=item.no,
                key=_question_key(ctx.topic_slug, ctx.section_slug, text),
            )
        )
    return questions


def _list_texts(lines: list[_Line]) -> list[str]:
    out = []
    for item in _split_items(lines):
        text = "\n".join([item.head, *item.body_lines()]).strip()
        if text:
            out.append(text)
    return out


def _code_blocks(lines: list[_Line]) -> list[CodeBlock]:
    blocks: list[CodeBlock] = []
    start: _Line | None = None
    body: list[str] = []
    for line in lines:
        if line.fence == "open":
            start, body = line, []
        elif line.fence == "inner" and start is not None:
            body.append(_dedent(line.text, _indent(start.text)))
        elif line.fence == "close" and start is not None:
            language = re.split(r"[\s{]", start.info.lstrip("{."), maxsplit=1)[0].lower()
            blocks.append(CodeBlock(language, "\n".join(body), start.no))
            start = None
    return blocks


def _body_md(lines: list[_Line]) -> str:
    """The section as Markdown, with block headers as paragraphs of their own."""
    out: list[str] = []
    for line in lines:
        if _header_name(line):
            out.extend(["", line.text.strip(), ""])
        else:
            out.append(line.text)
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def _trim(lines: list[_Line]) -> list[_Line]:
    """Drop blank lines and separator rules at both ends (they separate sections)."""

    def edge(line: _Line) -> bool:
        return not line.fence and (line.blank or bool(_RULE_RE.match(line.text)))

    start, end = 0, len(lines)
    while start < end and edge(lines[start]):
        start += 1
    while end > start and edge(lines[end - 1]):
        end -= 1
    return lines[start:end]


def _parse_section(
    heading: _Line, title_text: str, lines: list[_Line], topic_title: str, ctx: _Ctx
) -> Section:
    title = _strip_bold(title_text)
    number: int | None = None
    m = _SECTION_NUMBER_RE.match(title)
    if m:
        number, title = int(m["number"]), m["title"].strip()
    if not normalize_for_key(title):
        raise NotesParseError(ctx.source, heading.no, "小节标题为空")
    slug = _slug(title, scope=topic_title)
    ctx = _Ctx(ctx.source, ctx.topic_slug, slug)

    lines = _trim(_split_glued_headers(lines))
    blocks: dict[str, list[_Line]] = {name: [] for name in BLOCK_NAMES}
    current: list[_Line] | None = None  # prose before the first block header: body_md only
    for line in lines:
        name = _header_name(line)
        if name:
            current = blocks[name]
        elif current is not None:
            current.append(line)

    fences = _code_blocks(blocks["实践经验"]) + _code_blocks(blocks["工具辅助"])
    return Section(
        number=number,
        title=title,
        slug=slug,
        line=heading.no,
        knowledge_points=tuple(_knowledge_points(blocks["知识点详解"], ctx)),
        questions=tuple(_questions(blocks["面试高频题"], ctx)),
        reminders=tuple(_list_texts(blocks["重点提醒"])),
        practice=tuple(b for b in fences if b.language != "mermaid"),
        diagrams=tuple(b for b in fences if b.language == "mermaid"),
        review_tips=tuple(_list_texts(blocks["复习建议"])),
        body_md=_body_md(lines),
    )


# --------------------------------------------------------------------------------------------
# Documents


def parse_document(text: str, *, source: str = "<string>") -> Document:
    """Parse one notes file; raise :class:`NotesParseError` with a 1-based line on failure."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise NotesParseError(source, 1, "文件为空，没有任何笔记内容")
    lines = _scan(text, source)

    # Group lines under ### topics and #### sections; other heading levels stay content.
    topics: list[tuple[_Line, str, list[tuple[_Line, str, list[_Line]]]]] = []
    section_lines: list[_Line] | None = None
    for line in lines:
        m = None if line.fence else _HEADING_RE.match(line.text)
        level = len(m[1]) if m else 0
        if level == 3:
            topics.append((line, (m[2] or "") if m else "", []))
            section_lines = None
        elif level == 4:
            if not topics:
                raise NotesParseError(source, line.no, "#### 小节出现在任何 ### 主题之前")
            section_lines = []
            topics[-1][2].append((line, (m[2] or "") if m else "", section_lines))
        elif section_lines is not None:
            section_lines.append(line)
        elif not line.fence and (
            _own_header(line.text) or _HEADER_GLUED_RE.match(_fold_blanks(line.text))
        ):
            # Questions or points outside a section would silently vanish from the deck.
            raise NotesParseError(source, line.no, "内容块标题必须位于 #### 小节之内")

    if not topics:
        first = next((line.no for line in lines if not line.blank), 1)
        raise NotesParseError(source, first, "没有找到任何 ### 主题标题")

    parsed: list[Topic] = []
    topic_slugs: dict[str, int] = {}
    for heading, raw_title, sections in topics:
        title = _strip_bold(raw_title)
        if not normalize_for_key(title):
            raise NotesParseError(source, heading.no, "主题标题为空")
        slug = _slug(title)
        if slug in topic_slugs:
            raise NotesParseError(
                source, heading.no, f"主题“{title}”与第 {topic_slugs[slug]} 行的主题重名"
            )
        topic_slugs[slug] = heading.no
        ctx = _Ctx(source, slug, "")
        parsed_sections: list[Section] = []
        section_slugs: dict[str, int] = {}
        for section_heading, section_title, body in sections:
            section = _parse_section(section_heading, section_title, body, title, ctx)
            if section.slug in section_slugs:
                raise NotesParseError(
                    source,
                    section_heading.no,
                    f"小节“{section.title}”与第 {section_slugs[section.slug]} 行的小节重名",
                )
            section_slugs[section.slug] = section_heading.no
            parsed_sections.append(section)
        parsed.append(Topic(title, slug, heading.no, tuple(parsed_sections)))
    return Document(source, tuple(parsed))


def parse_file(path: str | Path) -> Document:
    """Read a UTF-8 file and parse it; unreadable or undecodable files raise NotesParseError."""
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise NotesParseError(source, 1, f"无法读取文件：{error.strerror or error}") from error
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise NotesParseError(
            source, line, f"不是有效的 UTF-8 文本（第 {error.start} 字节）"
        ) from error
    return parse_document(text, source=source)


def load_directory(directory: str | Path) -> tuple[list[Document], list[NotesParseError]]:
    """Parse every ``*.md`` in ``directory`` (sorted by name); a bad file does not stop the rest."""
    documents: list[Document] = []
    errors: list[NotesParseError] = []
    for path in sorted(Path(directory).glob("*.md"), key=lambda p: p.name):
        if not path.is_file():
            continue
        try:
            documents.append(parse_file(path))
        except NotesParseError as error:
            errors.append(error)
    return documents, errors
