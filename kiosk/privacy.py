"""Masking of personal data for screens, diagnostics and logs: card dicts and a logging filter.

The policy itself (names, ID numbers, pass numbers, addresses, dates) lives in `rules.masking`,
shared with the drivers and the central service; its names are re-exported here for the kiosk.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from typing import Any

from rules.masking import (
    ADDRESS_TAIL,
    ID_NUMBER_PATTERN,
    MASK,
    mask_address,
    mask_date,
    mask_id_number,
    mask_name,
    redact_text,
)
from rules.masking import mask_document_number as mask_pass_number

__all__ = [
    "ADDRESS_TAIL",
    "ID_NUMBER_PATTERN",
    "MASK",
    "RedactingFilter",
    "mask_address",
    "mask_date",
    "mask_id_number",
    "mask_name",
    "mask_pass_number",
    "mask_record_dict",
    "redact_text",
]

# Which keys of an ID card dict are personal, and how each is masked.
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
