"""Raw value codec shared by the trusted side and the sandboxed child.

Only the standard library and NumPy are imported here: the warm runner loads this file by path,
without the `engine` package, so nothing of the grader is ever importable inside a submission.

A value is a tag byte followed by its payload (little-endian throughout):

    N None · T True · F False · i int64 · I big int (decimal text) · f float64
    s str (u64 length + UTF-8) · b bytes (u64 length) · t tuple (u32 count + items)
    d dict with str keys (u32 count + key/value pairs)
    a array: dtype code byte, ndim byte, ndim u64 dims, then the raw buffer (C order)

Arrays carry only the dtypes in `DTYPES`; pickle and object dtypes never cross the boundary. The
decoder checks every count and length against what is left of the buffer before allocating.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

DTYPES: dict[bytes, np.dtype] = {
    b"e": np.dtype("<f2"),
    b"f": np.dtype("<f4"),
    b"d": np.dtype("<f8"),
    b"i": np.dtype("<i4"),
    b"l": np.dtype("<i8"),
    b"?": np.dtype("?"),
}
# (kind, itemsize) -> wire code; big-endian arrays are byte-swapped to little-endian first.
_CODES: dict[tuple[str, int], bytes] = {(dt.kind, dt.itemsize): c for c, dt in DTYPES.items()}

MAX_DEPTH = 32
MAX_NDIM = 32
MAX_BIGINT_DIGITS = 1000
_FRAME = struct.Struct("<Q")
_I64 = struct.Struct("<q")
_F64 = struct.Struct("<d")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


class WireError(ValueError):
    """A value that cannot be encoded, or bytes that are not a valid encoding."""


# --- encoding (used on both sides; in the child it may meet arbitrary user objects) ---------


class Encoded:
    """Chunks already produced by `encode_parts`, embedded verbatim (encode a value only once)."""

    __slots__ = ("parts",)

    def __init__(self, parts: list[bytes | memoryview]) -> None:
        self.parts = parts


def encode(value: Any) -> bytes:
    """Encode `value`; raise WireError for anything outside the allowed value types."""
    return b"".join(encode_parts(value))


def encode_parts(value: Any) -> list[bytes | memoryview]:
    """Encode as a list of chunks; array buffers are views, not copies (for large results)."""
    out: list[bytes | memoryview] = []
    _encode(value, out, 0)
    return out


def _encode(value: Any, out: list[bytes | memoryview], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    kind = type(value)
    # Exact type checks first: user subclasses of int/float/tuple get no say in their encoding.
    if value is None:
        out.append(b"N")
    elif kind is bool:
        out.append(b"T" if value else b"F")
    elif kind is int:
        if -(2**63) <= value < 2**63:
            out.append(b"i" + _I64.pack(value))
        else:
            text = int.__repr__(value).encode()
            if len(text) > MAX_BIGINT_DIGITS:
                raise WireError("integer too large")
            out.append(b"I" + _U64.pack(len(text)) + text)
    elif kind is float:
        out.append(b"f" + _F64.pack(value))
    elif kind is str:
        data = str.encode(value, "utf-8", "surrogatepass")
        out.append(b"s" + _U64.pack(len(data)) + data)
    elif kind is bytes:
        out.append(b"b" + _U64.pack(len(value)) + value)
    elif kind is tuple or kind is list:
        out.append(b"t" + _U32.pack(len(value)))
        for item in value:
            _encode(item, out, depth + 1)
    elif kind is dict:
        out.append(b"d" + _U32.pack(len(value)))
        for key, item in value.items():
            if type(key) is not str:
                raise WireError("dict keys must be str")
            _encode(key, out, depth + 1)
            _encode(item, out, depth + 1)
    elif kind is Encoded:
        out.extend(value.parts)
    elif isinstance(value, np.ndarray):
        _encode_array(value, out)
    elif isinstance(value, np.generic):
        # NumPy scalars keep their dtype: they travel as 0-d arrays.
        _encode_array(np.array(value), out)
    else:
        raise WireError(f"unsupported value of type {kind.__name__}")


def _encode_array(value: np.ndarray, out: list[bytes | memoryview]) -> None:
    # View as a plain ndarray so subclass hooks (__array_finalize__, __getitem__) play no part.
    arr = np.ndarray.view(value, np.ndarray)
    dt = arr.dtype
    code = _CODES.get((dt.kind, dt.itemsize))
    if code is None or dt.hasobject or dt.fields is not None:
        raise WireError(f"unsupported array dtype {dt}")
    if arr.ndim > MAX_NDIM:
        raise WireError("array has too many dimensions")
    arr = arr.astype(DTYPES[code], order="C", copy=False)
    head = code + bytes([arr.ndim])
    head += b"".join(_U64.pack(n) for n in arr.shape)
    out.append(b"a" + head)
    if arr.nbytes:
        out.append(arr.data.cast("B"))


def frame(payload: bytes) -> bytes:
    """Length-prefix one record."""
    return _FRAME.pack(len(payload)) + payload


def frame_header(length: int) -> bytes:
    return _FRAME.pack(length)


FRAME_HEADER_SIZE = _FRAME.size


def parse_frame_header(head: bytes) -> int:
    return int(_FRAME.unpack(head)[0])


# --- decoding (trusted side: every length is checked before anything is allocated) ----------


def decode(
    data: bytes | memoryview,
    *,
    max_items: int | None = None,
    max_depth: int = MAX_DEPTH,
    budget: Budget | None = None,
) -> Any:
    """Decode exactly one value that fills `data`.

    `max_items` bounds the tuple items and dict entries decoded (checked before each container
    is built), `max_depth` the nesting: a stream of tiny items costs at most that much work.
    A `budget` shared between several calls bounds a whole stream instead.
    """
    view = memoryview(data).cast("B")
    if budget is None:
        budget = Budget(max_items, max_depth)
    value, pos = _decode(view, 0, 0, len(view), budget)
    if pos != len(view):
        raise WireError("trailing bytes after value")
    return value


class Budget:
    """Items and nesting depth a decode may still spend (see `decode`)."""

    __slots__ = ("items", "depth")

    def __init__(self, items: int | None, depth: int) -> None:
        self.items = items
        self.depth = depth

    def take(self, count: int) -> None:
        if self.items is not None:
            self.items -= count
            if self.items < 0:
                raise WireError("too many items")


_T_NONE, _T_TRUE, _T_FALSE, _T_INT, _T_FLOAT = b"NTFif"
_T_BIGINT, _T_STR, _T_BYTES, _T_TUPLE, _T_DICT, _T_ARRAY = b"Isbtda"
_DTYPE_BY_BYTE = {code[0]: dt for code, dt in DTYPES.items()}


def _decode(view: memoryview, pos: int, depth: int, end: int, budget: Budget) -> tuple[Any, int]:
    # On the hot path of every grading: int tags, inline bounds checks, few helper calls.
    if depth > budget.depth:
        raise WireError("value nested too deeply")
    if pos >= end:
        raise WireError("truncated value")
    tag = view[pos]
    pos += 1
    if tag == _T_ARRAY:
        return _decode_array(view, pos, end)
    if tag in (_T_STR, _T_BYTES, _T_BIGINT):
        if pos + 8 > end:
            raise WireError("truncated value")
        n = _U64.unpack_from(view, pos)[0]
        pos += 8
        if pos + n > end:
            raise WireError("truncated value")
        raw = bytes(view[pos : pos + n])
        pos += n
        if tag == _T_BYTES:
            return raw, pos
        try:
            text = raw.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError as exc:
            raise WireError("invalid text") from exc
        if tag == _T_STR:
            return text, pos
        if n > MAX_BIGINT_DIGITS or not text.lstrip("-").isdigit() or not text.isascii():
            raise WireError("invalid integer")
        return int(text), pos
    if tag in (_T_TUPLE, _T_DICT):
        if pos + 4 > end:
            raise WireError("truncated value")
        count = _U32.unpack_from(view, pos)[0]
        pos += 4
        # Every item takes at least one byte (two for a dict entry): reject impossible counts.
        if pos + count * (2 if tag == _T_DICT else 1) > end:
            raise WireError("truncated value")
        budget.take(count)
        if tag == _T_TUPLE:
            items = []
            for _ in range(count):
                item, pos = _decode(view, pos, depth + 1, end, budget)
                items.append(item)
            return tuple(items), pos
        result: dict[str, Any] = {}
        for _ in range(count):
            key, pos = _decode(view, pos, depth + 1, end, budget)
            if type(key) is not str:
                raise WireError("dict key is not str")
            result[key], pos = _decode(view, pos, depth + 1, end, budget)
        return result, pos
    if tag in (_T_INT, _T_FLOAT):
        if pos + 8 > end:
            raise WireError("truncated value")
        return (_I64 if tag == _T_INT else _F64).unpack_from(view, pos)[0], pos + 8
    if tag == _T_NONE:
        return None, pos
    if tag == _T_TRUE:
        return True, pos
    if tag == _T_FALSE:
        return False, pos
    raise WireError(f"unknown tag {tag!r}")


def _decode_array(view: memoryview, pos: int, end: int) -> tuple[np.ndarray, int]:
    if pos + 2 > end:
        raise WireError("truncated value")
    dtype = _DTYPE_BY_BYTE.get(view[pos])
    ndim = view[pos + 1]
    pos += 2
    if dtype is None:
        raise WireError(f"dtype code {view[pos - 2]!r} not allowed")
    if ndim > MAX_NDIM:
        raise WireError("array has too many dimensions")
    if pos + 8 * ndim > end:
        raise WireError("truncated value")
    shape = struct.unpack_from(f"<{ndim}Q", view, pos)
    pos += 8 * ndim
    count = 1
    for n in shape:
        count *= n  # Python ints: no overflow, checked against the bytes actually present
    nbytes = count * dtype.itemsize
    if pos + nbytes > end:
        raise WireError("truncated value")
    arr = np.frombuffer(view, dtype=dtype, count=count, offset=pos).reshape(shape).copy()
    return arr, pos + nbytes


def iter_frames(data: bytes | memoryview, max_frames: int) -> Any:
    """Yield the payloads (views, no copies) of the length-prefixed records in `data`, in order.

    Raises WireError at the first empty record or at record number `max_frames + 1`, after
    yielding the good ones before it: callers decode as they go and stop at the first bad
    record. A record cut short at the end (a writer killed mid-record) just ends the stream.
    """
    view = memoryview(data).cast("B")
    pos, count, end = 0, 0, len(view)
    while pos < end:
        if count >= max_frames:
            raise WireError("too many records")
        if pos + _FRAME.size > end:
            return
        (n,) = _FRAME.unpack_from(view, pos)
        if n == 0:
            raise WireError("empty record")
        pos += _FRAME.size
        if pos + n > end:
            return
        count += 1
        yield view[pos : pos + n]
        pos += n


class FrameReader:
    """Split a byte stream into length-prefixed records, refusing records over `max_record`."""

    def __init__(self, max_record: int) -> None:
        self.max_record = max_record
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        records = []
        while len(self._buf) >= _FRAME.size:
            (n,) = _FRAME.unpack_from(self._buf, 0)
            if n > self.max_record:
                raise WireError("record too large")
            if len(self._buf) < _FRAME.size + n:
                break
            records.append(bytes(self._buf[_FRAME.size : _FRAME.size + n]))
            del self._buf[: _FRAME.size + n]
        return records

    @property
    def pending(self) -> int:
        return len(self._buf)
