"""The PDF check done before a document goes to CUPS: pure, over bytes."""

from __future__ import annotations

import contextlib
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.docprinter import NotAPdfError, check_pdf
from drivers.docprinter.pdf import count_pages, read_pdf
from tests.support.cups import sample_pdf

PDF = sample_pdf(pages=2)


def test_a_pillow_pdf_passes_with_its_version_size_and_pages() -> None:
    info = check_pdf(PDF)
    assert info.version == "1.4"
    assert info.size == len(PDF)
    assert info.pages == 2


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "a PNG image"),
        (b"\xff\xd8\xff\xe0" + bytes(100), "a JPEG image"),
        (b"PK\x03\x04" + bytes(100), "a ZIP archive"),
        (b"<!DOCTYPE html><html>502 Bad Gateway</html>", "HTML or XML"),
        (b'{"error": "not found"}', "JSON"),
        (b"hello", "text"),
    ],
)
def test_what_is_not_a_pdf_is_named(data: bytes, words: str) -> None:
    with pytest.raises(NotAPdfError, match=words):
        check_pdf(data)


def test_a_download_cut_short_is_truncated() -> None:
    with pytest.raises(NotAPdfError, match="truncated"):
        check_pdf(PDF[: len(PDF) // 2])


@settings(max_examples=60, deadline=None)
@given(cut=st.integers(min_value=0, max_value=len(PDF) - 6))
def test_every_truncation_is_refused(cut: int) -> None:
    with pytest.raises(NotAPdfError):
        check_pdf(PDF[:cut])


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=2048))
def test_arbitrary_bytes_are_refused_or_accepted_but_never_crash(data: bytes) -> None:
    with contextlib.suppress(NotAPdfError):
        check_pdf(data)


@settings(max_examples=100, deadline=None)
@given(garbage=st.binary(min_size=1, max_size=64))
def test_bytes_appended_after_eof_within_the_limit_still_pass(garbage: bytes) -> None:
    # Some servers pad files; readers look for %%EOF within the last 1024 bytes.
    if b"%%EOF" in garbage or b"startxref" in garbage:
        return
    assert check_pdf(PDF + b"\n" + garbage).pages == 2


def test_an_encrypted_pdf_is_refused() -> None:
    encrypted = PDF.replace(b"trailer\n<<\n", b"trailer\n<<\n/Encrypt 11 0 R\n")
    with pytest.raises(NotAPdfError, match="encrypted"):
        check_pdf(encrypted)


def test_an_encrypted_pdf_with_an_xref_stream_is_refused() -> None:
    body = b"%PDF-1.5\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    xref_at = len(body)
    xref = zlib.compress(b"\x00" * 8)
    body += (
        b"3 0 obj\n<< /Type /XRef /Size 4 /Root 1 0 R /Encrypt 5 0 R /Length "
        + str(len(xref)).encode()
        + b" /Filter /FlateDecode >>\nstream\n"
        + xref
        + b"\nendstream\nendobj\n"
    )
    body += b"startxref\n" + str(xref_at).encode() + b"\n%%EOF\n"
    with pytest.raises(NotAPdfError, match="encrypted"):
        check_pdf(body)


def test_a_startxref_pointing_nowhere_is_damaged() -> None:
    offset = PDF.rsplit(b"startxref\n", 1)[1].split(b"\n")[0]
    damaged = PDF.replace(b"startxref\n" + offset, b"startxref\n" + b"17")
    with pytest.raises(NotAPdfError, match="damaged"):
        check_pdf(damaged)


def test_no_startxref_is_damaged() -> None:
    with pytest.raises(NotAPdfError, match="startxref"):
        check_pdf(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n")


def test_the_size_limit_is_checked() -> None:
    with pytest.raises(NotAPdfError, match="limit"):
        check_pdf(PDF, max_bytes=1000)


def test_read_pdf_refuses_a_big_file_before_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "big.pdf"
    big.write_bytes(PDF)
    assert read_pdf(big) == PDF
    with pytest.raises(NotAPdfError, match="limit"):
        read_pdf(big, max_bytes=100)


def test_read_pdf_of_a_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(NotAPdfError, match="cannot read .*missing.pdf: No such file"):
        read_pdf(tmp_path / "missing.pdf")


def test_page_count_takes_the_page_tree_root() -> None:
    data = (
        b"1 0 obj << /Type /Pages /Kids [2 0 R 3 0 R] /Count 5 >> endobj\n"
        b"2 0 obj << /Type /Pages /Parent 1 0 R /Count 3 >> endobj\n"
        b"3 0 obj << /Type /Page /Parent 1 0 R >> endobj\n"
    )
    assert count_pages(data) == 5
    assert count_pages(b"4 0 obj << /Type /ObjStm /N 3 >> stream\nxx\nendstream endobj") is None
