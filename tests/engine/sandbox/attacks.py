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


REPORT = []


def relu(x):
    if not REPORT:  # one scan per child is enough (and keeps within the CPU limit)
        found = set()
        _scan_objects(found)
        scanned = _scan_memory(found)
        mine = "5e1f" * 6
        REPORT.append(f"SELF {mine in found} SCANNED {scanned // 2**20} OTHER {sorted(found - {mine})[:8]}")
    print(REPORT[0])
    return np.maximum(x, 0)
"""


# --- amplification: result streams that would be expensive for the trusted side to decode -----

_FLOOD_HEAD = r'''
import os, struct
import numpy as np

def _s(text):
    data = text.encode()
    return b"s" + struct.pack("<Q", len(data)) + data

def _frame(payload):
    return struct.pack("<Q", len(payload)) + payload

def _record(value_bytes):
    """A call record {kind, index, status, value} whose value is `value_bytes`, raw."""
    head = b"d" + struct.pack("<I", 4) + _s("kind") + _s("call") + _s("index") + b"i" + struct.pack("<q", 0)
    return head + _s("status") + _s("ok") + _s("value") + value_bytes

LOAD = _frame(b"d" + struct.pack("<I", 2) + _s("kind") + _s("load") + _s("status") + _s("ok"))
BUDGET = 8 * 2**20 - 4096  # just under the default result_bytes

def _send(data):
    view = memoryview(data)
    while view:
        view = view[os.write(3, view):]
'''

AMPLIFICATION = {
    # A tuple of ~8 million None: one byte each on the wire.
    "tuple_of_millions_of_none": _FLOOD_HEAD
    + r"""
def relu(x):
    n = BUDGET - 200
    _send(LOAD + _frame(_record(b"t" + struct.pack("<I", n) + b"N" * n)))
    os._exit(0)
""",
    # About a million empty frames.
    "millions_of_empty_frames": _FLOOD_HEAD
    + r"""
def relu(x):
    _send(LOAD + b"\0" * 8 * (BUDGET // 8 - 8))
    os._exit(0)
""",
    # About a million one-byte frames, each a valid value.
    "millions_of_tiny_frames": _FLOOD_HEAD
    + r"""
def relu(x):
    _send(LOAD + _frame(b"N") * (BUDGET // 9 - 8))
    os._exit(0)
""",
    # A tuple nested 100 000 deep.
    "deep_nesting": _FLOOD_HEAD
    + r"""
def relu(x):
    depth = 100_000
    _send(LOAD + _frame(_record(b"t" + struct.pack("<I", 1)) * 1 + (b"t" + struct.pack("<I", 1)) * depth + b"N"))
    os._exit(0)
""",
    # Many small dicts and strings in the warnings field of a genuine call.
    "warnings_and_dicts": _FLOOD_HEAD
    + r"""
def relu(x):
    n = 400_000
    item = b"d" + struct.pack("<I", 1) + _s("k") + b"N"
    value = b"t" + struct.pack("<I", n) + item * n
    _send(LOAD + _frame(_record(value)))
    os._exit(0)
""",
    # Counts that claim far more items than there are bytes.
    "lying_counts": _FLOOD_HEAD
    + r"""
def relu(x):
    _send(LOAD + _frame(_record(b"t" + struct.pack("<I", 2**32 - 1) + b"N" * 1000)))
    _send(_frame(b"a" + b"d" + bytes([2]) + struct.pack("<QQ", 2**40, 2**40)))
    os._exit(0)
""",
    # No end record ever: stdout as fast as the pipe takes it, until the wall limit.
    "stdout_flood_until_the_deadline": _FLOOD_HEAD
    + r"""
def relu(x):
    chunk = b"z" * 65536
    while True:
        os.write(1, chunk)
""",
    # The end record, then output on every stream for as long as it is not killed.
    "writes_on_after_the_end": _FLOOD_HEAD
    + r"""
def relu(x):
    _send(LOAD)
    _send(_frame(b"d" + struct.pack("<I", 1) + _s("kind") + _s("end")))
    chunk = b"y" * 65536
    while True:
        for fd in (1, 2):
            try:
                os.write(fd, chunk)
            except OSError:
                pass
""",
}
