"""IPP messages (RFC 8010 section 3) to and from bytes: the encoding a CUPS client needs.

Pure functions, no I/O: `encode_message` builds a request (or, in tests, a response) and
`decode_message` reads one. Both speak the whole attribute syntax of RFC 8010 3.5: groups,
1setOf values (additional values with an empty name), out-of-band values, integer, enum,
boolean, dateTime, resolution, rangeOfInteger, the character-string types, text and name with
a language, octetString and collections.

Why not a library: the permissive Python IPP packages were tried first. aioipp (MIT, the
maintained fork of pyipp) needs Python 3.14 from 0.19 on, its 0.18.1 installs as `pyipp` and
drags in aiohttp to import the codec; its encoder silently drops attributes outside a fixed
table, and its parser loops forever on a negative length and raises a handful of unrelated
exception types on damaged input. Others are servers, GPL, or unmaintained.

The decoder is written for hostile input: every length is checked against what is left before
anything is read, every step consumes at least one byte, collections may nest only
`MAX_COLLECTION_DEPTH` deep, and every failure is an `IppDecodeError`. So a damaged or foreign
answer costs one exception, never a hang, a crash or a huge allocation.

Decoded values: int (integer, enum), bool, str (all character-string types; text and name with
a language keep only the text), bytes (octetString and tags this module does not know),
`datetime` (aware), `Resolution`, `Range`, None (out-of-band: unsupported, unknown, no-value),
and for a collection a dict of member name to list of values.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import IntEnum
from typing import Any, NamedTuple


class IppEncodeError(ValueError):
    """A value cannot be encoded: wrong Python type for its tag, out of range, or too long."""


class IppDecodeError(ValueError):
    """The bytes are not a well-formed IPP message."""


class Tag(IntEnum):
    """Delimiter and value tags (RFC 8010 3.5.1 and 3.5.2)."""

    # Delimiters: each starts an attribute group, END closes the attribute part.
    OPERATION = 0x01
    JOB = 0x02
    END = 0x03
    PRINTER = 0x04
    UNSUPPORTED_GROUP = 0x05
    SUBSCRIPTION = 0x06
    EVENT_NOTIFICATION = 0x07
    RESOURCE = 0x08
    DOCUMENT = 0x09
    SYSTEM = 0x0A
    # Out-of-band values: the attribute has no value of its syntax.
    UNSUPPORTED = 0x10
    UNKNOWN = 0x12
    NO_VALUE = 0x13
    NOT_SETTABLE = 0x15
    DELETE_ATTRIBUTE = 0x16
    ADMIN_DEFINE = 0x17
    # Integer types.
    INTEGER = 0x21
    BOOLEAN = 0x22
    ENUM = 0x23
    # Octet-string types.
    OCTET_STRING = 0x30
    DATE_TIME = 0x31
    RESOLUTION = 0x32
    RANGE_OF_INTEGER = 0x33
    BEGIN_COLLECTION = 0x34
    TEXT_WITH_LANGUAGE = 0x35
    NAME_WITH_LANGUAGE = 0x36
    END_COLLECTION = 0x37
    # Character-string types.
    TEXT = 0x41
    NAME = 0x42
    KEYWORD = 0x44
    URI = 0x45
    URI_SCHEME = 0x46
    CHARSET = 0x47
    NATURAL_LANGUAGE = 0x48
    MIME_MEDIA_TYPE = 0x49
    MEMBER_ATTR_NAME = 0x4A
    EXTENSION = 0x7F  # the first four octets of the value hold the real tag


class Operation(IntEnum):
    """The operation ids this package sends (RFC 8011 5.4.15)."""

    PRINT_JOB = 0x0002
    CANCEL_JOB = 0x0008
    GET_JOB_ATTRIBUTES = 0x0009
    GET_PRINTER_ATTRIBUTES = 0x000B


# Status codes (RFC 8011 appendix B, and the PWG registry for the later ones), for messages
# when a response carries no status-message.
STATUS_NAMES: Mapping[int, str] = {
    0x0000: "successful-ok",
    0x0001: "successful-ok-ignored-or-substituted-attributes",
    0x0002: "successful-ok-conflicting-attributes",
    0x0400: "client-error-bad-request",
    0x0401: "client-error-forbidden",
    0x0402: "client-error-not-authenticated",
    0x0403: "client-error-not-authorized",
    0x0404: "client-error-not-possible",
    0x0405: "client-error-timeout",
    0x0406: "client-error-not-found",
    0x0407: "client-error-gone",
    0x0408: "client-error-request-entity-too-large",
    0x0409: "client-error-request-value-too-long",
    0x040A: "client-error-document-format-not-supported",
    0x040B: "client-error-attributes-or-values-not-supported",
    0x040C: "client-error-uri-scheme-not-supported",
    0x040D: "client-error-charset-not-supported",
    0x040E: "client-error-conflicting-attributes",
    0x040F: "client-error-compression-not-supported",
    0x0410: "client-error-compression-error",
    0x0411: "client-error-document-format-error",
    0x0412: "client-error-document-access-error",
    0x0500: "server-error-internal-error",
    0x0501: "server-error-operation-not-supported",
    0x0502: "server-error-service-unavailable",
    0x0503: "server-error-version-not-supported",
    0x0504: "server-error-device-error",
    0x0505: "server-error-temporary-error",
    0x0506: "server-error-not-accepting-jobs",
    0x0507: "server-error-busy",
    0x0508: "server-error-job-canceled",
    0x0509: "server-error-multiple-document-jobs-not-supported",
}


def status_name(code: int) -> str:
    """The RFC keyword of a status code, or its hex form when this module does not know it."""
    return STATUS_NAMES.get(code, f"status-0x{code:04x}")


class Resolution(NamedTuple):
    """A resolution value; `units` is 3 for dots per inch, 4 for dots per centimetre."""

    x: int
    y: int
    units: int = 3


DPI, DPCM = 3, 4


class Range(NamedTuple):
    """A rangeOfInteger value, both ends included."""

    lower: int
    upper: int


class WithLanguage(NamedTuple):
    """A text or name value with its own natural language (for encoding only)."""

    language: str
    text: str


class Attribute(NamedTuple):
    """One attribute: its name, the value tag of its values, and at least one value.

    A collection value, when encoding, is a sequence of member `Attribute`s.
    """

    name: str
    tag: int
    values: tuple[Any, ...]


def attr(name: str, tag: int, *values: Any) -> Attribute:
    """Shorthand for `Attribute(name, tag, values)`."""
    return Attribute(name, tag, values)


@dataclass(frozen=True)
class Group:
    """An attribute group as decoded: its delimiter tag and attributes by name, in order."""

    tag: int
    attributes: dict[str, Attribute] = field(default_factory=dict)


@dataclass(frozen=True)
class Message:
    """A decoded IPP request or response. `code` is the operation id or the status code."""

    version: tuple[int, int]
    code: int
    request_id: int
    groups: tuple[Group, ...]
    data: bytes = b""  # whatever follows the end-of-attributes tag (a document)

    def group(self, tag: int) -> dict[str, Attribute] | None:
        """The attributes of the first group with delimiter `tag`, or None if there is none."""
        for group in self.groups:
            if group.tag == tag:
                return group.attributes
        return None

    @property
    def status_message(self) -> str:
        """The operation group's status-message, or "" when the answer has none."""
        attrs = self.group(Tag.OPERATION) or {}
        found = attrs.get("status-message")
        if found is None or not found.values or not isinstance(found.values[0], str):
            return ""
        return found.values[0]


