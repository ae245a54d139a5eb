"""UI text in zh_CN first and English second, through gettext catalogues (.po, compiled by Babel)."""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "kiosk"
LANGUAGES = ("zh_CN", "en")


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue for `language`; compiled from its .po in memory so no build step is needed."""
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.exists():
        return gettext.NullTranslations()
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def translator(language: str) -> Callable[[str], str]:
    """A `_()` for one language."""
    return translations(language).gettext


def N_(message: str) -> str:
    """Marks a message for extraction without translating it yet."""
    return message


def in_language(obj: object, field: str, english: bool) -> str:
    """Data in the resident's language: `obj.<field>_en` in English mode when the data has it,
    else the Chinese `obj.<field>` (the central service's data is Chinese first)."""
    chinese = str(getattr(obj, field, "") or "")
    if english:
        return str(getattr(obj, f"{field}_en", "") or "") or chinese
    return chinese
