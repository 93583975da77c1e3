"""content sync: cards from the notes, stable identity, edits keep history, retire never deletes."""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from quiz.importer import sync_content
from quiz.models import Card, ReviewLog, Topic
from tests.factories import make_user

ROOT = Path(__file__).resolve().parents[2]
OWNER_DOC = ROOT / "content" / "01-neural-networks.md"
QUESTION = "Softmax函数的作用是什么？如何避免数值溢出？"


def _content(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    folder.mkdir()
    shutil.copy(OWNER_DOC, folder / OWNER_DOC.name)
    return folder


def _card(session, front_contains: str) -> Card:
    return session.scalars(select(Card).where(Card.front_md.contains(front_contains))).one()


def test_owner_document_becomes_cards(empty_app: Flask, tmp_path: Path) -> None:
    from quiz.db import db

    report = sync_content(db.session, _content(tmp_path))
    assert report.errors == []
    questions = db.session.scalars(select(Card).where(Card.kind == "question")).all()
    assert len(questions) == 7
    softmax = _card(db.session, QUESTION)
    assert softmax.back_md.index("一句话答案") < softmax.back_md.index("深入回答")
    assert "Softmax将输入转换为概率分布" in softmax.short_html
    sigmoid = db.session.scalars(
        select(Card).where(
            Card.kind == "knowledge", Card.front_md.startswith("讲一讲 **Sigmoid**（")
        )
    ).one()
    for part in ("定义", "特性", "使用场景", "梯度饱和"):
        assert part in sigmoid.back_md
    assert 'class="arithmatex"' in sigmoid.back_html
    assert db.session.scalar(select(func.count(Topic.id))) == 2


def test_sync_twice_changes_nothing(empty_app: Flask, tmp_path: Path) -> None:
    from quiz.db import db

    folder = _content(tmp_path)
    first = sync_content(db.session, folder)
    db.session.commit()
    second = sync_content(db.session, folder)
    assert first.added and not (second.added or second.updated or second.retired)
    assert second.unchanged == len(first.added)


def test_edit_updates_card_and_keeps_history(empty_app: Flask, tmp_path: Path) -> None:
    from quiz.db import db

    folder = _content(tmp_path)
    sync_content(db.session, folder)
    user = make_user(db.session)
    card = _card(db.session, QUESTION)
    card_id = card.id
    db.session.add(
        ReviewLog(
            user_id=user.id,
            card_id=card_id,
            rating=3,
            reviewed_at=datetime(2026, 1, 1, tzinfo=UTC),
            state_before=0,
            state_after=1,
            before={},
            after={},
        )
    )
    db.session.commit()
    doc = folder / OWNER_DOC.name
    doc.write_text(
        doc.read_text().replace(
            "Softmax将输入转换为概率分布，适用于多分类任务。", "Softmax 把分数变成概率。"
        )
    )
    report = sync_content(db.session, folder)
    db.session.commit()
    assert len(report.updated) == 1 and not report.added and not report.retired
    card = db.session.get(Card, card_id)
    assert "Softmax 把分数变成概率。" in card.back_html
    assert (
        db.session.scalar(
            select(func.count()).select_from(ReviewLog).where(ReviewLog.card_id == card_id)
        )
        == 1
    )


def test_vanished_question_is_retired_not_deleted(empty_app: Flask, tmp_path: Path) -> None:
    from quiz.db import db

    folder = _content(tmp_path)
    sync_content(db.session, folder)
    db.session.commit()
    doc = folder / OWNER_DOC.name
    text = doc.read_text()
    start = text.index("2. Softmax函数的作用是什么")
    end = text.index("**🌟 重点提醒**")
    doc.write_text(text[:start] + text[end:])
    report = sync_content(db.session, folder)
    db.session.commit()
    card = _card(db.session, QUESTION)
    assert card.retired and report.retired == [card.key]
    # Retired cards leave the API listing but stay in the database.
    assert card.id is not None


def test_bad_file_is_reported_and_others_still_import(empty_app: Flask, tmp_path: Path) -> None:
    from quiz.db import db

    folder = _content(tmp_path)
    (folder / "02-broken.md").write_text(
        "### 主题\n#### **1. 节**\n**🔥 面试高频题**\n1. 没有答案的问题？\n"
    )
    report = sync_content(db.session, folder)
    assert len(report.errors) == 1
    error = report.errors[0]
    assert "02-broken.md" in str(error) and error.line >= 1
    assert len(db.session.scalars(select(Card).where(Card.kind == "question")).all()) == 7


def test_cli_prints_what_changed(empty_app: Flask) -> None:
    runner = empty_app.test_cli_runner()
    first = runner.invoke(args=["content", "sync"])
    assert first.exit_code == 0, first.output
    assert "新增" in first.output and "+ " in first.output
    added = [line for line in first.output.splitlines() if line.startswith("+ ")]
    # Titles a person recognises, not keys: every line names its topic and the card's front.
    assert "+ 神经网络结构 › 神经网络中隐藏层的作用是什么？" in added
    assert all(" › " in line and "/q/" not in line and "/kp/" not in line for line in added)
    second = runner.invoke(args=["content", "sync"])
    assert "新增 0 张，更新 0 张，停用 0 张" in second.output


def test_owner_document_is_kept_byte_for_byte() -> None:
    # The owner's notes go in unchanged (formatters once rewrote their code blocks).
    digest = hashlib.sha256(OWNER_DOC.read_bytes()).hexdigest()
    assert digest == "d18e682d453a2e29e1c2778c86aee29ee76af85fd45c07d5a3e7bf444ceb3adb"


def test_every_front_is_unique_and_keys_stay(empty_app: Flask, tmp_path: Path) -> None:
    """ "相关概念" heads a knowledge point in two topics of the owner's notes: each front names
    its section, and a card reviewed under the old plain front keeps its id and history."""
    from quiz.db import db

    folder = tmp_path / "content"
    shutil.copytree(ROOT / "content", folder)
    sync_content(db.session, folder)
    cards = db.session.scalars(select(Card).where(Card.retired.is_(False))).all()
    fronts = [c.front_md for c in cards]
    assert len(fronts) == len(set(fronts))
    related = sorted(f for f in fronts if f.startswith("讲一讲 **相关概念**"))
    assert related == [
        "讲一讲 **相关概念**（反向传播（Backpropagation））",
        "讲一讲 **相关概念**（神经网络的基本结构）",
    ]
    # A database synced before fronts named their section: same keys, so same cards.
    user = make_user(db.session)
    old = _card(db.session, "讲一讲 **相关概念**（神经网络的基本结构）")
    old_id, old_key = old.id, old.key
    old.front_md = "讲一讲 **相关概念**"
    db.session.add(
        ReviewLog(
            user_id=user.id,
            card_id=old_id,
            rating=3,
            reviewed_at=datetime(2026, 1, 1, tzinfo=UTC),
            state_before=0,
            state_after=1,
            before={},
            after={},
        )
    )
    db.session.commit()
    report = sync_content(db.session, folder)
    db.session.commit()
    assert report.updated == [old_key] and not report.added and not report.retired
    card = db.session.get(Card, old_id)
    assert (
        card.front_md == "讲一讲 **相关概念**（神经网络的基本结构）"
        and "神经网络的基本结构" in card.front_html
    )
    assert db.session.scalar(select(func.count()).select_from(ReviewLog)) == 1


def test_a_front_repeated_across_topics_names_its_topic(empty_app: Flask, tmp_path: Path) -> None:
    from quiz.db import db

    folder = tmp_path / "content"
    folder.mkdir()
    text = OWNER_DOC.read_text()
    (folder / "a.md").write_text(text)
    # The same notes under other topic titles: every question now appears twice.
    (folder / "b.md").write_text(text.replace("### ", "### 复习 ", 1))
    report = sync_content(db.session, folder)
    assert report.errors == []
    cards = db.session.scalars(select(Card).where(Card.retired.is_(False))).all()
    fronts = [c.front_md for c in cards]
    assert len(fronts) == len(set(fronts))
    softmax = sorted(f for f in fronts if f.startswith(QUESTION))
    assert len(softmax) == 2 and softmax[0] == QUESTION and "（复习 " in softmax[1]


def test_sync_keeps_each_states_copy_of_its_cards_topic_and_liveness(
    empty_app: Flask, tmp_path: Path
) -> None:
    """Topic counts read a state's copy of its card's topic and liveness: a state row gets
    them from its card, and a sync that retires, revives or moves a card brings them along."""
    from sqlalchemy import update

    from quiz.catalog import topic_summaries
    from quiz.db import db
    from quiz.models import STATE_REVIEW, CardState

    now = datetime(2026, 6, 1, tzinfo=UTC)
    folder = _content(tmp_path)
    sync_content(db.session, folder)
    user = make_user(db.session)
    card = _card(db.session, QUESTION)
    due = {"state": STATE_REVIEW, "stability": 5.0, "difficulty": 5.0, "due": now}
    db.session.add(CardState(user_id=user.id, card_id=card.id, **due))
    db.session.commit()
    state = db.session.scalars(select(CardState)).one()

    def topic() -> tuple[int, int, int]:
        summary = next(t for t in topic_summaries(db.session, user.id, now=now) if t.id == tid)
        return summary.cards, summary.due, summary.new

    tid = card.topic_id
    assert (state.topic_id, state.card_live) == (tid, True)
    cards, due_now, new = topic()
    assert due_now == 1

    doc = folder / OWNER_DOC.name
    text = doc.read_text()
    start = text.index("2. Softmax函数的作用是什么")
    doc.write_text(text[:start] + text[text.index("**🌟 重点提醒**") :])
    sync_content(db.session, folder)  # retired: neither counted nor due
    db.session.commit()
    db.session.refresh(state)
    assert state.card_live is False
    assert topic() == (cards - 1, 0, new)

    doc.write_text(text)
    sync_content(db.session, folder)  # revived
    db.session.commit()
    db.session.refresh(state)
    assert state.card_live is True
    assert topic() == (cards, 1, new)

    other = db.session.scalars(select(Topic.id).where(Topic.id != tid)).first()
    db.session.execute(update(CardState).values(topic_id=other))  # a copy gone stale
    db.session.commit()
    assert topic() == (cards, 0, new + 1)
    sync_content(db.session, folder)
    db.session.commit()
    db.session.refresh(state)
    assert state.topic_id == tid
    assert topic() == (cards, 1, new)
