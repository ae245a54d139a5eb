"""QR payloads are untrusted input: bound their size, decode them, refuse control characters.

Whatever a scanner types or a camera decodes comes from a piece of paper or a phone screen that
anybody can make. Before any text reaches the kiosk it passes `validate_payload`: at most
`max_bytes` bytes, UTF-8 or else GB18030 (Chinese scanners and older government systems often
emit GBK, which GB18030 contains), and no control characters except TAB. Bidirectional
formatting characters are refused too: they reorder how text is shown, so a displayed URL
could read differently from the one that is followed.

UTF-8 is tried first and wins whenever the bytes are valid UTF-8, with no guessing by script:
a GBK text of one or two Chinese characters can happen to be valid UTF-8 too (一 is D2 BB, also
Cyrillic һ), but guessing would break real UTF-8 payloads in Uyghur, Kazakh or pinyin with tone
marks. Longer GBK texts are practically never valid UTF-8.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from drivers.qr.errors import PayloadError

DEFAULT_MAX_BYTES = 4096
_UTF8_BOM = b"\xef\xbb\xbf"
# Embeddings, overrides and isolates (U+202A..U+202E, U+2066..U+2069): "Trojan Source" reordering.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@dataclass(frozen=True)
class ScannedCode:
    """One code read by a scanner or decoded from an image, its text already validated.

    `symbology` is e.g. ``QRCODE`` (``unknown`` when a scanner does not say), `source` names the
    device or file it came from, and `raw` keeps the bytes as received (terminator excluded).
    """

    text: str
    symbology: str
    source: str
    raw: bytes


def decode_text(raw: bytes) -> tuple[str, str]:
    """Decode `raw` as UTF-8, else GB18030; return ``(text, encoding)`` or raise `PayloadError`."""
    data = raw[len(_UTF8_BOM) :] if raw.startswith(_UTF8_BOM) else raw
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise PayloadError(
            "encoding", f"payload of {len(raw)} bytes is neither UTF-8 nor GB18030 text"
        ) from None


def check_text(text: str, *, what: str = "payload") -> str:
    """Return `text` if it holds no control or bidi formatting characters, else raise."""
    for index, char in enumerate(text):
        if char == "\t":
            continue
        if unicodedata.category(char) in ("Cc", "Cs") or char in _BIDI_CONTROLS:
            raise PayloadError(
                "control", f"{what} holds control character U+{ord(char):04X} at position {index}"
            )
    return text


def validate_payload(raw: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Turn untrusted payload bytes into text, or raise `PayloadError` saying why not.

    Refuses empty and oversized input (before decoding anything), bytes that are neither UTF-8
    nor GB18030, and control characters other than TAB (NUL, CR, LF, ESC, DEL, C1 controls).
    A leading UTF-8 byte order mark is dropped.
    """
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise PayloadError("type", f"payload must be bytes, not {type(raw).__name__}")
    raw = bytes(raw)
    if not raw:
        raise PayloadError("empty", "payload is empty")
    if len(raw) > max_bytes:
        raise PayloadError(
            "size", f"payload is {len(raw)} bytes, more than the {max_bytes} allowed"
        )
    text, _ = decode_text(raw)
    if not text:
        raise PayloadError("empty", "payload is empty")
    return check_text(text)


def scanned_code(
    raw: bytes, *, symbology: str, source: str, max_bytes: int = DEFAULT_MAX_BYTES
) -> ScannedCode:
    """Validate `raw` and wrap it in a `ScannedCode`; raises `PayloadError`."""
    return ScannedCode(
        text=validate_payload(raw, max_bytes=max_bytes),
        symbology=symbology,
        source=source,
        raw=bytes(raw),
    )


# AIM symbology identifiers (ISO/IEC 15424) a scanner can be set to prefix: ``]Q1`` is QR.
_AIM_SYMBOLOGIES = {
    "Q": "QRCODE",
    "d": "DATAMATRIX",
    "z": "AZTEC",
    "L": "PDF417",
    "C": "CODE128",
    "A": "CODE39",
    "G": "CODE93",
    "E": "EAN_UPC",
    "I": "ITF",
    "e": "DATABAR",
    "F": "CODABAR",
}


def split_aim_prefix(raw: bytes) -> tuple[str, bytes]:
    """Split an AIM identifier (``]Q1...``) off a scanned line: ``(symbology, rest)``.

    Lines without one come back whole with symbology ``unknown``; unknown identifiers are kept
    as ``AIM:]Xm`` so a technician can see what the scanner sent.
    """
    if len(raw) >= 3 and raw[:1] == b"]" and 0x21 <= raw[1] <= 0x7E and 0x30 <= raw[2] <= 0x7E:
        flag = chr(raw[1])
        return _AIM_SYMBOLOGIES.get(flag, f"AIM:{raw[:3].decode('ascii')}"), raw[3:]
    return "unknown", raw
