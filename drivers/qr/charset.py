"""What text a QR code's bytes hold: ECI designators first, then the bytes themselves.

A QR symbol carries bytes. It may say how to read them with ECI designators (ISO/IEC 18004
section 7.4.2: ``\\000026`` is UTF-8, ``\\000020`` Shift_JIS, ``\\000029`` GB18030, ...);
most symbols say nothing, and then the bytes must tell:

1. valid UTF-8 is UTF-8 (ASCII is, too), a leading byte order mark dropped;
2. valid Shift_JIS that holds kana and no half-width katakana is Japanese: GB2312 text never
   holds the SJIS kana lead bytes 0x82/0x83, and read as SJIS it turns into half-width
   katakana, so this test does not take Chinese for Japanese;
3. valid GB18030 whose characters are mostly common (GB2312) hanzi is Chinese;
4. valid Shift_JIS without half-width katakana whose GB18030 reading is mostly rare
   characters is Japanese too (kanji-only texts: their SJIS lead bytes are GBK's rare area);
5. ISO-8859-1 text (the standard's default) whose GB18030 reading holds no common hanzi and
   whose bytes hold no C1 controls: ``Grüße`` is ``47 72 FC DF 65``, also valid GB18030;
6. otherwise GB18030 when the bytes are valid GB18030 (a Chinese kiosk's likeliest legacy
   text: rare name characters such as 𠮷 take four bytes there), else ISO-8859-1.

Bytes that are not valid UTF-8 and hold C0 control characters other than TAB, CR and LF, or
that an ECI 899 designator marks as binary, are binary: their text is ISO-8859-1, one
character a byte, and `raw` keeps them. No policy here: CR, LF, controls and long texts all
come through; what a flow accepts is `drivers.qr.admission`'s business.
"""

from __future__ import annotations

from dataclasses import dataclass

UTF8 = "utf-8"
GB18030 = "gb18030"
SHIFT_JIS = "shift_jis"
LATIN1 = "iso-8859-1"
BINARY = "binary"

ECI_BINARY = 899
# ECI assignment number -> Python codec (AIM ECI specification, as zxing-cpp maps them).
ECI_CODECS: dict[int, str] = {
    0: "cp437",
    1: LATIN1,
    2: "cp437",
    3: LATIN1,
    4: "iso-8859-2",
    5: "iso-8859-3",
    6: "iso-8859-4",
    7: "iso-8859-5",
    8: "iso-8859-6",
    9: "iso-8859-7",
    10: "iso-8859-8",
    11: "iso-8859-9",
    12: "iso-8859-10",
    13: "iso-8859-11",
    15: "iso-8859-13",
    16: "iso-8859-14",
    17: "iso-8859-15",
    18: "iso-8859-16",
    20: SHIFT_JIS,
    21: "cp1250",
    22: "cp1251",
    23: "cp1252",
    24: "cp1256",
    25: "utf-16-be",
    26: UTF8,
    27: "ascii",
    28: "big5",
    29: GB18030,  # GB 2312, GBK and GB 18030 share this number
    30: "euc-kr",
    31: "gbk",
    32: GB18030,
    33: "utf-16-le",
    34: "utf-32-be",
    35: "utf-32-le",
    170: "ascii",
}
_UTF8_BOM = b"\xef\xbb\xbf"
# C0 controls a text never holds; TAB, LF and CR are ordinary in multi-line payloads.
_BINARY_BYTES = frozenset(range(0x20)) - {0x09, 0x0A, 0x0D}
_C1_BYTES = frozenset(range(0x80, 0xA0))

Segment = tuple[int | None, bytes]  # an ECI (None before any designator) and its bytes


@dataclass(frozen=True)
class PayloadText:
    """A payload's text and how it was read.

    `charset` is the codec used (``utf-8``, ``gb18030``, ``shift_jis``, ``iso-8859-1``, an ECI's
    codec, ``mixed`` for several ECIs, or ``binary``); `eci` is the first ECI designator in the
    symbol, None when it had none (or the decoder does not report them).
    """

    text: str
    charset: str
    eci: int | None = None

    @property
    def is_binary(self) -> bool:
        return self.charset == BINARY


def _try(raw: bytes, codec: str) -> str | None:
    try:
        return raw.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _has_kana(text: str) -> bool:
    return any("\u3041" <= c <= "\u30ff" for c in text)


