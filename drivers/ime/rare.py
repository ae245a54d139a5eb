"""Rare name characters by pinyin: the CJK extension characters that librime's dictionary lacks.

ID cards carry names with characters such as 䶮 (U+4DAE, yǎn) or 𠮷 (U+20BB7, jí) that no
everyday pinyin dictionary offers, so a resident could never type their own name. This index maps
a toneless syllable ("yan", "ji", "lv" for lǚ) to such characters, read from pypinyin's
character dictionary, keeping only characters that are

- CJK unified ideographs (any block; the compatibility ideographs are duplicates),
- outside the common set (GB 2312 and everything librime's pinyin_simp dictionary holds, which
  the keyboard already offers first), and
- drawable by the kiosk font (Noto Sans CJK SC; its cmap is read once with fontTools), so a
  candidate button never shows an empty box.

The index is built lazily on first use (about half a second) and kept for the process.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from drivers.ime.rime import SHARED_DATA_DIR, validate_pinyin

log = logging.getLogger(__name__)

NOTO_CJK_REGULAR = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
NOTO_SC_FAMILY = "Noto Sans CJK SC"
RIME_DICT = SHARED_DATA_DIR / "pinyin_simp.dict.yaml"

# Readings pypinyin 0.55 lacks, from Unihan's kMandarin. 𠮷 is the best-known rare surname
# character (吉 with 土 on top); without this line it could not be typed at all.
SUPPLEMENTARY_READINGS: dict[str, tuple[str, ...]] = {
    "\U00020bb7": ("jí",),  # 𠮷
}

# Rare characters that are known to occur in names: shown before the others of their syllable.
NAME_CHARACTERS = "䶮𠮷堃玏囍"


def toneless(reading: str) -> str:
    """'lǚ' -> 'lv', 'yǎn' -> 'yan': the letters a person types on the pinyin layout."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFD", reading.lower()):
        if ch == "\u0308":  # the diaeresis of ü: typed as v
            if out and out[-1] == "u":
                out[-1] = "v"
        elif "a" <= ch <= "z":
            out.append(ch)
    return "".join(out)


def _is_unified_ideograph(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith("CJK UNIFIED IDEOGRAPH")


def _is_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


@cache
def font_coverage(
    font_path: Path = NOTO_CJK_REGULAR, family: str = NOTO_SC_FAMILY
) -> frozenset[int]:
    """The code points the `family` face of `font_path` can draw (empty if it cannot be read)."""
    try:
        from fontTools.ttLib import TTCollection, TTFont

        if font_path.suffix.lower() == ".ttc":
            with TTCollection(str(font_path), lazy=True) as ttc:
                face = next((f for f in ttc.fonts if f["name"].getDebugName(1) == family), None)
                if face is None:
                    raise ValueError(f"no face named {family!r}")
                return frozenset(face.getBestCmap())
        with TTFont(str(font_path), lazy=True) as font:
            return frozenset(font.getBestCmap())
    except Exception as exc:  # a missing or broken font: offer nothing it cannot draw
        log.warning("kiosk font %s unreadable (%s): no rare characters offered", font_path, exc)
        return frozenset()


def rime_dictionary_characters(path: Path = RIME_DICT) -> frozenset[str]:
    """The single characters of a rime dictionary (the lines `字<TAB>pinyin<TAB>weight`)."""
    chars: set[str] = set()
    try:
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                word, tab, _ = line.partition("\t")
                if tab and len(word) == 1:
                    chars.add(word)
    except OSError as exc:
        log.warning("rime dictionary %s unreadable (%s)", path, exc)
    return frozenset(chars)


def _readings() -> Iterable[tuple[str, str]]:
    from pypinyin.pinyin_dict import pinyin_dict

    for code, readings in pinyin_dict.items():
        for reading in readings.split(","):
            yield chr(code), reading
    for ch, extra in SUPPLEMENTARY_READINGS.items():
        for reading in extra:
            yield ch, reading


def _sort_key(ch: str) -> tuple[int, int]:
    # Known name characters first, then by code point: the basic block before the extensions.
    return (0 if ch in NAME_CHARACTERS else 1, ord(ch))


class RareIndex:
    """Toneless pinyin -> rare characters the font can draw; built on first query."""

    def __init__(
        self,
        *,
        font_path: Path = NOTO_CJK_REGULAR,
        font_family: str = NOTO_SC_FAMILY,
        rime_dict: Path = RIME_DICT,
    ) -> None:
        self._font_path = font_path
        self._font_family = font_family
        self._rime_dict = rime_dict
        self._index: dict[str, tuple[str, ...]] | None = None
        self._lock = threading.Lock()

    def _build(self) -> dict[str, tuple[str, ...]]:
        drawable = font_coverage(self._font_path, self._font_family)
        common = rime_dictionary_characters(self._rime_dict)
        index: dict[str, set[str]] = {}
        for ch, reading in _readings():
            if ord(ch) not in drawable or ch in common or _is_gb2312(ch):
                continue
            if not _is_unified_ideograph(ch):
                continue
            key = toneless(reading)
            if key:
                index.setdefault(key, set()).add(ch)
        built = {key: tuple(sorted(chars, key=_sort_key)) for key, chars in index.items()}
        log.info("rare character index: %d syllables", len(built))
        return built

    def _get(self) -> dict[str, tuple[str, ...]]:
        with self._lock:
            if self._index is None:
                self._index = self._build()
            return self._index

    def candidates(self, pinyin: str) -> list[str]:
        """Rare characters read as `pinyin` (one syllable, toneless; separators ignored).

        Malformed input raises ValueError (as `PinyinEngine.candidates`); "" gives [].
        """
        key = validate_pinyin(pinyin).replace("'", "")
        if not key:
            return []
        return list(self._get().get(key, ()))

    def syllables(self) -> frozenset[str]:
        """Every syllable that has rare characters."""
        return frozenset(self._get())


_default_index = RareIndex()


def extended_candidates(pinyin: str) -> list[str]:
    """Rare characters for one toneless syllable, from the process-wide default index."""
    return _default_index.candidates(pinyin)
