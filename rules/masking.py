"""The one masking policy for personal data, wherever it is shown: screens, receipts, diagnostics,
logs, driver reprs and the central service's certificates. Pure functions.

The rules follow common practice for Chinese government and bank systems:

* a name keeps its surname's first character: 李秀英 -> 李**, 张三 -> 张*, 欧阳娜娜 -> 欧***;
  a name written in Latin letters (the English name on a foreigner's card, a card reader's
  "SMITH JOHN") keeps the first letter of each word and its separators: S**** J***, so the
  resident recognises it while no word is shown whole (a one-letter word is masked);
* an ID number of any card type (18 characters, or the 15 of the 2017 foreigner's card) keeps
  its first 4 and last 4 characters: 1101**********1240;
* a short document number (a 港澳台 pass number, a social security card number) keeps only its
  first character, the letter that says what kind of document it is: H********;
* an address keeps its administrative divisions down to the district or county;
* a date keeps its year.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

MASK = "*"
ADDRESS_TAIL = "****"

# 18-character citizen ID numbers: region (first digit 1-9), birth date, sequence, then a
# check position that is a digit or X. Not anchored on letters: "ID110101..." still matches.
ID_NUMBER_PATTERN = re.compile(
    r"(?<!\d)[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?!\d)"
)
# The 2017 foreigner's permanent residence number: nationality letters, then 12 digits.
FOREIGN_2017_NUMBER_PATTERN = re.compile(r"(?<![A-Za-z])[A-Z]{3}\d{12}(?!\d)")

# Province (省, 自治区), then prefecture (市, 州, 盟, 地区), then district or county level.
_ADMIN_PREFIX = re.compile(
    r"^(?:.{2,7}?(?:省|自治区))?"
    r"(?:.{1,9}?(?:自治州|地区|盟|州|市))?"
    r"(?:.{1,9}?(?:自治县|自治旗|新区|区|县|旗|市))"
)
_ADDRESS_FALLBACK_CHARS = 6
_ID_KEEP = 4  # characters kept at each end of an ID number
# What separates the words of a Latin-script name; kept so the shape of the name reads.
_LATIN_SEPARATORS = frozenset(" ,.-")
_LATIN_WORD = re.compile(r"[^ ,.\-]+")


def _is_latin_name(name: str) -> bool:
    letters = [ch for ch in name if ch not in _LATIN_SEPARATORS and ch != "'"]  # O'BRIEN
    return bool(letters) and all(
        ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN") for ch in letters
    )


def _mask_latin_word(match: re.Match[str]) -> str:
    word = match.group(0)
    return word[0] + MASK * (len(word) - 1) if len(word) > 1 else MASK


def mask_name(name: str) -> str:
    """李秀英 -> 李**, 张三 -> 张*, one character -> *; SMITH JOHN -> S**** J***."""
    if _is_latin_name(name):
        return _LATIN_WORD.sub(_mask_latin_word, name)
    if len(name) <= 1:
        return MASK * len(name)
    return name[0] + MASK * (len(name) - 1)


def mask_id_number(number: str) -> str:
    """Keep the first 4 and last 4 characters of an ID number; 8 or fewer are hidden whole.

    The same for every card type: 1101**********1240 (resident), 8100**********1236 (港澳台
    residence permit), 9312**********0043 (2023 foreigner's card), USA1*******0012 (2017).
    """
    if len(number) <= 2 * _ID_KEEP:
        return MASK * len(number)
    return number[:_ID_KEEP] + MASK * (len(number) - 2 * _ID_KEEP) + number[-_ID_KEEP:]


def mask_document_number(number: str) -> str:
    """A pass or card number (about 9 characters): only its first character, H********.

    The ID-number rule would keep 8 of its 9 characters.
    """
    return number[:1] + MASK * (len(number) - 1)


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


def redact_text(text: str) -> str:
    """Replace anything shaped like an ID number (18 characters, or the 2017 foreigner's 15)
    with its masked form."""

    def masked(match: re.Match[str]) -> str:
        return mask_id_number(match.group(0))

    return FOREIGN_2017_NUMBER_PATTERN.sub(masked, ID_NUMBER_PATTERN.sub(masked, text))
