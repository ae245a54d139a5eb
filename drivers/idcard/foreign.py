"""Foreigner's permanent residence card (外国人永久居留身份证): the 2017 (``I``) and 2023 (``Y``) editions.

2017 edition, flag ``I`` (English name first):

==================  =====  ===================================================
field               bytes  content
==================  =====  ===================================================
english name          120  60 characters, upper-case Latin letters
sex                     2  GB/T 2261.1 code
number                 30  15 characters: nationality letters + 12 digits
nationality             6  GB/T 2659 three-letter code
chinese name           30  15 characters, may be blank
valid from             16  YYYYMMDD
valid to               16  YYYYMMDD
birth                  16  YYYYMMDD
card version            4  2 characters
authority code          8  4 characters (the accepting authority, 受理机关代码)
flag                    2  ``I``
reserved                6
==================  =====  ===================================================

2023 edition, flag ``Y`` (laid out like the resident card, 18-digit number starting with 9):

==================  =====  ===================================================
field               bytes  content
==================  =====  ===================================================
chinese name           30  15 characters, may be blank
sex                     2  GB/T 2261.1 code
renewal count           4  2 digits (换证次数)
birth                  16  YYYYMMDD
english name           70  characters 1-35
number                 36  18 digits, MOD 11-2 check
reserved               30
valid from             16  YYYYMMDD
valid to               16  YYYYMMDD
english name, more     22  characters 36-46
nationality             6  three-letter code
flag                    2  ``Y``
previous number link    6  3 digits: city code and sequence of the 2017 number
==================  =====  ===================================================

Checked against published reader documentation (the 2017 data item table), vendor SDK headers
(t_idforeigner, t_idforeigner2023) and readers' parsing code; the number rules against the
immigration administration's 2023 machine-readable rules (first digit 9, MOD 11-2) and an
open-source validator (2017: ICAO 7-3-1 check digit, YYMMDD at characters 8-13).

``as_dict()`` keys, 2017: english_name, chinese_name, sex, nationality, birth_date, id_number,
valid_from, valid_to, card_version, authority_code, card_type ("foreign_permanent_2017"),
photo_wlt_size. 2023: chinese_name, english_name, sex, nationality, birth_date, id_number,
valid_from, valid_to, renewal_count (int), previous_number (the 2017 number, or ""), card_type
("foreign_permanent_2023"), photo_wlt_size. `name` on the record is the Chinese name when the
card has one, else the English name.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from drivers.idcard.errors import CardDataError, InvalidFieldError, InvalidIdNumberError
from drivers.idcard.fields import (
    CardType,
    Layout,
    MaskedRecord,
    Sex,
    check_code,
    check_text,
    check_validity,
    parse_count,
    parse_valid_to,
    parse_yyyymmdd,
    valid_to_iso,
    valid_to_text,
    yyyymmdd,
)
from drivers.idcard.numbers import (
    check_birth_and_sex,
    previous_2017_number,
    validate_foreign_2017_number,
    validate_foreign_2023_number,
)
from rules.masking import mask_id_number

FOREIGN_2017_LAYOUT = Layout(
    CardType.FOREIGN_PERMANENT_2017,
    (
        ("english_name", 120),
        ("sex", 2),
        ("id_number", 30),
        ("nationality", 6),
        ("chinese_name", 30),
        ("valid_from", 16),
        ("valid_to", 16),
        ("birth", 16),
        ("card_version", 4),
        ("authority_code", 8),
        ("flag", 2),
        ("reserved_tail", 6),
    ),
)
FOREIGN_2023_LAYOUT = Layout(
    CardType.FOREIGN_PERMANENT_2023,
    (
        ("chinese_name", 30),
        ("sex", 2),
        ("renewal_count", 4),
        ("birth", 16),
        ("english_name", 70),
        ("id_number", 36),
        ("reserved", 30),
        ("valid_from", 16),
        ("valid_to", 16),
        ("english_name_more", 22),
        ("nationality", 6),
        ("flag", 2),
        ("previous_number_link", 6),
    ),
)
T = TypeVar("T")
ENGLISH_NAME_2023_SPLIT = 35  # characters in the first English name field
_UPPER = string.ascii_uppercase
_ALNUM = string.ascii_uppercase + string.digits
# Printable ASCII: names are upper-case Latin letters with spaces, commas, hyphens, apostrophes.
_LATIN = frozenset(chr(c) for c in range(0x20, 0x7F))


def _check_english_name(value: str, max_chars: int) -> None:
    check_text("english_name", value, max_chars)
    if any(char not in _LATIN for char in value):
        raise InvalidFieldError("english_name has characters outside printable ASCII")


def _odd_for_men(sex: Sex) -> bool | None:
    return {Sex.MALE: True, Sex.FEMALE: False}.get(sex)


@dataclass(frozen=True, repr=False)
class ForeignResident2017Record(MaskedRecord):
    """A decoded 2017 foreigner's permanent residence card (flag ``I``)."""

    english_name: str
    chinese_name: str
    sex: Sex
    id_number: str
    nationality: str
    birth_date: date
    valid_from: date
    valid_to: date | None
    card_version: str
    authority_code: str
    photo_wlt: bytes = b""
    fingerprint: bytes = b""

    def __post_init__(self) -> None:
        self._normalise_common()
        _check_english_name(self.english_name, 60)
        check_text("chinese_name", self.chinese_name, 15, required=False)
        check_code("nationality", self.nationality, _UPPER, range(3, 4))
        # Not identity: a blank version or authority code is accepted rather than a card refused.
        check_code("card_version", self.card_version, _ALNUM, range(0, 3))
        check_code("authority_code", self.authority_code, _ALNUM, range(0, 5))
        number = validate_foreign_2017_number(self.id_number)
        object.__setattr__(self, "id_number", number)
        if number[7:13] != f"{self.birth_date:%y%m%d}":
            raise InvalidIdNumberError(
                f"permanent residence number {mask_id_number(number)} holds a birth date "
                "different from the birth field"
            )
        check_validity(self.birth_date, self.valid_from, self.valid_to)

    @property
    def card_type(self) -> CardType:
        """Always `CardType.FOREIGN_PERMANENT_2017`."""
        return CardType.FOREIGN_PERMANENT_2017

    @property
    def name(self) -> str:
        """The Chinese name when the card has one, else the English name."""
        return self.chinese_name or self.english_name

    def as_dict(self) -> dict[str, Any]:
        """The record as JSON-ready values (see the module docstring for the keys), unmasked."""
        return {
            "english_name": self.english_name,
            "chinese_name": self.chinese_name,
            "sex": self.sex.value,
            "nationality": self.nationality,
            "birth_date": self.birth_date.isoformat(),
            "id_number": self.id_number,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": valid_to_iso(self.valid_to),
            "card_version": self.card_version,
            "authority_code": self.authority_code,
            "card_type": self.card_type.value,
            "photo_wlt_size": len(self.photo_wlt),
        }


