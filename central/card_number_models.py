"""The shape of an ID number per card type, as regular expressions the OpenAPI schema publishes.

`rules.idnumbers` checks a number's layout and that its birth date exists; the same rule is written
here as one pattern per card type, so that a client reading the schema knows exactly which
numbers the service takes (a number that fits its card type is never refused as malformed) and the
service checks exactly what it publishes. Lower-case letters are allowed: the service reads
numbers in upper case. The check character is not part of the shape: a wrong one is a failed
check (`invalid_check_digit`), not malformed input.
"""

from __future__ import annotations

import re
from typing import Any

from central.idnumber import CARD_TYPES, CardType

# Year 0001-9999 (what a calendar date can carry), month and day without 29 February, and the
# leap years that do have it: divisible by 4 but not 100, or by 400.
YEAR = "(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
MONTH_DAY = (
    "(?:(?:0[13578]|1[02])(?:0[1-9]|[12][0-9]|3[01])"
    "|(?:0[469]|11)(?:0[1-9]|[12][0-9]|30)"
    "|02(?:0[1-9]|1[0-9]|2[0-8]))"
)
_MULTIPLE_OF_4 = "(?:0[48]|[2468][048]|[13579][26])"  # two digits, 04..96
LEAP_YEAR = f"(?:[0-9]{{2}}{_MULTIPLE_OF_4}|{_MULTIPLE_OF_4}00)"
_DATE_YYYYMMDD = f"(?:{YEAR}{MONTH_DAY}|{LEAP_YEAR}0229)"
# The 2017 card's YYMMDD is read in the 1900s or else the 2000s, so 29 February exists whenever
# the two digits are a multiple of 4 (00 is 2000).
_DATE_YYMMDD = f"(?:[0-9]{{2}}{MONTH_DAY}|(?:00|{_MULTIPLE_OF_4})0229)"

CARD_NUMBER_PATTERNS: dict[CardType, str] = {
    # region (6), birth date, sequence (3), GB 11643 check character
    "resident": f"^[0-9]{{6}}{_DATE_YYYYMMDD}[0-9]{{3}}[0-9Xx]$",
    # 81 Hong Kong, 82 Macau, 83 Taiwan
    "hk_mo_tw_residence": f"^8[123][0-9]{{4}}{_DATE_YYYYMMDD}[0-9]{{3}}[0-9Xx]$",
    # nationality (3 letters), region (4), birth date, sequence (1), ICAO check digit
    "foreign_permanent_2017": f"^[A-Za-z]{{3}}[0-9]{{4}}{_DATE_YYMMDD}[0-9]{{2}}$",
    "foreign_permanent_2023": f"^9[0-9]{{5}}{_DATE_YYYYMMDD}[0-9]{{3}}[0-9Xx]$",
}
_COMPILED = {card_type: re.compile(pattern) for card_type, pattern in CARD_NUMBER_PATTERNS.items()}


def fits_card_type(card_type: str, number: str) -> bool:
    """True when `number` has the layout and a real birth date for its card type."""
    pattern = _COMPILED.get(card_type)  # type: ignore[call-overload]
    return pattern is not None and pattern.fullmatch(number) is not None


def number_by_card_type(
    *, number_field: str = "id_number", type_field: str = "card_type"
) -> dict[str, Any]:
    """JSON Schema (for `json_schema_extra`): the number's pattern depends on the card type.

    One branch per card type; a body without `type_field` is a resident card's (its default).
    """
    branches: list[dict[str, Any]] = []
    for card_type in CARD_TYPES:
        branch: dict[str, Any] = {
            "properties": {
                type_field: {"const": card_type},
                number_field: {"pattern": CARD_NUMBER_PATTERNS[card_type]},
            }
        }
        if card_type != "resident":
            branch["required"] = [type_field]
        branches.append(branch)
    return {"anyOf": branches}
