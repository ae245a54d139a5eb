"""Citizen ID numbers (GB 11643-1999) and names: check digit, masking, keyed hashing."""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

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
