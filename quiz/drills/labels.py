"""The drill pages' fixed vocabulary: ratings, statuses, verdicts, modes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from quiz.scheduling import RATING_LABELS as RATING_LABELS
from quiz.scheduling import Rating

AGAIN, HARD, GOOD, EASY = Rating.AGAIN, Rating.HARD, Rating.GOOD, Rating.EASY
STATUS_LABELS = {
    "new": _l("未开始"),
    "attempted": _l("尝试中"),
    "solved": _l("已解决"),
    "due": _l("待复习"),
}
VERDICT_LABELS = {
    "accepted": _l("通过"),
    "wrong_answer": _l("答案错误"),
    "syntax_error": _l("语法错误"),
    "runtime_error": _l("运行错误"),
    "time_limit_exceeded": _l("超出时间限制"),
    "memory_limit_exceeded": _l("超出内存限制"),
    "output_limit_exceeded": _l("输出超出限制"),
    "internal_error": _l("评测系统内部错误"),
}
MODES = ("run", "submit")
# A submission's life: queued (waiting for a grader), running (a grader claimed it), done.
QUEUED, RUNNING, DONE = "queued", "running", "done"
QUEUE_LABELS = {QUEUED: _l("排队中"), RUNNING: _l("评测中"), DONE: _l("已完成")}
REVEAL_AFTER_FAILURES = 3
# The review draft lives in the same table under a suffixed id, so review mode starts blank
# without touching the everyday draft, and code typed during a review is still never lost.
REVIEW_SUFFIX = "@review"
