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
        out.append(b"b" + _U64.pack(len(value)))
        out.append(value)  # its own chunk: a result stream is not copied to be framed
    elif kind is tuple or kind is list:
        out.append(b"t" + _U32.pack(len(value)))
        for item in value:
            _encode(item, out, depth + 1)
    elif kind is dict:
        out.append(b"d" + _U32.pack(len(value)))
        for key, item in value.items():
            if type(key) is not str:
                raise WireError("dict keys must be str")
            if depth >= MAX_DEPTH:
                raise WireError("value nested too deeply")  # what encoding the key raises
            data = str.encode(key, "utf-8", "surrogatepass")  # the key, as _encode writes it
            out.append(b"s" + _U64.pack(len(data)) + data)
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


def frame_length_at(buf: bytes | bytearray, pos: int) -> int:
    """The length in the frame header at `pos` of `buf` (which holds the whole header)."""
    return int(_FRAME.unpack_from(buf, pos)[0])


# --- decoding (trusted side: every length is checked before anything is allocated) ----------


class Known:
    """A value whose exact encoding the caller expects (it sent it): see `decode`'s `known`."""

    __slots__ = ("raw", "value", "items")

    def __init__(self, raw: bytes, value: Any, items: int) -> None:
        self.raw = raw  # the encoding
        self.value = value  # what decoding `raw` gives (shared: keep it read-only)
        self.items = items  # the tuple items and dict entries decoding `raw` spends


def known(value: Any, max_depth: int) -> Known | None:
    """A `Known` for `value` as a field of a dict decoded with depth limit `max_depth`; None if
    it would be too deep there (decoding it then raises, as it must)."""
    raw = encode(value)
    budget = Budget(1 << 62, max_depth)
    try:
        decoded, _ = _decode(memoryview(raw).cast("B"), 0, 1, len(raw), budget)
    except WireError:
        return None
    _freeze(decoded)
    return Known(raw, decoded, (1 << 62) - (budget.items or 0))


def _freeze(value: Any) -> None:
    if type(value) is np.ndarray:
        value.flags.writeable = False
    elif type(value) is tuple:
        for item in value:
            _freeze(item)
    elif type(value) is dict:
        for item in value.values():
            _freeze(item)


def decode(
    data: bytes | memoryview,
    *,
    max_items: int | None = None,
    max_depth: int = MAX_DEPTH,
    budget: Budget | None = None,
    known: dict[str, Known] | None = None,
) -> Any:
    """Decode exactly one value that fills `data`.

    `max_items` bounds the tuple items and dict entries decoded (checked before each container
    is built), `max_depth` the nesting: a stream of tiny items costs at most that much work.
    A `budget` shared between several calls bounds a whole stream instead.

    `known`: where `data` is a dict, the fields whose value is expected to be, byte for byte, a
    `Known`'s encoding; when it is, the field gets the Known's value (the same budget spent)
    without decoding it again (a call's arguments echoed back unchanged).
    """
    view = memoryview(data).cast("B")
    if budget is None:
        budget = Budget(max_items, max_depth)
    value, pos = _decode(view, 0, 0, len(view), budget, known)
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
_SHAPES = [struct.Struct(f"<{n}Q") for n in range(MAX_NDIM + 1)]


def _decode(
    view: memoryview,
    pos: int,
    depth: int,
    end: int,
    budget: Budget,
    known: dict[str, Known] | None = None,
) -> tuple[Any, int]:
    # On the hot path of every grading: int tags tested in order of frequency (strings, which
    # dict keys are, and arrays first), inline bounds checks.
    if depth > budget.depth:
        raise WireError("value nested too deeply")
    if pos >= end:
        raise WireError("truncated value")
    tag = view[pos]
    pos += 1
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
    if tag == _T_ARRAY:
        return _decode_array(view, pos, end)
    if tag == _T_FLOAT:
        if pos + 8 > end:
            raise WireError("truncated value")
        return _F64.unpack_from(view, pos)[0], pos + 8
    if tag in (_T_TUPLE, _T_DICT):
        if pos + 4 > end:
            raise WireError("truncated value")
        count = _U32.unpack_from(view, pos)[0]
        pos += 4
        # Every item takes at least one byte (two for a dict entry): reject impossible counts.
        if pos + count * (2 if tag == _T_DICT else 1) > end:
            raise WireError("truncated value")
        if budget.items is not None:  # Budget.take, inline
            budget.items -= count
            if budget.items < 0:
                raise WireError("too many items")
        depth += 1
        if tag == _T_TUPLE:
            items = []
            for _ in range(count):
                item, pos = _decode(view, pos, depth, end, budget)
                items.append(item)
            return tuple(items), pos
        result: dict[str, Any] = {}
        for _ in range(count):
            key, pos = _decode(view, pos, depth, end, budget)
            if type(key) is not str:
                raise WireError("dict key is not str")
            expected = known.get(key) if known is not None else None
            if expected is not None and bytes(view[pos : pos + len(expected.raw)]) == expected.raw:
                if budget.items is not None:  # what decoding it would have spent
                    budget.items -= expected.items
                    if budget.items < 0:
                        raise WireError("too many items")
                value = expected.value
                result[key] = dict(value) if type(value) is dict else value
                pos += len(expected.raw)
                continue
            result[key], pos = _decode(view, pos, depth, end, budget)
        return result, pos
    if tag == _T_INT:
        if pos + 8 > end:
            raise WireError("truncated value")
        return _I64.unpack_from(view, pos)[0], pos + 8
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
    shape = _SHAPES[ndim].unpack_from(view, pos)
    pos += 8 * ndim
    count = 1
    for n in shape:
        count *= n  # Python ints: no overflow, checked against the bytes actually present
    nbytes = count * dtype.itemsize
    if pos + nbytes > end:
        raise WireError("truncated value")
    # A copy of the bytes in place (the constructor reads the buffer; ValueError for a shape
    # NumPy cannot hold, as reshape would): half the cost of frombuffer + reshape + copy.
    arr = np.ndarray(shape, dtype, view, pos).copy()
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

    def feed(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        buf = self._buf
        if not buf:  # records straight from `data`; only an incomplete tail is kept
            return self._split(memoryview(data).cast("B"))
        buf += data
        records = []
        pos = 0
        with memoryview(buf) as view:  # one copy per record, not a bytearray slice and a copy
            while len(buf) - pos >= _FRAME.size:
                (n,) = _FRAME.unpack_from(buf, pos)
                if n > self.max_record:
                    view.release()
                    del buf[:pos]
                    raise WireError("record too large")
                if len(buf) - pos < _FRAME.size + n:
                    break
                records.append(bytes(view[pos + _FRAME.size : pos + _FRAME.size + n]))
                pos += _FRAME.size + n
        if pos:
            del buf[:pos]
        return records

    def _split(self, view: memoryview) -> list[bytes]:
        records = []
        pos, end = 0, len(view)
        while end - pos >= _FRAME.size:
            (n,) = _FRAME.unpack_from(view, pos)
            if n > self.max_record:
                raise WireError("record too large")
            if end - pos < _FRAME.size + n:
                break
            records.append(bytes(view[pos + _FRAME.size : pos + _FRAME.size + n]))
            pos += _FRAME.size + n
        self._buf += view[pos:]
        return records

    @property
    def pending(self) -> int:
        return len(self._buf)
