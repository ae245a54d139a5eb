"""A Simplified Chinese font for every Kivy widget, including rare name characters (䶮 𠮷).

Kivy opens the first face of a .ttc; in Noto Sans CJK that face is the Japanese one, whose glyph
shapes differ from the mainland standard. So the "Noto Sans CJK SC" face is extracted once into a
cache with fontTools and registered from there. WenQuanYi Micro Hei is the fallback: it draws
Chinese but lacks some characters that ID cards carry.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

FONT_NAME = "KioskCJK"
SC_FAMILY = "Noto Sans CJK SC"
NOTO_DIR = Path("/usr/share/fonts/opentype/noto")
NOTO_REGULAR = NOTO_DIR / "NotoSansCJK-Regular.ttc"
NOTO_BOLD = NOTO_DIR / "NotoSansCJK-Bold.ttc"
WQY_MICROHEI = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


class FontNotFound(RuntimeError):
    """No usable CJK font is installed."""


@dataclass(frozen=True)
class FontFiles:
    """The files behind `FONT_NAME`, and whether they are the preferred Noto SC face."""

    regular: Path
    bold: Path
    noto: bool


def cache_dir() -> Path:
    """Where extracted faces live: $KIOSK_FONT_CACHE, else ~/.cache/kiosk/fonts."""
    env = os.environ.get("KIOSK_FONT_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "kiosk" / "fonts"


def extract_face(collection: Path, family: str, dest_dir: Path) -> Path:
    """Extract the face of `collection` whose family name is `family`; reuses a cached copy."""
    # The source's size and mtime are in the name, so a font package upgrade re-extracts.
    stat = collection.stat()
    slug = family.replace(" ", "")
    dest = dest_dir / f"{collection.stem}-{slug}-{stat.st_size}-{int(stat.st_mtime)}.otf"
    if dest.exists() and dest.stat().st_size > 0:
        return dest
    from fontTools.ttLib import TTCollection

    with TTCollection(str(collection), lazy=True) as ttc:
        face = next((f for f in ttc.fonts if f["name"].getDebugName(1) == family), None)
        if face is None:
            raise FontNotFound(f"{collection} has no face named {family!r}")
        dest_dir.mkdir(parents=True, exist_ok=True)
        # Write beside the target and rename: a concurrent start never sees half a font.
        fd, tmp = tempfile.mkstemp(dir=dest_dir, suffix=".tmp")
        os.close(fd)
        try:
            face.save(tmp)
            os.replace(tmp, dest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    log.info("extracted %s from %s", family, collection.name)
    return dest


def find_font_files() -> FontFiles:
    """The Noto Sans CJK SC faces (extracted), else WenQuanYi Micro Hei with a warning."""
    if NOTO_REGULAR.exists():
        try:
            regular = extract_face(NOTO_REGULAR, SC_FAMILY, cache_dir())
            bold = (
                extract_face(NOTO_BOLD, SC_FAMILY, cache_dir()) if NOTO_BOLD.exists() else regular
            )
            return FontFiles(regular, bold, noto=True)
        except Exception as exc:  # a broken cache or font must not keep the kiosk dark
            log.warning("Noto Sans CJK SC unusable (%s); falling back", exc)
    if WQY_MICROHEI.exists():
        log.warning(
            "using WenQuanYi Micro Hei: rare name characters such as 䶮 𠮷 will not render; "
            "install fonts-noto-cjk"
        )
        return FontFiles(WQY_MICROHEI, WQY_MICROHEI, noto=False)
    raise FontNotFound("no CJK font found: install fonts-noto-cjk (or fonts-wqy-microhei)")


def set_default_font_config(files: FontFiles) -> None:
    """Make `FONT_NAME` Kivy's default font; effective for widgets created from now on.

    Call before `kivy.core.text` is imported so every widget (VKeyboard, TextInput, Label)
    defaults to it; `register_fonts` also covers the case where it was imported already.
    """
    from kivy.config import Config

    paths = [FONT_NAME, str(files.regular), str(files.regular), str(files.bold), str(files.bold)]
    Config.set("kivy", "default_font", repr(paths))


def register_fonts() -> FontFiles:
    """Register `FONT_NAME` with Kivy and make it the default font of every widget."""
    files = find_font_files()
    set_default_font_config(files)
    from kivy.core.text import DEFAULT_FONT, LabelBase

    LabelBase.register(FONT_NAME, str(files.regular), fn_bold=str(files.bold))
    if DEFAULT_FONT != FONT_NAME:
        # kivy.core.text was imported before our config: widgets default to DEFAULT_FONT
        # ("Roboto"), so point that name at our files too rather than leave it without Chinese.
        LabelBase.register(DEFAULT_FONT, str(files.regular), fn_bold=str(files.bold))
    return files
