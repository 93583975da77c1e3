"""The drill services' refusals: the family's classes (quiz.errors), caught together as DrillError."""

from __future__ import annotations

from quiz import errors


class DrillError(errors.ServiceError):
    """Any refusal of the drill services."""


class InvalidInput(DrillError, errors.InvalidInput):
    """Code or a rating the services cannot take as sent (400)."""


class Forbidden(DrillError, errors.Forbidden):
    """Not allowed yet, e.g. the solution before enough attempts (403)."""


class NotFound(DrillError, errors.NotFound):
    """No such drill or submission (404)."""


class Conflict(DrillError, errors.Conflict):
    """The drill's state changed meanwhile (409)."""


class TooLarge(DrillError, errors.TooLarge):
    """Code over the size limit (413)."""


class TooManyRequests(DrillError, errors.TooManyRequests):
    """Submission limits; `retry_after` in seconds (429)."""


class Unavailable(DrillError, errors.Unavailable):
    """The grader is busy; `retry_after` in seconds (503)."""
