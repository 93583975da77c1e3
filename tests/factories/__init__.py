"""Small factories and helpers shared by the tests."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

# The softmax a learner writes first: it overflows on large inputs (the drill and feedback pages).
NAIVE_SOFTMAX = """import numpy as np


def softmax(x, axis=-1):
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)
"""
# ... and the one that passes (the queue, distributed and scaling tests submit both).
STABLE_SOFTMAX = NAIVE_SOFTMAX.replace("np.exp(x)", "np.exp(x - x.max(axis=axis, keepdims=True))")


def grader_result(
    verdict: str = "wrong_answer", passed: int = 12, total: int = 15
) -> dict[str, Any]:
    """A grader's result as quiz.drills.grade returns it, for bookkeeping tests."""
    return {
        "drill": "softmax",
        "verdict": verdict,
        "passed": total if verdict == "accepted" else passed,
        "total": total,
        "time_ms": 3.5,
        "tests": [],
        "stdout": "",
        "message": "",
        "sandboxed": True,
        "mode": "submit",
    }


def make_user(session: Any, username: str = "alice", password: str = "correct horse") -> Any:
    from quiz.accounts import create_user

    user = create_user(session, username, password)
    session.commit()
    return user


def login(client: FlaskClient, username: str = "alice", password: str = "correct horse") -> Any:
    return client.post("/login", data={"username": username, "password": password})


def api_token(
    client: FlaskClient, username: str = "alice", password: str = "correct horse"
) -> dict[str, str]:
    """Headers with a bearer token for an existing user."""
    response = client.post("/api/v1/tokens", json={"username": username, "password": password})
    assert response.status_code == 201, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def register_in_browser(
    page: Any, base_url: str, username: str = "browser", password: str = "browser-pass"
) -> None:
    page.goto(f"{base_url}/register")
    page.fill("#username", username)
    page.fill("#password", password)
    page.fill("#confirm", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def replace_code(page: Any, code: str, *, editor: str = "") -> None:
    """Put `code` in the page's code editor (the one inside `editor`, a CSS selector)."""
    # CodeMirror auto-indents on Enter: insert the whole text instead of typing it.
    page.locator(f"{editor} .cm-content".strip()).click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(code)
