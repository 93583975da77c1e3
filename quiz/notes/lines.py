"""Line-level syntax of the notes: headings, fences, block headers, and list items."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from quiz.notes.model import NotesParseError

BLOCK_NAMES = ("知识点详解", "面试高频题", "重点提醒", "实践经验", "工具辅助", "复习建议")
_NAMES = "|".join(BLOCK_NAMES)
# Emoji (with variation selectors / ZWJ) are neither word characters nor whitespace.
_EMOJI = r"[^\w\s*_:：#]{1,8}"
_BOLD = r"(?:\*\*|__)"

HEADING_RE = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
RULE_RE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_FENCE_OPEN_RE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_FENCE_CLOSE_RE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*$")
_HEADER_OWN_RE = re.compile(
    rf"^[ \t]*(?:#{{1,6}}[ \t]*)?{_BOLD}?[ \t]*(?:{_EMOJI}[ \t]*)?(?P<name>{_NAMES})"
    rf"[ \t]*[:：]?[ \t]*{_BOLD}?[ \t]*[:：]?[ \t]*$"
)
# Only the bold form counts when glued to text: a plain "...复习建议" may just be prose.
HEADER_GLUED_RE = re.compile(
    rf"^(?P<before>.*?\S)[ \t]+{_BOLD}[ \t]*(?:{_EMOJI}[ \t]*)?(?P<name>{_NAMES})"
    rf"[ \t]*[:：]?[ \t]*{_BOLD}[ \t]*[:：]?[ \t]*$"
)
ITEM_RE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<marker>[-*+]|\d{1,9}[.)、])(?:(?P<space>[ \t]+)(?P<text>.*)|[ \t]*$)"
)
# The lookbehind starts a match only at the beginning of a whitespace run: a search then costs
# linear time on long runs of spaces (without it, every start inside the run rescans it).
NOTE_RE = re.compile(
    rf"(?<![ \t])[ \t]*👉[ \t]*{_BOLD}?(?P<kind>注意|辨析){_BOLD}?[ \t]*[:：][ \t]*(?P<text>.*?)[ \t]*$"
)
LABEL_RE = re.compile(
    rf"^[ \t]*(?:[-*+][ \t]+)?{_BOLD}?(?P<label>一句话答案|深入回答){_BOLD}?[ \t]*[:：]"
    rf"[ \t]*(?:{_BOLD}(?=[ \t]|$))?[ \t]*(?P<text>.*)$"
)
SECTION_NUMBER_RE = re.compile(r"^(?P<number>\d{1,4})[ \t]*[.、．)）][ \t]*(?P<title>.+)$")
BOLD_TITLE_RE = re.compile(rf"^(?P<b>{_BOLD})(?P<title>.+?)(?P=b)[ \t]*[:：]?[ \t]*(?P<rest>.*)$")


def indent_width(text: str) -> int:
    stripped = text.lstrip(" \t")
    return len(text[: len(text) - len(stripped)].expandtabs(4))


def dedent(text: str, width: int) -> str:
    """Remove up to ``width`` columns of leading whitespace."""
    expanded_head = text[: len(text) - len(text.lstrip(" \t"))].expandtabs(4)
    rest = text.lstrip(" \t")
    return expanded_head[min(width, len(expanded_head)) :] + rest


def strip_bold(text: str) -> str:
    return re.sub(r"\*\*|__", "", text).strip()


@dataclass(slots=True)
class Line:
    """One logical line: ``fence`` is "open", "inner", "close" or "" (outside code)."""

    no: int
    text: str
    fence: str = ""
    info: str = ""

    @property
    def blank(self) -> bool:
        return not self.text.strip()


def scan(text: str, source: str) -> list[Line]:
    """Split into lines and mark fenced code, so nothing inside code is read as structure."""
    lines: list[Line] = []
    open_fence: tuple[str, int, int] | None = None  # (char, length, line)
    for no, raw in enumerate(text.split("\n"), start=1):
        if "\x00" in raw:
            raise NotesParseError(source, no, "文件包含二进制内容（NUL 字符），不是文本笔记")
        if open_fence is None:
            m = _FENCE_OPEN_RE.match(raw)
            if m and not (m["fence"][0] == "`" and "`" in m["info"]):
                open_fence = (m["fence"][0], len(m["fence"]), no)
                lines.append(Line(no, raw, "open", m["info"].strip()))
            else:
                lines.append(Line(no, raw))
            continue
        m = _FENCE_CLOSE_RE.match(raw)
        if m and m["fence"][0] == open_fence[0] and len(m["fence"]) >= open_fence[1]:
            lines.append(Line(no, raw, "close"))
            open_fence = None
        else:
            lines.append(Line(no, raw, "inner"))
    if open_fence is not None:
        raise NotesParseError(source, open_fence[2], "代码块没有闭合（缺少结尾的 ``` ）")
    return lines


def split_glued_headers(lines: list[Line]) -> list[Line]:
    """Move a block header glued to the end of a line onto its own logical line."""
    out: list[Line] = []
    for line in lines:
        text = line.text if line.fence else fold_blanks(line.text)
        m = None if line.fence else HEADER_GLUED_RE.match(text)
        if m and not own_header(text):
            out.append(Line(line.no, m["before"].rstrip()))
            out.append(Line(line.no, m.group(0)[len(m["before"]) :].strip()))
        else:
            out.append(line)
    return out


_LONG_BLANKS_RE = re.compile(r"(?<=\S)[ \t]{16,}")


def fold_blanks(text: str) -> str:
    """The line with each long run of blanks after text folded to one space.

    The header patterns have several optional parts each followed by `[ \t]*`: on a long run
    of blanks the regex engine tries every way of splitting it (polynomial time; a 12 KB line
    took seconds). Folding first keeps matching linear. Markdown renders a run of blanks inside
    a line as one space, so the folded text shows the same; indentation is kept.
    """
    return _LONG_BLANKS_RE.sub(" ", text)


_BLANKS_RE = re.compile(r"[ \t]+")


def own_header(text: str) -> re.Match[str] | None:
    # A header line is a header however far it is indented: fold every run, leading included.
    return _HEADER_OWN_RE.match(_BLANKS_RE.sub(" ", text))


def header_name(line: Line) -> str | None:
    if line.fence:
        return None
    m = own_header(line.text)
    return m["name"] if m else None


# --------------------------------------------------------------------------------------------
# Lists


@dataclass(slots=True)
class _Item:
    no: int
    marker: str
    head: str
    content_col: int
    body: list[Line] = field(default_factory=list)

    def body_lines(self) -> list[str]:
        """Nested lines dedented to the item's content column, blank edges trimmed."""
        texts = [dedent(line.text, self.content_col) for line in self.body]
        while texts and not texts[-1].strip():
            texts.pop()
        while texts and not texts[0].strip():
            texts.pop(0)
        return texts


