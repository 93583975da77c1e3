"""Search over the notes (section titles and text).

SQLite FTS5 with the trigram tokenizer matches any substring of three or more characters, which
suits Chinese (no word boundaries) and English alike. The index lives in an in-memory SQLite
database built from the sections and rebuilt when the content changes, so it works whatever the
main database is (SQLite today, PostgreSQL later). Shorter queries, or a Python without FTS5,
fall back to LIKE on the main database.
"""

from __future__ import annotations

import html
import re
import sqlite3
import threading
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from quiz.models import Document, Section, Topic

MAX_QUERY = 100
SNIPPET_CHARS = 120
_TAG_RE = re.compile(r"<[^>]+>")
_SPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class NoteHit:
    topic_slug: str
    topic_title: str
    section_slug: str
    section_title: str
    snippet: str  # plain text; the matched part is marked by the caller from `query`


def plain_text(body_html: str) -> str:
    """The readable text of a rendered section (tags dropped, entities decoded)."""
    return _SPACE_RE.sub(" ", html.unescape(_TAG_RE.sub(" ", body_html))).strip()


def _snippet(text: str, query: str) -> str:
    at = text.casefold().find(query.casefold())
    if at < 0:
        return text[:SNIPPET_CHARS] + ("…" if len(text) > SNIPPET_CHARS else "")
    start = max(0, at - SNIPPET_CHARS // 3)
    end = min(len(text), start + SNIPPET_CHARS)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def fts5_available() -> bool:
    try:
        db = sqlite3.connect(":memory:")
        db.execute("create virtual table t using fts5(a, tokenize='trigram')")
        db.close()
    except sqlite3.OperationalError:
        return False
    return True


class _Index:
    """One in-memory FTS5 table of the live sections, keyed by the content's fingerprint."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.fingerprint: tuple[object, ...] | None = None
        self.db: sqlite3.Connection | None = None

    def search(self, session: Session, query: str, limit: int) -> list[int]:
        fingerprint = tuple(
            session.execute(select(Document.path, Document.sha256).order_by(Document.path))
        ) + (session.scalar(select(func.count(Section.id))),)
        with self.lock:
            if self.db is None or fingerprint != self.fingerprint:
                self._build(session)
                self.fingerprint = fingerprint
            assert self.db is not None
            phrase = '"' + query.replace('"', '""') + '"'
            rows = self.db.execute(
                "select rowid from notes where notes match ? order by rank limit ?",
                (phrase, limit),
            ).fetchall()
        return [row[0] for row in rows]

    def _build(self, session: Session) -> None:
        db = sqlite3.connect(":memory:", check_same_thread=False)
        db.execute("create virtual table notes using fts5(title, body, tokenize='trigram')")
        rows = session.execute(
            select(Section.id, Section.title, Section.body_html)
            .join(Topic, Topic.id == Section.topic_id)
            .where(Section.retired.is_(False), Topic.retired.is_(False))
        )
        db.executemany(
            "insert into notes(rowid, title, body) values (?, ?, ?)",
            [(sid, title, plain_text(body)) for sid, title, body in rows],
        )
        if self.db is not None:
            self.db.close()
        self.db = db


_index = _Index()
_FTS5 = fts5_available()


def search_notes(
    session: Session, query: str, *, limit: int = 30, use_fts: bool | None = None
) -> list[NoteHit]:
    """Sections whose title or text contains `query`, best first. Empty query: nothing."""
    query = query.strip()[:MAX_QUERY]
    if not query:
        return []
    fts = _FTS5 if use_fts is None else use_fts
    if fts and len(query) >= 3:  # trigram needs three characters
        ids = _index.search(session, query, limit)
        order = {sid: i for i, sid in enumerate(ids)}
        condition: ColumnElement[bool] = Section.id.in_(ids)
    else:
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        condition = or_(
            Section.title.ilike(pattern, escape="\\"), Section.body_html.ilike(pattern, escape="\\")
        )
        order = None
    rows = session.execute(
        select(Topic.slug, Topic.title, Section.id, Section.slug, Section.title, Section.body_html)
        .join(Topic, Topic.id == Section.topic_id)
        .where(condition, Section.retired.is_(False), Topic.retired.is_(False))
        .order_by(Topic.position, Section.position)
        .limit(limit)
    ).all()
    hits = []
    for topic_slug, topic_title, section_id, section_slug, section_title, body in rows:
        text = plain_text(body)
        if order is None and query.casefold() not in (section_title + " " + text).casefold():
            continue  # LIKE also matched inside a tag or an attribute
        hits.append(
            (
                order.get(section_id, 0) if order else 0,
                NoteHit(
                    topic_slug, topic_title, section_slug, section_title, _snippet(text, query)
                ),
            )
        )
    hits.sort(key=lambda pair: pair[0])  # stable: LIKE keeps the notes' order
    return [hit for _, hit in hits]