MAX_VALUE_LENGTH = 0x7FFF  # value-length is a SIGNED-SHORT on the wire (RFC 8010 3.1.5)
MAX_COLLECTION_DEPTH = 16  # CUPS nests media-col two deep; this leaves room, bounds the stack
_HEADER = struct.Struct(">BBHI")
_INT32 = struct.Struct(">i")
_RANGE = struct.Struct(">ii")
_RESOLUTION = struct.Struct(">iiB")
_DATE = struct.Struct(">HBBBBBBcBB")
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
# Character-string tags whose values are US-ASCII by definition (RFC 8011 5.1).
_ASCII_TAGS = frozenset(
    {Tag.KEYWORD, Tag.URI, Tag.URI_SCHEME, Tag.CHARSET, Tag.NATURAL_LANGUAGE, Tag.MIME_MEDIA_TYPE}
)


# -- encoding ------------------------------------------------------------------------------


def encode_message(
    code: int,
    request_id: int,
    groups: Iterable[tuple[int, Sequence[Attribute]]],
    *,
    data: bytes = b"",
    version: tuple[int, int] = (2, 0),
) -> bytes:
    """An IPP message: header, each (delimiter tag, attributes) group, end tag, then `data`."""
    major, minor = version
    if not (0 <= major <= 0xFF and 0 <= minor <= 0xFF):
        raise IppEncodeError(f"bad version {version!r}")
    if not 0 <= code <= 0xFFFF:
        raise IppEncodeError(f"operation or status code {code} does not fit 16 bits")
    if not 1 <= request_id <= _INT32_MAX:  # RFC 8010 3.1.3: 1 to 2**31-1
        raise IppEncodeError(f"request-id {request_id} is not from 1 to 2**31-1")
    out = bytearray(_HEADER.pack(major, minor, code, request_id))
    for tag, attributes in groups:
        if not (0x01 <= tag <= 0x0F) or tag == Tag.END:
            raise IppEncodeError(f"0x{tag:02x} is not a group delimiter tag")
        out.append(tag)
        for attribute in attributes:
            _encode_attribute(out, attribute)
    out.append(Tag.END)
    out += data
    return bytes(out)


