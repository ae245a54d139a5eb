"""Receipt numbers (受理编号) of applications: 16 digits, the last a Luhn check digit.

A resident types them on a digit pad, so the check digit catches a mistyped digit before any
lookup; the receipt's QR code holds ``CASE:`` + the number.
"""

from __future__ import annotations

import re

CASE_QR_PREFIX = "CASE:"
RECEIPT_NO_LENGTH = 16
_RECEIPT_NO = re.compile(r"^[0-9]{16}$")


def luhn_check_digit(body: str) -> str:
    """The Luhn (ISO/IEC 7812-1) check digit that completes the digits of `body`."""
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char)
        if position % 2 == 0:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str(-total % 10)


def receipt_no_is_valid(receipt_no: str) -> bool:
    """16 ASCII digits whose last is the Luhn check digit of the others."""
    return bool(_RECEIPT_NO.match(receipt_no)) and (
        luhn_check_digit(receipt_no[:-1]) == receipt_no[-1]
    )


def parse_case_qr(text: str) -> str | None:
    """The receipt number in a scanned receipt QR code, or None when it is not one."""
    text = text.strip()
    if not text.startswith(CASE_QR_PREFIX):
        return None
    number = text.removeprefix(CASE_QR_PREFIX)
    return number if receipt_no_is_valid(number) else None
