"""A4 certificates as PDF (fpdf2), with the Chinese font embedded and a verification QR code.

The font is the Simplified Chinese face of Noto Sans CJK (Debian `fonts-noto-cjk`), which has the
rare name characters ID cards carry (䶮, 𠮷). Its .ttc starts with the Japanese face, so the SC face
is extracted once with fontTools into a cache; fpdf2 then subsets it into each PDF. The same
certificate always gives the same bytes: the creation date is the certificate's issue time and
nothing else in the file depends on when or where it is made.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from pathlib import Path

import qrcode
from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos

from central.models import Certificate
from central.service import BEIJING

log = logging.getLogger(__name__)

NOTO_REGULAR = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SC_FAMILY = "Noto Sans CJK SC"
FONT = "NotoSansSC"
_extract_lock = threading.Lock()


class PdfUnavailable(RuntimeError):
    """No usable Chinese font is installed, so no PDF can be made."""


def font_cache_dir() -> Path:
    """Where the extracted face is kept: $CENTRAL_FONT_CACHE, else a folder in the temp dir."""
    env = os.environ.get("CENTRAL_FONT_CACHE")
    return Path(env) if env else Path(tempfile.gettempdir()) / "central-fonts"


def sc_font(collection: Path = NOTO_REGULAR, cache: Path | None = None) -> Path:
    """The Noto Sans CJK SC face as its own .otf file, extracted on first use."""
    if not collection.exists():
        raise PdfUnavailable(f"{collection} is missing (install fonts-noto-cjk)")
    stat = collection.stat()
    folder = cache or font_cache_dir()
    # Size and mtime in the name: a font package upgrade extracts afresh.
    dest = folder / f"{collection.stem}-SC-{stat.st_size}-{int(stat.st_mtime)}.otf"
    with _extract_lock:
        if dest.exists() and dest.stat().st_size > 0:
            return dest
        from fontTools.ttLib import TTCollection

        with TTCollection(str(collection), lazy=True) as ttc:
            face = next((f for f in ttc.fonts if f["name"].getDebugName(1) == SC_FAMILY), None)
            if face is None:
                raise PdfUnavailable(f"{collection} has no face named {SC_FAMILY!r}")
            folder.mkdir(parents=True, exist_ok=True)
            # Written beside the target and renamed: another process never reads half a font.
            fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
            os.close(fd)
            try:
                face.save(tmp)
                os.replace(tmp, dest)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        log.info("extracted %s for PDFs", SC_FAMILY)
        return dest


def _qr(pdf: FPDF, text: str, x: float, y: float, size: float) -> None:
    """Draw `text` as a QR code of vector squares (crisp at any print resolution)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(text)
    code.make(fit=True)
    matrix = code.get_matrix()
    module = size / len(matrix)
    pdf.set_fill_color(0, 0, 0)
    for row, cells in enumerate(matrix):
        col = 0
        while col < len(cells):
            if not cells[col]:
                col += 1
                continue
            start = col
            while col < len(cells) and cells[col]:
                col += 1
            # One rectangle per horizontal run keeps the file small.
            pdf.rect(x + start * module, y + row * module, (col - start) * module, module, "F")


def certificate_pdf(certificate: Certificate, font: Path | None = None) -> bytes:
    """The certificate as a one-page (or longer) A4 PDF."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_creation_date(certificate.issued_at)
    pdf.set_title(f"{certificate.title} {certificate.certificate_no}")
    pdf.set_author(certificate.issuer)
    pdf.set_creator("central reference service")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_font(FONT, "", str(font or sc_font()))
    pdf.add_page()
    width = pdf.epw

    pdf.set_font(FONT, size=20)
    pdf.multi_cell(width, 12, certificate.title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font(FONT, size=10)
    pdf.cell(width, 6, f"证明编号：{certificate.certificate_no}", align="R")
    pdf.ln(10)

    label_width = 55
    pdf.set_font(FONT, size=11)
    holder = [("持证人", certificate.holder_name_masked)]
    for label, value in holder + [(line.label, line.value) for line in certificate.lines]:
        top = pdf.get_y()
        pdf.multi_cell(label_width, 7, label, border=0, wrapmode=WrapMode.CHAR, new_y=YPos.TOP)
        label_bottom = pdf.get_y()
        pdf.set_xy(pdf.l_margin + label_width, top)
        pdf.multi_cell(width - label_width, 7, value, wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN)
        pdf.set_y(max(pdf.get_y(), label_bottom) + 1)
    pdf.ln(6)

    issued = certificate.issued_at.astimezone(BEIJING).strftime("%Y年%m月%d日 %H:%M")
    pdf.set_font(FONT, size=11)
    pdf.cell(width, 7, f"出具单位：{certificate.issuer}", align="R", new_x=XPos.LMARGIN)
    pdf.ln(7)
    pdf.cell(width, 7, f"出具时间：{issued}", align="R", new_x=XPos.LMARGIN)
    pdf.ln(12)

    qr_size = 36
    if pdf.get_y() + qr_size > pdf.h - pdf.b_margin:
        pdf.add_page()
    top = pdf.get_y()
    _qr(pdf, certificate.verify_url, pdf.l_margin, top, qr_size)
    pdf.set_xy(pdf.l_margin + qr_size + 6, top + 4)
    pdf.set_font(FONT, size=11)
    pdf.multi_cell(
        width - qr_size - 6,
        6,
        f"验证码：{certificate.verify_code}\n"
        "扫描左侧二维码，或凭证明编号和验证码在线核验本证明的真实性。",
        wrapmode=WrapMode.CHAR,
        new_x=XPos.LMARGIN,
    )
    pdf.set_font(FONT, size=8)
    pdf.set_xy(pdf.l_margin + qr_size + 6, pdf.get_y() + 2)
    pdf.multi_cell(
        width - qr_size - 6, 4, certificate.verify_url, wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN
    )
    return bytes(pdf.output())
