"""One transaction per request: the view's writes are committed in one place, after it returns.

Services flush and never commit; views never commit either. `TransactionalFlask` commits once
the view has returned (a GET is rolled back instead: reads never write) and rolls back before
any error handler runs, so a refusal or a crash leaves nothing half-written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, request
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError, OperationalError

from quiz.db import SAFE_METHODS, db
from quiz.errors import Conflict, Unavailable


class TransactionalFlask(Flask):
    """Flask with a request-scoped unit of work around every view."""

    def dispatch_request(self) -> Any:
        result = super().dispatch_request()
        finish_request()
        return result

    def handle_user_exception(self, e: Exception) -> Any:
        _rollback()
        return super().handle_user_exception(e)

    def handle_exception(self, e: Exception) -> Any:
        _rollback()
        return super().handle_exception(e)


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception:
        current_app.logger.exception("rollback failed")


def finish_request() -> None:
    """Commit a writing request's transaction; end a reading one without writing anything."""
    session = db.session
    if request.method in SAFE_METHODS:
        changed = bool(session.new or session.deleted) or any(
            session.is_modified(obj) for obj in session.dirty
        )
        session.rollback()
        if changed:
            message = f"{request.method} {request.path} tried to write to the database"
            if current_app.testing:
                raise RuntimeError(message)
            current_app.logger.error(message)
        return
    commit_early()


def commit_early() -> None:
    """Commit what the request has done so far (the request's commit, brought forward).

    Only for the grading path: the learner's code and a grading ticket must be kept before
    grading, which then runs for seconds with no transaction open. Later writes of the same
    request go into a new transaction, committed after the view as usual.
    """
    session = db.session
    try:
        session.commit()
    except IntegrityError as error:
        # A concurrent request got there first (a unique key, a deleted parent): nothing landed.
        session.rollback()
        raise Conflict(
            _("请求与同时进行的另一个操作冲突，没有保存任何更改，请刷新后重试。")
        ) from error
    except OperationalError as error:
        session.rollback()
        if "locked" not in str(error) and "busy" not in str(error):
            raise
        raise Unavailable(_("服务繁忙，没有保存任何更改，请稍后重试。"), retry_after=2) from error


def discard() -> None:
    """Undo everything the request has written so far; it carries on in a fresh transaction.

    For a view whose only write was refused and which then answers from what is stored (an
    answer's replay): cheaper than a savepoint around a write that almost always succeeds.
    """
    db.session.rollback()


@contextmanager
def attempt() -> Iterator[None]:
    """A block whose writes are undone if it raises (a SAVEPOINT); the error propagates.

    For views that catch a refusal and still answer normally (a flash and a redirect): the
    request's commit must not keep half of what the refused service call had flushed.
    """
    with db.session.begin_nested():
        yield


def use_deferred_transaction() -> None:
    """This writing request only reads until its very end: do not take SQLite's write lock
    up front (a login checks a slow password hash while holding no lock)."""
    from flask import g

    g.deferred_transaction = True
