"""Coding drills on the web side: statuses, drafts, submissions, reveal, review ratings.

Services take the session first and flush, never commit; callers pass `now`. Grading itself is
`engine.grader.grade`, a function of plain values that sends the code to the sandbox runners:
nothing here executes user code.

- `labels`, `errors`: the vocabulary and the refusal;
- `catalogue`: drills as the pages show them (statements, hints, solutions, examples);
- `progress`: statuses, the drill list, per-user progress;
- `drafts`: code validation and drafts;
- `admission`: rate limits, grading tickets, the grader gate;
- `submissions`: recording a graded submission and its history;
- `review`: rating proposals, reveal, the drill card's review rating."""

from quiz.drills.admission import (
    MAX_IN_FLIGHT,
    MAX_WAITING,
    TICKET_TTL,
    close_ticket,
    grade,
    grader_gate,
    open_ticket,
    submission_retry_after,
)
from quiz.drills.catalogue import (
    all_drills,
    display_difficulty,
    display_title,
    examples_json,
    find_drill,
    hints_html,
    max_source_bytes,
    require_drill,
    solution_html,
    statement_html,
)
from quiz.drills.drafts import (
    discard_review_draft,
    initial_code,
    load_draft,
    save_draft,
    validate_code,
)
from quiz.drills.errors import DrillError
from quiz.drills.labels import (
    AGAIN,
    DONE,
    EASY,
    GOOD,
    HARD,
    MODES,
    QUEUE_LABELS,
    QUEUED,
    RATING_LABELS,
    REVEAL_AFTER_FAILURES,
    REVIEW_SUFFIX,
    RUNNING,
    STATUS_LABELS,
    VERDICT_LABELS,
)
from quiz.drills.progress import (
    DrillRow,
    TopicGroup,
    can_reveal,
    drill_card,
    drill_cards,
    get_progress,
    group_by_topic,
    list_drills,
    progress_json,
    review_horizon,
    section_topics,
    shows_solution,
    status_of,
)
from quiz.drills.review import Proposal, RatingOutcome, RevealOutcome, rate, reveal
from quiz.drills.submissions import (
    SubmitOutcome,
    complete_submission,
    get_submission,
    list_submissions,
    new_submission,
    rating_for,
    record_submission,
    submission_json,
    submission_summary,
)

__all__ = [
    "RATING_LABELS",
    "AGAIN",
    "DrillError",
    "DrillRow",
    "EASY",
    "GOOD",
    "HARD",
    "MAX_IN_FLIGHT",
    "MAX_WAITING",
    "DONE",
    "MODES",
    "Proposal",
    "QUEUED",
    "QUEUE_LABELS",
    "REVEAL_AFTER_FAILURES",
    "REVIEW_SUFFIX",
    "RUNNING",
    "RatingOutcome",
    "RevealOutcome",
    "STATUS_LABELS",
    "SubmitOutcome",
    "TICKET_TTL",
    "TopicGroup",
    "VERDICT_LABELS",
    "all_drills",
    "can_reveal",
    "close_ticket",
    "complete_submission",
    "discard_review_draft",
    "display_difficulty",
    "display_title",
    "drill_card",
    "drill_cards",
    "examples_json",
    "find_drill",
    "get_progress",
    "get_submission",
    "grade",
    "grader_gate",
    "group_by_topic",
    "hints_html",
    "initial_code",
    "list_drills",
    "list_submissions",
    "load_draft",
    "max_source_bytes",
    "new_submission",
    "open_ticket",
    "progress_json",
    "rate",
    "rating_for",
    "record_submission",
    "require_drill",
    "reveal",
    "review_horizon",
    "save_draft",
    "section_topics",
    "shows_solution",
    "solution_html",
    "statement_html",
    "status_of",
    "submission_json",
    "submission_retry_after",
    "submission_summary",
    "validate_code",
]
