"""Markdown -> safe HTML for notes and cards (math, mermaid diagrams, highlighted code).

Math is left as TeX inside ``.arithmatex`` elements (``\\(...\\)`` inline, ``\\[...\\]`` display)
for KaTeX's auto-render; mermaid fences become ``<pre class="mermaid">`` with the escaped source;
code is highlighted by Pygments with CSS classes (see :func:`pygments_css`). Everything goes
through nh3 afterwards, so raw HTML in the notes cannot inject script, styles or handlers.
"""

from __future__ import annotations

import html
import re
import threading
import xml.etree.ElementTree as etree
from functools import cache, lru_cache
from typing import Any

import markdown
import nh3
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor
from markdown.util import AtomicString
from pygments.formatters import HtmlFormatter

__all__ = ["LIGHT_STYLE", "DARK_STYLE", "pygments_css", "render_markdown"]

LIGHT_STYLE = "default"
DARK_STYLE = "github-dark"

# --------------------------------------------------------------------------------------------
# Markdown dialect: the notes are written CommonMark-style (two-space nested lists, lists and
# fences straight after a paragraph); Python-Markdown wants four-space nesting and blank lines.

_ITEM_RE = re.compile(r"^(?P<indent>[ \t]*)(?P<marker>[-*+]|\d{1,9}[.)])(?P<space>[ \t]+|$)")
_RULE_RE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_HEADING_RE = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)")
_FENCE_OPEN_RE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_FENCE_CLOSE_RE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*$")


def _indent(line: str) -> int:
    return len(line[: len(line) - len(line.lstrip(" \t"))].expandtabs(4))


def _reindent(line: str, strip: int, add: int) -> str:
    head = line[: len(line) - len(line.lstrip(" \t"))].expandtabs(4)
    return " " * add + head[min(strip, len(head)) :] + line.lstrip(" \t")


def normalize_markdown(text: str) -> str:
    """Rewrite CommonMark-style list nesting and block breaks for Python-Markdown.

    A child belongs to a list item when it is indented to the item's content column (two
    spaces under "- ", three under "1. "); each nesting level is re-indented to four spaces.
    Lists, headings and fences may start right after a paragraph: a blank line is inserted.
    Fenced code is moved with its item but never rewritten inside.
    """
    out: list[str] = []
    stack: list[tuple[int, int]] = []  # (content column in the source, column in the output)
    prev = "blank"  # kind of the previous line: blank, para, item, fence
    chunk_is_list = False  # whether the current blank-separated chunk began with a list item
    fence: tuple[str, int, int, int] | None = None  # (char, length, source col, output col)
    for line in text.split("\n"):
        if fence is not None:
            out.append(_reindent(line, fence[2], fence[3]))
            close = _FENCE_CLOSE_RE.match(line)
            if close and close["fence"][0] == fence[0] and len(close["fence"]) >= fence[1]:
                fence, prev = None, "fence"
            continue
        if not line.strip():
            out.append("")
            prev = "blank"
            continue
        if prev == "fence":
            out.append("")  # Python-Markdown needs a blank line after a fence to see the next block
            prev = "blank"
        indent = _indent(line)
        opening = _FENCE_OPEN_RE.match(line)
        if opening and opening["fence"][0] == "`" and "`" in opening["info"]:
            opening = None  # an inline code span, not a fence
        rule = _RULE_RE.match(line)
        item = None if rule else _ITEM_RE.match(line)
        starts_block = bool(item or opening or rule or _HEADING_RE.match(line))
        in_list = bool(stack)
        if starts_block or prev == "blank":
            while stack and indent < stack[-1][0]:
                stack.pop()
        # A blank line lets the block start where CommonMark would; "text\n---" stays setext.
        setext = bool(rule) and prev == "para" and not in_list
        # Python-Markdown only continues a list inside a chunk (blank-line separated) that
        # began with an item; after a paragraph chunk the next item needs its own chunk.
        continues_list = bool(item) and in_list and chunk_is_list
        if starts_block and prev != "blank" and not continues_list and not setext:
            out.append("")
            prev = "blank"
        if prev == "blank":
            chunk_is_list = bool(item)
        base = stack[-1][1] if stack else 0
        if item:
            space = len(item["space"].expandtabs(4))
            content = indent + len(item["marker"]) + (space if 1 <= space <= 4 else 1)
            out.append(" " * base + line.lstrip(" \t"))
            stack.append((content, base + 4))
            prev = "item"
            continue
        if stack:
            extra = max(0, indent - stack[-1][0])
            line = " " * (base + extra) + line.lstrip(" \t")
        if opening:
            fence = (opening["fence"][0], len(opening["fence"]), indent, _indent(line))
        out.append(line)
        prev = "para"
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# Extensions

# `$$...$$` inside a line: arithmatex only treats `$$` as display math when it is a block of its
# own, and its single-dollar pattern then mis-pairs the inner dollars ("$$μ_B$$ 和方差$$σ$$").
_INLINE_DOUBLE_DOLLAR = r"(?<![\\$])\$\$(?!\s*\$)((?:\\.|[^\\$])+?)\$\$(?!\$)"


