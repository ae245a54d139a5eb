"""Card numbers: the citizen ID number (GB 11643) and the foreigner's permanent residence numbers.

* Resident cards and HK/Macau/Taiwan residence permits: 18 characters, six-digit region code
  (81, 82, 83 for Hong Kong, Macau, Taiwan permits), birth date, sequence (odd for men), and a
  ISO 7064 MOD 11-2 check character.
* Foreigner's permanent residence card, 2017: 15 characters, the GB/T 2659 three-letter code of
  the nationality at first issue, a four-digit region code (province and city), the birth date
  as YYMMDD, one sequence digit and a check digit with the 7-3-1 weights of ICAO Doc 9303
  (letters A-Z count 10-35).
* Foreigner's permanent residence card, 2023: 18 digits, ``9``, a two-digit province code, the
  numeric nationality code (ISO 3166-1), birth date, sequence (odd for men), MOD 11-2 check.

The check characters and the number layouts are the shared ones of `rules.idnumbers`, the same
the central service applies; this module adds what a card reader checks besides (province
codes, the birth date and sex on the card). Every error is an `InvalidIdNumberError` (a
`CardDataError`, a `ValueError`) whose message shows the number masked.
"""

from __future__ import annotations

from datetime import date

from drivers.idcard.errors import InvalidFieldError, InvalidIdNumberError
from drivers.idcard.fields import parse_yyyymmdd
from rules.idnumbers import (
    FOREIGN_PERMANENT_2017,
    FOREIGN_PERMANENT_2023,
    RESIDENT,
    gb11643_check_char,
    has_shape_of,
    icao_check_digit,
)
from rules.masking import mask_id_number

__all__ = [
    "PERMIT_REGIONS",
    "PROVINCES",
    "check_birth_and_sex",
    "gb11643_check_char",
    "icao_check_digit",
    "previous_2017_number",
    "validate_foreign_2017_number",
    "validate_foreign_2023_number",
    "validate_id_number",
    "validate_permit_number",
]

# GB/T 2260 province-level codes, plus 81 82 83 used by residence permits for HK, Macau, Taiwan.
PROVINCES = frozenset(
    {
        "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36",
        "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62",
        "63", "64", "65", "71", "81", "82", "83",
    }
)  # fmt: skip
PERMIT_REGIONS = {"81": "HK", "82": "MO", "83": "TW"}


def _normalise(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidIdNumberError("the ID number must be a string")
    return value.strip().upper()


def _birth_in(digits: str, shown: str) -> date:
    try:
        return parse_yyyymmdd(digits, "birth date in the ID number")
    except InvalidFieldError as exc:
        raise InvalidIdNumberError(f"ID number {shown}: {exc}") from None


def validate_id_number(value: str) -> str:
    """Check an 18-character citizen ID number (GB 11643); return it with an upper-case X.

    Checks the shape, the province code, the embedded birth date and the check character.
    Raises `InvalidIdNumberError` (a `ValueError`) naming the problem, with the number masked.
    """
    number = _normalise(value)
    shown = mask_id_number(number)
    if len(number) != 18:
        raise InvalidIdNumberError(f"ID number {shown} has {len(number)} characters, not 18")
    if not has_shape_of(RESIDENT, number):
        raise InvalidIdNumberError(f"ID number {shown}: 17 digits then a digit or X expected")
    if number[:2] not in PROVINCES:
        raise InvalidIdNumberError(f"ID number {shown}: {number[:2]} is not a province code")
    _birth_in(number[6:14], shown)
    _check_mod11(number, shown)
    return number


def _check_mod11(number: str, shown: str) -> None:
    expected = gb11643_check_char(number[:17])
    if number[17] != expected:
        raise InvalidIdNumberError(
            f"ID number {shown}: check character is {number[17]}, GB 11643 gives {expected}"
        )


def validate_permit_number(value: str) -> str:
    """A HK/Macau/Taiwan residence permit number: GB 11643 with region 81, 82 or 83."""
    number = validate_id_number(value)
    if number[:2] not in PERMIT_REGIONS:
        raise InvalidIdNumberError(
            f"ID number {mask_id_number(number)}: a residence permit number starts with 81, 82 or 83"
        )
    return number


def validate_foreign_2017_number(value: str) -> str:
    """A 15-character permanent residence number of the 2017 card."""
    number = _normalise(value)
    shown = mask_id_number(number)
    if not has_shape_of(FOREIGN_PERMANENT_2017, number):
        raise InvalidIdNumberError(
            f"permanent residence number {shown}: three letters then 12 digits expected"
        )
    for century in ("19", "20"):
        try:
            parse_yyyymmdd(century + number[7:13], "birth date")
            break
        except InvalidFieldError:
            continue
    else:
        raise InvalidIdNumberError(f"permanent residence number {shown}: no valid birth date")
    expected = icao_check_digit(number[:14])
    if number[14] != expected:
        raise InvalidIdNumberError(
            f"permanent residence number {shown}: check digit is {number[14]}, "
            f"ICAO 7-3-1 gives {expected}"
        )
    return number


def validate_foreign_2023_number(value: str) -> str:
    """An 18-digit permanent residence number of the 2023 card (first digit 9)."""
    number = _normalise(value)
    shown = mask_id_number(number)
    if not has_shape_of(FOREIGN_PERMANENT_2023, number):
        raise InvalidIdNumberError(
            f"permanent residence number {shown}: 9, 16 digits, then a digit or X expected"
        )
    if number[1:3] not in PROVINCES:
        raise InvalidIdNumberError(
            f"permanent residence number {shown}: {number[1:3]} is not a province code"
        )
    _birth_in(number[6:14], shown)
    _check_mod11(number, shown)
    return number


def check_birth_and_sex(number: str, birth: date, odd_for_men: bool | None) -> None:
    """The birth date and the sex a GB 11643-shaped number carries match the card's fields.

    `odd_for_men` is the sex of the record: True male, False female, None unknown/unstated.
    """
    shown = mask_id_number(number)
    if number[6:14] != f"{birth.year:04d}{birth.month:02d}{birth.day:02d}":
        raise InvalidIdNumberError(
            f"ID number {shown} holds a birth date different from the birth field"
        )
    # GB 11643: the 17th digit (the sequence code) is odd for men and even for women.
    odd = int(number[16]) % 2 == 1
    if odd_for_men is not None and odd != odd_for_men:
        sex = "男" if odd_for_men else "女"
        raise InvalidIdNumberError(f"ID number {shown}: sequence digit does not match sex {sex}")


def previous_2017_number(nationality: str, number_2023: str, link: str) -> str | None:
    """The 2017 card number a 2023 card's holder had, from the card's link field.

    The link holds the old number's two-digit city code and its sequence digit; the rest comes
    from the new number (province, birth date) and the nationality. None when there is no link.
    """
    if len(link) != 3 or not link.isascii() or not link.isdigit() or link == "000":
        return None
    first14 = nationality + number_2023[1:3] + link[:2] + number_2023[8:14] + link[2]
    return first14 + icao_check_digit(first14)
