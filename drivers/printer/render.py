"""Draw what a receipt printer would print: a decoded job onto 576-dot-wide 80 mm paper, as PNG.

The layout imitates an ESC/POS printer's built-in fonts: ASCII in 12x24-dot cells, Chinese
(and other wide characters) in 24x24 cells, 30-dot line pitch, GS ! / ESC ! magnification by
whole cells, wrapping at the paper edge. Glyphs come from a CJK font on the system, preferring the
Simplified Chinese face of Noto Sans CJK (a .ttc's first face is Japanese and draws some hanzi in
Japanese shapes), then WenQuanYi Micro Hei.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from drivers.printer.escpos_decode import (
    DecodedJob,
    FeedLines,
    PaperCut,
    QrCode,
    RasterImage,
    TextLine,
    TextSpan,
    decode_escpos,
)
from drivers.printer.receipt import Align, Receipt

PAPER_DOTS = 576
CELL_W, CELL_H, LINE_PITCH = 12, 24, 30
MARGIN_TOP = 24
PAPER, INK = 255, 0

# (file, preferred face names); the first face found wins.
_FONT_CANDIDATES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-{weight}.ttc",
        ("Noto Sans Mono CJK SC", "Noto Sans CJK SC"),
    ),
    (
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        ("WenQuanYi Micro Hei Mono", "WenQuanYi Micro Hei"),
    ),
)


@dataclass(frozen=True)
class FontFace:
    """A font file and the index of the face to use inside a .ttc collection."""

    path: str
    index: int
    name: str


@cache
def find_cjk_font(bold: bool = False) -> FontFace | None:
    """The best installed CJK face for Simplified Chinese, or None if there is none."""
    for pattern, wanted in _FONT_CANDIDATES:
        path = pattern.format(weight="Bold" if bold else "Regular")
        if not Path(path).exists():
            continue
        faces: dict[str, int] = {}
        for index in range(16):
            try:
                family, _style = ImageFont.truetype(path, 12, index=index).getname()
            except OSError:
                break  # past the last face of the collection
            faces.setdefault(str(family), index)
        for name in wanted:
            if name in faces:
                return FontFace(path, faces[name], name)
    return None


@cache
def _font(size: int, bold: bool) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    face = find_cjk_font(bold) or find_cjk_font(False)
    if face is None:
        return ImageFont.load_default(size)  # no CJK font installed: hanzi will be boxes
    return ImageFont.truetype(face.path, size, index=face.index)


@cache
def _has_bold_face() -> bool:
    regular, bold = find_cjk_font(False), find_cjk_font(True)
    return bold is not None and (regular is None or bold.path != regular.path)


def _is_wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


# A block is a strip of paper: its height and how to draw it at a given top.
_Block = tuple[int, Callable[[Image.Image, int], None]]


def _x_for(align: Align, width: int, paper: int) -> int:
    if align == "center":
        return max(0, (paper - width) // 2)
    if align == "right":
        return max(0, paper - width)
    return 0


def _row_height(height: int) -> int:
    # A line feed moves the character height plus the gap of the default 30-dot spacing.
    return CELL_H * height + LINE_PITCH - CELL_H


def _glyph(ch: str, span: TextSpan) -> Image.Image:
    """One character cell (with the line gap below it) at the span's magnification."""
    base_w = CELL_W * (2 if _is_wide(ch) else 1)
    size = CELL_H * span.height
    font = _font(size, span.bold)
    cell = Image.new("L", (base_w * span.height, _row_height(span.height)), PAPER)
    draw = ImageDraw.Draw(cell)
    # CJK faces put the ideographic em box from 0.88 em above the baseline to 0.12 em below,
    # so this baseline makes hanzi fill the 24-dot cell and leaves descenders the line gap.
    # Centred horizontally: the printer's font is monospaced, fallback faces may not be.
    stroke = span.height if span.bold and not _has_bold_face() else 0  # fake bold if need be
    xy = (cell.width / 2, round(size * 0.88))
    draw.text(xy, ch, font=font, fill=INK, anchor="ms", stroke_width=stroke, stroke_fill=INK)
    if span.underline:
        draw.rectangle((0, size, cell.width, size + span.height), fill=INK)
    target = (base_w * span.width, cell.height)
    return cell if cell.size == target else cell.resize(target, Image.Resampling.NEAREST)


