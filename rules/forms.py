"""Application form fields (申请表栏目): the field types and one check per value. Pure functions.

The kiosk checks each field as the resident types it, and the central service checks the whole
form again on arrival, with this same module, so both always agree. `check(field_spec, value)`
answers None (fine) or one stable problem code the kiosk turns into words:

| code                | meaning                                                        |
|---------------------|----------------------------------------------------------------|
| `required`          | a required field is empty                                      |
| `too_short`         | fewer characters than the type allows                          |
| `too_long`          | more characters than the type or `max_length` allows           |
| `not_a_name`        | a character that is not a CJK ideograph or a well-placed ·     |
| `bad_phone`         | neither a mainland mobile nor a landline number                |
| `bad_id_number`     | not an ID number with a valid check character and birth date   |
| `bad_date`          | not an ISO date YYYY-MM-DD that exists                         |
| `date_out_of_range` | before `min` or after `max`                                    |
| `not_a_choice`      | not one of the field's `choices` values                        |
| `bad_characters`    | control or format characters (or a value that is not text)     |

A field spec is a mapping (the form JSON) or any object with the same attributes (the kiosk's
wire model): `type`, `required` (default true), `max_length`, `choices` ([{value, ...}]),
`min` and `max` (dates: ``YYYY-MM-DD``, ``today``, or ``today-18y`` / ``today+30d``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from rules.idnumbers import (
    FOREIGN_PERMANENT_2017,
    RESIDENT,
    birth_date_in,
    has_valid_check_digit_for,
)

FIELD_TYPES = ("chinese_name", "phone", "id_number", "date", "choice", "address", "text")
PROBLEMS = (
    "required",
    "too_long",
    "too_short",
    "not_a_name",
    "bad_phone",
    "bad_id_number",
    "bad_date",
    "date_out_of_range",
    "not_a_choice",
    "bad_characters",
)

NAME_LENGTH = (2, 20)
ADDRESS_LENGTH = (5, 100)
TEXT_MAX_LENGTH = 200

# Every block of CJK unified and compatibility ideographs, extensions A to I: ID cards carry
# rare characters such as 䶮 (A) and 𠮷 (B). Explicit ranges, not unicodedata, so characters
# newer than this Python's Unicode tables still count.
_IDEOGRAPH_RANGES = (
    (0x3400, 0x4DBF),  # extension A
    (0x4E00, 0x9FFF),  # unified ideographs
    (0xF900, 0xFAFF),  # compatibility ideographs
    (0x20000, 0x2A6DF),  # extension B
    (0x2A700, 0x2EE5F),  # extensions C, D, E, F, I
    (0x2F800, 0x2FA1F),  # compatibility supplement
    (0x30000, 0x323AF),  # extensions G, H
)
# The separator of minority and foreign names (阿依古丽·买买提): the middle dot as ID cards
# print it, and the two look-alikes input methods produce.
NAME_DOTS = frozenset("\u00b7\u30fb\u2027")

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
# 0 + area code (2-3 digits after the 0) + a 7-8 digit number, optionally hyphenated.
_LANDLINE = re.compile(r"0[1-9][0-9]{1,2}-?[1-9][0-9]{6,7}")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_RELATIVE_DATE = re.compile(r"today(?:([+-])([0-9]{1,3})([yd]))?")
# Control, format (bidi overrides, zero-width), surrogate and line/paragraph separator characters.
_BAD_CATEGORIES = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))


def _get(spec: Any, key: str, default: Any = None) -> Any:
    if isinstance(spec, Mapping):
        return spec.get(key, default)
    return getattr(spec, key, default)


def is_ideograph(char: str) -> bool:
    """True for one CJK ideograph of any block, extensions included."""
    code = ord(char)
    return any(low <= code <= high for low, high in _IDEOGRAPH_RANGES)


def has_bad_characters(value: str) -> bool:
    """True when `value` holds a control, format or separator character."""
    return any(unicodedata.category(char) in _BAD_CATEGORIES for char in value)


def _length(value: str, low: int, high: int) -> str | None:
    if len(value) < low:
        return "too_short"
    if len(value) > high:
        return "too_long"
    return None


def _chinese_name(value: str, max_length: int) -> str | None:
    if has_bad_characters(value):
        return "bad_characters"
    if not all(is_ideograph(char) or char in NAME_DOTS for char in value):
        return "not_a_name"
    if value[0] in NAME_DOTS or value[-1] in NAME_DOTS:
        return "not_a_name"
    if any(a in NAME_DOTS and b in NAME_DOTS for a, b in zip(value, value[1:], strict=False)):
        return "not_a_name"
    return _length(value, NAME_LENGTH[0], min(NAME_LENGTH[1], max_length))


def _phone(value: str) -> str | None:
    if _MOBILE.fullmatch(value) or _LANDLINE.fullmatch(value):
        return None
    return "bad_phone"


def _id_number(value: str) -> str | None:
    number = value.upper()
    # Resident, HK/Macau/Taiwan and 2023 foreigner's numbers share the GB 11643 rule.
    for card_type in (RESIDENT, FOREIGN_PERMANENT_2017):
        if has_valid_check_digit_for(card_type, number) and birth_date_in(card_type, number):
            return None
    return "bad_id_number"


def parse_date(value: str) -> date | None:
    """An ISO date YYYY-MM-DD (ASCII digits only), or None when it is not one that exists."""
    match = _ISO_DATE.fullmatch(value)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def resolve_bound(bound: str, today: date) -> date:
    """A date bound as written in a form: ISO date, `today`, or `today-18y` / `today+30d`.

    Raises ValueError for anything else: bounds are written by the form's author, not residents.
    """
    exact = parse_date(bound)
    if exact is not None:
        return exact
    match = _RELATIVE_DATE.fullmatch(bound)
    if match is None:
        raise ValueError(f"not a date bound: {bound!r}")
    if match[1] is None:
        return today
    amount = int(match[2]) * (1 if match[1] == "+" else -1)
    if match[3] == "d":
        return today + timedelta(days=amount)
    try:
        return today.replace(year=today.year + amount)
    except ValueError:  # 29 February in a year that has none
        return today.replace(year=today.year + amount, day=28)


def _date(value: str, spec: Any, today: date) -> str | None:
    day = parse_date(value)
    if day is None:
        return "bad_date"
    low, high = _get(spec, "min"), _get(spec, "max")
    if low is not None and day < resolve_bound(low, today):
        return "date_out_of_range"
    if high is not None and day > resolve_bound(high, today):
        return "date_out_of_range"
    return None


def _choice(value: str, spec: Any) -> str | None:
    values = {_get(choice, "value") for choice in _get(spec, "choices") or ()}
    return None if value in values else "not_a_choice"


def _free_text(value: str, low: int, high: int) -> str | None:
    if has_bad_characters(value):
        return "bad_characters"
    return _length(value, low, high)


def check(field_spec: Any, value: object, *, today: date | None = None) -> str | None:
    """None when `value` is acceptable for the field, else the problem's code (see the table).

    Never raises for any value; raises ValueError only for a spec of unknown `type`.
    `today` (default: the local date) anchors relative date bounds; the service passes Beijing's.
    """
    kind = _get(field_spec, "type")
    if kind not in FIELD_TYPES:
        raise ValueError(f"unknown field type {kind!r}")
    if value is None or (isinstance(value, str) and not value.strip()):
        return "required" if _get(field_spec, "required", True) else None
    if not isinstance(value, str):
        return "bad_characters"
    max_length = _get(field_spec, "max_length")
    if kind == "chinese_name":
        return _chinese_name(value, max_length or NAME_LENGTH[1])
    if kind == "phone":
        return _phone(value)
    if kind == "id_number":
        return _id_number(value)
    if kind == "date":
        return _date(value, field_spec, today or date.today())
    if kind == "choice":
        return _choice(value, field_spec)
    if kind == "address":
        return _free_text(value, ADDRESS_LENGTH[0], min(ADDRESS_LENGTH[1], max_length or 100))
    return _free_text(value, 1, max_length or TEXT_MAX_LENGTH)


def check_all(
    fields: Any, values: Mapping[str, object], *, today: date | None = None
) -> list[tuple[str, str]]:
    """Every (field name, problem) of a form's values, in form order.

    `fields` is the form's list of field specs, each with a `name`. Values for names the form
    does not have are not looked at: the caller decides whether those are an error.
    """
    problems = []
    for spec in fields:
        problem = check(spec, values.get(_get(spec, "name")), today=today)
        if problem is not None:
            problems.append((str(_get(spec, "name")), problem))
    return problems
