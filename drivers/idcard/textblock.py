"""The 256-byte text block of a resident ID card (GA/T 490): decode, validate, encode.

UCS-2 little-endian, fixed fields padded with spaces:

=========  =====  ====================================================
field      bytes  content
=========  =====  ====================================================
name          30  15 characters
sex            2  GB/T 2261.1 code: 0 未知, 1 男, 2 女, 9 未说明
nation         4  GB 3304 two-digit code (01 汉 ... 56 基诺, 97, 98)
birth         16  YYYYMMDD
address       70  35 characters
id number     36  18 characters, GB 11643
issuer        30  15 characters
valid from    16  YYYYMMDD
valid to      16  YYYYMMDD, or 长期 (no expiry)
reserved      36  bytes 248-249 hold the card type flag
=========  =====  ====================================================

The flag is blank for a resident card, ``J`` for a Hong Kong/Macau/Taiwan residence permit,
``I`` for the 2017 foreigner's permanent residence card and ``Y`` for its 2023 edition. Only the
resident layout is decoded here; the others raise `UnsupportedCardTypeError` naming the type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from drivers.idcard.codec import TEXT_SIZE
from drivers.idcard.errors import (
    CardDataError,
    InvalidFieldError,
    InvalidIdNumberError,
    UnsupportedCardTypeError,
)

LONG_TERM = "长期"

# (name, offset, size in bytes) in card order; the reserved area runs from 220 to the end.
FIELDS: tuple[tuple[str, int, int], ...] = (
    ("name", 0, 30),
    ("sex", 30, 2),
    ("nation", 32, 4),
    ("birth", 36, 16),
    ("address", 52, 70),
    ("id_number", 122, 36),
    ("issuer", 158, 30),
    ("valid_from", 188, 16),
    ("valid_to", 204, 16),
    ("reserved", 220, 36),
)
_FIELD = {name: (offset, size) for name, offset, size in FIELDS}
FLAG_OFFSET = 248


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


class CardType(StrEnum):
    """Which layout the text block uses, from the flag in bytes 248-249."""

    RESIDENT = "resident"
    HK_MO_TW_RESIDENCE = "hk_mo_tw_residence"
    FOREIGN_PERMANENT_2017 = "foreign_permanent_2017"
    FOREIGN_PERMANENT_2023 = "foreign_permanent_2023"


_CARD_FLAGS = {
    "J": CardType.HK_MO_TW_RESIDENCE,
    "I": CardType.FOREIGN_PERMANENT_2017,
    "Y": CardType.FOREIGN_PERMANENT_2023,
}
_CARD_TYPE_NAMES = {
    CardType.RESIDENT: "居民身份证",
    CardType.HK_MO_TW_RESIDENCE: "港澳台居民居住证",
    CardType.FOREIGN_PERMANENT_2017: "外国人永久居留身份证（2017）",
    CardType.FOREIGN_PERMANENT_2023: "外国人永久居留身份证（2023）",
}

# GB 3304 codes of the 56 ethnic groups, plus 97 and 98.
NATIONS: dict[str, str] = {
    "01": "汉", "02": "蒙古", "03": "回", "04": "藏", "05": "维吾尔", "06": "苗", "07": "彝",
    "08": "壮", "09": "布依", "10": "朝鲜", "11": "满", "12": "侗", "13": "瑶", "14": "白",
    "15": "土家", "16": "哈尼", "17": "哈萨克", "18": "傣", "19": "黎", "20": "傈僳", "21": "佤",
    "22": "畲", "23": "高山", "24": "拉祜", "25": "水", "26": "东乡", "27": "纳西", "28": "景颇",
    "29": "柯尔克孜", "30": "土", "31": "达斡尔", "32": "仫佬", "33": "羌", "34": "布朗",
    "35": "撒拉", "36": "毛南", "37": "仡佬", "38": "锡伯", "39": "阿昌", "40": "普米",
    "41": "塔吉克", "42": "怒", "43": "乌孜别克", "44": "俄罗斯", "45": "鄂温克", "46": "德昂",
    "47": "保安", "48": "裕固", "49": "京", "50": "塔塔尔", "51": "独龙", "52": "鄂伦春",
    "53": "赫哲", "54": "门巴", "55": "珞巴", "56": "基诺", "97": "其他",
    "98": "外国血统中国籍人士",
}  # fmt: skip
NATION_CODES: dict[str, str] = {name: code for code, name in NATIONS.items()}

# GB 11643: weights of the first 17 digits, and the check character for (sum mod 11).
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
# GB/T 2260 province-level codes, plus 81 82 83 used by residence permits for HK, Macau, Taiwan.
_PROVINCES = frozenset(
    {
        "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36",
        "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62",
        "63", "64", "65", "71", "81", "82", "83",
    }
)  # fmt: skip
_ID_SHAPE = re.compile(r"\d{17}[\dX]")


def _mask_id(value: str) -> str:
    """First 4 and last 4 characters of an ID number; used in messages and repr."""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def _mask_name(value: str) -> str:
    return value[:1] + "*" * max(len(value) - 1, 0) if len(value) > 1 else "*" * len(value)


def gb11643_check_char(first17: str) -> str:
    """The check character GB 11643 assigns to 17 leading digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise InvalidIdNumberError("the check digit is computed over exactly 17 digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def validate_id_number(value: str) -> str:
    """Check an 18-character citizen ID number (GB 11643); return it with an upper-case X.

    Checks the shape, the province code, the embedded birth date and the check character.
    Raises `InvalidIdNumberError` (a `ValueError`) naming the problem, with the number masked.
    """
    if not isinstance(value, str):
        raise InvalidIdNumberError("the ID number must be a string")
    number = value.strip().upper()
    shown = _mask_id(number)
    if len(number) != 18:
        raise InvalidIdNumberError(f"ID number {shown} has {len(number)} characters, not 18")
    if not _ID_SHAPE.fullmatch(number):
        raise InvalidIdNumberError(f"ID number {shown}: 17 digits then a digit or X expected")
    if number[:2] not in _PROVINCES:
        raise InvalidIdNumberError(f"ID number {shown}: {number[:2]} is not a province code")
    try:
        _parse_yyyymmdd(number[6:14], "birth date in the ID number")
    except InvalidFieldError as exc:
        raise InvalidIdNumberError(f"ID number {shown}: {exc}") from None
    expected = gb11643_check_char(number[:17])
    if number[17] != expected:
        raise InvalidIdNumberError(
            f"ID number {shown}: check character is {number[17]}, GB 11643 gives {expected}"
        )
    return number


@dataclass(frozen=True, repr=False)
class IdCardRecord:
    """One decoded ID card: validated on construction, masked in repr.

    `valid_to` None means 长期 (no expiry). `photo_wlt` is the card's WLT-compressed photo,
    kept as received; decoding it needs a vendor library.
    """

    name: str
    sex: Sex
    nation: str
    birth_date: date
    address: str
    id_number: str
    issuer: str
    valid_from: date
    valid_to: date | None
    card_type: CardType = CardType.RESIDENT
    photo_wlt: bytes = b""

    def __post_init__(self) -> None:
        if not isinstance(self.sex, Sex):
            try:
                object.__setattr__(self, "sex", Sex(self.sex))
            except ValueError:
                raise InvalidFieldError("sex must be one of 男, 女, 未知, 未说明") from None
        object.__setattr__(self, "card_type", CardType(self.card_type))
        object.__setattr__(self, "photo_wlt", bytes(self.photo_wlt))
        _check_text("name", self.name, 15)
        _check_text("address", self.address, 35)
        _check_text("issuer", self.issuer, 15)
        if self.nation not in NATION_CODES:
            raise InvalidFieldError(f"nation {self.nation!r} is not in the GB 3304 table")
        number = validate_id_number(self.id_number)
        object.__setattr__(self, "id_number", number)
        _check_consistency(self, number)

    def as_dict(self) -> dict[str, Any]:
        """The record as JSON-ready values (the ``kiosk diag idcard --json`` keys), unmasked."""
        return {
            "name": self.name,
            "sex": self.sex.value,
            "nation": self.nation,
            "birth_date": self.birth_date.isoformat(),
            "address": self.address,
            "id_number": self.id_number,
            "issuer": self.issuer,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else LONG_TERM,
            "card_type": self.card_type.value,
            "photo_wlt_size": len(self.photo_wlt),
        }

    def __repr__(self) -> str:
        # Records end up in logs and tracebacks; never show who the card belongs to.
        return (
            f"IdCardRecord(card_type={self.card_type.value!r}, name={_mask_name(self.name)!r}, "
            f"id_number={_mask_id(self.id_number)!r}, photo_wlt=<{len(self.photo_wlt)} bytes>)"
        )

    __str__ = __repr__


def _check_text(field: str, value: str, max_units: int) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidFieldError(f"{field} is empty")
    if value != value.strip() or any(ord(char) < 0x20 for char in value):
        raise InvalidFieldError(f"{field} has padding or control characters")
    units = len(value.encode("utf-16-le", "surrogatepass")) // 2
    if units > max_units:
        raise InvalidFieldError(f"{field} has {units} UCS-2 characters, at most {max_units} fit")


def _check_consistency(record: IdCardRecord, number: str) -> None:
    if _parse_yyyymmdd(number[6:14], "birth date") != record.birth_date:
        raise InvalidIdNumberError(
            f"ID number {_mask_id(number)} holds a birth date different from the birth field"
        )
    # GB 11643: the 17th digit (the sequence code) is odd for men and even for women.
    odd = int(number[16]) % 2 == 1
    if (record.sex is Sex.MALE and not odd) or (record.sex is Sex.FEMALE and odd):
        raise InvalidIdNumberError(
            f"ID number {_mask_id(number)}: sequence digit does not match sex {record.sex.value}"
        )
    if record.valid_from < record.birth_date:
        raise InvalidFieldError("valid_from is before the birth date")
    if record.valid_to is not None and record.valid_to < record.valid_from:
        raise InvalidFieldError("valid_to is before valid_from")


def _parse_yyyymmdd(text: str, field: str) -> date:
    if len(text) != 8 or not text.isdigit():
        raise InvalidFieldError(f"{field} is not an 8-digit YYYYMMDD date")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise InvalidFieldError(f"{field} is not a real calendar date") from None


def _decode_field(text: bytes, field: str) -> str:
    offset, size = _FIELD[field]
    try:
        value = text[offset : offset + size].decode("utf-16-le")
    except UnicodeDecodeError:
        raise CardDataError(f"{field} is not valid UCS-2 text") from None
    return value.rstrip(" \x00")


def detect_card_type(text: bytes) -> CardType:
    """The layout named by the flag in bytes 248-249 of a text block.

    A blank flag is a resident card. Unknown flags are treated as resident too, as reader
    vendors do, because old resident cards may carry anything there; field validation then
    catches a layout that really differs.
    """
    if len(text) != TEXT_SIZE:
        raise CardDataError(f"text block of {len(text)} bytes, expected {TEXT_SIZE}")
    flag = text[FLAG_OFFSET : FLAG_OFFSET + 2]
    if flag[1] == 0 and chr(flag[0]) in _CARD_FLAGS:
        return _CARD_FLAGS[chr(flag[0])]
    return CardType.RESIDENT


def card_type_label(card_type: CardType) -> str:
    """The Chinese name of a card type, for messages."""
    return _CARD_TYPE_NAMES[card_type]


def parse_text_block(text: bytes, photo_wlt: bytes = b"") -> IdCardRecord:
    """Decode and validate a resident card's text block (with its photo) into a record.

    Raises `UnsupportedCardTypeError` for residence permits and foreigner cards, and
    `InvalidFieldError` / `InvalidIdNumberError` (all `CardDataError`, a `ValueError`) for
    contents that fail validation.
    """
    card_type = detect_card_type(bytes(text))
    if card_type is not CardType.RESIDENT:
        raise UnsupportedCardTypeError(
            card_type.value,
            f"{card_type_label(card_type)} ({card_type.value}) is not decoded yet",
        )
    fields = {name: _decode_field(text, name) for name, _, _ in FIELDS}
    nation_code = fields["nation"]
    if nation_code not in NATIONS:
        raise InvalidFieldError(f"nation code {nation_code!r} is not in the GB 3304 table")
    valid_to = fields["valid_to"]
    return IdCardRecord(
        name=fields["name"],
        sex=Sex.from_code(fields["sex"]),
        nation=NATIONS[nation_code],
        birth_date=_parse_yyyymmdd(fields["birth"], "birth"),
        address=fields["address"],
        id_number=fields["id_number"],
        issuer=fields["issuer"],
        valid_from=_parse_yyyymmdd(fields["valid_from"], "valid_from"),
        valid_to=None if valid_to == LONG_TERM else _parse_yyyymmdd(valid_to, "valid_to"),
        card_type=card_type,
        photo_wlt=bytes(photo_wlt),
    )


def encode_text_fields(
    *,
    name: str,
    sex_code: str,
    nation_code: str,
    birth: str,
    address: str,
    id_number: str,
    issuer: str,
    valid_from: str,
    valid_to: str,
    reserved: str = "",
    flag: str = " ",
) -> bytes:
    """Lay out raw field strings into a 256-byte block, without validating their contents.

    The low-level inverse of decoding, for the simulator's other card types and for tests that
    need invalid blocks. `reserved` fills the reserved area before the flag (14 characters).
    """
    values = {
        "name": name,
        "sex": sex_code,
        "nation": nation_code,
        "birth": birth,
        "address": address,
        "id_number": id_number,
        "issuer": issuer,
        "valid_from": valid_from,
        "valid_to": valid_to,
    }
    block = bytearray(" ".encode("utf-16-le") * (TEXT_SIZE // 2))
    for field, value in values.items():
        offset, size = _FIELD[field]
        block[offset : offset + size] = _pad(field, value, size)
    block[220:FLAG_OFFSET] = _pad("reserved", reserved, FLAG_OFFSET - 220)
    if len(flag) != 1:
        raise ValueError("the card type flag is one character")
    block[FLAG_OFFSET : FLAG_OFFSET + 2] = flag.encode("utf-16-le")
    return bytes(block)


def _pad(field: str, value: str, size: int) -> bytes:
    raw = value.encode("utf-16-le", "surrogatepass")
    if len(raw) > size:
        raise ValueError(f"{field} needs {len(raw)} bytes, the field holds {size}")
    return raw + " ".encode("utf-16-le") * ((size - len(raw)) // 2)


def build_text_block(record: IdCardRecord) -> bytes:
    """Encode a record as its 256-byte text block: the exact inverse of `parse_text_block`."""
    flag = next((f for f, t in _CARD_FLAGS.items() if t is record.card_type), " ")
    return encode_text_fields(
        name=record.name,
        sex_code=record.sex.code,
        nation_code=NATION_CODES[record.nation],
        birth=_yyyymmdd(record.birth_date),
        address=record.address,
        id_number=record.id_number,
        issuer=record.issuer,
        valid_from=_yyyymmdd(record.valid_from),
        valid_to=_yyyymmdd(record.valid_to) if record.valid_to else LONG_TERM,
        flag=flag,
    )


def _yyyymmdd(day: date) -> str:
    # strftime("%Y") does not zero-pad years before 1000 on glibc.
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"
