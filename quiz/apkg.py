"""The deck as an Anki package (`.apkg`, built with genanki) so the cards can be studied in Anki.

One sub-deck per topic, one note per live card. Note GUIDs derive from the card's stable key,
so importing a newer export into Anki updates the notes instead of duplicating them. Only the
cards travel: Anki schedules them afresh (genanki writes no review history).
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import sqlite3
import tempfile
import zipfile
from contextlib import closing
from datetime import datetime
from pathlib import Path

import genanki
from sqlalchemy import select
from sqlalchemy.orm import Session

from quiz.models import Card, Topic

DECK_NAME = "ML 面试学习"
# Fixed ids: Anki recognises the note type and decks of a later export as the same ones.
MODEL_ID = 1_735_208_114
KIND_NAMES = {"question": "面试题", "knowledge": "知识点", "drill": "编程练习"}

CSS = """
.card { font-family: "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC",
  sans-serif; font-size: 18px; line-height: 1.75; text-align: left; max-width: 46em;
  margin: 0 auto; color: #1b1b1b; background: #fff; }
.nightMode.card, .night_mode .card { color: #e8e8e8; background: #1e1e1e; }
.topic { font-size: 13px; color: #5f6368; margin-bottom: .5em; }
.nightMode .topic { color: #b0b5bb; }
pre { overflow-x: auto; padding: .6em; background: rgba(127, 127, 127, .12); border-radius: 4px; }
code { font-size: 90%; }
table { border-collapse: collapse; }
td, th { border: 1px solid rgba(127, 127, 127, .4); padding: .2em .5em; }
"""

MODEL = genanki.Model(
    MODEL_ID,
    "ML 面试学习卡片",
    fields=[{"name": "Front"}, {"name": "Back"}, {"name": "Topic"}, {"name": "Key"}],
    templates=[
        {
            "name": "Card 1",
            "qfmt": '<div class="topic">{{Topic}}</div>{{Front}}',
            "afmt": '{{FrontSide}}<hr id="answer">{{Back}}',
        }
    ],
    css=CSS,
)


def _deck_id(slug: str) -> int:
    # Stable per topic and well inside Anki's 63-bit id space.
    return int(hashlib.sha256(f"mlquiz-deck:{slug}".encode()).hexdigest()[:12], 16)


def _tag(text: str) -> str:
    return "".join("_" if ch.isspace() else ch for ch in text)


def build_decks(session: Session) -> list[genanki.Deck]:
    """A deck per live topic holding its live cards in notes order."""
    decks: dict[int, genanki.Deck] = {}
    rows = session.execute(
        select(Card, Topic)
        .join(Topic, Topic.id == Card.topic_id)
        .where(Card.retired.is_(False), Topic.retired.is_(False))
        .order_by(Topic.position, Card.position)
    )
    for card, topic in rows:
        deck = decks.get(topic.id)
        if deck is None:
            deck = decks[topic.id] = genanki.Deck(
                _deck_id(topic.slug), f"{DECK_NAME}::{topic.title}"
            )
        deck.add_note(
            genanki.Note(
                model=MODEL,
                fields=[card.front_html, card.back_html, topic.title, card.key],
                guid=genanki.guid_for(card.key),
                tags=[_tag(topic.slug), KIND_NAMES.get(card.kind, card.kind)],
                due=card.position,  # Anki shows new cards in this order: the notes' order
            )
        )
    return list(decks.values())


def build_apkg(session: Session, *, now: datetime) -> bytes:
    """The `.apkg` file's bytes.

    genanki's own `write_to_file` leaves its temporary database behind; this writes the same
    zip (collection.anki2 + media) but from a temporary directory that is always removed.
    """
    package = genanki.Package(build_decks(session))
    timestamp = now.timestamp()
    with tempfile.TemporaryDirectory(prefix="apkg-") as tmp:
        path = Path(tmp) / "collection.anki2"
        with closing(sqlite3.connect(path)) as connection:
            cursor = connection.cursor()
            package.write_to_db(cursor, timestamp, itertools.count(int(timestamp * 1000)))
            connection.commit()
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(path, "collection.anki2")
            archive.writestr("media", json.dumps({}))
    return out.getvalue()
