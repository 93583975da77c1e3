"""Fuzzing with Hypothesis: every JSON endpoint, the forms and the backup import.

Asserted for every request: no 5xx; under /api every error is JSON with an "error" message;
the process's memory stays bounded. After every backup the import accepts, the account must
stay usable (queue, summary, undo, dashboard, study page). Examples are derandomized so CI
runs the same inputs each time; the totals are printed for the issue's numbers (-s).
"""

from __future__ import annotations

import gzip
import io
import json
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quiz.db import db
from tests.conftest import _test_app
from tests.factories import make_user

FUZZ = Counter[str]()
FUZZ_SETTINGS = settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

BAD_TEXT = st.sampled_from(
    [
        "\x00",
        "\ud800",
        "a\udfff",
        "\U0001d54f",
        "'; DROP TABLE users;--",
        "../../etc/passwd",
        " \t" * 2000,
        "１２３",
        "NaN",
        "-1",
        "1e999",
        "9" * 30,
        "0001-01-01T00:00:00+00:00",
        "9999-12-31T23:59:59+00:00",
        "2026-01-01T00:00:00",
    ]
)
TEXT = st.one_of(st.text(max_size=30), BAD_TEXT)
INTS = st.one_of(
    st.integers(-3, 12),
    st.integers(-(2**70), 2**70),
    st.sampled_from([2**63 - 1, 2**63, -(2**63) - 1, 2**64, 2**62]),
)
SCALARS = st.one_of(
    st.none(), st.booleans(), INTS, st.floats(allow_nan=True, allow_infinity=True), TEXT
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)
FIELDS = [
    "card_id",
    "rating",
    "version",
    "duration_ms",
    "request_id",
    "next",
    "username",
    "password",
    "code",
    "mode",
    "review",
    "replaces",
]
RAW_BODIES = st.sampled_from(
    [
        b"[" * 50_000,
        b'{"a":' * 5_000,
        b"1" * 6_000,
        b'{"card_id": ' + b"9" * 5000 + b', "rating": 3}',
        b"\xff\xfe\x00",
        b"",
        b"null",
        b"NaN",
        b'{"card_id": 1e999, "rating": 3}',
        b'{"username": "\\ud800x", "password": "\\udc00passwordpw"}',
        b'{"code": "\\u0000", "mode": "run"}',
        b"{}" * 1000,
    ]
)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


BODIES = st.one_of(
    st.dictionaries(st.one_of(st.sampled_from(FIELDS), TEXT), JSON_VALUES, max_size=6).map(_dumps),
    JSON_VALUES.map(_dumps),
    RAW_BODIES,
)
DRILL_IDS = st.sampled_from(
    ["softmax", "relu", "nope", "..%2F..", "%00", "a" * 300, "softmax@review"]
)
IDS = st.one_of(st.integers(0, 50), st.integers(0, 2**80))
JSON_ENDPOINTS = [
    ("POST", "/api/v1/users"),
    ("POST", "/api/v1/tokens"),
    ("DELETE", "/api/v1/tokens/current"),
    ("GET", "/api/v1/topics"),
    ("GET", "/api/v1/cards?page={id}&per_page={id2}&q={text}"),
    ("GET", "/api/v1/drills"),
    ("GET", "/api/v1/drills/{drill}"),
    ("GET", "/api/v1/drills/{drill}/draft"),
    ("PUT", "/api/v1/drills/{drill}/draft"),
    ("POST", "/api/v1/drills/{drill}/rating"),
    ("POST", "/api/v1/drills/{drill}/reveal"),
    ("GET", "/api/v1/drills/{drill}/submissions"),
    ("POST", "/api/v1/drills/{drill}/submissions"),
    ("GET", "/api/v1/submissions/{id}"),
    ("GET", "/api/v1/progress"),
    ("GET", "/api/v1/progress/backup"),
    ("POST", "/api/v1/progress/backup"),
    ("POST", "/api/v1/reviews"),
    ("GET", "/api/v1/reviews/next?topic={text}"),
    ("GET", "/api/v1/reviews/summary?topic={text}"),
    ("POST", "/api/v1/reviews/bury"),
    ("POST", "/api/v1/reviews/suspend"),
    ("POST", "/api/v1/reviews/undo"),
]


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.fixture
def fuzz_app(synced_db_template: Any, tmp_path: Path) -> Iterator[Flask]:
    app = _test_app(synced_db_template.clone(tmp_path, "fuzz"), SIGNUP_RATE_LIMIT="100000 per hour")
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _token(client: FlaskClient, username: str) -> dict[str, str]:
    make_user(db.session, username, "password-1")
    response = client.post("/api/v1/tokens", json={"username": username, "password": "password-1"})
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def _check(response: Any, path: str) -> None:
    FUZZ["requests"] += 1
    if response.status_code >= 500:
        FUZZ["5xx"] += 1
    assert response.status_code < 500, (path, response.status_code, response.get_data()[:300])
    if path.startswith("/api/") and response.status_code >= 400:
        assert response.is_json, (path, response.status_code, response.get_data()[:200])
        # Parsed as any client would (the app's own provider also refuses NUL in requests).
        assert isinstance(json.loads(response.get_data()).get("error"), str)


