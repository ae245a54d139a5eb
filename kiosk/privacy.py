"""Masking of personal data for screens, receipts, diagnostics and logs. Pure functions.

The rules follow common practice for Chinese government and bank systems: a name keeps its
surname, an ID number its first 4 and last 4 characters, an address its administrative
divisions down to the district or county, a date its year.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

MASK = "*"
ADDRESS_TAIL = "****"

# 18-character citizen ID numbers: region (first digit 1-9), birth date, sequence, then a
# check position that is a digit or X. Not anchored on letters: "ID110101..." still matches.
ID_NUMBER_PATTERN = re.compile(
    r"(?<!\d)[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?!\d)"
)

# Province (省, 自治区), then prefecture (市, 州, 盟, 地区), then district or county level.
_ADMIN_PREFIX = re.compile(
    r"^(?:.{2,7}?(?:省|自治区))?"
    r"(?:.{1,9}?(?:自治州|地区|盟|州|市))?"
    r"(?:.{1,9}?(?:自治县|自治旗|新区|区|县|旗|市))"
)
_ADDRESS_FALLBACK_CHARS = 6


def mask_name(name: str) -> str:
    """Keep the first character: 李秀英 -> 李**, 张三 -> 张*, a single character -> *."""
    if len(name) <= 1:
        return MASK * len(name)
    return name[0] + MASK * (len(name) - 1)


def mask_id_number(number: str) -> str:
    """Keep the first 4 and last 4 characters of an ID number; shorter values are hidden whole."""
    if len(number) <= 8:
        return MASK * len(number)
    return number[:4] + MASK * (len(number) - 8) + number[-4:]


def mask_address(address: str) -> str:
    """Keep the administrative divisions down to district or county, hide the rest.

    北京市东城区景山前街4号 -> 北京市东城区****. Addresses without a recognisable district keep
    their first 6 characters.
    """
    if not address:
        return ""
    match = _ADMIN_PREFIX.match(address)
    kept = match.group(0) if match else address[:_ADDRESS_FALLBACK_CHARS]
    if len(kept) >= len(address):
        # Nothing would be hidden: still hide the last part rather than show it all.
        kept = address[: max(len(address) // 2, 1)]
    return kept + ADDRESS_TAIL


def mask_date(value: str | date) -> str:
    """Keep the year: 1956-03-12 -> 1956-**-**, 19560312 -> 1956****."""
    if isinstance(value, date):
        value = value.isoformat()
    if len(value) >= 4 and value[:4].isdigit():
        return value[:4] + "".join(MASK if ch.isdigit() else ch for ch in value[4:])
    return MASK * len(value)


# Which keys of an ID card dict are personal, and how each is masked.
def mask_pass_number(value: str) -> str:
    """A 港澳台 pass number: only its first character (the rule for ID numbers would keep 8 of 9)."""
    return value[:1] + MASK * (len(value) - 1)


_TEXT_MASKS = {
    "name": mask_name,
    "chinese_name": mask_name,
    "english_name": mask_name,
    "address": mask_address,
    "id_number": mask_id_number,
    "previous_number": mask_id_number,
    "pass_number": mask_pass_number,
}


def mask_record_dict(record: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a card dict (``as_dict()`` of any ID card type) with its personal keys masked.

    Names, address, ID, pass and previous numbers and birth date are masked; sex, nation, issuer, validity dates,
    card type and photo size are kept, since a technician needs them and they identify no one.
    """
    masked = dict(record)
    for key, mask in _TEXT_MASKS.items():
        value = masked.get(key)
        if isinstance(value, str):
            masked[key] = mask(value)
    birth = masked.get("birth_date")
    if isinstance(birth, str | date):
        masked["birth_date"] = mask_date(birth)
    return masked


def redact_text(text: str) -> str:
    """Replace anything shaped like an 18-character ID number with its masked form."""
    return ID_NUMBER_PATTERN.sub(lambda m: mask_id_number(m.group(0)), text)


class RedactingFilter(logging.Filter):
    """A logging filter that masks ID numbers in messages and tracebacks before they are written.

    Attach it to handlers (``handler.addFilter(RedactingFilter())``) so it sees records from
    every logger. The message is formatted once here and the arguments dropped, so a number
    passed as an argument is caught too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record in place; never drops a record."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed logging call: the handler reports it, not us
            return True
        redacted = redact_text(message)
        if redacted != message or record.args:
            record.msg = redacted
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True
