"""A4 certificate PDFs: real fonts, real text, a QR code that decodes, byte-identical replays."""

from __future__ import annotations

import io
import shutil
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from central import pdf
from central.models import Certificate, CertificateLine
from tests.central.helpers import WANG, assert_error, person_ref

pytestmark = pytest.mark.skipif(
    not pdf.NOTO_REGULAR.exists() or shutil.which("pdftotext") is None,
    reason="needs fonts-noto-cjk and poppler-utils",
)

RARE = Certificate(
    certificate_no="HJZM2026030212345678",
    item_code="huji.household-cert",
    title="户籍证明",
    issuer="北京市公安局东城分局东华门派出所",
    holder_name_masked="龚*䶮",
    issued_at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
    lines=[
        CertificateLine(label="姓名", value="龚*䶮"),
        CertificateLine(label="曾用名", value="𠮷田"),
        CertificateLine(label="户籍地址", value="北京市东城区东华门街道" * 6),
    ],
    verify_code="ABCD2345",
    verify_url="https://gov.example/api/v1/certificates/HJZM2026030212345678/verification?code=ABCD2345",
)


def _text(data: bytes) -> str:
    # poppler reads fpdf2's ToUnicode maps correctly (pypdf interleaves NULs with CID fonts).
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True, timeout=60
    )
    return done.stdout.decode("utf-8")


def _render(data: bytes, tmp_path: Path) -> Image.Image:
    source = tmp_path / "c.pdf"
    source.write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(source), str(tmp_path / "p")],
        check=True,
        timeout=60,
    )
    return Image.open(next(tmp_path.glob("p*.png")))


def test_pdf_is_a4_with_every_field_in_an_embedded_chinese_font():
    data = pdf.certificate_pdf(RARE)
    reader = PdfReader(io.BytesIO(data))
    page = reader.pages[0]
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    text = _text(data)
    for expected in ("户籍证明", RARE.issuer, RARE.certificate_no, "龚*䶮", "𠮷田", "ABCD2345"):
        assert expected in text
    assert "2026年03月02日 17:30" in text  # issue time in Beijing time
    fonts = page["/Resources"]["/Font"]
    descriptor = next(iter(fonts.values())).get_object()
    assert "NotoSansCJKSC" in str(descriptor["/BaseFont"])
    assert "/DescendantFonts" in descriptor  # a CID font with the glyphs embedded


def test_same_certificate_gives_the_same_bytes():
    assert pdf.certificate_pdf(RARE) == pdf.certificate_pdf(RARE)


def test_printed_qr_code_decodes_to_the_verify_url(tmp_path):
    image = _render(pdf.certificate_pdf(RARE), tmp_path)
    found = zxingcpp.read_barcodes(image)
    assert [code.text for code in found] == [RARE.verify_url]


def test_missing_font_is_a_clear_error(tmp_path):
    with pytest.raises(pdf.PdfUnavailable):
        pdf.sc_font(tmp_path / "none.ttc", tmp_path)


def _issue(http) -> dict:
    response = http.post(
        "/certificates",
        json={
            "item_code": "huji.household-cert",
            "person_ref": person_ref(http, WANG),
            "kiosk_id": "kiosk-test-01",
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_endpoint_serves_the_issued_certificate(http):
    cert = _issue(http)
    url = f"/certificates/{cert['certificate_no']}/pdf"
    response = http.get(url, params={"code": cert["verify_code"]})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = _text(response.content)
    assert cert["title"] in text and cert["certificate_no"] in text
    assert all(line["value"][:6] in text.replace("\n", "") for line in cert["lines"])
    again = http.get(url, params={"code": cert["verify_code"].lower()})
    assert again.content == response.content


def test_endpoint_hides_unknown_numbers_and_wrong_codes(http):
    cert = _issue(http)
    wrong = http.get(f"/certificates/{cert['certificate_no']}/pdf", params={"code": "WRONG234"})
    assert_error(wrong, 404, "certificate_not_found")
    unknown = http.get("/certificates/NOPE/pdf", params={"code": cert["verify_code"]})
    assert_error(unknown, 404, "certificate_not_found")
    assert_error(http.get(f"/certificates/{cert['certificate_no']}/pdf"), 422, "invalid_request")
