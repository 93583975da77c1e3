"""Gunicorn settings that belong with the code: `scripts/run.sh` serves with `-c` this file."""

from __future__ import annotations

import gc
from typing import Any


def post_worker_init(worker: Any) -> None:
    """Once a worker has loaded the app, what it loaded (modules, the app, its caches: some
    126,000 objects) lives as long as the worker. Frozen, it leaves the collector's passes: a
    full pass over it took 70-150 ms here, a stall for whichever request triggered it."""
    gc.collect()
    gc.freeze()
