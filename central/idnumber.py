"""ID numbers and names: check digits per card type (GB 11643, ICAO 9303), masking, hashing."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import date
from typing import Literal, get_args

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"


def check_digit(first17: str) -> str:
    """The GB 11643 check character (0-9 or X) for the first 17 digits of an ID number."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("need exactly 17 ASCII digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def has_valid_check_digit(id_number: str) -> bool:
    """True when an 18-character ID number ends in the check character its digits call for."""
    if len(id_number) != 18:
        return False
    try:
        return check_digit(id_number[:17]) == id_number[17].upper()
    except ValueError:
        return False


def mask_id_number(id_number: str) -> str:
    """Keep the region code and the last four characters: 110101********1240."""
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def mask_name(name: str) -> str:
    """Mask a name the way service halls print it: 李*英, 王*, 欧阳**明."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def normalize_name(name: str) -> str:
    """Compare names as residents type them: NFKC (full-width forms), no surrounding blanks."""
    return unicodedata.normalize("NFKC", name).strip()


def keyed_hash(key: bytes, value: str) -> str:
    """HMAC-SHA256 of a value under the database's secret key, hex.

    A plain salted hash of an ID number is easy to reverse by trying every plausible number, so
    the salt is a secret key held by the server, never sent to a client.
    """
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


# The four cards a kiosk's reader can present. The 18-character numbers of the resident card,
# the HK/Macau/Taiwan residence permit (regions 81, 82, 83) and the 2023 foreigner's permanent
# residence card (leading 9) all end in the GB 11643 (ISO 7064 MOD 11-2) check character; the
# 2017 permanent residence card's 15-character number ends in an ICAO Doc 9303 check digit.
CardType = Literal[
    "resident",
    "hk_mo_tw_residence",
    "foreign_permanent_2017",
    "foreign_permanent_2023",
]
CARD_TYPES: tuple[CardType, ...] = get_args(CardType)
_SHAPES = {
    "resident": re.compile(r"[0-9]{17}[0-9X]"),
    "hk_mo_tw_residence": re.compile(r"8[123][0-9]{15}[0-9X]"),
    "foreign_permanent_2017": re.compile(r"[A-Z]{3}[0-9]{12}"),
    "foreign_permanent_2023": re.compile(r"9[0-9]{16}[0-9X]"),
}
_ICAO_WEIGHTS = (7, 3, 1)


def icao_check_digit(text: str) -> str:
    """ICAO Doc 9303 check digit: weights 7 3 1, A-Z count 10-35; the sum mod 10.

    Mirrors `drivers.idcard.numbers.icao_check_digit` (central never imports the drivers).
    """
    total = 0
    for index, char in enumerate(text):
        if char.isascii() and char.isdigit():
            value = int(char)
        elif "A" <= char <= "Z":
            value = ord(char) - ord("A") + 10
        else:
            raise ValueError("an ICAO check digit covers only digits and A-Z")
        total += value * _ICAO_WEIGHTS[index % 3]
    return str(total % 10)


def birth_date_in(card_type: str, number: str) -> date | None:
    """The birth date a number of this card type carries, or None when it is not a real date.

    18 characters: YYYYMMDD at 6-13. The 2017 card: YYMMDD at 7-12, in the 1900s or 2000s.
    """
    try:
        if card_type == "foreign_permanent_2017":
            yy, mm, dd = int(number[7:9]), int(number[9:11]), int(number[11:13])
            for century in (1900, 2000):
                try:
                    return date(century + yy, mm, dd)
                except ValueError:
                    continue
            return None
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def has_shape_of(card_type: str, number: str) -> bool:
    """True when `number` (upper-case) is laid out as this card type's numbers are."""
    shape = _SHAPES.get(card_type)
    return shape is not None and shape.fullmatch(number) is not None


def has_valid_check_digit_for(card_type: str, number: str) -> bool:
    """True when a number of this shape ends in the check character its type's rule calls for."""
    if not has_shape_of(card_type, number.upper()):
        return False
    if card_type == "foreign_permanent_2017":
        return icao_check_digit(number[:14].upper()) == number[14]
    return has_valid_check_digit(number)


def registry_key(card_type: str, number: str) -> str:
    """What is hashed to find a person: the number, prefixed with the card type unless resident.

    Resident numbers hash as they always did, so existing databases keep matching.
    """
    number = number.upper()
    return number if card_type == "resident" else f"{card_type}:{number}"
