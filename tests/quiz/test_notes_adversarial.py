"""The notes parser stays linear on adversarial whitespace (it was quadratic: 12 KB took 5 s)."""

from __future__ import annotations

import time
from pathlib import Path

from quiz import notes

ROOT = Path(__file__).resolve().parents[2]
SHAPES = [
    "{ws}x",
    "# {ws}x",
    "- 👉{ws}x",
    "**注意{ws}x",
    "a{ws}**复习建议**{ws}x",
    "**复习建议**{ws}：{ws}x",
    "x{ws}👉{ws}**注意**{ws}：{ws}y",
]


def _document(width: int) -> str:
    base = (ROOT / "content" / "01-neural-networks.md").read_text(encoding="utf-8")
    lines = [shape.format(ws=" \t" * (width // 2)) for shape in SHAPES]
    return base.rstrip("\n") + "\n\n" + "\n\n".join(lines) + "\n"


def _parse_seconds(width: int) -> float:
    text = _document(width)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        notes.parse_document(text, source="adversarial.md")
        best = min(best, time.perf_counter() - start)
    return best


def test_long_whitespace_runs_parse_in_linear_time() -> None:
    small, large = _parse_seconds(1_200), _parse_seconds(12_000)
    # 10x the input: linear costs ~10x (plus the fixed cost of the real notes), quadratic 100x.
    # Generous bounds, so a loaded machine does not fail it; the old parser took seconds.
    assert large < 2.0, f"{large:.2f} s for 12 KB whitespace lines"
    assert large < small * 40 + 0.05, f"{small:.4f} s -> {large:.4f} s"


def test_folding_keeps_the_document() -> None:
    parsed = notes.parse_document(_document(200), source="adversarial.md")
    assert parsed.topics  # the real notes are still all there
