"""ID numbers and names as the registry keeps them: card types, name comparison, keyed hashing.

Check digits, number layouts and masking are the shared rules of `rules.idnumbers` and
`rules.masking`, the same the kiosk and the drivers apply.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from typing import Literal, get_args


def normalize_name(name: str) -> str:
    """Compare names as residents type them: NFKC (full-width forms), no surrounding blanks."""
    return unicodedata.normalize("NFKC", name).strip()


def keyed_hash(key: bytes, value: str) -> str:
    """HMAC-SHA256 of a value under the database's secret key, hex.

    A plain salted hash of an ID number is easy to reverse by trying every plausible number, so
    the salt is a secret key held by the server, never sent to a client.
    """
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


# The four cards a kiosk's reader can present; `rules.idnumbers` knows each one's number.
CardType = Literal[
    "resident",
    "hk_mo_tw_residence",
    "foreign_permanent_2017",
    "foreign_permanent_2023",
]
CARD_TYPES: tuple[CardType, ...] = get_args(CardType)


def registry_key(card_type: str, number: str) -> str:
    """What is hashed to find a person: the number, prefixed with the card type unless resident.

    Resident numbers hash as they always did, so existing databases keep matching.
    """
    number = number.upper()
    return number if card_type == "resident" else f"{card_type}:{number}"
