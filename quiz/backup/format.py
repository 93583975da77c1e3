"""The backup file's format: name, version, size limits, the fields of each section, and the refusal."""

from __future__ import annotations

import re

from quiz.errors import ServiceError
from quiz.scheduling import RATING_LABELS, STATE_LABELS
from quiz.study import SNAPSHOT_FIELDS

BACKUP_FORMAT = "mlquiz-progress-backup"
BACKUP_VERSION = 1
MAX_BACKUP_BYTES = 20 * 1024 * 1024  # the uploaded file (plain or gzip)
# After decompression (~1 KB per review: tens of thousands of reviews fit), and what parsing
# may build: a bomb of any shape is refused before it costs a worker more than ~256 MB.
MAX_JSON_BYTES = 50 * 1024 * 1024
MAX_TEXT_BYTES = 64 * 1024 * 1024  # the decoded text in memory
MAX_JSON_VALUES = 1_000_000
# What parsing may cost, estimated from the bytes before parsing (see _parse_cost): with a
# worker's ~130 MB at rest this keeps a bomb of any shape under 256 MB (test_import_memory).
MAX_PARSE_COST = 90 * 1024 * 1024
_STEP = 1024 * 1024
_WIDE = re.compile(rb"[\xf0-\xf4]")  # lead bytes of characters beyond the BMP (4 bytes each)
_MEDIUM = re.compile(rb"[\xc4-\xef]")  # lead bytes of characters from U+0100 (2 bytes each)
_CHUNK = 500  # ids per IN (...) list, well under every database's parameter limit

RATING_NAMES = RATING_LABELS  # the CSV's rating column
STATE_NAMES = STATE_LABELS


SETTINGS_FIELDS = (
    "desired_retention",
    "new_per_day",
    "reviews_per_day",
    "timezone",
    "rollover_hour",
    "learning_steps",
    "relearning_steps",
    "reveal_all",
    "fsrs_parameters",
    "fsrs_optimized_at",
    "fsrs_loss_before",
    "fsrs_loss_after",
)
STATE_FIELDS = SNAPSHOT_FIELDS
LOG_FIELDS = (
    "rating",
    "reviewed_at",
    "duration_ms",
    "state_before",
    "state_after",
    "before",
    "after",
    "request_id",
)
DRAFT_FIELDS = ("drill_id", "code", "updated_at")
SUBMISSION_FIELDS = (
    "drill_id",
    "mode",
    "code",
    "verdict",
    "passed",
    "total",
    "time_ms",
    "sandboxed",
    "result",
    "created_at",
)
DRILL_PROGRESS_FIELDS = (
    "drill_id",
    "submits",
    "failed_submits",
    "attempts_to_first_accept",
    "solved_at",
    "revealed_at",
)


class BackupError(ServiceError):
    """A problem with a backup file; the message is Chinese and says how to fix it."""