@dataclass(frozen=True, repr=False)
class ForeignResident2023Record(MaskedRecord):
    """A decoded 2023 foreigner's permanent residence card (flag ``Y``)."""

    chinese_name: str
    english_name: str
    sex: Sex
    id_number: str
    nationality: str
    birth_date: date
    valid_from: date
    valid_to: date | None
    renewal_count: int
    previous_number_link: str = ""
    photo_wlt: bytes = b""
    fingerprint: bytes = b""

    def __post_init__(self) -> None:
        self._normalise_common()
        check_text("chinese_name", self.chinese_name, 15, required=False)
        _check_english_name(self.english_name, 46)
        check_code("nationality", self.nationality, _UPPER, range(3, 4))
        if not isinstance(self.renewal_count, int) or not 0 <= self.renewal_count <= 99:
            raise InvalidFieldError("renewal_count must be a whole number from 0 to 99")
        link = self.previous_number_link
        if not isinstance(link, str) or not (
            link == "" or (len(link) == 3 and link.isascii() and link.isdigit())
        ):
            raise InvalidFieldError("previous_number_link is blank or 3 digits")
        number = validate_foreign_2023_number(self.id_number)
        object.__setattr__(self, "id_number", number)
        check_birth_and_sex(number, self.birth_date, _odd_for_men(self.sex))
        check_validity(self.birth_date, self.valid_from, self.valid_to)

    @property
    def card_type(self) -> CardType:
        """Always `CardType.FOREIGN_PERMANENT_2023`."""
        return CardType.FOREIGN_PERMANENT_2023

    @property
    def name(self) -> str:
        """The Chinese name when the card has one, else the English name."""
        return self.chinese_name or self.english_name

    @property
    def previous_number(self) -> str | None:
        """The holder's 2017 card number, derived from the link field; None without a link.

        Built as readers' vendor code does: nationality, the province digits of this number,
        the link's city code, this number's YYMMDD, the link's sequence digit, a 7-3-1 check.
        """
        return previous_2017_number(self.nationality, self.id_number, self.previous_number_link)

    def as_dict(self) -> dict[str, Any]:
        """The record as JSON-ready values (see the module docstring for the keys), unmasked."""
        return {
            "chinese_name": self.chinese_name,
            "english_name": self.english_name,
            "sex": self.sex.value,
            "nationality": self.nationality,
            "birth_date": self.birth_date.isoformat(),
            "id_number": self.id_number,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": valid_to_iso(self.valid_to),
            "renewal_count": self.renewal_count,
            "previous_number": self.previous_number or "",
            "card_type": self.card_type.value,
            "photo_wlt_size": len(self.photo_wlt),
        }


