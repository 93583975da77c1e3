"""Drill pages: the list by topic, links both ways with the notes, the drill page and its modes."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from engine.drills import get_drill
from quiz import drills
from quiz.db import utcnow
from quiz.models import Topic


def page_state(html: str) -> dict[str, Any]:
    match = re.search(
        r'<script type="application/json" id="drill-state">(.*?)</script>', html, re.S
    )
    assert match, "drill page without its state"
    return json.loads(match.group(1))


def accept(session: Any, user: Any, drill_id: str = "softmax") -> None:
    result = {"verdict": "accepted", "passed": 15, "total": 15, "time_ms": 2.0, "tests": []}
    drills.record_submission(
        session, user.id, drill_id, "solved code", mode="submit", result=result, now=utcnow()
    )
    session.commit()


def test_list_by_topic_for_visitors(client: FlaskClient) -> None:
    page = client.get("/drills").get_data(as_text=True)
    assert (
        page.index("神经网络结构")
        < page.index("sigmoid")
        < page.index("反向传播（Backpropagation）与梯度计算")
    )
    assert page.index("反向传播（Backpropagation）与梯度计算") < page.index("batchnorm_backward")
    assert 'href="/drills/softmax"' in page and "登录" in page
    assert "未开始" not in page  # statuses are personal


def test_list_shows_statuses_and_links_to_notes(
    auth_client: FlaskClient, session: Any, user: Any
) -> None:
    accept(session, user, "relu")
    page = auth_client.get("/drills").get_data(as_text=True)
    assert re.search(r'data-drill="relu" data-status="solved"', page)
    assert re.search(r'data-drill="sigmoid" data-status="new"', page)
    card = drills.drill_card(session, "relu")
    assert card is not None and card.section is not None and card.section.title == "激活函数"
    # Each drill links to the notes section it practises.
    assert f'href="/topics/{card.topic.path}#{card.section.slug}"' in page


def test_due_drill_is_marked_and_offers_review(
    auth_client: FlaskClient, session: Any, user: Any
) -> None:
    accept(session, user)
    rows = drills.list_drills(session, user.id, now=utcnow() + timedelta(days=400))
    assert next(r for r in rows if r.drill.id == "softmax").status == "due"


def test_topic_page_links_each_section_to_its_drills(client: FlaskClient, session: Any) -> None:
    topic = session.scalar(select(Topic).where(Topic.title == "神经网络结构"))
    page = client.get(f"/topics/{topic.path}").get_data(as_text=True)
    aside = page[page.index('class="drill-links"') : page.index("</aside>")]
    for drill_id in ("sigmoid", "relu", "leaky_relu", "softmax"):
        assert f'href="/drills/{drill_id}"' in aside


def test_drill_page_needs_login_and_known_drill(
    client: FlaskClient, auth_client: FlaskClient
) -> None:
    assert auth_client.get("/drills/nope").status_code == 404
    auth_client.post("/logout")
    response = client.get("/drills/softmax")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_drill_page_two_panes_starter_code_and_no_answer(auth_client: FlaskClient) -> None:
    html = auth_client.get("/drills/softmax").get_data(as_text=True)
    drill = get_drill("softmax")
    assert 'class="drill-statement"' in html and 'class="drill-work"' in html
    assert 'class="arithmatex"' in html  # statement math for KaTeX
    assert drill.examples[0].input in html and "提示 1" in html
    assert "运行示例" in html and "提交" in html and "Ctrl+Enter" in html
    assert "editor.bundle.min.js" in html and "js/drill.js" in html
    state = page_state(html)
    assert state["code"] == drill.starter_code and state["draftSavedAt"] is None
    assert state["maxBytes"] == 64 * 1024 and state["api"] == "/api/v1/drills/softmax"
    assert drill.solution_code.splitlines()[-1].strip() not in html  # the answer stays hidden
    # CSP: the only inline <script> is inert JSON.
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline == [' type="application/json" id="drill-state"']


def test_drill_page_restores_the_draft_and_lists_history(
    auth_client: FlaskClient, session: Any, user: Any
) -> None:
    drills.save_draft(session, user.id, "softmax", "print('</script>')", now=utcnow())
    session.commit()
    html = auth_client.get("/drills/softmax").get_data(as_text=True)
    assert page_state(html)["code"] == "print('</script>')"  # escaped inside the JSON block
    assert "还没有提交" in html
    accept(session, user)
    html = auth_client.get("/drills/softmax").get_data(as_text=True)
    assert 'class="history-list"' in html and "在编辑器中打开" in html
    assert "讲解与参考答案" in html and get_drill("softmax").solution_code.split("\n")[0] in html


def test_review_mode_starts_blank_and_hides_the_answer(
    auth_client: FlaskClient, session: Any, user: Any
) -> None:
    accept(session, user)
    drills.save_draft(session, user.id, "softmax", "everyday draft", now=utcnow())
    session.commit()
    html = auth_client.get("/drills/softmax?review=1").get_data(as_text=True)
    state = page_state(html)
    assert state["review"] is True and state["code"] == get_drill("softmax").starter_code
    assert "复习模式" in html and "放弃，查看答案" in html
    assert 'id="history-list"' not in html  # no shortcut back to the accepted code
    assert 'id="solution"' in html and re.search(r'id="solution"[^>]*hidden', html)
    drills.save_draft(session, user.id, "softmax", "half-done review", now=utcnow(), review=True)
    session.commit()
    state = page_state(auth_client.get("/drills/softmax?review=1").get_data(as_text=True))
    assert state["code"] == "half-done review"  # a reload mid-review keeps the typing
