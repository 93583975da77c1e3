"""Pages that guide: readable topic addresses, the topic page's study button and contents,
the notes search (FTS5 and the LIKE fallback)."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from quiz.models import Topic
from quiz.search import search_notes
from quiz.slugs import readable_slug, unique_slug


def test_readable_slug_is_pinyin_and_ascii_words() -> None:
    assert readable_slug("神经网络结构") == "shen-jing-wang-luo-jie-gou"
    assert (
        readable_slug("反向传播（Backpropagation）与梯度计算")
        == "fan-xiang-chuan-bo-backpropagation-yu-ti-du-ji-suan"
    )
    assert len(readable_slug("很长的标题" * 20)) <= 60
    assert readable_slug("？！") == "topic"
    assert unique_slug("a", {"a", "a-2"}) == "a-3"


def test_links_use_the_readable_address_and_old_ones_redirect(client: FlaskClient, session) -> None:
    topic = session.scalars(select(Topic).where(Topic.title == "神经网络结构")).one()
    assert topic.path == "shen-jing-wang-luo-jie-gou"
    home = client.get("/").get_data(as_text=True)
    assert 'href="/topics/shen-jing-wang-luo-jie-gou"' in home
    assert f'href="/topics/{topic.slug}"' not in home
    old = client.get(f"/topics/{topic.slug}")
    assert (
        old.status_code == 301 and old.headers["Location"] == "/topics/shen-jing-wang-luo-jie-gou"
    )
    assert client.get("/topics/shen-jing-wang-luo-jie-gou").status_code == 200


def test_topic_page_has_study_button_contents_and_drill_links(auth_client: FlaskClient) -> None:
    html = auth_client.get("/topics/fan-xiang-chuan-bo-backpropagation-yu-ti-du-ji-suan").get_data(
        as_text=True
    )
    study = re.search(r'<a href="(/study\?topic=[^"]+)" role="button">学习本主题</a>', html)
    assert study, "the study-this-topic button"
    assert auth_client.get(study.group(1)).status_code == 200
    assert '<nav class="toc"' in html
    chips = re.findall(r'<a href="/drills/([^"]+)" class="drill-chip">([^<]+)</a>', html)
    assert chips and all(not title.startswith(drill_id) for drill_id, title in chips)


@pytest.mark.parametrize("use_fts", [True, False])
def test_notes_search_finds_sections(session, use_fts: bool) -> None:
    hits = search_notes(session, "softmax", use_fts=use_fts)
    assert hits and all("softmax" in (h.section_title + h.snippet).lower() for h in hits)
    chinese = search_notes(session, "梯度消失", use_fts=use_fts)
    assert chinese and "梯度消失" in chinese[0].snippet
    assert search_notes(session, "完全不存在的一段话", use_fts=use_fts) == []
    # LIKE must not match inside markup: "class" appears in every rendered section's HTML
    assert search_notes(session, "class=", use_fts=use_fts) == []


def test_short_queries_use_the_fallback(session) -> None:
    assert search_notes(session, "梯度", use_fts=True) == search_notes(
        session, "梯度", use_fts=False
    )


def test_search_page_marks_matches_and_escapes(client: FlaskClient) -> None:
    html = client.get("/search", query_string={"q": "Softmax"}).get_data(as_text=True)
    assert "<mark>Softmax</mark>" in html
    html = client.get("/search", query_string={"q": "<script>"}).get_data(as_text=True)
    assert "<script>" not in html.split("<main", 1)[1].split("</main>")[0]


def test_card_search_links_to_notes_search(auth_client: FlaskClient) -> None:
    html = auth_client.get("/cards?q=ReLU").get_data(as_text=True)
    assert 'href="/search?q=ReLU"' in html
