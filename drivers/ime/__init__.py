"""Offline Chinese input engines for the on-screen keyboards (Kivy has no input method on Linux).

    from drivers.ime.rime import PinyinEngine              # pinyin -> characters (librime)
    from drivers.ime.rare import extended_candidates       # pinyin -> rare name characters
    from drivers.ime.handwriting import HandwritingEngine  # strokes -> characters (zinnia)

Each engine loads its C library on first use, not on import, and raises `ImeUnavailable` when
the library, its data or its model is missing, so the kiosk can hide that keyboard layout.
"""

from __future__ import annotations

from drivers.ime.errors import ImeUnavailable

__all__ = ["ImeUnavailable"]
