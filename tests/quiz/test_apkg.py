"""The Anki export: a zip holding a valid SQLite collection with one note per live card."""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from quiz import apkg
from quiz.models import Card, Topic
from tests.factories import login
from tests.factories.history import NOW, make_deck


def open_collection(data: bytes, tmp_path: Path) -> sqlite3.Connection:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        assert set(archive.namelist()) == {"collection.anki2", "media"}
        assert json.loads(archive.read("media")) == {}
        path = tmp_path / "collection.anki2"
        path.write_bytes(archive.read("collection.anki2"))
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    return connection


def test_deck_from_a_known_deck(empty_app: Flask, tmp_path: Path) -> None:
    from quiz.db import db

    make_deck(db.session)
    data = apkg.build_apkg(db.session, now=NOW)
    connection = open_collection(data, tmp_path)
    try:
        # 11 live cards: a/old is retired and the whole Gamma topic too.
        assert connection.execute("SELECT count(*) FROM notes").fetchone() == (11,)
        assert connection.execute("SELECT count(*) FROM cards").fetchone() == (11,)
        fields = [
            row[0].split("\x1f") for row in connection.execute("SELECT flds FROM notes ORDER BY id")
        ]
        assert fields[0] == ["<p>问题 a/q1 是什么？</p>", "<p>答案 a/q1</p>", "Alpha 主题", "a/q1"]
        assert "a/old" not in {f[3] for f in fields} and "g/q1" not in {f[3] for f in fields}
        decks = json.loads(connection.execute("SELECT decks FROM col").fetchone()[0])
        names = {d["name"] for d in decks.values()}
        assert {"ML 面试学习::Alpha 主题", "ML 面试学习::Beta 主题"} <= names
        tags = {row[0].strip() for row in connection.execute("SELECT tags FROM notes")}
        assert "alpha 面试题" in tags and "beta 编程练习" in tags
        guids = {row[0] for row in connection.execute("SELECT guid FROM notes")}
    finally:
        connection.close()
    # Same cards, same GUIDs: Anki updates notes on re-import instead of duplicating them.
    again = open_collection(apkg.build_apkg(db.session, now=NOW), tmp_path)
    try:
        assert {row[0] for row in again.execute("SELECT guid FROM notes")} == guids
    finally:
        again.close()


def test_deck_of_the_owner_notes_via_the_page(
    app: Flask, client: Any, user: Any, tmp_path: Path
) -> None:
    from quiz.db import db

    live = (
        db.session.query(Card)
        .join(Topic, Topic.id == Card.topic_id)
        .filter(Card.retired.is_(False), Topic.retired.is_(False))
        .count()
    )
    assert live > 10
    assert client.get("/progress/deck.apkg").status_code == 302  # log in first
    login(client)
    response = client.get("/progress/deck.apkg")
    assert response.status_code == 200
    assert 'filename="mlquiz-deck.apkg"' in response.headers["Content-Disposition"]
    connection = open_collection(response.data, tmp_path)
    try:
        assert connection.execute("SELECT count(*) FROM notes").fetchone() == (live,)
    finally:
        connection.close()


def test_no_temporary_files_left_behind(
    empty_app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    from quiz.db import db

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    make_deck(db.session)
    apkg.build_apkg(db.session, now=NOW)
    assert list(scratch.iterdir()) == []
