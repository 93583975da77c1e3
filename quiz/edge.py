"""Flask wiring of the input checks: every JSON body and every integer in a URL is bounded."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter

from quiz.inputs import INT64_MAX, load_json


class CheckedJSONProvider(DefaultJSONProvider):
    """`request.get_json()` parses through `load_json`: depth, NUL, surrogates, 64-bit ints.

    A refusal raises InvalidInput (a ServiceError), which the one handler answers with a 400
    that says what is wrong, instead of a RecursionError escaping as a 500.
    """

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return load_json(s)


class Int64Converter(IntegerConverter):
    """`<int:id>` only matches ids a 64-bit column can hold (others are simply not found)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", INT64_MAX)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    app.json = CheckedJSONProvider(app)
    app.json.ensure_ascii = False
    app.url_map.converters["int"] = Int64Converter