def _text_blocks(line: TextLine, paper: int) -> list[_Block]:
    rows: list[list[Image.Image]] = [[]]
    x = 0
    for span in line.spans:
        for ch in span.text:
            glyph = _glyph(ch, span)
            if x + glyph.width > paper and rows[-1]:
                rows.append([])  # the printer wraps at the paper edge
                x = 0
            rows[-1].append(glyph)
            x += glyph.width
    blocks: list[_Block] = []
    for row in rows:
        style = line.style
        height = max((g.height for g in row), default=_row_height(style.height))
        width = sum(g.width for g in row)
        left = _x_for(line.align, width, paper)

        def draw(
            img: Image.Image, top: int, row: list[Image.Image] = row, left: int = left
        ) -> None:
            x = left
            for glyph in row:
                img.paste(glyph, (x, top))
                x += glyph.width

        blocks.append((height, draw))
    return blocks


def _qr_block(qr: QrCode, paper: int) -> _Block:
    level = {"L": qrcode.constants.ERROR_CORRECT_L, "M": qrcode.constants.ERROR_CORRECT_M}
    level |= {"Q": qrcode.constants.ERROR_CORRECT_Q, "H": qrcode.constants.ERROR_CORRECT_H}
    code = qrcode.QRCode(
        error_correction=level[qr.error_correction], box_size=qr.module_size, border=0
    )
    code.add_data(qr.data)
    code.make(fit=True)
    symbol = code.make_image().get_image().convert("L")
    quiet = 2 * qr.module_size  # white paper around the symbol; readers need a quiet zone

    def draw(img: Image.Image, top: int) -> None:
        img.paste(symbol, (_x_for(qr.align, symbol.width, paper), top + quiet))

    return symbol.height + 2 * quiet, draw


def _raster_block(image: RasterImage, paper: int) -> _Block:
    # PIL "1" stores 1 as white; ESC/POS stores 1 as black.
    bits = Image.frombytes("1", (image.width, image.height), bytes(b ^ 0xFF for b in image.data))
    bitmap = bits.convert("L").resize(
        (image.width * image.scale_x, image.height * image.scale_y), Image.Resampling.NEAREST
    )

    def draw(img: Image.Image, top: int) -> None:
        img.paste(bitmap, (_x_for(image.align, bitmap.width, paper), top))

    return bitmap.height, draw


def _cut_block(paper: int) -> _Block:
    def draw(img: Image.Image, top: int) -> None:
        line = ImageDraw.Draw(img)
        for x in range(0, paper, 16):
            line.line((x, top + 20, x + 8, top + 20), fill=128, width=2)

    return 40, draw


def render_job(job: DecodedJob, *, paper_dots: int = PAPER_DOTS) -> Image.Image:
    """The paper a printer would produce for `job`, as a greyscale image."""
    blocks: list[_Block] = []
    for item in job.items:
        if isinstance(item, TextLine):
            blocks += _text_blocks(item, paper_dots)
        elif isinstance(item, QrCode):
            blocks.append(_qr_block(item, paper_dots))
        elif isinstance(item, FeedLines):
            blocks.append((item.lines * LINE_PITCH, lambda img, top: None))
        elif isinstance(item, RasterImage):
            blocks.append(_raster_block(item, paper_dots))
        elif isinstance(item, PaperCut):
            blocks.append(_cut_block(paper_dots))
    height = MARGIN_TOP + sum(h for h, _ in blocks) + (0 if job.cuts else MARGIN_TOP)
    image = Image.new("L", (paper_dots, max(height, 1)), PAPER)
    top = MARGIN_TOP
    for block_height, draw in blocks:
        draw(image, top)
        top += block_height
    return image


def render_receipt(receipt: Receipt, *, profile: str | None = None) -> Image.Image:
    """A receipt as it would print: encoded to ESC/POS and decoded back, so nothing is faked."""
    from drivers.printer.escpos_printer import render_escpos  # python-escpos only when needed

    return render_job(decode_escpos(render_escpos(receipt, profile=profile)))


def png_bytes(image: Image.Image) -> bytes:
    """An image as PNG bytes."""
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
