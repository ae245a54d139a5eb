"""The strict subset of RFC 8941 structured fields that kiosk signatures use.

Only what `Signature-Input`, `Signature` and `Content-Digest` need: a dictionary of one or more
members whose values are an inner list of strings with parameters (integers or strings), or a
byte sequence. Anything else is refused with `SfvError`; no input makes these parsers crash.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

MAX_FIELD = 4096  # far above what a kiosk sends; bounds the work a hostile header can cause

_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]{0,63}")
_INTEGER = re.compile(r"-?[0-9]{1,15}")
_STRING = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"')
_BYTES = re.compile(r":([A-Za-z0-9+/=]*):")
_OWS = re.compile(r"[ \t]*")
_SP = re.compile(r" *")

Param = int | str


class SfvError(ValueError):
    """The field is not in the accepted structured-field form."""


@dataclass(frozen=True)
class InnerList:
    """`("a" "b");k=v` -- the items (strings only) and the parameters in order."""

    items: tuple[str, ...]
    params: tuple[tuple[str, Param], ...]


class _Cursor:
    def __init__(self, text: str) -> None:
        if len(text) > MAX_FIELD:
            raise SfvError("field too long")
        if not text.isascii():
            raise SfvError("field is not ASCII")
        self.text = text
        self.pos = 0

    def match(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        found = pattern.match(self.text, self.pos)
        if found:
            self.pos = found.end()
        return found

    def expect(self, pattern: re.Pattern[str], what: str) -> re.Match[str]:
        found = self.match(pattern)
        if found is None:
            raise SfvError(f"expected {what} at {self.pos}")
        return found

    def take(self, char: str) -> bool:
        if self.text.startswith(char, self.pos):
            self.pos += len(char)
            return True
        return False

    def done(self) -> bool:
        return self.pos >= len(self.text)


def _string(cursor: _Cursor) -> str:
    raw = cursor.expect(_STRING, "a string").group(1)
    return raw.replace('\\"', '"').replace("\\\\", "\\")


def _byte_sequence(cursor: _Cursor) -> bytes:
    raw = cursor.expect(_BYTES, "a byte sequence").group(1)
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SfvError("bad base64 in a byte sequence") from exc


def _params(cursor: _Cursor) -> tuple[tuple[str, Param], ...]:
    params: list[tuple[str, Param]] = []
    while cursor.take(";"):
        cursor.match(_SP)
        key = cursor.expect(_KEY, "a parameter name").group(0)
        if not cursor.take("="):
            raise SfvError(f"parameter {key} has no value")
        value: Param
        if cursor.text.startswith('"', cursor.pos):
            value = _string(cursor)
        else:
            value = int(cursor.expect(_INTEGER, "an integer or a string").group(0))
        if any(name == key for name, _ in params):
            raise SfvError(f"parameter {key} given twice")
        params.append((key, value))
    return tuple(params)


def _inner_list(cursor: _Cursor) -> InnerList:
    if not cursor.take("("):
        raise SfvError("expected an inner list")
    items: list[str] = []
    cursor.match(_SP)
    while not cursor.take(")"):
        if items and not cursor.match(re.compile(r" +")):
            raise SfvError("inner list items must be separated by spaces")
        if cursor.take(")"):
            break
        items.append(_string(cursor))
        if cursor.text.startswith(";", cursor.pos):
            raise SfvError("parameters on covered components are not supported")
        if cursor.done():
            raise SfvError("unterminated inner list")
    return InnerList(tuple(items), _params(cursor))


def _dictionary(text: str, member: type[InnerList] | type[bytes]) -> dict[str, InnerList | bytes]:
    cursor = _Cursor(text)
    members: dict[str, InnerList | bytes] = {}
    cursor.match(_SP)
    while True:
        key = cursor.expect(_KEY, "a member name").group(0)
        if not cursor.take("="):
            raise SfvError(f"member {key} has no value")
        value: InnerList | bytes
        if member is InnerList:
            value = _inner_list(cursor)
        else:
            value = _byte_sequence(cursor)
            if _params(cursor):
                raise SfvError("parameters on a byte sequence are not supported")
        if key in members:
            raise SfvError(f"member {key} given twice")
        members[key] = value
        cursor.match(_OWS)
        if cursor.done():
            return members
        if not cursor.take(","):
            raise SfvError(f"expected ',' at {cursor.pos}")
        cursor.match(_OWS)
        if cursor.done():
            raise SfvError("trailing comma")


def parse_inner_lists(text: str) -> dict[str, InnerList]:
    """`Signature-Input`: label -> inner list with parameters."""
    return {
        key: value
        for key, value in _dictionary(text, InnerList).items()
        if isinstance(value, InnerList)
    }


def parse_byte_sequences(text: str) -> dict[str, bytes]:
    """`Signature` and `Content-Digest`: label -> bytes."""
    return {
        key: value for key, value in _dictionary(text, bytes).items() if isinstance(value, bytes)
    }


def serialize_string(value: str) -> str:
    if not all(0x20 <= ord(char) <= 0x7E for char in value):
        raise SfvError("strings must be printable ASCII")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def serialize_inner_list(inner: InnerList) -> str:
    """The canonical form, which is also the `@signature-params` line of the signature base."""
    items = " ".join(serialize_string(item) for item in inner.items)
    params = "".join(
        f";{key}={value}" if isinstance(value, int) else f";{key}={serialize_string(value)}"
        for key, value in inner.params
    )
    return f"({items}){params}"


def serialize_bytes(value: bytes) -> str:
    return ":" + base64.b64encode(value).decode("ascii") + ":"
