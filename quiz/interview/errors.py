"""The mock interview's refusals: the family's classes (quiz.errors), caught as InterviewError."""

from __future__ import annotations

from quiz import errors


class InterviewError(errors.ServiceError):
    """Any refusal of the interview services."""


class InvalidInput(InterviewError, errors.InvalidInput):
    """An answer, topic list or point list the service cannot take as sent (400)."""


class NotFound(InterviewError, errors.NotFound):
    """No such interview or question (404)."""


class Conflict(InterviewError, errors.Conflict):
    """The interview or question is past the asked step (409)."""


class TooLarge(InterviewError, errors.TooLarge):
    """An answer over the size limit (413)."""
