"""Flask wiring of the input checks: every JSON body and every integer in a URL is bounded,
and no text from a URL, query string or form carries NUL or a lone surrogate."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter

from quiz.inputs import INT32_MAX, check_text, load_json


class CheckedJSONProvider(DefaultJSONProvider):
    """`request.get_json()` parses through `load_json`: depth, NUL, surrogates, 64-bit ints.

    A refusal raises InvalidInput (a ServiceError), which the one handler answers with a 400
    that says what is wrong, instead of a RecursionError escaping as a 500.
    """

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return load_json(s)


class IdConverter(IntegerConverter):
    """`<int:id>` only matches ids an Integer column can hold on either database (32 bits on
    PostgreSQL): others are simply not found, instead of a DataError there."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", INT32_MAX)
        super().__init__(map, *args, **kwargs)


def refuse_unstorable_text() -> None:
    """NUL (which PostgreSQL refuses in text, and SQLite would store silently) or a lone
    surrogate in a query argument, form field or URL segment: a 400 saying so (check_text),
    on either database, before any view or query sees it. JSON bodies are checked by
    `load_json`."""
    texts = [*request.args.keys(), *request.args.values()]
    texts += [v for v in (request.view_args or {}).values() if isinstance(v, str)]
    # Only url-encoded forms: parsing a multipart upload here would run before the upload
    # views set their own size limits (backup import), and their files are checked there.
    if request.method not in ("GET", "HEAD", "OPTIONS") and (
        request.mimetype == "application/x-www-form-urlencoded"
    ):
        texts += [*request.form.keys(), *request.form.values()]
    for text in texts:
        check_text(text)


def init_app(app: Flask) -> None:
    app.before_request(refuse_unstorable_text)
    app.json = CheckedJSONProvider(app)
    app.json.ensure_ascii = False
    app.url_map.converters["int"] = IdConverter
