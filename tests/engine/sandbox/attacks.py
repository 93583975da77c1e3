"""Hostile programs shared by the confidentiality tests (pool, grader, CLI and API).

Markers are "ZQX" followed by 24 hex digits. A thief knows only the prefix: it reports every
"ZQX" + 24-hex string it can find in its frames, in `gc`, and in every readable page of its own
address space, so its own source never contains a victim's marker. It also plants one marker of
its own (`SELF`) and must find it: proof that the scan really ran.
"""

from __future__ import annotations

import secrets

import numpy as np

PREFIX = "ZQX"
SELF_TOKEN = "5e1f" * 6


def token() -> str:
    return secrets.token_hex(12)


def victim_source(source_token: str, result_token: str, printed_token: str) -> str:
    """A relu answer holding a marker in its source, its printed output and its result."""
    hidden_result = result_token[::-1]
    hidden_print = printed_token[::-1]
    return f"""
import numpy as np
SECRET = "{PREFIX}{source_token}"
KEEP = [SECRET * 3]

def relu(x):
    print("{PREFIX}" + "{hidden_print}"[::-1])
    raw = ("{PREFIX}" + "{hidden_result}"[::-1]).encode().ljust(32, b"\\0")
    return np.frombuffer(raw, dtype=np.float64).copy()
"""


def marker_array(input_token: str) -> np.ndarray:
    """An input whose raw bytes spell a marker (what the runner forwards to the child)."""
    raw = (PREFIX + input_token).encode().ljust(32, b"\0")
    return np.frombuffer(raw, dtype=np.float64).copy()


THIEF = r"""
import ctypes, gc, re, sys
import numpy as np

MINE = "ZQX" + "5e1f" * 6
PATTERN = re.compile(rb"ZQX([0-9a-f]{24})")


def _scan_memory(found):
    scanned = 0
    with open("/proc/self/maps") as fh:
        maps = fh.read().splitlines()
    for line in maps:
        addr, perms = line.split()[:2]
        # [vvar*]/[vsyscall] fault when read; everything else readable is fair game.
        if perms[0] != "r" or " [v" in line:
            continue
        lo, hi = (int(v, 16) for v in addr.split("-"))
        step = 1 << 22
        for at in range(lo, hi, step):
            chunk = ctypes.string_at(at, min(hi - at, step + 64))
            scanned += len(chunk)
            found.update(m.decode() for m in PATTERN.findall(chunk))
    return scanned


def _scan_objects(found):
    text = re.compile(r"ZQX([0-9a-f]{24})")
    for obj in gc.get_objects():
        if isinstance(obj, (str, bytes)):
            items = [obj]
        elif isinstance(obj, dict):
            items = [v for v in obj.values() if isinstance(v, (str, bytes))]
        else:
            continue
        for item in items:
            s = item if isinstance(item, str) else item.decode("latin-1")
            found.update(text.findall(s))
    frame = sys._getframe()
    while frame is not None:
        for value in list(frame.f_locals.values()):
            found.update(text.findall(repr(value)[:100000]))
        frame = frame.f_back


def relu(x):
    found = set()
    _scan_objects(found)
    scanned = _scan_memory(found)
    mine = "5e1f" * 6
    print("SELF", mine in found, "SCANNED", scanned // 2**20, "OTHER", sorted(found - {mine})[:8])
    return np.maximum(x, 0)
"""
