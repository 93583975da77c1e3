"""Text helpers for the drill files: starter code from a signature and a docstring, and the
paragraph unwrapping that keeps Chinese prose free of stray spaces."""

from __future__ import annotations

import re


def def_line(signature: str, width: int = 88) -> str:
    """`def signature:`, wrapped with aligned parameters when longer than `width`."""
    line = f"def {signature}:"
    if len(line) <= width:
        return line
    head, inner = signature.split("(", 1)
    indent = " " * (len(head) + 5)
    lines, current = [], f"def {head}("
    for part in inner[:-1].split(", "):
        if len(current) + len(part) + 2 > width and current.strip() != f"def {head}(":
            lines.append(current.rstrip())
            current = indent
        current += part + ", "
    lines.append(current[:-2] + "):")
    return "\n".join(lines)


def starter(signature: str, doc: str) -> str:
    """The starter module; `doc` is the docstring's body, already indented under the def."""
    return (
        f"import numpy as np\n\n\n{def_line(signature)}\n"
        f'    """{doc}"""\n    raise NotImplementedError\n'
    )


def indent_doc(doc: str) -> str:
    """A docstring as written in a drill file (flush left) laid out under a `def`: lines after
    the first indented by four spaces, closing quotes on a line of their own."""
    first, *rest = doc.strip("\n").rstrip().split("\n")
    body = [f"    {line}" if line.strip() else "" for line in rest]
    return "\n".join([first, *body]) + "\n    "


_BLOCK_START = re.compile(r"\s*([-*+] |\d+\. |#|\$\$|```|\|)")

_CJK_PUNCTUATION = set("，。；：、！？（）「」“”‘’《》【】—…›")


def _gap(left: str, right: str) -> str:
    """What replaces a soft line break: nothing between Chinese characters or next to Chinese
    punctuation, a space where Latin text, code or math meets anything else."""
    if not (left.isascii() or right.isascii()):
        return ""
    return "" if left in _CJK_PUNCTUATION or right in _CJK_PUNCTUATION else " "


def unwrap(markdown: str) -> str:
    """Join soft-wrapped paragraph lines, which the source keeps short for legibility.

    A newline inside a paragraph renders as a space, visible between Chinese characters, so
    lines are joined (see `_gap`). Blank lines, block starts (lists, headings, fences, display
    math) and code blocks are left alone.
    """
    out: list[str] = []
    in_fence = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            out.append(line)
            continue
        prev = out[-1] if out else ""
        joinable = (
            not in_fence
            and prev.strip()
            and line.strip()
            and not _BLOCK_START.match(line)
            and "$$" not in prev
            and "$$" not in line
            and not prev.lstrip().startswith(("```", "#"))
        )
        if joinable:
            tail, head = prev.rstrip(), line.strip()
            space = _gap(tail[-1], head[0])
            out[-1] = tail + space + head
        else:
            out.append(line)
    return "\n".join(out) + "\n"
