"""Fit one user's FSRS-6 parameters from their review log with fsrs-rs-python (no torch).

`build_items` and `fit` are pure; `optimize_user` reads the log and stores the result (flush,
no commit). A fit is adopted only when it predicts the user's answers better (lower log loss)
than the parameters in use, as Anki does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from fsrs.scheduler import DEFAULT_PARAMETERS, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS
from fsrs_rs_python import FSRS, FSRSItem, FSRSReview
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quiz import studyday
from quiz.errors import ServiceError
from quiz.models import STATE_NEW, ReviewLog
from quiz.study import user_settings

MIN_REVIEWS = 400


class NotEnoughReviews(ServiceError):
    status = 422  # well-formed, but there is not enough history to fit parameters

    def __init__(self, have: int, need: int = MIN_REVIEWS) -> None:
        super().__init__(
            _(
                "需要至少 %(need)s 条复习记录才能优化参数（目前 %(have)s 条）。",
                need=need,
                have=have,
            )
        )
        self.have, self.need = have, need


@dataclass(frozen=True)
class LogEntry:
    card_id: int
    reviewed_at: datetime
    rating: int
    state_before: int


@dataclass(frozen=True)
class FitResult:
    parameters: list[float]
    loss_before: float
    loss_after: float
    items: int
    adopted: bool


def build_items(entries: Iterable[LogEntry], *, tz_name: str, rollover_hour: int) -> list[FSRSItem]:
    """Training items: for each card, every prefix of its history that ends on a later day.

    Days are study days (the user's zone and rollover hour), as FSRS counts elapsed time.
    A card's history starts at its last first answer (state_before NEW); cards whose first
    answer is missing are skipped, since FSRS needs to see the first rating.
    """
    by_card: dict[int, list[LogEntry]] = defaultdict(list)
    for entry in entries:
        by_card[entry.card_id].append(entry)
    dated: list[tuple[datetime, FSRSItem]] = []
    for history in by_card.values():
        history.sort(key=lambda e: e.reviewed_at)
        starts = [i for i, e in enumerate(history) if e.state_before == STATE_NEW]
        if not starts:
            continue
        reviews: list[FSRSReview] = []
        previous = None
        for entry in history[starts[-1] :]:
            day = studyday.study_day(entry.reviewed_at, tz_name, rollover_hour)
            delta = 0 if previous is None else (day - previous).days
            reviews.append(FSRSReview(entry.rating, delta))
            previous = day
            if delta > 0:
                dated.append((entry.reviewed_at, FSRSItem(list(reviews))))
    dated.sort(key=lambda pair: pair[0])
    return [item for _, item in dated if item.long_term_review_cnt() > 0]


def _clamp(parameters: Sequence[float]) -> list[float]:
    # fsrs-rs and py-fsrs share the bounds today; clamping keeps py-fsrs from refusing a fit.
    return [
        min(max(float(p), low), high)
        for p, low, high in zip(
            parameters, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS, strict=True
        )
    ]


def log_loss(items: Sequence[FSRSItem], parameters: Sequence[float] | None) -> float:
    return float(FSRS(list(parameters or DEFAULT_PARAMETERS)).evaluate(list(items)).log_loss)


def fit(items: Sequence[FSRSItem], current: Sequence[float] | None = None) -> FitResult:
    """Fit FSRS-6 on the items and compare with the parameters in use (None: defaults)."""
    before = log_loss(items, current)
    fitted = FSRS(list(DEFAULT_PARAMETERS)).compute_parameters(list(items))
    if len(fitted) != len(DEFAULT_PARAMETERS):
        raise ValueError(
            f"fsrs-rs returned {len(fitted)} parameters, expected {len(DEFAULT_PARAMETERS)}"
        )
    parameters = _clamp(fitted)
    after = log_loss(items, parameters)
    return FitResult(parameters, before, after, len(items), adopted=after < before)


def review_count(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count()).where(ReviewLog.user_id == user_id)) or 0


def optimize_user(
    session: Session, user_id: int, *, now: datetime, min_reviews: int = MIN_REVIEWS
) -> FitResult:
    """Fit the user's parameters from their whole log; store them if they predict better."""
    have = review_count(session, user_id)
    if have < min_reviews:
        raise NotEnoughReviews(have, min_reviews)
    settings = user_settings(session, user_id, create=True)
    rows = session.execute(
        select(
            ReviewLog.card_id, ReviewLog.reviewed_at, ReviewLog.rating, ReviewLog.state_before
        ).where(ReviewLog.user_id == user_id)
    )
    items = build_items(
        (LogEntry(*row) for row in rows),
        tz_name=settings.timezone,
        rollover_hour=settings.rollover_hour,
    )
    if not items:
        raise NotEnoughReviews(0, min_reviews)
    result = fit(items, settings.fsrs_parameters)
    settings.fsrs_optimized_at = now
    settings.fsrs_loss_before = result.loss_before
    settings.fsrs_loss_after = result.loss_after
    if result.adopted:
        settings.fsrs_parameters = result.parameters
    session.flush()
    return result
