"""The real app served from a thread on a local port, for the browser tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy.pool import NullPool
from werkzeug.serving import make_server

from app import create_app


@contextmanager
def served_app(config: dict[str, Any]) -> Iterator[tuple[Flask, str]]:
    """`create_app(config)` served on 127.0.0.1; yields the app and its base URL.

    Without a connection pool: the browser outlives the server (the page fixture closes after
    the server fixture), and a request it sends late or one still running at shutdown would
    leave a pooled connection that nobody closes, a ResourceWarning on PostgreSQL. Here every
    connection is closed when its request ends.
    """
    app = create_app({**config, "SQLALCHEMY_ENGINE_OPTIONS": {"poolclass": NullPool}})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
