"""The study services' refusals: the family's classes (quiz.errors), caught together as StudyError."""

from __future__ import annotations

from quiz import errors


class StudyError(errors.ServiceError):
    """Any refusal of the study services (callers catch this one to roll back and answer)."""


class InvalidAnswer(StudyError, errors.InvalidInput):
    """An answer or action the API cannot take as sent (400)."""


class NotFound(StudyError, errors.NotFound):
    """No such card, or nothing to undo (404)."""


class Conflict(StudyError, errors.Conflict):
    """The card changed since it was shown (409)."""
