"""Review-log CSV, and the JSON backup: an exact round trip into another database, and refusals."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app import create_app
from quiz import backup
from quiz.models import Card, CardState, Draft, DrillProgress, ReviewLog, Submission, UserSettings
from tests.factories import api_token, login, make_user
from tests.factories.history import NOW, build_history, build_other_user, make_deck


@pytest.fixture
def session(empty_app: Flask) -> Any:
    from quiz.db import db

    return db.session


@pytest.fixture
def deck(session: Any) -> Any:
    return make_deck(session)


@pytest.fixture
def alice(session: Any, deck: Any) -> Any:
    user = build_history(session, deck)
    build_other_user(session, deck)
    return user


@contextmanager
def other_database(template: Any, tmp_path: Path, *, reverse_cards: bool = True) -> Iterator[Any]:
    """A second app on its own database whose cards get different ids than the first one's."""
    from quiz.db import db

    url = template.clone(tmp_path, "other")
    other = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url})
    with other.app_context():
        if reverse_cards:
            # Burn a few ids first so no card keeps its id from the source database.
            from quiz.models import Document, Topic

            doc = Document(path="filler.md", sha256="f" * 64)
            db.session.add(doc)
            db.session.flush()
            topic = Topic(document_id=doc.id, slug="filler", title="F", position=99, retired=True)
            db.session.add(topic)
            db.session.flush()
            for i in range(7):
                db.session.add(
                    Card(
                        key=f"filler/{i}",
                        kind="question",
                        topic_id=topic.id,
                        sibling_key="f",
                        position=i,
                        front_md="f",
                        back_md="b",
                        front_html="f",
                        back_html="b",
                        retired=True,
                    )
                )
            db.session.flush()
        make_deck(db.session)
        db.session.commit()
        try:
            yield db.session
        finally:
            db.session.remove()
            db.engine.dispose()


def _without(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in keys}


def _normalise(data: dict[str, Any], key_of: dict[int, str]) -> dict[str, Any]:
    """Replace database ids inside the log snapshots by card keys, so two databases compare."""
    out = _without(data, "username", "exported_at")
    logs = []
    for row in data["review_logs"]:
        row = dict(row)
        for side in ("before", "after"):
            snap = dict(row[side])
            if "card_id" in snap:
                snap["card_id"] = key_of[snap["card_id"]]
            row[side] = snap
        logs.append(row)
    out["review_logs"] = logs
    return out


def test_round_trip_into_another_database_is_exact(
    session: Any, alice: Any, empty_db_template: Any, tmp_path: Path
) -> None:
    exported = backup.export_backup(session, alice.id, now=NOW)
    source_keys = dict(session.query(Card.id, Card.key).all())
    raw = backup.dump_backup(exported, compress=True)
    assert len(exported["review_logs"]) == 20 and len(exported["card_states"]) == 10
    assert (
        len(exported["submissions"]) == 3 and exported["settings"]["timezone"] == "America/New_York"
    )

    with other_database(empty_db_template, tmp_path) as other:
        frank = make_user(other, "frank")
        report = backup.import_backup(other, frank.id, backup.load_backup(raw))
        other.commit()
        assert report == backup.ImportReport(10, 20, 1, 3, 2)
        target_keys = dict(other.query(Card.id, Card.key).all())
        assert any(target_keys.get(i) != k for i, k in source_keys.items())  # ids really differ
        again = backup.export_backup(other, frank.id, now=NOW)
        assert again["username"] == "frank"
        assert _normalise(again, target_keys) == _normalise(exported, source_keys)
        # The snapshots now name this database's card ids.
        for row in other.query(ReviewLog).filter_by(user_id=frank.id):
            assert row.before["card_id"] == row.card_id == row.after["card_id"]
        # And the figures come out the same.
        from quiz import progress

        mine = progress.dashboard(other, frank.id, now=NOW)
    theirs = progress.dashboard(session, alice.id, now=NOW)
    assert mine.heatmap == theirs.heatmap and mine.states == theirs.states
    assert mine.retention == theirs.retention and mine.forecast == theirs.forecast
    assert [w.key for w in mine.weakest] == [w.key for w in theirs.weakest]