def content_col(m: re.Match[str]) -> int:
    indent = indent_width(m["indent"])
    space = len((m["space"] or " ").expandtabs(4))
    # CommonMark: 5+ spaces after the marker mean indented code, so content starts after one.
    return indent + len(m["marker"]) + (space if 1 <= space <= 4 else 1)


def split_items(lines: list[Line], *, nested: re.Pattern[str] | None = None) -> list[_Item]:
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
        indent = indent_width(line.text)
        inside = current is not None and indent >= floor
        m = ITEM_RE.match(line.text)
        is_nested = nested is not None and nested.match(line.text) is not None
        if is_nested and current is not None and m:
            # A flush-left answer bullet: its own children count as part of the item too.
            floor = min(floor, content_col(m))
        if line.fence == "open":
            fence_in_item = inside
            if inside and current is not None:
                current.body.append(line)
            else:
                current = None
        elif RULE_RE.match(line.text) and not inside:
            current = None
        elif m and not inside and indent <= 3 and not is_nested:
            current = _Item(line.no, m["marker"], (m["text"] or "").strip(), content_col(m))
            floor = current.content_col
            items.append(current)
        elif current is not None and (inside or not prev_blank or is_nested):
            current.body.append(line)  # nested content or a lazy continuation line
        else:
            current = None
        prev_blank = False
    return items
