"""Fixtures for the engine tests: the real sandbox pool, and a grading helper."""

from __future__ import annotations

from collections.abc import Callable
from textwrap import dedent
from typing import Any

import pytest

from engine.grader import GradeResult, grade
from engine.sandbox import get_sandbox
from engine.sandbox.api import Sandbox


@pytest.fixture(scope="session")
def sandbox() -> Sandbox:
    """The real warm pool: submissions in these tests run exactly as in production."""
    return get_sandbox()


@pytest.fixture
def run(sandbox: Sandbox) -> Callable[..., GradeResult]:
    """grade() on a dedented source string, through the real sandbox."""

    def _run(drill: str, source: str, **kwargs: Any) -> GradeResult:
        return grade(drill, dedent(source), sandbox=sandbox, **kwargs)

    return _run
