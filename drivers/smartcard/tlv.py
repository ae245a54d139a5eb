"""BER-TLV (ISO/IEC 7816-4 section 5.2) for the data objects cards return. Pure.

Tags of one to three bytes, lengths in short form (< 128) or long form (81 xx, 82 xxxx,
83 xxxxxx). Bytes 00 and FF between objects are padding, as 7816-4 allows, and are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from drivers.smartcard.errors import CardProtocolError

_PADDING = (0x00, 0xFF)


@dataclass(frozen=True)
class Tlv:
    """One data object. `tag` is the tag bytes read as a big-endian number (5F20 -> 0x5F20)."""

    tag: int
    value: bytes

    def encode(self) -> bytes:
        """Tag, length and value bytes."""
        return encode_tlv(self.tag, self.value)

    def __repr__(self) -> str:
        # Values can be personal (a name record): show the size only.
        return f"Tlv({self.tag:X}, [{len(self.value)} bytes])"


def _tag_bytes(tag: int) -> bytes:
    if not 0 <= tag <= 0xFFFFFF:
        raise ValueError(f"tag {tag:#x} does not fit three bytes")
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")


def encode_length(length: int) -> bytes:
    """A BER length field: one byte below 128, else 81/82/83 and the length."""
    if length < 0:
        raise ValueError("length must not be negative")
    if length < 0x80:
        return bytes((length,))
    size = (length.bit_length() + 7) // 8
    if size > 3:
        raise ValueError(f"length {length} needs more than three bytes")
    return bytes((0x80 | size,)) + length.to_bytes(size, "big")


def encode_tlv(tag: int, value: bytes) -> bytes:
    """Encode one data object."""
    return _tag_bytes(tag) + encode_length(len(value)) + bytes(value)


def encode_tlvs(items: Iterable[tuple[int, bytes]]) -> bytes:
    """Encode several data objects back to back."""
    return b"".join(encode_tlv(tag, value) for tag, value in items)


def _read_tag(data: bytes, pos: int) -> tuple[int, int]:
    first = data[pos]
    end = pos + 1
    if first & 0x1F == 0x1F:  # the tag continues while b8 of the next byte is set
        while True:
            if end >= len(data):
                raise CardProtocolError("TLV: the data ends inside a tag")
            end += 1
            if not data[end - 1] & 0x80:
                break
            if end - pos >= 3:
                raise CardProtocolError("TLV: tag longer than three bytes")
    return int.from_bytes(data[pos:end], "big"), end


def _read_length(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise CardProtocolError("TLV: the data ends before a length")
    first = data[pos]
    if first < 0x80:
        return first, pos + 1
    size = first & 0x7F
    if size == 0 or size > 3:
        raise CardProtocolError(f"TLV: unsupported length form {first:02X}")
    if pos + 1 + size > len(data):
        raise CardProtocolError("TLV: the data ends inside a length")
    return int.from_bytes(data[pos + 1 : pos + 1 + size], "big"), pos + 1 + size


def parse_tlvs(data: bytes) -> list[Tlv]:
    """All data objects in `data`, in order; `CardProtocolError` if any is truncated."""
    data = bytes(data)
    out: list[Tlv] = []
    pos = 0
    while pos < len(data):
        if data[pos] in _PADDING:
            pos += 1
            continue
        tag, pos = _read_tag(data, pos)
        length, pos = _read_length(data, pos)
        if pos + length > len(data):
            raise CardProtocolError(
                f"TLV: tag {tag:X} says {length} bytes, only {len(data) - pos} follow"
            )
        out.append(Tlv(tag, data[pos : pos + length]))
        pos += length
    return out


def tlv_dict(data: bytes) -> dict[int, bytes]:
    """Data objects by tag (the first of each tag wins)."""
    found: dict[int, bytes] = {}
    for item in parse_tlvs(data):
        found.setdefault(item.tag, item.value)
    return found