def _encode_attribute(out: bytearray, attribute: Attribute) -> None:
    name, tag, values = attribute
    if not name:
        raise IppEncodeError("an attribute needs a name")
    if not values:
        raise IppEncodeError(f"{name}: an attribute needs at least one value (or NO_VALUE)")
    for index, value in enumerate(values):
        _encode_value(out, tag, name if index == 0 else "", value)


def _encode_value(out: bytearray, tag: int, name: str, value: Any) -> None:
    """One value with its tag and name (empty for additional values and collection members)."""
    if not 0x10 <= tag <= 0xFF:
        raise IppEncodeError(f"{name or 'value'}: 0x{tag:02x} is not a value tag")
    out.append(tag)
    _put_string(out, _ascii(name, "attribute name"))
    if tag == Tag.BEGIN_COLLECTION:
        out += b"\x00\x00"
        _encode_collection(out, name, value)
        return
    _put_string(out, _value_bytes(tag, name, value))


def _encode_collection(out: bytearray, name: str, members: Any) -> None:
    if not isinstance(members, Sequence) or not all(isinstance(m, Attribute) for m in members):
        raise IppEncodeError(f"{name}: a collection value is a sequence of member Attributes")
    for member in members:
        if not member.name or not member.values:
            raise IppEncodeError(f"{name}: each collection member needs a name and a value")
        _encode_value(out, Tag.MEMBER_ATTR_NAME, "", member.name)
        for value in member.values:
            _encode_value(out, member.tag, "", value)
    _encode_value(out, Tag.END_COLLECTION, "", b"")


def _value_bytes(tag: int, name: str, value: Any) -> bytes:
    """The value field of one value; IppEncodeError when `value` does not suit `tag`."""
    what = name or "value"
    if 0x10 <= tag <= 0x1F or tag == Tag.END_COLLECTION:
        if value not in (None, b""):
            raise IppEncodeError(f"{what}: an out-of-band value has no content")
        return b""
    if tag in (Tag.INTEGER, Tag.ENUM):
        return _INT32.pack(_int32(what, value))
    if tag == Tag.BOOLEAN:
        if not isinstance(value, bool):
            raise IppEncodeError(f"{what}: boolean expected, not {type(value).__name__}")
        return b"\x01" if value else b"\x00"
    if tag == Tag.RANGE_OF_INTEGER:
        if not isinstance(value, Range):
            raise IppEncodeError(f"{what}: Range expected, not {type(value).__name__}")
        if value.lower > value.upper:
            raise IppEncodeError(f"{what}: range {value.lower}-{value.upper} runs backwards")
        return _RANGE.pack(_int32(what, value.lower), _int32(what, value.upper))
    if tag == Tag.RESOLUTION:
        if not isinstance(value, Resolution) or not 0 <= value.units <= 0xFF:
            raise IppEncodeError(f"{what}: Resolution expected, not {value!r}")
        return _RESOLUTION.pack(_int32(what, value.x), _int32(what, value.y), value.units)
    if tag == Tag.DATE_TIME:
        return _date_bytes(what, value)
    if tag in (Tag.TEXT_WITH_LANGUAGE, Tag.NAME_WITH_LANGUAGE):
        if not isinstance(value, WithLanguage):
            raise IppEncodeError(f"{what}: WithLanguage expected, not {type(value).__name__}")
        out = bytearray()
        _put_string(out, _ascii(value.language, "natural language"))
        _put_string(out, _utf8(value.text, what))
        return bytes(out)
    if 0x40 <= tag <= 0x5F:  # character-string types
        if not isinstance(value, str):
            raise IppEncodeError(f"{what}: string expected, not {type(value).__name__}")
        return _ascii(value, what) if tag in _ASCII_TAGS else _utf8(value, what)
    if isinstance(value, bytes | bytearray):  # octetString, extension and unknown tags
        return bytes(value)
    raise IppEncodeError(f"{what}: bytes expected for tag 0x{tag:02x}, not {type(value).__name__}")