def _wrap(kind: str, build: Callable[[], T]) -> T:
    try:
        return build()
    except CardDataError:
        raise
    except (TypeError, ValueError) as exc:  # only CardDataError may leave a decoder
        raise InvalidFieldError(f"{kind}: {type(exc).__name__}") from None


def parse_foreign_2017_block(
    text: bytes, photo_wlt: bytes = b"", fingerprint: bytes = b""
) -> ForeignResident2017Record:
    """Decode and validate an ``I`` block; only `CardDataError` subclasses are raised."""
    fields = FOREIGN_2017_LAYOUT.decode(bytes(text))
    return _wrap(
        "foreign card 2017",
        lambda: ForeignResident2017Record(
            english_name=fields["english_name"],
            chinese_name=fields["chinese_name"],
            sex=Sex.from_code(fields["sex"]),
            id_number=fields["id_number"],
            nationality=fields["nationality"],
            birth_date=parse_yyyymmdd(fields["birth"], "birth"),
            valid_from=parse_yyyymmdd(fields["valid_from"], "valid_from"),
            valid_to=parse_valid_to(fields["valid_to"]),
            card_version=fields["card_version"],
            authority_code=fields["authority_code"],
            photo_wlt=photo_wlt,
            fingerprint=fingerprint,
        ),
    )


def parse_foreign_2023_block(
    text: bytes, photo_wlt: bytes = b"", fingerprint: bytes = b""
) -> ForeignResident2023Record:
    """Decode and validate a ``Y`` block; only `CardDataError` subclasses are raised."""
    block = bytes(text)
    fields = FOREIGN_2023_LAYOUT.decode(block)
    english = fields["english_name"]
    if fields["english_name_more"]:
        # A name longer than 35 characters fills the first field to its end (a space there
        # belongs to the name) and goes on in the second.
        english = FOREIGN_2023_LAYOUT.raw(block, "english_name") + fields["english_name_more"]
    return _wrap(
        "foreign card 2023",
        lambda: ForeignResident2023Record(
            chinese_name=fields["chinese_name"],
            english_name=english,
            sex=Sex.from_code(fields["sex"]),
            id_number=fields["id_number"],
            nationality=fields["nationality"],
            birth_date=parse_yyyymmdd(fields["birth"], "birth"),
            valid_from=parse_yyyymmdd(fields["valid_from"], "valid_from"),
            valid_to=parse_valid_to(fields["valid_to"]),
            renewal_count=parse_count(fields["renewal_count"], "renewal_count"),
            previous_number_link=fields["previous_number_link"],
            photo_wlt=photo_wlt,
            fingerprint=fingerprint,
        ),
    )


def encode_foreign_2017_fields(**values: str) -> bytes:
    """Lay out raw ``I`` field strings (names as in `FOREIGN_2017_LAYOUT`) without validating."""
    return FOREIGN_2017_LAYOUT.encode(values)


def encode_foreign_2023_fields(**values: str) -> bytes:
    """Lay out raw ``Y`` field strings (names as in `FOREIGN_2023_LAYOUT`) without validating.

    ``english_name`` longer than 35 characters is split over the two English name fields.
    """
    english = values.pop("english_name", "")
    if "english_name_more" not in values:
        english, values["english_name_more"] = (
            english[:ENGLISH_NAME_2023_SPLIT],
            english[ENGLISH_NAME_2023_SPLIT:],
        )
    return FOREIGN_2023_LAYOUT.encode({"english_name": english, **values})


def build_foreign_2017_block(record: ForeignResident2017Record) -> bytes:
    """The exact inverse of `parse_foreign_2017_block`."""
    return encode_foreign_2017_fields(
        english_name=record.english_name,
        sex=record.sex.code,
        id_number=record.id_number,
        nationality=record.nationality,
        chinese_name=record.chinese_name,
        valid_from=yyyymmdd(record.valid_from),
        valid_to=valid_to_text(record.valid_to),
        birth=yyyymmdd(record.birth_date),
        card_version=record.card_version,
        authority_code=record.authority_code,
    )


def build_foreign_2023_block(record: ForeignResident2023Record) -> bytes:
    """The exact inverse of `parse_foreign_2023_block`."""
    return encode_foreign_2023_fields(
        chinese_name=record.chinese_name,
        sex=record.sex.code,
        renewal_count=f"{record.renewal_count:02d}",
        birth=yyyymmdd(record.birth_date),
        english_name=record.english_name,
        id_number=record.id_number,
        valid_from=yyyymmdd(record.valid_from),
        valid_to=valid_to_text(record.valid_to),
        nationality=record.nationality,
        previous_number_link=record.previous_number_link,
    )
