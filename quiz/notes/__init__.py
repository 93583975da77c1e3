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

from quiz.notes.documents import load_directory, parse_document, parse_file
from quiz.notes.keys import normalize_for_key
from quiz.notes.model import (
    CodeBlock,
    Document,
    KnowledgePoint,
    Note,
    NotesParseError,
    Question,
    Section,
    Topic,
)

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
