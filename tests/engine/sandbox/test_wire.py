"""The raw-array codec: faithful round trips, and a decoder that trusts no length."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from engine.sandbox import wire


@pytest.mark.parametrize("dtype", ["<f2", "<f4", "<f8", "<i4", "<i8", "?", ">f8", ">i4", "=f4"])
def test_arrays_round_trip_as_little_endian(dtype: str) -> None:
    arr = (np.arange(24).reshape(2, 3, 4) % 3).astype(dtype)
    back = wire.decode(wire.encode(arr))
    assert type(back) is np.ndarray and back.dtype == np.dtype(dtype).newbyteorder("<")
    assert back.flags.writeable and back.flags.c_contiguous
    np.testing.assert_array_equal(back, arr)


def test_values_round_trip() -> None:
    value = (
        None,
        True,
        False,
        -(2**63),
        2**100,
        1.5,
        float("nan"),
        "文字",
        b"\x00raw",
        (np.zeros((0, 3)), np.float32(2.5), np.array(3, dtype=np.int64)),
        {"axis": -1},
        [1, 2],
    )
    back = wire.decode(wire.encode(value))
    assert back[:5] == (None, True, False, -(2**63), 2**100)
    assert np.isnan(back[6]) and back[7] == "文字" and back[8] == b"\x00raw"
    assert back[9][0].shape == (0, 3) and back[9][1].shape == () and back[9][1].dtype == np.float32
    assert back[10] == {"axis": -1} and back[11] == (1, 2)  # lists travel as tuples


def test_strided_and_subclass_arrays_are_sent_as_plain_data() -> None:
    class Sub(np.ndarray):
        def __eq__(self, other: object) -> bool:  # type: ignore[override]
            return True

    arr = np.arange(12.0).reshape(3, 4)[:, ::2].view(Sub)
    back = wire.decode(wire.encode(arr))
    assert type(back) is np.ndarray
    np.testing.assert_array_equal(back, np.arange(12.0).reshape(3, 4)[:, ::2])


@pytest.mark.parametrize(
    "value",
    [
        np.array([1, "a"], dtype=object),
        np.zeros(2, np.uint8),
        np.zeros(2, complex),
        np.zeros(2, "M8[s]"),
        object(),
        {1: 2},
        np.zeros(3, [("a", "<f8")]),
    ],
    ids=["object", "uint8", "complex", "datetime", "object()", "int-key", "structured"],
)
def test_encoder_refuses_unsupported(value: object) -> None:
    with pytest.raises(wire.WireError):
        wire.encode(value)


def _array_header(code: bytes, shape: tuple[int, ...]) -> bytes:
    return b"a" + code + bytes([len(shape)]) + b"".join(struct.pack("<Q", n) for n in shape)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"X",
        b"i\x00\x00",
        _array_header(b"O", (1,)) + b"\x00" * 8,  # object dtype code
        _array_header(b"d", (2**40, 2**40)),  # claims petabytes, has none: no allocation
        _array_header(b"d", (3,)) + b"\x00" * 16,  # one element short
        b"a" + b"d" + bytes([33]) + b"\x00" * (8 * 33),  # too many dimensions
        b"t" + struct.pack("<I", 2**31),  # impossible count
        b"s" + struct.pack("<Q", 2**60) + b"abc",
        b"s" + struct.pack("<Q", 2) + b"\xff\xfe",  # invalid UTF-8
        b"I" + struct.pack("<Q", 3) + b"1e9",  # not an integer
        b"t" + struct.pack("<I", 1) * 40 + b"N",  # nested beyond MAX_DEPTH
        b"d" + struct.pack("<I", 1) + b"i" + b"\x00" * 8 + b"N",  # non-str key
        b"NN",  # trailing bytes
    ],
)
def test_decoder_rejects_malformed_input(data: bytes) -> None:
    with pytest.raises(wire.WireError):
        wire.decode(data)


def test_frame_reader_splits_and_caps() -> None:
    reader = wire.FrameReader(max_record=16)
    stream = wire.frame(b"abc") + wire.frame(b"") + wire.frame(b"x" * 16)
    records = []
    for i in range(len(stream)):  # byte by byte: partial headers and payloads
        records += reader.feed(stream[i : i + 1])
    assert records == [b"abc", b"", b"x" * 16] and reader.pending == 0
    with pytest.raises(wire.WireError):
        reader.feed(wire.frame(b"y" * 17))


def test_encoded_parts_are_embedded_verbatim() -> None:
    arr = np.arange(4.0)
    inner = wire.Encoded(wire.encode_parts(arr))
    back = wire.decode(wire.encode({"value": inner}))
    np.testing.assert_array_equal(back["value"], arr)


def test_frame_reader_takes_views_and_keeps_a_partial_record() -> None:
    reader = wire.FrameReader(max_record=1 << 20)
    stream = wire.frame(b"abc") + wire.frame(b"d" * 100)
    assert reader.feed(memoryview(stream)[:20]) == [b"abc"] and reader.pending == 9
    assert reader.feed(bytearray(stream[20:])) == [b"d" * 100] and reader.pending == 0


def test_a_known_field_is_taken_as_sent_when_its_bytes_match() -> None:
    sent = (np.arange(6.0).reshape(2, 3), 2.5, (1, None))
    known = wire.known(sent, wire.MAX_DEPTH)
    assert known is not None and not known.value[0].flags.writeable
    same = wire.encode({"kind": "call", "args_after": sent})
    back = wire.decode(same, known={"args_after": known})
    assert back["args_after"] is known.value  # not decoded again
    changed = (np.arange(6.0).reshape(2, 3) + 1, 2.5, (1, None))
    back = wire.decode(wire.encode({"args_after": changed}), known={"args_after": known})
    assert back["args_after"] is not known.value
    np.testing.assert_array_equal(back["args_after"][0], changed[0])
    # The same budget is spent either way: a stream that is over its items stays over.
    spent = wire.Budget(1000, wire.MAX_DEPTH)
    wire.decode(same, budget=spent)
    items = 1000 - (spent.items or 0)
    with pytest.raises(wire.WireError, match="too many items"):
        wire.decode(
            same, budget=wire.Budget(items - 1, wire.MAX_DEPTH), known={"args_after": known}
        )
    wire.decode(same, budget=wire.Budget(items, wire.MAX_DEPTH), known={"args_after": known})
    # Too deep for the limit: no shortcut, the decoder refuses it as before.
    assert wire.known(((((1,),),),), 3) is None
