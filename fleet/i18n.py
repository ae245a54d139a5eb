"""Dashboard text in Chinese first, English second: gettext catalogues under fleet/locale.

The message ids are English; `zh_CN` is the default language. Catalogues are compiled from their
.po files in memory, so there is no build step and only .po files are shipped.
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "fleet"
DEFAULT_LANGUAGE = "zh_CN"
LANGUAGES = ("zh_CN", "en")
# What the language switch shows, each in its own language.
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue for `language`; English (the message ids) needs none."""
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language not in LANGUAGES or not po_path.exists():
        return gettext.NullTranslations()
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def pick_language(requested: str | None) -> str:
    """A supported language for a cookie or query value; anything else is the default."""
    return requested if requested in LANGUAGES else DEFAULT_LANGUAGE


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown."""
    return message
