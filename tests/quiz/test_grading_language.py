"""A submission is graded in the learner's language: English feedback for an English user,
Chinese for a Chinese one (the drill page renders what the API returns)."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from engine.texts_en import MISTAKES
from tests.factories import login, make_user

CHINESE = re.compile(r"[\u4e00-\u9fff]")
NAIVE = """import numpy as np


def softmax(x, axis=-1):
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)
"""


def _submit(client: FlaskClient, **headers: str) -> Any:
    response = client.post(
        "/api/v1/drills/softmax/submissions",
        json={"code": NAIVE, "mode": "submit"},
        headers=headers,
    )
    assert response.status_code == 201
    return response.get_json()


def test_english_user_gets_english_feedback_and_diagnosis(
    client: FlaskClient, session: Any
) -> None:
    make_user(session, "english-user")
    login(client, "english-user")
    # The saved setting decides, whatever the browser says.
    saved = client.post("/language", data={"locale": "en", "next": "/drills"})
    assert saved.status_code == 302
    client.delete_cookie("lang")
    body = _submit(client, **{"Accept-Language": "zh-CN"})
    assert body["verdict"] == "wrong_answer"
    assert body["message"].startswith("Wrong answer: ")
    assert "numerical stability on large inputs" in body["message"]
    assert body["diagnosis"]["id"] == "softmax.no_shift"
    assert (body["diagnosis"]["title"], body["diagnosis"]["detail"]) == MISTAKES["softmax.no_shift"]
    for test in body["tests"]:
        assert not CHINESE.search(test["name"] + test["message"]), test
    failed = next(t for t in body["tests"] if t["status"] == "failed")
    assert "NaN or inf" in failed["message"]


def test_chinese_user_gets_chinese_feedback(client: FlaskClient, session: Any) -> None:
    make_user(session, "chinese-user")
    login(client, "chinese-user")
    body = _submit(client, **{"Accept-Language": "zh-CN,zh;q=0.9"})
    assert body["message"].startswith("答案错误")
    assert body["diagnosis"]["id"] == "softmax.no_shift"
    assert "先减去最大值" in body["diagnosis"]["title"]
    assert any(t["name"] == "大输入数值稳定性" for t in body["tests"])


def test_english_browser_without_a_setting_gets_english(client: FlaskClient, session: Any) -> None:
    make_user(session, "browser-user")
    login(client, "browser-user")
    body = _submit(client, **{"Accept-Language": "en-US,en;q=0.9"})
    assert body["message"].startswith("Wrong answer: ")


def test_english_drill_page_has_english_hints_and_starter(
    client: FlaskClient, session: Any
) -> None:
    make_user(session, "page-user")
    login(client, "page-user")
    english = client.get("/drills/softmax", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert "Softmax along axis: the result sums to 1 along axis." in english
    assert "Take the maximum separately along" in english
    assert "沿 axis 分别取" not in english
    chinese = client.get("/drills/softmax", headers={"Accept-Language": "zh"}).get_data(
        as_text=True
    )
    assert "沿 axis 计算 softmax" in chinese and "Take the maximum separately" not in chinese