def test_round_trip_in_the_same_database_restores_every_row(session: Any, alice: Any) -> None:
    frank = make_user(session, "frank")
    backup.import_backup(
        session,
        frank.id,
        backup.load_backup(backup.dump_backup(backup.export_backup(session, alice.id, now=NOW))),
    )
    session.commit()

    def rows(
        model: Any, user_id: int, skip: tuple[str, ...] = ("id", "user_id")
    ) -> list[dict[str, Any]]:
        cols = [c.key for c in model.__table__.columns if c.key not in skip]
        found = session.query(model).filter_by(user_id=user_id).all()
        return sorted(({c: getattr(r, c) for c in cols} for r in found), key=repr)

    for model in (CardState, ReviewLog, Draft, Submission, DrillProgress):
        assert rows(model, frank.id) == rows(model, alice.id), model.__name__
        assert rows(model, frank.id)
    settings = [c.key for c in UserSettings.__table__.columns if c.key != "user_id"]
    a, f = session.get(UserSettings, alice.id), session.get(UserSettings, frank.id)
    assert {c: getattr(f, c) for c in settings} == {c: getattr(a, c) for c in settings}


def _assert_nothing_written(session: Any, user_id: int) -> None:
    session.rollback()
    assert not backup.has_history(session, user_id)
    assert session.get(UserSettings, user_id).timezone == "Asia/Shanghai"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["review_logs"][3].update(rating=7), "复习记录第 4 条的 rating 超出范围"),
        (
            lambda d: d["card_states"][0].update(due="2025-03-10 10:00"),
            "卡片状态第 1 条的 due 缺少时区",
        ),
        (lambda d: d["card_states"][1].pop("stability"), "卡片状态第 2 条缺少字段 stability"),
        (
            lambda d: d["submissions"][0].update(mode="exec"),
            "提交记录第 1 条的 mode 必须是 run / submit 之一",
        ),
        (lambda d: d["drafts"].append(dict(d["drafts"][0])), "草稿第 2 条与前面的记录重复"),
        (
            lambda d: d["settings"].update(timezone="Mars/Olympus"),
            "设置的 timezone 不是有效的时区名称",
        ),
        (
            lambda d: d["review_logs"][0].update(card="nope/1"),
            "1 张卡片在本站不存在（例如 nope/1）",
        ),
        (lambda d: d.pop("drafts"), "草稿（drafts）缺失或不是列表"),
        (lambda d: d["review_logs"][5].update(before=[1]), "before 必须是 JSON 对象"),
        (lambda d: d.update(version=2), "不支持的备份版本 2"),
        (lambda d: d.update(format="anki"), "这不是本站导出的进度备份文件"),
    ],
)
def test_bad_backups_are_refused_and_nothing_is_written(
    session: Any, alice: Any, mutate: Any, message: str
) -> None:
    data = backup.export_backup(session, alice.id, now=NOW)
    mutate(data)
    frank = make_user(session, "frank")
    with pytest.raises(backup.BackupError) as raised:
        backup.import_backup(session, frank.id, backup.load_backup(backup.dump_backup(data)))
    assert message in raised.value.message
    _assert_nothing_written(session, frank.id)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "没有收到文件"),
        (b"{not json", "不是有效的 JSON"),
        (b"\xff\xfe\x00", "不是 UTF-8"),
        (b"[1, 2]", "这不是本站导出的进度备份文件"),
        (b'{"format": "mlquiz-progress-backup", "version": 1, "x": NaN}', "无效数值 NaN"),
        (b"\x1f\x8b\x08\x00garbage", "无法解压"),
    ],
)
def test_unreadable_files(raw: bytes, message: str) -> None:
    with pytest.raises(backup.BackupError) as raised:
        backup.load_backup(raw)
    assert message in raised.value.message


def test_size_limits(monkeypatch: Any) -> None:
    with pytest.raises(backup.BackupError, match="过大"):
        backup.load_backup(b" " * (backup.MAX_BACKUP_BYTES + 1))
    monkeypatch.setattr(backup.reading, "MAX_JSON_BYTES", 1000)
    bomb = gzip.compress(b" " * 5000)
    with pytest.raises(backup.BackupError, match="解压后过大"):
        backup.load_backup(bomb)


def test_only_into_an_account_without_history(session: Any, alice: Any) -> None:
    data = backup.export_backup(session, alice.id, now=NOW)
    bob = session.query(type(alice)).filter_by(username="bob").one()
    with pytest.raises(backup.BackupError) as raised:
        backup.import_backup(session, bob.id, data)
    assert raised.value.status == 409 and "已有学习记录" in raised.value.message


def test_review_log_csv(session: Any, alice: Any) -> None:
    text = "".join(backup.review_log_csv(session, alice.id, batch=3))
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 20  # Bob's seven reviews are not here
    assert [r["reviewed_at_utc"] for r in rows] == sorted(r["reviewed_at_utc"] for r in rows)
    # 03:30 EDT on 2025-03-09 belongs to the study day of the 8th.
    dst = next(r for r in rows if r["reviewed_at_utc"] == "2025-03-09T07:30:00+00:00")
    assert dst["reviewed_at_local"] == "2025-03-09T03:30:00-04:00"
    assert (dst["study_day"], dst["card_key"], dst["rating"], dst["rating_name"]) == (
        "2025-03-08",
        "b/q4",
        "1",
        "重来",
    )
    assert (dst["state_before"], dst["topic"]) == ("复习", "Beta 主题")


