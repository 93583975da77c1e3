"""The drill services' refusal."""

from __future__ import annotations

from quiz.errors import ServiceError


class DrillError(ServiceError):
    """A request the drill services refuse; `status` maps onto HTTP, `message` is for the user."""

    def __init__(self, status: int, message: str, *, retry_after: int | None = None) -> None:
        extra = {} if retry_after is None else {"retry_after": retry_after}
        super().__init__(message, status, **extra)
        self.retry_after = retry_after
