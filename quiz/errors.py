"""One family of refusals for every service: a status that maps onto HTTP and a Chinese message.

Services raise them; one handler (quiz.views.errors) answers JSON under /api and a page elsewhere,
after the request's transaction has been rolled back. Pure: no Flask, no database.

Every class takes the same arguments: `(message, status=None, **extra)`. A feature's own family
(StudyError, DrillError, InterviewError, AccountError, ApiError) subclasses ServiceError, and its
refusals inherit from both it and the status class below, so callers may catch either.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A request the service refuses. `message` tells the user, in Chinese, how to fix it."""

    status: int = 400

    def __init__(self, message: str, status: int | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        # Extra JSON fields for API clients (e.g. retry_after); never shown on pages.
        self.extra = extra


class InvalidInput(ServiceError):
    status = 400


class Forbidden(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class TooLarge(ServiceError):
    status = 413


class Unprocessable(ServiceError):
    status = 422


class TooManyRequests(ServiceError):
    status = 429


class Unavailable(ServiceError):
    status = 503