class _InlineDisplayMath(InlineProcessor):
    # Markdown's InlineProcessor takes (m, data) where its base Pattern takes (m): the stubs
    # flag every override of it.
    def handleMatch(  # type: ignore[override]
        self, m: re.Match[str], data: str
    ) -> tuple[etree.Element, int, int]:
        el = etree.Element("span", {"class": "arithmatex"})
        el.text = AtomicString(f"\\({m.group(1).strip()}\\)")
        return el, m.start(0), m.end(0)


class _InlineDisplayMathExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # After code spans (190), before arithmatex's single-dollar pattern (189.9).
        md.inlinePatterns.register(
            _InlineDisplayMath(_INLINE_DOUBLE_DOLLAR, md), "inline-double-dollar", 189.95
        )


def _mermaid_fence(
    source: str, language: str, class_name: str, options: Any, md: Any, **kwargs: Any
) -> str:
    # mermaid reads textContent, so the escaped source round-trips; no highlighting.
    return f'<pre class="mermaid">{html.escape(source, quote=False)}</pre>'


def _new_markdown() -> markdown.Markdown:
    from pymdownx.arithmatex import arithmatex_fenced_format

    return markdown.Markdown(
        extensions=[
            "pymdownx.arithmatex",
            "pymdownx.highlight",
            "pymdownx.superfences",
            "tables",
            "sane_lists",
            _InlineDisplayMathExtension(),
        ],
        extension_configs={
            "pymdownx.arithmatex": {"generic": True, "smart_dollar": False},
            "pymdownx.highlight": {
                "use_pygments": True,
                "css_class": "highlight",
                "noclasses": False,
                "guess_lang": False,
            },
            "pymdownx.superfences": {
                "custom_fences": [
                    {"name": "mermaid", "class": "mermaid", "format": _mermaid_fence},
                    {
                        "name": "math",
                        "class": "arithmatex",
                        "format": arithmatex_fenced_format(mode="generic"),
                    },
                ]
            },
            "tables": {"use_align_attribute": True},
        },
        output_format="html",
    )


# Markdown instances keep per-document state and are not thread-safe: one per thread.
_local = threading.local()


def _markdown() -> markdown.Markdown:
    md: markdown.Markdown | None = getattr(_local, "md", None)
    if md is None:
        md = _local.md = _new_markdown()
    return md


# --------------------------------------------------------------------------------------------
# Sanitising

_TAGS = {
    "p", "br", "hr", "blockquote", "ul", "ol", "li", "dl", "dt", "dd",
    "h1", "h2", "h3", "h4", "h5", "h6",
    "strong", "em", "b", "i", "del", "s", "ins", "mark", "sup", "sub", "kbd", "abbr",
    "code", "pre", "span", "div", "a",
    "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "span": {"class"},
    "div": {"class"},
    "pre": {"class"},
    "code": {"class"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
}
# Tags whose content must go too (nh3 would otherwise keep e.g. a script's text as text).
_DROP_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "template", "noscript"}


@cache
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=_TAGS,
        clean_content_tags=_DROP_WITH_CONTENT,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https"},  # relative URLs pass; javascript:, data: do not
        link_rel="noopener",
        strip_comments=True,
    )


def sanitize_html(fragment: str) -> str:
    """Reduce an HTML fragment to the tags and attributes our Markdown produces."""
    return _cleaner().clean(fragment)


def render_markdown(text: str) -> str:
    """Render notes Markdown to sanitised HTML (math, mermaid, highlighted code, tables).

    Pure in ``text``, so results are memoised: a whole section costs a few milliseconds in
    Python-Markdown (a card's answer well under one), a repeat costs microseconds.
    """
    if not text.strip():
        return ""
    return _render(text)


@lru_cache(maxsize=512)
def _render(text: str) -> str:
    md = _markdown()
    md.reset()
    return sanitize_html(md.convert(normalize_markdown(text)))


# --------------------------------------------------------------------------------------------
# Code highlighting CSS


def _rules(style: str, scope: str) -> list[str]:
    css = HtmlFormatter(style=style).get_style_defs(scope)
    # Only the scoped token rules: the bare `pre {}` / line-number rules would hit every <pre>.
    return [line for line in css.splitlines() if line.startswith(scope)]


@cache
def pygments_css() -> str:
    """CSS for highlighted code: a light theme, and a dark one under prefers-color-scheme."""
    light = _rules(LIGHT_STYLE, ".highlight")
    dark_scope = ":root .highlight"  # one class more specific than the light rules
    dark = _rules(DARK_STYLE, dark_scope)
    # Light rules still match in dark mode and the dark theme does not override every property
    # they set (bold keywords, the red error border): reset each light class first.
    light_classes = {m[1] for line in light if (m := re.match(r"\.highlight (\.[\w-]+) ", line))}
    resets = ", ".join(f"{dark_scope} {cls}" for cls in sorted(light_classes))
    parts = [
        f"/* Pygments {LIGHT_STYLE} (light) and {DARK_STYLE} (dark) */",
        ".highlight pre { line-height: 125%; }",
        ".highlight { color: #1f2328; }",
        *light,
        "@media (prefers-color-scheme: dark) {",
    ]
    if resets:
        parts.append(
            f"  {resets} {{ color: inherit; background-color: transparent; "
            "font-weight: normal; font-style: normal; text-decoration: none; border: 0; }"
        )
    parts.extend(f"  {line}" for line in dark)
    parts.append("}")
    return "\n".join(parts) + "\n"
