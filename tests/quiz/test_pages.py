"""Server-rendered pages: home, topic notes, card browser."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select


def test_home_lists_topics_with_counts(auth_client: FlaskClient) -> None:
    page = auth_client.get("/").get_data(as_text=True)
    assert "神经网络结构" in page and "反向传播（Backpropagation）与梯度计算" in page
    assert "张卡片" in page and "张到期" in page


def test_topic_page_renders_notes(client: FlaskClient, session) -> None:
    from quiz.models import Topic

    topic = session.scalars(select(Topic).where(Topic.title == "神经网络结构")).one()
    page = client.get(f"/topics/{topic.slug}", follow_redirects=True).get_data(as_text=True)
    assert 'class="arithmatex"' in page  # math for KaTeX
    assert '<pre class="mermaid">' in page and "mermaid.min.js" in page
    assert 'class="highlight"' in page  # Pygments
    assert "隐藏层的作用是什么" in page


def test_mermaid_only_loaded_where_needed(client: FlaskClient) -> None:
    assert "mermaid.min.js" not in client.get("/").get_data(as_text=True)


def test_unknown_topic_is_404_in_chinese(client: FlaskClient) -> None:
    response = client.get("/topics/nope")
    assert response.status_code == 404 and "页面不存在" in response.get_data(as_text=True)


def test_card_browser_search(auth_client: FlaskClient) -> None:
    page = auth_client.get("/cards?q=Softmax").get_data(as_text=True)
    assert "Softmax函数的作用是什么" in page
    assert "隐藏层的作用是什么" not in page


def test_pygments_css_served(client: FlaskClient) -> None:
    response = client.get("/pygments.css")
    assert response.status_code == 200 and ".highlight" in response.get_data(as_text=True)


def test_healthz(client: FlaskClient) -> None:
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["database"] == "ok" and "grader" in body
    # The isolation mode is reported (privileged as root, rootless otherwise), host paths not.
    grader = body["grader"]
    assert grader["mode"] in ("privileged", "rootless") and grader["ready"] is True
    assert "start_errors" not in grader and "setup_error" not in grader
