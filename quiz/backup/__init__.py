"""Export and import of one user's progress: the review log as CSV, and a full JSON backup.

The backup names cards by their stable `key`, never by database id, so it restores into another
database that holds the same notes. Import is allowed only into an account without history
(no card states, reviews, drafts, submissions or drill progress): merging two histories has no
exact answer, and replacing one silently would lose data. The importer validates the whole file
before it writes anything and only flushes; the caller commits once or rolls back.

- `format`: the file's name, version, limits and fields;
- `review_csv`: the review log as CSV;
- `export`: the full backup;
- `reading`: bounded decompression and parsing of an upload;
- `schema`: validation of every section;
- `restore`: the import.
"""

from quiz.backup.export import dump_backup, export_backup
from quiz.backup.format import (
    BACKUP_FORMAT,
    BACKUP_VERSION,
    DRAFT_FIELDS,
    DRILL_PROGRESS_FIELDS,
    LOG_FIELDS,
    MAX_BACKUP_BYTES,
    MAX_JSON_BYTES,
    MAX_JSON_VALUES,
    MAX_PARSE_COST,
    MAX_TEXT_BYTES,
    RATING_NAMES,
    SETTINGS_FIELDS,
    STATE_FIELDS,
    STATE_NAMES,
    SUBMISSION_FIELDS,
    BackupError,
)
from quiz.backup.reading import load_backup
from quiz.backup.restore import ImportReport, has_history, import_backup, one_import_per_user
from quiz.backup.review_csv import CSV_HEADER, review_log_csv
from quiz.backup.schema import SECTION_NAMES, UNIQUE_BY, ValidBackup, validate_backup

__all__ = [
    "BACKUP_FORMAT",
    "BACKUP_VERSION",
    "BackupError",
    "CSV_HEADER",
    "DRAFT_FIELDS",
    "DRILL_PROGRESS_FIELDS",
    "ImportReport",
    "LOG_FIELDS",
    "MAX_BACKUP_BYTES",
    "MAX_JSON_BYTES",
    "MAX_JSON_VALUES",
    "MAX_PARSE_COST",
    "MAX_TEXT_BYTES",
    "RATING_NAMES",
    "SECTION_NAMES",
    "SETTINGS_FIELDS",
    "STATE_FIELDS",
    "STATE_NAMES",
    "SUBMISSION_FIELDS",
    "UNIQUE_BY",
    "ValidBackup",
    "dump_backup",
    "export_backup",
    "has_history",
    "import_backup",
    "load_backup",
    "one_import_per_user",
    "review_log_csv",
    "validate_backup",
]
