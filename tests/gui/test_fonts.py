"""The kiosk font draws Chinese, including rare name characters, as glyphs and not as boxes.

Rendering goes through Kivy's own text provider (SDL2_ttf) into memory, so no display is needed.
A character the font lacks is drawn as the .notdef box, so "not tofu" means "not the same pixels
as a character no font has".
"""

from __future__ import annotations

import os

import pytest
from fontTools.ttLib import TTFont

from screens import fonts

pytestmark = pytest.mark.gui

TEXT = "打印证明䶮𠮷"
RARE = "䶮𠮷"  # U+4DAE (Extension A) and U+20BB7 (Extension B, outside the BMP)
NO_SUCH_CHARACTER = "\U0010fffd"  # a private-use code point: every font draws .notdef for it


@pytest.fixture(scope="module")
def kivy_text():
    """Kivy's text Label class with the kiosk font registered (and WenQuanYi, for comparison)."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    files = fonts.register_fonts()
    from kivy.core.text import Label, LabelBase

    if fonts.WQY_MICROHEI.exists():
        LabelBase.register("WQYForTest", str(fonts.WQY_MICROHEI))
    return Label, files


def render(label_cls, text: str, font: str, bold: bool = False) -> bytes:
    """RGBA pixels of `text`, drawn by the text provider into memory (no GL texture)."""
    label = label_cls(text=text, font_size=48, font_name=font, bold=bold)
    label.resolve_font_name()
    label._size = label.get_extents(text)  # what Label.render() would size the surface to
    label._render_begin()
    label._render_text(text, 0, 0)
    return bytes(label._render_end().data)


def ink(pixels: bytes) -> int:
    """How much was drawn (sum of alpha)."""
    return sum(pixels[3::4])


def test_extracted_face_is_simplified_chinese(kivy_text):
    _label, files = kivy_text
    assert files.noto, "Noto Sans CJK not found: install fonts-noto-cjk"
    for path in (files.regular, files.bold):
        with TTFont(str(path), lazy=True) as face:
            assert face["name"].getDebugName(1) == fonts.SC_FAMILY
            cmap = face.getBestCmap()
            assert all(ord(ch) in cmap for ch in TEXT)


@pytest.mark.parametrize("bold", [False, True])
def test_every_character_is_a_glyph_not_a_box(kivy_text, bold):
    """GIVEN the kiosk font WHEN "打印证明䶮𠮷" is drawn THEN no character looks like .notdef."""
    label_cls, _files = kivy_text
    box = render(label_cls, NO_SUCH_CHARACTER, fonts.FONT_NAME, bold)
    assert ink(box) > 0  # the box itself is visible, so comparing with it means something
    for ch in TEXT:
        pixels = render(label_cls, ch, fonts.FONT_NAME, bold)
        assert ink(pixels) > 0, ch
        assert pixels != box, f"{ch!r} is drawn as the missing-glyph box"
    assert ink(render(label_cls, TEXT, fonts.FONT_NAME, bold)) > 0


def test_the_comparison_does_catch_tofu(kivy_text):
    """WenQuanYi Micro Hei lacks 䶮 and 𠮷: the same comparison must flag them as boxes."""
    label_cls, _files = kivy_text
    if not fonts.WQY_MICROHEI.exists():
        pytest.skip("fonts-wqy-microhei not installed")
    box = render(label_cls, NO_SUCH_CHARACTER, "WQYForTest")
    assert render(label_cls, "打", "WQYForTest") != box
    for ch in RARE:
        assert render(label_cls, ch, "WQYForTest") == box


def test_kiosk_font_is_every_widgets_default(kivy_text):
    """Widgets that never set font_name (VKeyboard, TextInput) get the kiosk font too."""
    from kivy.core.text import DEFAULT_FONT, LabelBase

    _label, files = kivy_text
    assert LabelBase._fonts[DEFAULT_FONT][0] == str(files.regular)


def test_extraction_reuses_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_FONT_CACHE", str(tmp_path))
    if not fonts.NOTO_REGULAR.exists():
        pytest.skip("fonts-noto-cjk not installed")
    first = fonts.extract_face(fonts.NOTO_REGULAR, fonts.SC_FAMILY, fonts.cache_dir())
    mtime = first.stat().st_mtime_ns
    again = fonts.extract_face(fonts.NOTO_REGULAR, fonts.SC_FAMILY, fonts.cache_dir())
    assert again == first and again.stat().st_mtime_ns == mtime
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no temporary files left
