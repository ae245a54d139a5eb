"""The card-number checks every layer shares: GB 11643 and ICAO Doc 9303 check characters, the
layout of each card type's number, and the birth date it carries. Pure functions.

* Resident cards, HK/Macau/Taiwan residence permits (regions 81, 82, 83) and the 2023
  foreigner's permanent residence card (leading 9): 18 characters ending in the GB 11643 check
  character (ISO 7064 MOD 11-2), the birth date as YYYYMMDD at 6-13.
* The 2017 foreigner's permanent residence card: 15 characters, three nationality letters,
  four region digits, the birth date as YYMMDD at 7-12, a sequence digit and an ICAO Doc 9303
  check digit (weights 7 3 1, letters A-Z count 10-35).

Card types are named by the strings the drivers' `CardType` and the central service use.
"""

from __future__ import annotations

import re
from datetime import date

# GB 11643: weights of the first 17 digits (2^(18-i) mod 11), and the check character for
# (sum mod 11).
GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_GB11643_CHECK_CHARS = "10X98765432"
_ICAO_WEIGHTS = (7, 3, 1)

RESIDENT = "resident"
HK_MO_TW_RESIDENCE = "hk_mo_tw_residence"
FOREIGN_PERMANENT_2017 = "foreign_permanent_2017"
FOREIGN_PERMANENT_2023 = "foreign_permanent_2023"
# How each card type's number is laid out (upper case; [0-9], since \d also matches ２).
NUMBER_SHAPES = {
    RESIDENT: re.compile(r"[0-9]{17}[0-9X]"),
    HK_MO_TW_RESIDENCE: re.compile(r"8[123][0-9]{15}[0-9X]"),
    FOREIGN_PERMANENT_2017: re.compile(r"[A-Z]{3}[0-9]{12}"),
    FOREIGN_PERMANENT_2023: re.compile(r"9[0-9]{16}[0-9X]"),
}


def gb11643_check_char(first17: str) -> str:
    """The check character (0-9 or X) GB 11643 assigns to the first 17 digits of a number.

    Raises ValueError unless given exactly 17 ASCII digits.
    """
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("the check character is computed over exactly 17 ASCII digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, GB11643_WEIGHTS, strict=True))
    return _GB11643_CHECK_CHARS[total % 11]


def has_valid_gb11643_check(number: str) -> bool:
    """True when an 18-character number ends in the check character its digits call for.

    A lower-case x is accepted, as residents type it.
    """
    if len(number) != 18:
        return False
    try:
        return gb11643_check_char(number[:17]) == number[17].upper()
    except ValueError:
        return False


def icao_check_digit(text: str) -> str:
    """The ICAO Doc 9303 check digit: weights 7 3 1, A-Z count 10-35, ``<`` counts 0.

    Raises ValueError for any other character.
    """
    total = 0
    for index, char in enumerate(text):
        if char.isascii() and char.isdigit():
            value = int(char)
        elif "A" <= char <= "Z":
            value = ord(char) - ord("A") + 10
        elif char == "<":
            value = 0
        else:
            raise ValueError("an ICAO check digit covers only digits, A-Z and <")
        total += value * _ICAO_WEIGHTS[index % 3]
    return str(total % 10)


def has_shape_of(card_type: str, number: str) -> bool:
    """True when `number` (upper case) is laid out as this card type's numbers are."""
    shape = NUMBER_SHAPES.get(card_type)
    return shape is not None and shape.fullmatch(number) is not None


def has_valid_check_digit_for(card_type: str, number: str) -> bool:
    """True when a number of this type's shape ends in the check character its rule calls for."""
    number = number.upper()
    if not has_shape_of(card_type, number):
        return False
    if card_type == FOREIGN_PERMANENT_2017:
        return icao_check_digit(number[:14]) == number[14]
    return has_valid_gb11643_check(number)


def birth_date_in(card_type: str, number: str) -> date | None:
    """The birth date a number of this card type carries, or None when it is not a real date.

    18 characters: YYYYMMDD at 6-13. The 2017 card: YYMMDD at 7-12, in the 1900s or else the
    2000s (the first century in which the day exists).
    """
    try:
        if card_type == FOREIGN_PERMANENT_2017:
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
