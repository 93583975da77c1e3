"""The blocks of one section: knowledge points, questions, notes, code and the body."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

from quiz.notes.keys import normalize_for_key, point_key, question_key, title_slug
from quiz.notes.lines import (
    BLOCK_NAMES,
    BOLD_TITLE_RE,
    ITEM_RE,
    LABEL_RE,
    NOTE_RE,
    RULE_RE,
    SECTION_NUMBER_RE,
    Line,
    content_col,
    dedent,
    header_name,
    indent_width,
    split_glued_headers,
    split_items,
    strip_bold,
)
from quiz.notes.model import (
    CodeBlock,
    KnowledgePoint,
    Note,
    NoteKind,
    NotesParseError,
    Question,
    Section,
)


@dataclass(slots=True)
class Ctx:
    source: str
    topic_slug: str
    section_slug: str


def _knowledge_points(lines: list[Line], ctx: Ctx) -> list[KnowledgePoint]:
    points = []
    for item in split_items(lines):
        m = BOLD_TITLE_RE.match(item.head)
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
            note = NOTE_RE.search(text)
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
                key=point_key(ctx.topic_slug, ctx.section_slug, title),
            )
        )
    return points


def _questions(lines: list[Line], ctx: Ctx) -> list[Question]:
    questions = []
    for line in lines:  # anything before the first question would be lost: refuse it
        if line.blank or line.fence or RULE_RE.match(line.text):
            continue
        if not ITEM_RE.match(line.text) or LABEL_RE.match(line.text):
            raise NotesParseError(
                ctx.source, line.no, "面试高频题应以编号列表开始（如“1. 问题？”）"
            )
        break
    for index, item in enumerate(split_items(lines, nested=LABEL_RE), start=1):
        text_lines = [item.head]
        answers: dict[str, list[str]] = {}
        label_lines: dict[str, int] = {}
        current: list[str] = text_lines
        label_col = 0
        for line in item.body:
            m = None if line.fence else LABEL_RE.match(line.text)
            if m:
                if m["label"] in answers:
                    raise NotesParseError(ctx.source, line.no, f"同一道题出现了两次“{m['label']}”")
                current = answers[m["label"]] = [m["text"].strip()]
                label_lines[m["label"]] = line.no
                item_m = ITEM_RE.match(line.text)
                label_col = content_col(item_m) if item_m else indent_width(line.text)
            elif current is text_lines:
                text_lines.append(line.text.strip())
            else:
                current.append(dedent(line.text, label_col))
        text = strip_bold(" ".join(t for t in text_lines if t))
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
                key=question_key(ctx.topic_slug, ctx.section_slug, text),
            )
        )
    return questions


def _list_texts(lines: list[Line]) -> list[str]:
    out = []
    for item in split_items(lines):
        text = "\n".join([item.head, *item.body_lines()]).strip()
        if text:
            out.append(text)
    return out


def _code_blocks(lines: list[Line]) -> list[CodeBlock]:
    blocks: list[CodeBlock] = []
    start: Line | None = None
    body: list[str] = []
    for line in lines:
        if line.fence == "open":
            start, body = line, []
        elif line.fence == "inner" and start is not None:
            body.append(dedent(line.text, indent_width(start.text)))
        elif line.fence == "close" and start is not None:
            language = re.split(r"[\s{]", start.info.lstrip("{."), maxsplit=1)[0].lower()
            blocks.append(CodeBlock(language, "\n".join(body), start.no))
            start = None
    return blocks


def _body_md(lines: list[Line]) -> str:
    """The section as Markdown, with block headers as paragraphs of their own."""
    out: list[str] = []
    for line in lines:
        if header_name(line):
            out.extend(["", line.text.strip(), ""])
        else:
            out.append(line.text)
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def _trim(lines: list[Line]) -> list[Line]:
    """Drop blank lines and separator rules at both ends (they separate sections)."""

    def edge(line: Line) -> bool:
        return not line.fence and (line.blank or bool(RULE_RE.match(line.text)))

    start, end = 0, len(lines)
    while start < end and edge(lines[start]):
        start += 1
    while end > start and edge(lines[end - 1]):
        end -= 1
    return lines[start:end]


def parse_section(
    heading: Line, title_text: str, lines: list[Line], topic_title: str, ctx: Ctx
) -> Section:
    title = strip_bold(title_text)
    number: int | None = None
    m = SECTION_NUMBER_RE.match(title)
    if m:
        number, title = int(m["number"]), m["title"].strip()
    if not normalize_for_key(title):
        raise NotesParseError(ctx.source, heading.no, "小节标题为空")
    slug = title_slug(title, scope=topic_title)
    ctx = Ctx(ctx.source, ctx.topic_slug, slug)

    lines = _trim(split_glued_headers(lines))
    blocks: dict[str, list[Line]] = {name: [] for name in BLOCK_NAMES}
    current: list[Line] | None = None  # prose before the first block header: body_md only
    for line in lines:
        name = header_name(line)
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
