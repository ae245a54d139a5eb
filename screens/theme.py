"""Colours and sizes, in one place: high contrast for elderly eyes, large touch targets.

Sizes are pixels on the reference 1080x1920 portrait screen; `text_scale` and `layout_sizes` adapt
them to the actual window and to the resident's large-text choice. Plain Python, so it is testable without Kivy.
"""

from __future__ import annotations

REFERENCE_SIZE = (1080, 1920)
LARGE_TEXT_FACTOR = 1.4
MM_PER_INCH = 25.4
REFERENCE_DIAGONAL_IN = 21.5  # a typical hall kiosk (kiosk.config UiConfig.screen_diagonal_in)
# 长辈模式: nothing a resident touches is smaller than this, in either direction (a fingertip
# of an older hand, with a tremor's margin).
ELDER_TARGET_MM = 15.0


def rgba(hex_colour: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    """'#0B4EA2' -> Kivy's (r, g, b, a) floats."""
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return (r, g, b, alpha)


# Government blue for the header and primary actions; near-black on off-white for reading.
BLUE = rgba("#0B4EA2")
BLUE_DARK = rgba("#083A7A")
BLUE_PALE = rgba("#E3EDFA")
BACKGROUND = rgba("#F4F6F9")
SURFACE = rgba("#FFFFFF")
TEXT = rgba("#111111")
TEXT_MUTED = rgba("#3C4148")  # still ~10:1 on white: "muted" must not mean hard to read
TEXT_ON_BLUE = rgba("#FFFFFF")
BORDER = rgba("#9AA5B1")
PRESSED = rgba("#C9D6E8")
# A function that cannot be offered now: grey, but its words stay readable (~7:1).
DISABLED_BG = rgba("#E6E8EB")
DISABLED_TEXT = rgba("#4A4F57")
# Black on amber: the highest-contrast warning pair, and not red (red reads as "you did wrong").
NOTICE_BG = rgba("#FFD23F")
NOTICE_TEXT = rgba("#000000")
NOTICE_EDGE = rgba("#8A5A00")
SCRIM = rgba("#000000", 0.62)
# What is wrong with an answer: red text (~6:1 on white), always with words saying what.
PROBLEM = rgba("#B3261E")

# Rating faces, best to worst: green through amber to red, each dark enough for white text.
RATING_COLOURS = {
    "5": rgba("#1B7F3B"),
    "4": rgba("#3E8E2F"),
    "3": rgba("#9A6700"),
    "2": rgba("#C4510F"),
    "1": rgba("#B3261E"),
}

# Font sizes (px at 1080 wide). Body text never below 28 px, as the brief for elderly users asks.
# Widgets name a role ("body") rather than a size, so that one .kv rule per widget class sets the
# size and instances never fight the class rule over `font_size`.
FONT_SIZES = {
    "small": 28,
    "body": 34,
    "button": 38,
    "tile": 44,
    "title": 52,
    "hero": 66,
}
# Touch targets and chrome (px at 1080 wide). Nothing a resident touches is under 120 px tall.
LAYOUT_SIZES = {
    "touch_h": 132,
    "tile_h": 210,
    "pad": 36,
    "gap": 24,
    "radius": 18,
}


def window_scale(width: float, height: float) -> float:
    """How much the window is bigger or smaller than the reference portrait screen."""
    ref_w, ref_h = REFERENCE_SIZE
    return min(width / ref_w, height / ref_h)


def text_scale(width: float, height: float, large_text: bool) -> float:
    """The factor applied to every font size in `FONT_SIZES`."""
    return window_scale(width, height) * (LARGE_TEXT_FACTOR if large_text else 1.0)


def layout_sizes(width: float, height: float, large_text: bool) -> dict[str, float]:
    """Touch targets and spacing for this window; targets grow a little with large text."""
    scale = window_scale(width, height)
    grow = scale * (1.2 if large_text else 1.0)
    sizes = {name: round(px * scale) for name, px in LAYOUT_SIZES.items()}
    sizes["touch_h"] = round(LAYOUT_SIZES["touch_h"] * grow)
    sizes["tile_h"] = round(LAYOUT_SIZES["tile_h"] * grow)
    return sizes


def pixels_per_mm(size: tuple[int, int], diagonal_in: float) -> float:
    """Pixels per millimetre of a panel `size` pixels wide and high, `diagonal_in` inches across."""
    width, height = size
    if diagonal_in <= 0:
        raise ValueError("the screen's diagonal must be positive")
    return float((width**2 + height**2) ** 0.5 / diagonal_in / MM_PER_INCH)


_px_per_mm = pixels_per_mm(REFERENCE_SIZE, REFERENCE_DIAGONAL_IN)


def set_screen(size: tuple[int, int], diagonal_in: float) -> None:
    """Tell `mm` which panel the kiosk drives (from the configuration, at start)."""
    global _px_per_mm
    _px_per_mm = pixels_per_mm(size, diagonal_in)


def mm(n: float) -> float:
    """`n` millimetres on the configured panel, in pixels."""
    return n * _px_per_mm


def elder_target_px() -> float:
    """The least width and height of a touch target in 长辈模式."""
    return round(mm(ELDER_TARGET_MM) + 0.5)
