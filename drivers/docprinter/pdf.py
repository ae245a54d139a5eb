"""A light check that bytes are a complete, unencrypted PDF, done before anything is sent to CUPS.

CUPS accepts nearly anything and fails late: a truncated download or an HTML error page saved as
`.pdf` becomes a job that aborts in a filter (or prints garbage) minutes later, while the resident
waits. The checks here are structural and cheap, pure functions over bytes, with no PDF library:

* the `%PDF-x.y` header within the first 1024 bytes (what the spec and readers allow);
* `%%EOF` within the last 1024 bytes and a `startxref` offset that lands on a cross-reference
  table or stream: a download cut short fails here;
* no `/Encrypt` in the trailer: CUPS filters cannot print a password-protected document;
* a size limit, checked before the whole file is read.

It does not decode content streams, so a PDF that is well framed but broken inside still reaches
CUPS and fails there as a `JobFailedError`. The page count is a best effort for logs and tests.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from drivers.docprinter.errors import NotAPdfError

DEFAULT_MAX_BYTES = 50 * 1024 * 1024  # a scanned 20-page form is a few MB; 50 MB is clearly wrong
_HEAD = 1024  # header and %%EOF may sit this far from the start and the end
_HEADER = re.compile(rb"%PDF-(\d\.\d)")
_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF")
_XREF_TARGET = re.compile(rb"\s*(xref|\d+\s+\d+\s+obj)")
_OBJECT = re.compile(rb"\d+\s+\d+\s+obj\b(.*?)\bendobj", re.S)
_PAGES_TYPE = re.compile(rb"/Type\s*/Pages(?![A-Za-z0-9])")
_COUNT = re.compile(rb"/Count\s+(\d+)")
# What a non-PDF most often is, so the message can say more than "not a PDF".
_LOOKS_LIKE = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"PK\x03\x04", "a ZIP archive (an Office document?)"),
    (b"%!PS", "PostScript"),
    (b"<", "HTML or XML (an error page?)"),
    (b"{", "JSON (an error response?)"),
)


@dataclass(frozen=True)
class PdfInfo:
    """What the check learnt about a PDF; `pages` is None when it could not be counted cheaply."""

    version: str
    size: int
    pages: int | None


def check_pdf(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> PdfInfo:
    """Return facts about `data` if it is a complete, unencrypted PDF; raise NotAPdfError if not."""
    size = len(data)
    if size == 0:
        raise NotAPdfError("the document is empty")
    if size > max_bytes:
        raise NotAPdfError(f"the document is {size} bytes, more than the limit of {max_bytes}")
    header = _HEADER.search(data, 0, _HEAD + 8)
    if header is None:
        raise NotAPdfError(f"the document is not a PDF (it looks like {_looks_like(data)})")
    tail_start = max(0, size - _HEAD)
    if data.rfind(b"%%EOF", tail_start) < 0:
        raise NotAPdfError("the PDF is truncated: it does not end with %%EOF")
    # The last one wins: incremental updates append new trailers after the old ones.
    found = list(_STARTXREF.finditer(data, max(0, size - 4 * _HEAD)))
    if not found:
        raise NotAPdfError("the PDF is damaged: it has no startxref before %%EOF")
    startxref = found[-1]
    offset = int(startxref.group(1))
    target = _XREF_TARGET.match(data, offset) if offset < size else None
    if target is None:
        raise NotAPdfError(
            f"the PDF is damaged: startxref points to byte {offset}, "
            "which is not a cross-reference section"
        )
    if b"/Encrypt" in _trailer(data, offset, startxref.start(), target.group(1)):
        raise NotAPdfError("the PDF is encrypted (password-protected) and cannot be printed")
    return PdfInfo(version=header.group(1).decode("ascii"), size=size, pages=count_pages(data))


def read_pdf(path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read a PDF file, refusing one over `max_bytes` before reading it into memory."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > max_bytes:
            raise NotAPdfError(f"{file.name} is {size} bytes, more than the limit of {max_bytes}")
        return file.read_bytes()
    except OSError as exc:
        raise NotAPdfError(f"cannot read {file}: {exc.strerror or exc}") from None


def count_pages(data: bytes) -> int | None:
    """The page count from the page tree's root `/Count`, or None (e.g. in object streams)."""
    counts = []
    for obj in _OBJECT.finditer(data):
        dictionary = obj.group(1).split(b"stream", 1)[0]
        if _PAGES_TYPE.search(dictionary):
            count = _COUNT.search(dictionary)
            if count:
                counts.append(int(count.group(1)))
    return max(counts) if counts else None  # the root counts every leaf below it


def _trailer(data: bytes, offset: int, startxref_at: int, kind: bytes) -> bytes:
    """The bytes of the last trailer dictionary (classic table) or xref stream dictionary."""
    if kind == b"xref":
        start = data.rfind(b"trailer", offset, startxref_at)
        return data[start:startxref_at] if start >= 0 else b""
    end = data.find(b"stream", offset)
    return data[offset : end if end >= 0 else startxref_at]


def _looks_like(data: bytes) -> str:
    head = data[:16].lstrip()
    for magic, what in _LOOKS_LIKE:
        if head.startswith(magic):
            return what
    return "text" if head.isascii() and head.decode("ascii").isprintable() else "binary data"
