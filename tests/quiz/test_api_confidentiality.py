"""Round two over HTTP: one account's submission never shows up in another's, and no hidden
input reaches the API response, the stored submission or the drill page (real sandbox)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from engine.sandbox import Pool
from tests.engine.sandbox import attacks
from tests.engine.sandbox.leaks import (
    ANSWER,
    HEAD,
    HIDDEN_CALL,
    assert_nothing_hidden_in,
    thief_report,
)
from tests.factories import api_token, login, make_user


@pytest.fixture
def one_runner(app: Flask) -> Iterator[Pool]:
    pool = Pool(slots=1, queue_size=4, overflow=0)
    app.config["DRILL_SANDBOX"] = pool
    try:
        yield pool
    finally:
        pool.close()


def submit(app: Flask, headers: dict[str, str], code: str, mode: str) -> Any:
    response = app.test_client().post(
        "/api/v1/drills/relu/submissions", json={"code": code, "mode": mode}, headers=headers
    )
    assert response.status_code == 201, response.get_json()
    return response


def test_one_accounts_code_never_reaches_anothers(
    app: Flask, session: Any, one_runner: Pool
) -> None:
    make_user(session, "alice", "correct horse")
    make_user(session, "mallory", "battery staple")
    tokens = [attacks.token() for _ in range(3)]
    alice = api_token(app.test_client(), "alice", "correct horse")
    submit(app, alice, attacks.victim_source(*tokens), "submit")

    mallory = api_token(app.test_client(), "mallory", "battery staple")
    response = submit(app, mallory, attacks.THIEF, "run")
    body = response.get_json()
    found_self, scanned, others = thief_report(body["tests"][0]["stdout"])
    assert found_self and scanned >= 20 and others == "[]"
    stored = app.test_client().get(response.headers["Location"], headers=mallory)
    client = app.test_client()
    login(client, "mallory", "battery staple")
    page = client.get("/drills/relu")
    assert page.status_code == 200
    for text in (response.get_data(as_text=True), stored.get_data(as_text=True), page.text):
        for t in tokens:
            assert t not in text


def test_hidden_inputs_never_reach_the_api_or_the_page(
    app: Flask, session: Any, user: Any, one_runner: Pool
) -> None:
    code = HEAD + (
        f"def relu(x):\n    if {HIDDEN_CALL}:\n"
        "        print('LEAK', x)\n"
        "        warnings.warn('LEAK %r' % x, UserWarning)\n"
        "        raise ValueError(f'LEAK {x!r}')\n"
        f"{ANSWER}"
    )
    headers = api_token(app.test_client())
    response = submit(app, headers, code, "submit")
    body = response.get_json()
    assert body["verdict"] == "runtime_error"
    stored = app.test_client().get(response.headers["Location"], headers=headers).get_json()
    for data in (body, stored):
        data.pop("code")  # the learner's own source, which spells "LEAK"
        assert_nothing_hidden_in(json.dumps(data, ensure_ascii=False), "relu")
    client = app.test_client()
    login(client)
    page = client.get("/drills/relu").text.replace(code, "")
    assert_nothing_hidden_in(page.replace("LEAK", ""), "relu")
