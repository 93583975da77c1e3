"""Every formula a learner meets renders: drill statements (zh, en), hints, explanations and
model answers, and every card and notes section built from content/, each through the app's own Markdown path
(quiz.rendering), then each math node through the vendored KaTeX in Debian's node.

A `$` left in the text outside a math node means Markdown broke a formula apart (a line of a
`$$` block starting with "- " became a bullet, say): neither the page's KaTeX nor an Anki deck
will render it. One node process checks all formulas in one batch.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from engine.drills import DRILLS, ENGLISH
from quiz.importer import CardSpec, section_cards
from quiz.notes import load_directory
from quiz.rendering import render_markdown

ROOT = Path(__file__).resolve().parents[2]
KATEX = ROOT / "quiz" / "static" / "vendor" / "katex" / "katex.min.js"
CHECKER = Path(__file__).with_name("katex_check.cjs")
NODE = "/usr/bin/node"  # Debian's nodejs; `make test` installs it when missing


class _MathScan(HTMLParser):
    """Splits rendered HTML into math nodes (TeX, display?) and the text outside math and code."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.math: list[tuple[str, bool]] = []
        self.text: list[str] = []
        self._stack: list[str] = []  # "math", "code" or "" per open element

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        kind = "math" if "arithmatex" in classes else "code" if tag in ("code", "pre") else ""
        if kind == "math":
            self.math.append(("", tag == "div"))
        self._stack.append(kind)

    def handle_endtag(self, tag: str) -> None:
        if self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if "math" in self._stack:
            tex, display = self.math[-1]
            self.math[-1] = (tex + data, display)
        elif "code" not in self._stack:
            self.text.append(data)


def _formulas(html: str) -> tuple[list[tuple[str, bool]], str]:
    scan = _MathScan()
    scan.feed(html)
    scan.close()
    formulas = []
    for raw, display in scan.math:
        tex = raw.strip()
        # arithmatex wraps the TeX in the delimiters KaTeX's auto-render looks for.
        opening, closing = (r"\[", r"\]") if display else (r"\(", r"\)")
        assert tex.startswith(opening) and tex.endswith(closing), raw
        formulas.append((tex[2:-2], display))
    return formulas, "".join(scan.text)


def _drill_texts() -> dict[str, str]:
    texts: dict[str, str] = {}
    for drill in DRILLS.values():
        english = ENGLISH[drill.id]
        where = f"engine/drills/{drill.id}"
        texts[f"{where}/statement.md"] = drill.statement_md
        texts[f"{where}/statement.en.md"] = english.statement_md
        texts[f"{where}/explanation.md"] = drill.explanation_md
        texts[f"{where}/solution.py"] = f"```python\n{drill.solution_code.rstrip()}\n```"
        for lang, hints in (("zh", drill.hints), ("en", english.hints)):
            for i, hint in enumerate(hints, 1):
                texts[f"{where}/drill.toml hint {lang} {i}"] = hint
    return texts


def _card_texts() -> dict[str, str]:
    documents, errors = load_directory(ROOT / "content")
    assert not errors, errors
    texts: dict[str, str] = {}
    for document in documents:
        for topic in document.topics:
            for section in topic.sections:
                texts[f"{Path(document.source).name} section {section.slug}"] = section.body_md
                specs: list[CardSpec] = section_cards(section)
                for spec in specs:
                    where = f"{Path(document.source).name} card {spec.key}"
                    texts[f"{where} front"] = spec.front_md
                    texts[f"{where} back"] = spec.back_md
                    if spec.short_md:
                        texts[f"{where} short"] = spec.short_md
    return texts


def _katex_errors(formulas: list[tuple[str, bool]]) -> list[str | None]:
    if not Path(NODE).exists() and not shutil.which("node"):
        pytest.fail("Debian's nodejs is missing: `make test` installs it (apt-get install nodejs)")
    node = NODE if Path(NODE).exists() else str(shutil.which("node"))
    done = subprocess.run(
        [node, str(CHECKER), str(KATEX)],
        input=json.dumps(formulas),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    errors: list[str | None] = json.loads(done.stdout)
    assert len(errors) == len(formulas)
    return errors


def _problems(texts: dict[str, str]) -> list[str]:
    problems: list[str] = []
    batch: list[tuple[str, bool]] = []
    owners: list[str] = []
    for where, markdown in texts.items():
        formulas, outside = _formulas(render_markdown(markdown))
        for line in outside.splitlines():
            if "$" in line:
                problems.append(f"{where}: `$` outside math: {line.strip()[:120]}")
        batch.extend(formulas)
        owners.extend([where] * len(formulas))
    for where, (tex, _display), error in zip(owners, batch, _katex_errors(batch), strict=True):
        if error is not None:
            problems.append(f"{where}: KaTeX rejects {tex[:80]!r}: {error[:200]}")
    return problems


def test_the_checker_catches_a_broken_formula() -> None:
    """The two failure kinds are seen: a `$$` block broken by a bullet, and TeX KaTeX rejects."""
    (error,) = _katex_errors([(r"\frac{1}{", False)])
    assert error is not None and "KaTeX parse error" in error
    broken = "$$a = b\n- c$$"
    assert _problems({"broken": broken, "bad": r"$\frac{1}{$", "good": r"$\frac{1}{2}$"}) == [
        "broken: `$` outside math: $$a = b",
        "broken: `$` outside math: c$$",
        f"bad: KaTeX rejects '\\\\frac{{1}}{{': {error[:200]}",
    ]


def test_every_drill_text_renders() -> None:
    texts = _drill_texts()
    assert len(texts) > 13 * 5
    assert _problems(texts) == []


def test_every_card_and_notes_section_renders() -> None:
    texts = _card_texts()
    assert len(texts) > 50
    assert _problems(texts) == []
