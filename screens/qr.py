"""A QR code as a Kivy texture: black modules on white, drawn pixel-exact and scaled without blur."""

from __future__ import annotations

import qrcode
from kivy.graphics.texture import Texture

# Pixels per module in the texture; the widget scales it up with nearest-neighbour filtering.
_MODULE_PX = 4


def qr_matrix(data: str) -> list[list[bool]]:
    """The QR code's modules, quiet zone included (True is dark)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(data)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def qr_texture(data: str) -> Texture:
    """A luminance texture of `data`'s QR code, crisp at any size (nearest filtering)."""
    matrix = qr_matrix(data)
    n = len(matrix)
    side = n * _MODULE_PX
    rows = bytearray()
    # Kivy textures start at the bottom row: emit the matrix upside down.
    for modules in reversed(matrix):
        line = bytearray()
        for dark in modules:
            line += (b"\x00" if dark else b"\xff") * _MODULE_PX
        rows += bytes(line) * _MODULE_PX
    texture = Texture.create(size=(side, side), colorfmt="luminance")
    texture.blit_buffer(bytes(rows), colorfmt="luminance", bufferfmt="ubyte")
    texture.mag_filter = "nearest"
    texture.min_filter = "nearest"
    return texture