def test_csv_cells_cannot_start_a_formula() -> None:
    assert backup.review_csv._cell("=HYPERLINK()") == "'=HYPERLINK()"
    assert backup.review_csv._cell("a/b") == "a/b"


def test_pages_download_and_import(empty_app: Flask, session: Any, alice: Any) -> None:
    client = empty_app.test_client()
    login(client)
    csv_response = client.get("/progress/reviews.csv")
    assert csv_response.status_code == 200 and csv_response.mimetype == "text/csv"
    assert "attachment" in csv_response.headers["Content-Disposition"]
    assert csv_response.get_data(as_text=True).count("\r\n") == 21
    plain = client.get("/progress/backup.json")
    assert plain.mimetype == "application/json" and json.loads(plain.data)["version"] == 1
    packed = client.get("/progress/backup.json?gzip=1")
    assert json.loads(gzip.decompress(packed.data)) == json.loads(plain.data) | {
        "exported_at": json.loads(gzip.decompress(packed.data))["exported_at"]
    }
    # Alice has history: the page offers no import form, and a forced import is refused.
    assert 'name="backup"' not in client.get("/progress").get_data(as_text=True)
    refused = client.post(
        "/progress/import",
        data={"backup": (io.BytesIO(plain.data), "b.json")},
        follow_redirects=True,
    )
    assert "已有学习记录" in refused.get_data(as_text=True)

    make_user(session, "frank")
    other = empty_app.test_client()
    login(other, "frank")
    assert 'name="backup"' in other.get("/progress").get_data(as_text=True)
    bad = other.post(
        "/progress/import", data={"backup": (io.BytesIO(b"{oops"), "b.json")}, follow_redirects=True
    )
    assert "不是有效的 JSON" in bad.get_data(as_text=True)
    missing = other.post("/progress/import", data={}, follow_redirects=True)
    assert "请选择要导入的备份文件" in missing.get_data(as_text=True)
    # Larger than the app-wide 256 KB request limit, still accepted here.
    assert len(plain.data) < 256 * 1024 < len(plain.data) + 300_000
    padded = json.loads(plain.data) | {"padding": "x" * 300_000}
    ok = other.post(
        "/progress/import",
        data={"backup": (io.BytesIO(json.dumps(padded).encode()), "b.json")},
        follow_redirects=True,
    )
    assert "已恢复 10 张卡片的状态、20 条复习记录" in ok.get_data(as_text=True)
    frank = session.query(type(alice)).filter_by(username="frank").one()
    assert session.query(ReviewLog).filter_by(user_id=frank.id).count() == 20


def test_api_backup_round_trip(empty_app: Flask, session: Any, alice: Any) -> None:
    client = empty_app.test_client()
    exported = client.get("/api/v1/progress/backup", headers=api_token(client))
    assert exported.status_code == 200 and exported.get_json()["format"] == backup.BACKUP_FORMAT
    make_user(session, "frank")
    headers = api_token(client, "frank")
    created = client.post(
        "/api/v1/progress/backup",
        data=exported.data,
        headers=headers,
        content_type="application/json",
    )
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["imported"]["review_logs"] == 20
    again = client.post(
        "/api/v1/progress/backup",
        data=exported.data,
        headers=headers,
        content_type="application/json",
    )
    assert again.status_code == 409 and "已有学习记录" in again.get_json()["error"]


def test_api_import_above_the_app_wide_request_limit(
    empty_app: Flask, session: Any, alice: Any
) -> None:
    data = backup.export_backup(session, alice.id, now=NOW) | {"padding": "x" * 400_000}
    make_user(session, "frank")
    client = empty_app.test_client()
    response = client.post(
        "/api/v1/progress/backup",
        data=backup.dump_backup(data),
        headers=api_token(client, "frank"),
        content_type="application/json",
    )
    assert response.status_code == 201, response.get_json()


def test_page_upload_over_the_backup_limit(
    empty_app: Flask, session: Any, deck: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backup, "MAX_BACKUP_BYTES", 1000)
    monkeypatch.setattr(backup.reading, "MAX_BACKUP_BYTES", 1000)
    make_user(session)
    client = empty_app.test_client()
    login(client)
    page = client.post(
        "/progress/import",
        data={"backup": (io.BytesIO(b"{" + b" " * 200_000 + b"}"), "big.json")},
        follow_redirects=True,
    )
    assert "备份文件过大" in page.get_data(as_text=True)