def test_json_endpoints_never_fail(fuzz_app: Flask) -> None:
    client = fuzz_app.test_client()
    headers = _token(client, "fuzzer")
    start = _rss_mb()

    @FUZZ_SETTINGS
    @given(
        endpoint=st.sampled_from(JSON_ENDPOINTS),
        body=BODIES,
        drill=DRILL_IDS,
        ident=IDS,
        ident2=IDS,
        text=TEXT,
        authed=st.booleans(),
    )
    def run(
        endpoint: tuple[str, str],
        body: bytes,
        drill: str,
        ident: int,
        ident2: int,
        text: str,
        authed: bool,
    ) -> None:
        method, template = endpoint
        path = template.format(
            drill=drill,
            id=ident,
            id2=ident2 - 2**79,
            text=quote(text.encode("utf-8", "surrogatepass")),
        )
        response = client.open(
            path,
            method=method,
            data=None if method == "GET" else body,
            content_type="application/json",
            headers=headers if authed else {},
        )
        _check(response, path)

    run()
    assert _rss_mb() - start < 256, f"memory grew {_rss_mb() - start:.0f} MB"


FORM_TEXT = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40),
    BAD_TEXT.filter(lambda t: not any("\ud800" <= c <= "\udfff" for c in t)),
)
FORMS = [
    ("/register", ["username", "password", "confirm"]),
    ("/login", ["username", "password"]),
    (
        "/settings",
        [
            "desired_retention",
            "new_per_day",
            "reviews_per_day",
            "timezone",
            "rollover_hour",
            "learning_steps",
            "relearning_steps",
            "reveal_all",
        ],
    ),
    ("/cards/{id}/bury", ["next"]),
    ("/cards/{id}/suspend", ["next"]),
    ("/cards/{id}/unsuspend", ["next"]),
    ("/cards/{id}/unbury", ["next"]),
    ("/settings/optimize", []),
    ("/settings/reset-parameters", []),
    ("/settings/tokens/{id}/revoke", []),
]


def test_forms_never_fail(fuzz_app: Flask) -> None:
    client = fuzz_app.test_client()
    make_user(db.session, "former", "password-1")
    client.post("/login", data={"username": "former", "password": "password-1"})
    start = _rss_mb()

    @FUZZ_SETTINGS
    @given(
        form=st.sampled_from(FORMS),
        values=st.lists(FORM_TEXT, min_size=8, max_size=8),
        ident=IDS,
        get_too=st.booleans(),
    )
    def run(form: tuple[str, list[str]], values: list[str], ident: int, get_too: bool) -> None:
        path = form[0].format(id=ident)
        data = dict(zip(form[1], values, strict=False))
        _check(client.post(path, data=data), path)
        if get_too:
            _check(client.get("/settings"), "/settings")
            _check(client.get(f"/cards?page={ident}&q={quote(values[0])}"), "/cards")

    run()
    assert _rss_mb() - start < 256


def _history_backup(app: Flask) -> dict[str, Any]:
    client = app.test_client()
    headers = _token(client, "source")
    for rating in (3, 1, 3, 4, 2, 3):
        shown = client.get("/api/v1/reviews/next", headers=headers).get_json()
        body = {"card_id": shown["card"]["id"], "rating": rating, "version": shown["version"]}
        assert client.post("/api/v1/reviews", json=body, headers=headers).status_code == 201
    client.put("/api/v1/drills/softmax/draft", json={"code": "def f(): pass"}, headers=headers)
    data: dict[str, Any] = client.get("/api/v1/progress/backup", headers=headers).get_json()
    data["settings"]["fsrs_parameters"] = None
    return data


