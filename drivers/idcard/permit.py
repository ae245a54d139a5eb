"""Residence permit for Hong Kong, Macau and Taiwan residents (港澳台居民居住证, flag ``J``).

The block follows the resident card's layout, with the nation field left blank, and uses part
of the reserved area for the holder's travel permit (通行证) number and how many times the
permit was issued (签发次数):

=============  =====  =====================================================
field          bytes  content
=============  =====  =====================================================
name              30  15 characters
sex                2  GB/T 2261.1 code
(nation)           4  blank
birth             16  YYYYMMDD
address           70  35 characters
id number         36  18 characters, GB 11643, region 810000/820000/830000
issuer            30  15 characters
valid from        16  YYYYMMDD
valid to          16  YYYYMMDD
pass number       18  9 characters: H/M + 8 digits (HK, Macau), 8 digits (Taiwan)
issue count        4  2 digits
reserved           6
flag               2  ``J``
reserved           6
=============  =====  =====================================================

Checked against vendor SDK headers and readers' parsing code (t_idcardinfor in a PC/SC SDK
header, a THPR210 reader's C# parser: pass number at byte 220, issue count at 238).

``ResidencePermitRecord.as_dict()`` keys: name, sex, birth_date, address, id_number, issuer,
valid_from, valid_to, pass_number, issue_count (int), card_type ("hk_mo_tw_residence"),
photo_wlt_size.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date
from typing import Any

from drivers.idcard.errors import CardDataError, InvalidFieldError
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
from drivers.idcard.numbers import PERMIT_REGIONS, check_birth_and_sex, validate_permit_number

PERMIT_LAYOUT = Layout(
    CardType.HK_MO_TW_RESIDENCE,
    (
        ("name", 30),
        ("sex", 2),
        ("nation", 4),
        ("birth", 16),
        ("address", 70),
        ("id_number", 36),
        ("issuer", 30),
        ("valid_from", 16),
        ("valid_to", 16),
        ("pass_number", 18),
        ("issue_count", 4),
        ("reserved", 6),
        ("flag", 2),
        ("reserved_tail", 6),
    ),
)
_PASS_CHARS = string.ascii_uppercase + string.digits


@dataclass(frozen=True, repr=False)
class ResidencePermitRecord(MaskedRecord):
    """One decoded HK/Macau/Taiwan residence permit: validated on construction, masked in repr."""

    name: str
    sex: Sex
    birth_date: date
    address: str
    id_number: str
    issuer: str
    valid_from: date
    valid_to: date | None
    pass_number: str
    issue_count: int
    photo_wlt: bytes = b""
    fingerprint: bytes = b""

    def __post_init__(self) -> None:
        self._normalise_common()
        check_text("name", self.name, 15)
        check_text("address", self.address, 35)
        check_text("issuer", self.issuer, 15)
        check_code("pass_number", self.pass_number, _PASS_CHARS, range(1, 10))
        if not isinstance(self.issue_count, int) or not 0 <= self.issue_count <= 99:
            raise InvalidFieldError("issue_count must be a whole number from 0 to 99")
        number = validate_permit_number(self.id_number)
        object.__setattr__(self, "id_number", number)
        odd_for_men = {Sex.MALE: True, Sex.FEMALE: False}.get(self.sex)
        check_birth_and_sex(number, self.birth_date, odd_for_men)
        check_validity(self.birth_date, self.valid_from, self.valid_to)

    @property
    def card_type(self) -> CardType:
        """Always `CardType.HK_MO_TW_RESIDENCE`."""
        return CardType.HK_MO_TW_RESIDENCE

    @property
    def region(self) -> str:
        """Where the holder lives: ``HK``, ``MO`` or ``TW``, from the number's region code."""
        return PERMIT_REGIONS[self.id_number[:2]]

    def as_dict(self) -> dict[str, Any]:
        """The record as JSON-ready values (see the module docstring for the keys), unmasked."""
        return {
            "name": self.name,
            "sex": self.sex.value,
            "birth_date": self.birth_date.isoformat(),
            "address": self.address,
            "id_number": self.id_number,
            "issuer": self.issuer,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": valid_to_iso(self.valid_to),
            "pass_number": self.pass_number,
            "issue_count": self.issue_count,
            "card_type": self.card_type.value,
            "photo_wlt_size": len(self.photo_wlt),
        }


def parse_permit_block(
    text: bytes, photo_wlt: bytes = b"", fingerprint: bytes = b""
) -> ResidencePermitRecord:
    """Decode and validate a ``J`` block; only `CardDataError` subclasses are raised."""
    fields = PERMIT_LAYOUT.decode(bytes(text))
    try:
        return ResidencePermitRecord(
            name=fields["name"],
            sex=Sex.from_code(fields["sex"]),
            birth_date=parse_yyyymmdd(fields["birth"], "birth"),
            address=fields["address"],
            id_number=fields["id_number"],
            issuer=fields["issuer"],
            valid_from=parse_yyyymmdd(fields["valid_from"], "valid_from"),
            valid_to=parse_valid_to(fields["valid_to"]),
            pass_number=fields["pass_number"],
            issue_count=parse_count(fields["issue_count"], "issue_count"),
            photo_wlt=photo_wlt,
            fingerprint=fingerprint,
        )
    except CardDataError:
        raise
    except (TypeError, ValueError) as exc:
        raise InvalidFieldError(f"residence permit: {type(exc).__name__}") from None


def encode_permit_fields(**values: str) -> bytes:
    """Lay out raw ``J`` field strings (names as in `PERMIT_LAYOUT`) without validating them."""
    return PERMIT_LAYOUT.encode(values)


def build_permit_block(record: ResidencePermitRecord) -> bytes:
    """The exact inverse of `parse_permit_block`."""
    return encode_permit_fields(
        name=record.name,
        sex=record.sex.code,
        birth=yyyymmdd(record.birth_date),
        address=record.address,
        id_number=record.id_number,
        issuer=record.issuer,
        valid_from=yyyymmdd(record.valid_from),
        valid_to=valid_to_text(record.valid_to),
        pass_number=record.pass_number,
        issue_count=f"{record.issue_count:02d}",
    )