def _has_halfwidth_katakana(text: str) -> bool:
    return any("\uff61" <= c <= "\uff9f" for c in text)


def _common_hanzi_share(text: str) -> float:
    """The share of non-ASCII characters that GB2312 holds (everyday simplified Chinese)."""
    wide = [c for c in text if ord(c) > 0x7F]
    if not wide:
        return 0.0
    common = 0
    for char in wide:
        try:
            char.encode("gb2312")
        except UnicodeEncodeError:
            continue
        common += 1
    return common / len(wide)


def _shift_jis(raw: bytes) -> str | None:
    # cp932 is Microsoft's superset (NEC and IBM extensions) that Japanese phones emit.
    return _try(raw, SHIFT_JIS) or _try(raw, "cp932")


def guess_text(raw: bytes) -> PayloadText:
    """Read bytes that no ECI describes (see the module docstring for the rules)."""
    utf8 = _try(raw, UTF8)
    if utf8 is not None:
        return PayloadText(utf8.removeprefix("\ufeff"), UTF8)
    if _BINARY_BYTES.intersection(raw):
        return PayloadText(raw.decode("latin-1"), BINARY)
    sjis = _shift_jis(raw)
    japanese = sjis is not None and not _has_halfwidth_katakana(sjis)
    if sjis is not None and japanese and _has_kana(sjis):
        return PayloadText(sjis, SHIFT_JIS)
    gb = _try(raw, GB18030)
    share = _common_hanzi_share(gb) if gb is not None else 0.0
    if gb is not None and share >= 0.5:
        return PayloadText(gb, GB18030)
    if sjis is not None and japanese:
        return PayloadText(sjis, SHIFT_JIS)
    if share == 0.0 and not _C1_BYTES.intersection(raw):
        return PayloadText(raw.decode("latin-1"), LATIN1)
    if gb is not None:
        return PayloadText(gb, GB18030)
    return PayloadText(raw.decode("latin-1"), LATIN1)


def decode_segments(segments: list[Segment]) -> PayloadText:
    """Read a payload split at its ECI designators; each segment in its ECI's charset.

    A segment whose bytes are not valid in its declared charset (a wrong designator is as
    common as a missing one) is read by `guess_text` instead.
    """
    ecis = [eci for eci, _ in segments if eci is not None]
    raw = b"".join(data for _, data in segments)
    if not ecis:
        return guess_text(raw)
    first = ecis[0]
    if ECI_BINARY in ecis:
        return PayloadText(raw.decode("latin-1"), BINARY, first)
    parts: list[str] = []
    charsets: set[str] = set()
    for eci, data in segments:
        if not data:
            continue
        codec = ECI_CODECS.get(eci) if eci is not None else None
        text = _try(data, codec) if codec else None
        if text is None:
            guessed = guess_text(data)
            if guessed.is_binary:
                return PayloadText(raw.decode("latin-1"), BINARY, first)
            text, codec = guessed.text, guessed.charset
        parts.append(text)
        charsets.add(codec or UTF8)
    charset = charsets.pop() if len(charsets) == 1 else ("mixed" if charsets else UTF8)
    return PayloadText("".join(parts), charset, first)


def split_eci(data: bytes) -> list[Segment]:
    """Split AIM-ECI transmitted data (``]Q2`` and escapes) into ECI segments.

    `data` starts with a symbology identifier such as ``]Q1`` (no ECI: the rest is the payload)
    or ``]Q2`` (ECI protocol: ``\\nnnnnn`` switches charset, ``\\\\`` is one backslash).
    Anything else is taken as payload bytes without ECI.
    """
    if len(data) < 3 or data[:1] != b"]":
        return [(None, data)]
    body, modifier = data[3:], data[2:3]
    if modifier not in (b"2", b"4", b"6"):  # the ECI variants of QR's modifiers
        return [(None, body)]
    segments: list[Segment] = []
    eci: int | None = None
    current = bytearray()
    i = 0
    while i < len(body):
        byte = body[i]
        if byte == 0x5C and body[i + 1 : i + 2] == b"\\":
            current.append(0x5C)
            i += 2
            continue
        digits = body[i + 1 : i + 7]
        if byte == 0x5C and len(digits) == 6 and digits.isdigit():
            if current or eci is not None:
                segments.append((eci, bytes(current)))
            eci, current = int(digits), bytearray()
            i += 7
            continue
        current.append(byte)
        i += 1
    segments.append((eci, bytes(current)))
    return segments
