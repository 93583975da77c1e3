"""English titles and statements of the drills, read from the drill files
(engine/drills/<id>/statement.en.md). Only what a learner reads before solving: the explanations
stay Chinese."""

from __future__ import annotations

DIFFICULTY = {"入门": "Beginner", "中等": "Intermediate", "进阶": "Advanced"}


def title(drill_id: str, default: str) -> str:
    from engine.drills import ENGLISH

    entry = ENGLISH.get(drill_id)
    return default if entry is None else entry.title


def statement_md(drill_id: str) -> str | None:
    """The English statement with the common rules, or None when there is none."""
    from engine.drills import ENGLISH

    entry = ENGLISH.get(drill_id)
    return None if entry is None else entry.statement_md
