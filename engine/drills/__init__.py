"""The drill catalogue: what the learner reads, starts from, and sees after solving.

The drills are data, one folder each beside this file (see `engine.drills.loader`), read and
validated once at import. Test cases live in `engine.cases`; the visible ones are rendered into
`Drill.examples` for display.
"""

from __future__ import annotations

from engine.drills.loader import DrillDataError, load_catalogue
from engine.drills.model import (
    SECTION_ACTIVATIONS,
    SECTION_BACKPROP,
    SECTION_NORMALIZATION,
    TOPIC_BACKPROP,
    TOPIC_STRUCTURE,
    Drill,
    English,
    Example,
)

__all__ = [
    "DRILLS",
    "ENGLISH",
    "SECTION_ACTIVATIONS",
    "SECTION_BACKPROP",
    "SECTION_NORMALIZATION",
    "TOPIC_BACKPROP",
    "TOPIC_STRUCTURE",
    "Drill",
    "DrillDataError",
    "English",
    "Example",
    "get_drill",
]

_DRILL_LIST, ENGLISH = load_catalogue()

DRILLS: dict[str, Drill] = {drill.id: drill for drill in _DRILL_LIST}


def get_drill(drill_id: str) -> Drill:
    """The drill with this id; raises KeyError if there is none."""
    return DRILLS[drill_id]
