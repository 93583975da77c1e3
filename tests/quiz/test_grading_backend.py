"""The one place that picks where code is graded (quiz.grading): pool, grader service, Celery."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator

import pytest
from flask import Flask

from engine.sandbox import Pool, get_sandbox
from engine.sandbox.service import GraderService, ServiceClient
from quiz import grading


@pytest.fixture(scope="module")
def service() -> Iterator[GraderService]:
    folder = tempfile.mkdtemp(prefix="grader-choice-")
    svc = GraderService(os.path.join(folder, "grader.sock"), pool=get_sandbox())
    thread = threading.Thread(target=svc.serve_forever, daemon=True)
    thread.start()
    try:
        yield svc
    finally:
        svc.close()
        thread.join(5)
        shutil.rmtree(folder, ignore_errors=True)


def test_no_setting_grades_with_this_processes_pool() -> None:
    backend = grading.InProcessBackend({})
    assert backend.name == "in-process" and isinstance(backend.sandbox, Pool)


def test_grader_socket_grades_through_the_service(service: GraderService) -> None:
    backend = grading.InProcessBackend({"GRADER_SOCKET": service.path})
    assert isinstance(backend.sandbox, ServiceClient)
    health = backend.health()
    assert health["backend"] == "unix-socket" and health["ready"] is True
    # It really grades there: an accepted answer through the socket.
    from quiz.drills import grade

    stable = "import numpy as np\n\ndef relu(x):\n    return np.maximum(x, 0)\n"
    result = grade("relu", stable, mode="submit", sandbox=backend.sandbox)
    assert result["verdict"] == "accepted", result


def test_the_app_builds_its_choice_from_the_settings(app: Flask) -> None:
    assert isinstance(grading.backend(app), grading.InProcessBackend)
    app.extensions["grading"] = None
    app.config["GRADER_BROKER_URL"] = "redis://127.0.0.1:9/0"  # never reached: built lazily
    try:
        built = grading.backend(app)
        assert isinstance(built, grading.CeleryBackend) and built.name == "celery"
        # A broker wins over a socket: the web process then never grades itself.
        app.config["GRADER_SOCKET"] = "/nonexistent.sock"
        assert grading.backend(app) is built
        built.close()
    finally:
        app.extensions["grading"] = None
        app.config["GRADER_BROKER_URL"] = None
