"""Sync parsed notes (and the drill catalogue) into the database with stable identities.

Running it twice changes nothing; an edited answer updates its card in place (history kept);
a card whose note disappeared is retired (hidden), never deleted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from quiz.models import Card, Document, Section, Topic, refresh_card_copies
from quiz.notes import Document as ParsedDocument
from quiz.notes import KnowledgePoint, NotesParseError, Question, load_directory
from quiz.notes import Section as ParsedSection
from quiz.rendering import render_markdown
from quiz.slugs import readable_slug, unique_slug


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    unchanged: int = 0
    errors: list[NotesParseError] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"新增 {len(self.added)} 张，更新 {len(self.updated)} 张，"
            f"停用 {len(self.retired)} 张，未变 {self.unchanged} 张；解析失败 {len(self.errors)} 个文件"
        )


@dataclass(frozen=True)
class CardSpec:
    """What a card should look like after this sync."""

    key: str
    kind: str
    sibling_key: str
    front_md: str
    back_md: str
    short_md: str = ""
    drill_id: str | None = None


def question_card(q: Question) -> CardSpec:
    back = f"**一句话答案**：{q.short_answer}\n\n**深入回答**：{q.deep_answer}"
    return CardSpec(q.key, "question", q.key, q.text, back, short_md=q.short_answer)


def knowledge_cards(kp: KnowledgePoint, section_title: str = "") -> list[CardSpec]:
    """The point itself, plus one sibling card per 注意/辨析 note (asked the next day, not today).

    A point's title is a label inside its section ("相关概念"), so the front names the section
    too: out of context (a mixed review, an Anki deck) the card still says what it asks.
    """
    notes = "".join(f"\n\n> 👉 **{n.kind}**：{n.text}" for n in kp.notes)
    where = f"（{section_title}）" if section_title and section_title != kp.title else ""
    front = f"讲一讲 **{kp.title}**{where}"
    cards = [CardSpec(kp.key, "knowledge", kp.key, front, kp.body_md + notes)]
    seen: dict[str, int] = {}
    for note in kp.notes:
        seen[note.kind] = seen.get(note.kind, 0) + 1
        key = f"{kp.key}/{note.kind}/{seen[note.kind]}"
        ask = "注意" if note.kind == "注意" else "辨析"
        front = f"关于 **{kp.title}**{where}，有什么需要{ask}的？"
        cards.append(CardSpec(key, "knowledge", kp.key, front, note.text))
    return cards


def section_cards(section: ParsedSection) -> list[CardSpec]:
    specs: list[CardSpec] = []
    for kp in section.knowledge_points:
        specs.extend(knowledge_cards(kp, section.title))
    specs.extend(question_card(q) for q in section.questions)
    return specs


def _dedupe(specs: list[CardSpec]) -> list[CardSpec]:
    """Two identical questions in one section still get two cards, with distinct keys."""
    counts: dict[str, int] = {}
    out = []
    for spec in specs:
        n = counts[spec.key] = counts.get(spec.key, 0) + 1
        if n > 1:
            spec = CardSpec(**{**spec.__dict__, "key": f"{spec.key}~{n}"})
        out.append(spec)
    return out


class _Syncer:
    def __init__(self, session: Session, report: SyncReport) -> None:
        self.session = session
        self.report = report
        self.cards = {c.key: c for c in session.scalars(select(Card))}
        self.topics = {t.slug: t for t in session.scalars(select(Topic))}
        self.sections = {s.slug: s for s in session.scalars(select(Section))}
        self.seen_cards: set[str] = set()
        self.seen_topics: set[str] = set()
        self.seen_sections: set[str] = set()
        self.fronts: set[str] = set()
        self.position = 0

    def document(self, path: str, text_sha: str, parsed: ParsedDocument) -> None:
        doc = self.session.scalar(select(Document).where(Document.path == path))
        if doc is None:
            doc = Document(path=path, sha256=text_sha)
            self.session.add(doc)
            self.session.flush()
        doc.sha256 = text_sha
        for topic_pos, parsed_topic in enumerate(parsed.topics):
            topic = self.topics.get(parsed_topic.slug)
            if topic is None:
                topic = Topic(slug=parsed_topic.slug)
                self.session.add(topic)
                self.topics[topic.slug] = topic
            topic.document_id = doc.id
            if topic.path is None or topic.title != parsed_topic.title:
                taken = {t.path for t in self.topics.values() if t.path and t is not topic}
                topic.path = unique_slug(readable_slug(parsed_topic.title), taken)
            topic.title = parsed_topic.title
            topic.position = self.position + topic_pos
            topic.retired = False
            self.session.flush()
            self.seen_topics.add(topic.slug)
            for section_pos, parsed_section in enumerate(parsed_topic.sections):
                self.section(topic, section_pos, parsed_section)
        self.position += len(parsed.topics)

    def section(self, topic: Topic, pos: int, parsed: ParsedSection) -> None:
        section = self.sections.get(parsed.slug)
        if section is None:
            section = Section(slug=parsed.slug)
            self.session.add(section)
            self.sections[section.slug] = section
        section.topic_id = topic.id
        section.number = parsed.number
        section.title = parsed.title
        section.position = pos
        html = render_markdown(parsed.body_md)
        if section.body_html != html:
            section.body_html = html
        section.has_diagram = bool(parsed.diagrams)
        section.retired = False
        self.session.flush()
        self.seen_sections.add(section.slug)
        for spec in _dedupe(section_cards(parsed)):
            self.card(self._unique_front(spec, topic.title, parsed.title), topic.id, section.id)

    def _unique_front(self, spec: CardSpec, topic_title: str, section_title: str) -> CardSpec:
        """A front already used by another card (the same question in two topics, say) names
        its topic and section, then a number: no two cards look alike. Only the front changes;
        the key, and with it the review history, stays."""
        front = spec.front_md
        if front in self.fronts:
            front = f"{spec.front_md}（{topic_title} · {section_title}）"
        n = 1
        while front in self.fronts:
            n += 1
            front = f"{spec.front_md}（{topic_title} · {section_title} · {n}）"
        self.fronts.add(front)
        return spec if front == spec.front_md else replace(spec, front_md=front)

    def card(self, spec: CardSpec, topic_id: int, section_id: int | None) -> None:
        self.seen_cards.add(spec.key)
        position = len(self.seen_cards)
        card = self.cards.get(spec.key)
        fields = {
            "kind": spec.kind,
            "sibling_key": spec.sibling_key,
            "topic_id": topic_id,
            "section_id": section_id,
            "position": position,
            "front_md": spec.front_md,
            "back_md": spec.back_md,
            "drill_id": spec.drill_id,
            "retired": False,
        }
        if card is None:
            card = Card(key=spec.key, **fields, **_html(spec))
            self.session.add(card)
            self.cards[spec.key] = card
            self.report.added.append(spec.key)
            return
        content_changed = (card.front_md, card.back_md) != (spec.front_md, spec.back_md) or (
            card.retired
        )
        for name, value in fields.items():
            if getattr(card, name) != value:
                setattr(card, name, value)
        if content_changed:
            for name, value in _html(spec).items():
                setattr(card, name, value)
            self.report.updated.append(spec.key)
        else:
            self.report.unchanged += 1

    def retire(self, protected_documents: set[int]) -> None:
        """Retire what vanished, except what belongs to a file that failed to parse this time."""
        for topic in self.topics.values():
            if topic.slug not in self.seen_topics and topic.document_id not in protected_documents:
                topic.retired = True
        for section in self.sections.values():
            keep = section.topic.document_id in protected_documents
            if section.slug not in self.seen_sections and not keep:
                section.retired = True
        for card in self.cards.values():
            if card.retired or card.key in self.seen_cards or card.kind == "drill":
                continue
            if card.topic.document_id not in protected_documents:
                card.retired = True
                self.report.retired.append(card.key)


def _html(spec: CardSpec) -> dict[str, str]:
    return {
        "front_html": render_markdown(spec.front_md),
        "back_html": render_markdown(spec.back_md),
        "short_html": render_markdown(spec.short_md) if spec.short_md else "",
    }


def sync_content(session: Session, content_dir: Path) -> SyncReport:
    """Import every content/*.md, then the drill catalogue's review cards."""
    report = SyncReport()
    documents, errors = load_directory(content_dir)
    report.errors.extend(errors)
    failed = {Path(e.source).name for e in errors}
    syncer = _Syncer(session, report)
    for parsed in documents:
        path = Path(parsed.source)
        syncer.document(path.name, hashlib.sha256(path.read_bytes()).hexdigest(), parsed)
    protected = {d.id for d in session.scalars(select(Document)) if d.path in failed}
    syncer.retire(protected)
    sync_drill_cards(session, syncer)
    session.flush()
    # Users' state rows copy their card's topic and liveness (topic counts): the cards this
    # sync moved to another topic, retired or revived.
    refresh_card_copies(session)
    return report


def sync_drill_cards(session: Session, syncer: _Syncer) -> None:
    """One review card per drill, attached to the section it practises (by title)."""
    from engine.drills import DRILLS

    sections_by_title = {
        (s.topic.title, s.title): s for s in syncer.sections.values() if not s.retired
    }
    topics_by_title = {t.title: t for t in syncer.topics.values() if not t.retired}
    for drill in DRILLS.values():
        section = sections_by_title.get((drill.topic, drill.section))
        topic = section.topic if section else topics_by_title.get(drill.topic)
        if topic is None:
            continue
        spec = CardSpec(
            key=f"drill/{drill.id}",
            kind="drill",
            sibling_key=f"drill/{drill.id}",
            front_md=f"不看答案，重新实现 `{drill.id}`：{drill.title}",
            back_md=drill.explanation_md,
            drill_id=drill.id,
        )
        syncer.card(spec, topic.id, section.id if section else None)
