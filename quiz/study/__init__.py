"""Study services: the daily queue, answering, undo, suspend/bury and leeches.

Functions take the session first, flush, and never commit: the request (or CLI command)
commits once, so a state change and its review-log row land in one transaction. When one
raises `StudyError`, the caller rolls the session back. Only `now` tells them the time.

- `settings`: a user's settings and the scheduler configuration they make;
- `state`: card-state rows, snapshots (undo, backups) and the study day;
- `queue`: the next card, today's counts, the empty-state summary;
- `answering`: answer, replay, drill reviews, undo;
- `actions`: suspend, bury and their undo.
"""

from quiz.scheduling import Rating
from quiz.study.actions import UNDOABLE_ACTIONS, bury, set_suspended, unbury, undo_card_action
from quiz.study.answering import (
    LEECH_REPEAT,
    LEECH_THRESHOLD,
    MAX_REQUEST_ID,
    AnswerResult,
    _apply,
    answer,
    find_replay,
    is_leech_lapse,
    schedule_drill_review,
    undo_last,
    undo_review,
    validate_rating,
)
from quiz.study.errors import Conflict, InvalidAnswer, NotFound, StudyError
from quiz.study.queue import (
    LEARN_AHEAD,
    Counts,
    DaySummary,
    QueueCard,
    StudyQueue,
    card_previews,
    day_summary,
    queue_card,
    study_queue,
    topic_id_for,
)
from quiz.study.settings import default_settings, fuzz_seed, scheduler_config, user_settings
from quiz.study.state import SNAPSHOT_FIELDS, _ensure_state, memory_of

__all__ = [
    "LEARN_AHEAD",
    "LEECH_REPEAT",
    "LEECH_THRESHOLD",
    "MAX_REQUEST_ID",
    "SNAPSHOT_FIELDS",
    "UNDOABLE_ACTIONS",
    "AnswerResult",
    "Conflict",
    "Counts",
    "DaySummary",
    "InvalidAnswer",
    "NotFound",
    "QueueCard",
    "Rating",
    "StudyError",
    "StudyQueue",
    "_apply",
    "_ensure_state",
    "answer",
    "bury",
    "card_previews",
    "day_summary",
    "default_settings",
    "find_replay",
    "fuzz_seed",
    "is_leech_lapse",
    "memory_of",
    "queue_card",
    "schedule_drill_review",
    "scheduler_config",
    "set_suspended",
    "study_queue",
    "topic_id_for",
    "unbury",
    "undo_card_action",
    "undo_last",
    "undo_review",
    "user_settings",
    "validate_rating",
]