def _date_bytes(what: str, value: Any) -> bytes:
    """RFC 2579 DateAndTime, the 11-octet form with the offset from UTC."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise IppEncodeError(f"{what}: a datetime with a time zone expected")
    offset = value.utcoffset() or timedelta(0)
    sign = b"-" if offset < timedelta(0) else b"+"
    minutes = abs(int(offset.total_seconds())) // 60
    hours, minutes = divmod(minutes, 60)  # under 24 h: datetime allows no more
    return _DATE.pack(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond // 100_000,
        sign,
        hours,
        minutes,
    )


def _int32(what: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise IppEncodeError(f"{what}: integer expected, not {type(value).__name__}")
    if not _INT32_MIN <= value <= _INT32_MAX:
        raise IppEncodeError(f"{what}: {value} does not fit a signed 32-bit integer")
    return value


def _utf8(text: str, what: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, as os.fsdecode makes of a bad file name
        raise IppEncodeError(f"{what}: {text!r} is not valid Unicode text") from None


def _ascii(text: str, what: str) -> bytes:
    try:
        return text.encode("ascii")
    except UnicodeEncodeError:
        raise IppEncodeError(f"{what}: {text!r} must be US-ASCII") from None


def _put_string(out: bytearray, data: bytes) -> None:
    """A two-octet length, then the octets."""
    if len(data) > MAX_VALUE_LENGTH:
        raise IppEncodeError(f"{len(data)} octets is longer than IPP allows ({MAX_VALUE_LENGTH})")
    out += len(data).to_bytes(2, "big")
    out += data


# -- decoding ------------------------------------------------------------------------------


class _Reader:
    """A cursor over the message that never reads past its end."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, count: int) -> bytes:
        end = self.pos + count
        if end > len(self.data):
            raise IppDecodeError(
                f"truncated: {count} octet(s) expected at offset {self.pos}, "
                f"{len(self.data) - self.pos} left"
            )
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def short(self) -> int:
        # Unsigned: a length can never be negative, so no length ever moves the cursor back.
        return int.from_bytes(self.take(2), "big")

    def string(self) -> bytes:
        return self.take(self.short())


def decode_message(data: bytes) -> Message:
    """Decode an IPP message; IppDecodeError for anything that is not one, whatever the bytes."""
    if not isinstance(data, bytes):
        raise IppDecodeError(f"bytes expected, not {type(data).__name__}")
    if len(data) < _HEADER.size + 1:
        raise IppDecodeError(f"{len(data)} octet(s) is too short for an IPP message")
    reader = _Reader(data)
    major, minor, code, request_id = _HEADER.unpack(reader.take(_HEADER.size))
    if major not in (1, 2):  # IPP/1.0 to 2.2; also tells HTML or other text apart at once
        raise IppDecodeError(f"not an IPP message (version {major}.{minor})")
    groups: list[Group] = []
    current: Group | None = None
    last: str | None = None  # the attribute an additional value belongs to
    while True:
        tag = reader.byte()
        if tag == Tag.END:
            break
        if tag < 0x10:  # a delimiter: a new group starts
            if tag == 0x00:
                raise IppDecodeError(f"reserved delimiter tag 0x00 at offset {reader.pos - 1}")
            current = Group(tag)
            groups.append(current)
            last = None
            continue
        if current is None:
            raise IppDecodeError("an attribute comes before any attribute group")
        name = _text(reader.string(), "attribute name")
        value = _decode_value(reader, tag, depth=0)
        if name:
            current.attributes[name] = Attribute(name, tag, (value,))  # a repeat replaces
            last = name
        elif last is None:
            raise IppDecodeError("an additional value comes before any attribute")
        else:
            previous = current.attributes[last]
            current.attributes[last] = previous._replace(values=(*previous.values, value))
    return Message((major, minor), code, request_id, tuple(groups), data[reader.pos :])