def _leaf_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            paths += _leaf_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):
            paths += _leaf_paths(item, (*prefix, index))
    return paths


SPECIAL_VALUES = st.sampled_from(
    [
        "0001-01-01T00:00:00+00:00",
        "2200-01-01T00:00:00+00:00",
        "1969-12-31T23:59:59+00:00",
        "2026-01-01",
        "0001-01-01",
        [0.0] * 21,
        [1.0] * 21,
        [0.4] * 19,
        2**63,
        2**63 - 1,
        -1,
        0,
        {},
        [],
        "",
        None,
        "Mars/Olympus",
        "1m 1000d",
        1e308,
    ]
)


def _set(data: Any, path: tuple[Any, ...], value: Any, delete: bool) -> None:
    target = data
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value


def _usable(client: FlaskClient, headers: dict[str, str]) -> None:
    for path in ("/api/v1/reviews/next", "/api/v1/reviews/summary", "/api/v1/progress"):
        _check(client.get(path, headers=headers), path)
    _check(client.post("/api/v1/reviews/undo", headers=headers), "/api/v1/reviews/undo")
    _check(client.get("/api/v1/progress/backup", headers=headers), "/api/v1/progress/backup")


def test_backup_import_never_breaks_an_account(fuzz_app: Flask) -> None:
    valid = _history_backup(fuzz_app)
    paths = _leaf_paths(valid)
    client = fuzz_app.test_client()
    start = _rss_mb()
    counter = iter(range(10**6))

    @settings(FUZZ_SETTINGS, max_examples=250)
    @given(
        edits=st.lists(
            st.tuples(
                st.sampled_from(paths), st.one_of(SPECIAL_VALUES, JSON_VALUES), st.booleans()
            ),
            max_size=3,
        ),
        compress=st.booleans(),
    )
    def run(edits: list[tuple[tuple[Any, ...], Any, bool]], compress: bool) -> None:
        data = json.loads(json.dumps(valid))
        for path, value, delete in edits:
            try:
                _set(data, path, value, delete and len(path) > 1)
            except (KeyError, IndexError, TypeError):
                continue  # an earlier edit replaced the parent
        raw = _dumps(data)
        if compress:
            raw = gzip.compress(raw, mtime=0)
        headers = _token(client, f"target{next(counter)}")
        response = client.post("/api/v1/progress/backup", data=raw, headers=headers)
        _check(response, "/api/v1/progress/backup")
        if response.status_code == 201:
            FUZZ["imports accepted"] += 1
            _usable(client, headers)

    run()
    assert FUZZ["imports accepted"] > 0  # the fuzzer did reach the import itself
    assert _rss_mb() - start < 256


def test_compressed_bombs_are_refused_with_413(fuzz_app: Flask) -> None:
    client = fuzz_app.test_client()
    headers = _token(client, "bomber")
    rng = random.Random(7)
    shapes = {
        "empty objects": b'{"a":[' + b"{}," * 20_000_000 + b"{}]}",
        "nesting": b"[" * 30_000_000,
        "one long string": b'{"a":"' + b"a" * 60_000_000 + b'"}',
        "many small ints": b"[" + b"1," * 26_000_000 + b"1]",
        "wide text": b'{"a":"' + b"a" * 20_000_000 + "😀".encode() + b'"}',
    }
    for name, payload in shapes.items():
        bomb = gzip.compress(payload, compresslevel=9, mtime=0)
        for body, form in ((bomb, False), (bomb, True)):
            if form:
                response = client.post(
                    "/progress/import",
                    data={"backup": (io.BytesIO(body), "bomb.json.gz")},
                    content_type="multipart/form-data",
                )
                assert response.status_code == 302, name
                FUZZ["requests"] += 1
            else:
                response = client.post("/api/v1/progress/backup", data=body, headers=headers)
                _check(response, "/api/v1/progress/backup")
                assert response.status_code in (400, 413), (name, response.get_json())
    assert rng  # deterministic shapes


def test_fuzz_totals_are_reported() -> None:
    print(
        f"\nrequests fuzzed: {FUZZ['requests']}, 5xx seen: {FUZZ['5xx']}, "
        f"imports accepted: {FUZZ['imports accepted']}"
    )
    assert FUZZ["5xx"] == 0
