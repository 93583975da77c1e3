"""The benchmarks' synthetic deck: ten topics of question cards with realistic HTML sizes.

Shared so that every benchmark that reads the study path measures the same cards. Imports
`quiz` lazily: bench/hot_paths.py --compare puts another checkout's `quiz` on the path first.
"""

from __future__ import annotations

from typing import Any

BODY_HTML = "<p>" + "反向传播把损失对每个参数的梯度一层层传回去。" * 12 + "</p>"


def add_deck(session: Any, cards: int, *, topic_position: int = 0) -> list[Any]:
    """Add a document, ten topics and `cards` question cards (keys bench/0…); returns the topics."""
    from sqlalchemy import insert

    from quiz.models import Card, Document, Topic

    doc = Document(path="bench.md", sha256="0" * 64)
    session.add(doc)
    session.flush()
    topics = [
        Topic(document_id=doc.id, slug=f"bench-{t}", title=f"主题 {t}", position=topic_position + t)
        for t in range(10)
    ]
    session.add_all(topics)
    session.flush()
    session.execute(
        insert(Card),
        [
            {
                "key": f"bench/{i}",
                "kind": "question",
                "topic_id": topics[i % 10].id,
                "sibling_key": f"bench/{i}",
                "position": i,
                "front_md": f"问题 {i}",
                "back_md": "答案",
                "front_html": f"<p>问题 {i}：为什么梯度会消失？</p>",
                "back_html": BODY_HTML,
                "short_html": "<p>链式法则里连乘的小于 1 的导数。</p>",
            }
            for i in range(cards)
        ],
    )
    return topics