def _decode_value(reader: _Reader, tag: int, depth: int) -> Any:
    raw = reader.string()
    if tag == Tag.BEGIN_COLLECTION:
        return _decode_collection(reader, depth + 1)  # `raw` is empty by RFC 8010 3.1.6
    if tag == Tag.END_COLLECTION:
        raise IppDecodeError("endCollection without begCollection")
    return _convert(tag, raw)


def _decode_collection(reader: _Reader, depth: int) -> dict[str, list[Any]]:
    """Member name / value pairs up to the matching endCollection (RFC 8010 3.1.6)."""
    if depth > MAX_COLLECTION_DEPTH:
        raise IppDecodeError(f"collections nested more than {MAX_COLLECTION_DEPTH} deep")
    members: dict[str, list[Any]] = {}
    member: str | None = None
    while True:
        tag = reader.byte()
        if tag < 0x10:
            raise IppDecodeError("a collection is not closed before the next group or the end")
        if reader.string():
            raise IppDecodeError("a collection member value has an attribute name")
        if tag == Tag.END_COLLECTION:
            reader.string()
            return members
        if tag == Tag.MEMBER_ATTR_NAME:
            member = _text(reader.string(), "member name")
            if not member:
                raise IppDecodeError("a collection member has an empty name")
            members[member] = []
            continue
        if member is None:
            raise IppDecodeError("a collection value comes before its member name")
        members[member].append(_decode_value(reader, tag, depth))


def _convert(tag: int, raw: bytes) -> Any:
    """A value field to its Python value by the tag's syntax."""
    if 0x10 <= tag <= 0x1F:
        return None
    if tag in (Tag.INTEGER, Tag.ENUM):
        return _INT32.unpack(_sized(raw, 4, tag))[0]
    if tag == Tag.BOOLEAN:
        return _sized(raw, 1, tag) != b"\x00"
    if tag == Tag.RANGE_OF_INTEGER:
        return Range(*_RANGE.unpack(_sized(raw, 8, tag)))
    if tag == Tag.RESOLUTION:
        return Resolution(*_RESOLUTION.unpack(_sized(raw, 9, tag)))
    if tag == Tag.DATE_TIME:
        return _date(_sized(raw, 11, tag))
    if tag in (Tag.TEXT_WITH_LANGUAGE, Tag.NAME_WITH_LANGUAGE):
        inner = _Reader(raw)
        _text(inner.string(), "natural language")
        text = inner.string()
        if inner.pos != len(raw):
            raise IppDecodeError(f"{len(raw) - inner.pos} stray octet(s) after a text value")
        return text.decode("utf-8", errors="replace")
    if 0x40 <= tag <= 0x5F:
        # A printer's status message in a broken charset should still be shown, not fail the
        # whole answer: undecodable octets become U+FFFD.
        return raw.decode("utf-8", errors="replace")
    return raw  # octetString, the extension tag, and tags this module does not know


def _sized(raw: bytes, size: int, tag: int) -> bytes:
    if len(raw) != size:
        raise IppDecodeError(f"a {Tag(tag).name} value is {size} octets, not {len(raw)}")
    return raw


def _date(raw: bytes) -> datetime:
    year, month, day, hour, minute, second, deci, sign, tz_hours, tz_minutes = _DATE.unpack(raw)
    if sign not in (b"+", b"-") or deci > 9 or tz_hours > 23 or tz_minutes > 59:
        raise IppDecodeError(f"not a dateTime value: {raw.hex()}")
    offset = timedelta(hours=tz_hours, minutes=tz_minutes)
    try:
        return datetime(
            year,
            month,
            day,
            hour,
            minute,
            min(second, 59),  # RFC 2579 allows a leap second (60); datetime does not
            deci * 100_000,
            tzinfo=timezone(-offset if sign == b"-" else offset),
        )
    except ValueError as exc:
        raise IppDecodeError(f"not a dateTime value: {exc}") from None


def _text(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise IppDecodeError(f"{what} is not UTF-8: {raw[:40]!r}") from None
