"""Rules of the codebase that a reviewer would otherwise have to remember (issue 14)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 500


def _test_modules() -> list[Path]:
    return sorted(p for p in (ROOT / "tests").rglob("test_*.py"))


def test_no_test_module_imports_another() -> None:
    """Shared builders live in tests/factories or a conftest, never in a test module."""
    offenders = []
    for path in _test_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            if any(n.startswith("tests.") and n.split(".")[-1].startswith("test_") for n in names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_quiz_modules_stay_small() -> None:
    sizes = {
        str(p.relative_to(ROOT)): len(p.read_text().splitlines())
        for p in (ROOT / "quiz").rglob("*.py")
    }
    assert {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES} == {}


def test_every_type_ignore_in_quiz_says_why() -> None:
    """An ignore carries a reason: a comment after it, or a comment line just above."""
    offenders = []
    for path in sorted((ROOT / "quiz").rglob("*.py")):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if "type: ignore" not in line:
                continue
            reason_after = re.search(r"type: ignore\[[^\]]+\]\s+#\s*\S", line)
            reason_above = i > 0 and lines[i - 1].strip().startswith("#")
            if not (reason_after or reason_above):
                offenders.append(f"{path.relative_to(ROOT)}:{i + 1}")
    assert offenders == []


def test_views_never_end_a_transaction() -> None:
    """The request's transaction is committed or rolled back in one place, quiz.transaction."""
    offenders = []
    for path in sorted((ROOT / "quiz" / "views").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("commit", "rollback")
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
