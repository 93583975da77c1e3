"""Whole files: a document is split into topics and sections, each parsed into blocks."""

from __future__ import annotations

from pathlib import Path

from quiz.notes.blocks import Ctx, parse_section
from quiz.notes.keys import normalize_for_key, title_slug
from quiz.notes.lines import (
    HEADER_GLUED_RE,
    HEADING_RE,
    Line,
    fold_blanks,
    own_header,
    scan,
    strip_bold,
)
from quiz.notes.model import Document, NotesParseError, Section, Topic


def parse_document(text: str, *, source: str = "<string>") -> Document:
    """Parse one notes file; raise :class:`NotesParseError` with a 1-based line on failure."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise NotesParseError(source, 1, "文件为空，没有任何笔记内容")
    lines = scan(text, source)

    # Group lines under ### topics and #### sections; other heading levels stay content.
    topics: list[tuple[Line, str, list[tuple[Line, str, list[Line]]]]] = []
    section_lines: list[Line] | None = None
    for line in lines:
        m = None if line.fence else HEADING_RE.match(line.text)
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
            own_header(line.text) or HEADER_GLUED_RE.match(fold_blanks(line.text))
        ):
            # Questions or points outside a section would silently vanish from the deck.
            raise NotesParseError(source, line.no, "内容块标题必须位于 #### 小节之内")

    if not topics:
        first = next((line.no for line in lines if not line.blank), 1)
        raise NotesParseError(source, first, "没有找到任何 ### 主题标题")

    parsed: list[Topic] = []
    topic_slugs: dict[str, int] = {}
    for heading, raw_title, sections in topics:
        title = strip_bold(raw_title)
        if not normalize_for_key(title):
            raise NotesParseError(source, heading.no, "主题标题为空")
        slug = title_slug(title)
        if slug in topic_slugs:
            raise NotesParseError(
                source, heading.no, f"主题“{title}”与第 {topic_slugs[slug]} 行的主题重名"
            )
        topic_slugs[slug] = heading.no
        ctx = Ctx(source, slug, "")
        parsed_sections: list[Section] = []
        section_slugs: dict[str, int] = {}
        for section_heading, section_title, body in sections:
            section = parse_section(section_heading, section_title, body, title, ctx)
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
