"""What every card layout shares: card types, fixed UCS-2 fields, codes, dates, a masked repr.

A text block is 256 bytes of UCS-2 little-endian fixed-width fields padded with spaces. Which
fields, in which order, depends on the card type, named by a one-character flag in bytes
248-249 (blank for a resident card). A `Layout` lists the fields of one type in card order; its
sizes add up to the 256 bytes, so encoding is the exact inverse of decoding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cached_property
from typing import Any

from drivers.idcard.codec import TEXT_SIZE
from drivers.idcard.errors import CardDataError, InvalidFieldError
from rules.masking import mask_id_number, mask_name

LONG_TERM = "长期"
FLAG_OFFSET = 248
_SPACE = " ".encode("utf-16-le")


class CardType(StrEnum):
    """Which layout the text block uses, from the flag in bytes 248-249."""

    RESIDENT = "resident"
    HK_MO_TW_RESIDENCE = "hk_mo_tw_residence"
    FOREIGN_PERMANENT_2017 = "foreign_permanent_2017"
    FOREIGN_PERMANENT_2023 = "foreign_permanent_2023"

    @property
    def flag(self) -> str:
        """The character stored in bytes 248-249 (a space for a resident card)."""
        return _FLAGS_BY_TYPE.get(self, " ")


CARD_FLAGS: dict[str, CardType] = {
    "J": CardType.HK_MO_TW_RESIDENCE,
    "I": CardType.FOREIGN_PERMANENT_2017,
    "Y": CardType.FOREIGN_PERMANENT_2023,
}
_FLAGS_BY_TYPE = {card_type: flag for flag, card_type in CARD_FLAGS.items()}
_CARD_TYPE_NAMES = {
    CardType.RESIDENT: "居民身份证",
    CardType.HK_MO_TW_RESIDENCE: "港澳台居民居住证",
    CardType.FOREIGN_PERMANENT_2017: "外国人永久居留身份证（2017）",
    CardType.FOREIGN_PERMANENT_2023: "外国人永久居留身份证（2023）",
}


def card_type_label(card_type: CardType) -> str:
    """The Chinese name of a card type, for messages."""
    return _CARD_TYPE_NAMES[card_type]


def detect_card_type(text: bytes) -> CardType:
    """The layout named by the flag in bytes 248-249 of a text block.

    A blank flag is a resident card. Unknown flags are treated as resident too, as reader
    vendors do, because old resident cards may carry anything there; field validation then
    catches a layout that really differs.
    """
    if len(text) != TEXT_SIZE:
        raise CardDataError(f"text block of {len(text)} bytes, expected {TEXT_SIZE}")
    flag = text[FLAG_OFFSET : FLAG_OFFSET + 2]
    if flag[1] == 0 and chr(flag[0]) in CARD_FLAGS:
        return CARD_FLAGS[chr(flag[0])]
    return CardType.RESIDENT


class Sex(StrEnum):
    """GB/T 2261.1 sex, valued by the label printed on the card."""

    UNKNOWN = "未知"
    MALE = "男"
    FEMALE = "女"
    UNSTATED = "未说明"

    @property
    def code(self) -> str:
        """The one-digit code stored on the card."""
        return _SEX_CODES[self]

    @classmethod
    def from_code(cls, code: str) -> Sex:
        """The sex for a card code, or `InvalidFieldError`."""
        for sex, sex_code in _SEX_CODES.items():
            if sex_code == code:
                return sex
        raise InvalidFieldError(f"sex code {code!r} is not one of 0, 1, 2, 9 (GB/T 2261.1)")


_SEX_CODES = {Sex.UNKNOWN: "0", Sex.MALE: "1", Sex.FEMALE: "2", Sex.UNSTATED: "9"}


def coerce_sex(value: object) -> Sex:
    """A `Sex` from a `Sex` or its label, or `InvalidFieldError`."""
    if isinstance(value, Sex):
        return value
    if isinstance(value, str) and value in Sex._value2member_map_:
        return Sex(value)
    raise InvalidFieldError("sex must be one of 男, 女, 未知, 未说明")


@dataclass(frozen=True)
class Layout:
    """The fixed fields of one card type, in card order, as (name, size in bytes)."""

    card_type: CardType
    fields: tuple[tuple[str, int], ...]

    def __post_init__(self) -> None:
        total = sum(size for _, size in self.fields)
        if total != TEXT_SIZE or self.span("flag") != (FLAG_OFFSET, 2):
            raise ValueError(f"{self.card_type} layout covers {total} bytes or misplaces the flag")

    @cached_property
    def spans(self) -> dict[str, tuple[int, int]]:
        """Each field's (offset, size)."""
        spans: dict[str, tuple[int, int]] = {}
        offset = 0
        for name, size in self.fields:
            spans[name] = (offset, size)
            offset += size
        return spans

    def span(self, name: str) -> tuple[int, int]:
        """One field's (offset, size)."""
        return self.spans[name]

    def raw(self, block: bytes, name: str) -> str:
        """A field's text with its padding kept; `CardDataError` if it is not valid UCS-2."""
        offset, size = self.span(name)
        try:
            return bytes(block[offset : offset + size]).decode("utf-16-le")
        except UnicodeDecodeError:
            raise CardDataError(f"{name} is not valid UCS-2 text") from None

    def decode(self, block: bytes) -> dict[str, str]:
        """Every field's text, padding (spaces, NULs) stripped from the right."""
        if len(block) != TEXT_SIZE:
            raise CardDataError(f"text block of {len(block)} bytes, expected {TEXT_SIZE}")
        return {name: self.raw(block, name).rstrip(" \x00") for name, _ in self.fields}

    def encode(self, values: Mapping[str, str]) -> bytes:
        """Lay out raw field strings (missing ones blank) without validating their contents.

        The flag is set from the card type. Raises `ValueError` naming a value that does not fit.
        """
        unknown = set(values) - set(self.spans)
        if unknown:
            raise ValueError(f"no field {sorted(unknown)[0]!r} in the {self.card_type} layout")
        block = bytearray(_SPACE * (TEXT_SIZE // 2))
        for name, (offset, size) in self.spans.items():
            if name == "flag":
                continue
            block[offset : offset + size] = pad_field(name, values.get(name, ""), size)
        block[FLAG_OFFSET : FLAG_OFFSET + 2] = self.card_type.flag.encode("utf-16-le")
        return bytes(block)


def pad_field(name: str, value: str, size: int) -> bytes:
    """A value as UCS-2 padded with spaces to `size` bytes; `ValueError` if it does not fit."""
    raw = value.encode("utf-16-le", "surrogatepass")
    if len(raw) > size:
        raise ValueError(f"{name} needs {len(raw)} bytes, the field holds {size}")
    return raw + _SPACE * ((size - len(raw)) // 2)


def check_text(field: str, value: str, max_units: int, *, required: bool = True) -> None:
    """A text field: no padding or control characters, at most `max_units` UCS-2 units."""
    if not isinstance(value, str):
        raise InvalidFieldError(f"{field} must be text")
    if not value:
        if required:
            raise InvalidFieldError(f"{field} is empty")
        return
    if value != value.strip() or any(ord(char) < 0x20 or char == "\x7f" for char in value):
        raise InvalidFieldError(f"{field} has padding or control characters")
    units = len(value.encode("utf-16-le", "surrogatepass")) // 2
    if units > max_units:
        raise InvalidFieldError(f"{field} has {units} UCS-2 characters, at most {max_units} fit")


def check_code(field: str, value: str, pattern_chars: str, length: range) -> None:
    """A short code made only of `pattern_chars`, its length within `length`."""
    if not isinstance(value, str) or len(value) not in length:
        raise InvalidFieldError(f"{field} must have {length.start}-{length.stop - 1} characters")
    if any(char not in pattern_chars for char in value):
        raise InvalidFieldError(f"{field} has characters outside {pattern_chars[:12]}...")


def parse_yyyymmdd(text: str, field: str) -> date:
    """A card date (YYYYMMDD), or `InvalidFieldError` naming the field."""
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        raise InvalidFieldError(f"{field} is not an 8-digit YYYYMMDD date")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise InvalidFieldError(f"{field} is not a real calendar date") from None


def parse_valid_to(text: str) -> date | None:
    """The expiry field: a date, or None for 长期 (no expiry)."""
    return None if text == LONG_TERM else parse_yyyymmdd(text, "valid_to")


def parse_count(text: str, field: str) -> int:
    """A two-digit count (签发次数, 换证次数)."""
    if len(text) != 2 or not text.isascii() or not text.isdigit():
        raise InvalidFieldError(f"{field} is not a two-digit count")
    return int(text)


def yyyymmdd(day: date) -> str:
    """A date as the card stores it."""
    # strftime("%Y") does not zero-pad years before 1000 on glibc.
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def valid_to_text(day: date | None) -> str:
    """The expiry as the card stores it."""
    return yyyymmdd(day) if day is not None else LONG_TERM


def check_validity(birth: date, valid_from: date, valid_to: date | None) -> None:
    """Validity dates in a possible order."""
    if valid_from < birth:
        raise InvalidFieldError("valid_from is before the birth date")
    if valid_to is not None and valid_to < valid_from:
        raise InvalidFieldError("valid_to is before valid_from")


def check_bytes(field: str, value: object) -> bytes:
    """Raw card files (photo, fingerprints) as immutable bytes."""
    if not isinstance(value, bytes | bytearray | memoryview):
        raise InvalidFieldError(f"{field} must be bytes")
    return bytes(value)


class MaskedRecord:
    """What every card record shares: normalised common fields, and a repr that masks.

    Records end up in logs and tracebacks; the repr never shows who a card belongs to.
    """

    def _normalise_common(self) -> None:
        """Sex as the enum, photo and fingerprint checked as bytes (frozen dataclasses)."""
        record: Any = self
        object.__setattr__(self, "sex", coerce_sex(record.sex))
        object.__setattr__(self, "photo_wlt", check_bytes("photo_wlt", record.photo_wlt))
        object.__setattr__(self, "fingerprint", check_bytes("fingerprint", record.fingerprint))

    def __repr__(self) -> str:
        # name and id_number are fields on some records and derived properties on others
        record: Any = self
        text = (
            f"{type(self).__name__}(card_type={record.card_type.value!r}, "
            f"name={mask_name(record.name)!r}, id_number={mask_id_number(record.id_number)!r}, "
            f"photo_wlt=<{len(record.photo_wlt)} bytes>"
        )
        if record.fingerprint:
            text += f", fingerprint=<{len(record.fingerprint)} bytes>"
        return text + ")"

    __str__ = __repr__


def valid_to_iso(day: date | None) -> str:
    """An expiry for JSON: ISO date, or 长期."""
    return day.isoformat() if day is not None else LONG_TERM
