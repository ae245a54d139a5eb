"""A pure ESC/POS decoder: printer bytes back into lines, QR codes, feeds, cuts and status queries.

It reads what a receipt printer would: text in the current code page, or GB18030 between
FS & and FS . (Chinese character mode); style commands (ESC E, ESC !, GS !, ESC -, ESC a);
LF and ESC d; every GS V cut form; GS ( k QR store and print; DLE EOT status queries; GS v 0
raster images. Everything else that ESC/POS defines is skipped by its exact length, and a
command it does not know is skipped by its two introducing bytes and noted.

`EscPosStreamDecoder` is incremental (the simulator feeds it TCP chunks and answers DLE EOT as
soon as it is complete); `decode_escpos` decodes a whole job at once. Malformed input (a truncated
command, an impossible length) raises `EscPosDecodeError` in strict mode and is noted in
`problems` and skipped otherwise. Nothing else is ever raised, whatever the bytes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import TypeAlias

from drivers.printer.receipt import Align, Cut, Element, Feed, Qr, Receipt, Text

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
LF, CR, HT = 0x0A, 0x0D, 0x09
QR_CN = 49  # GS ( k "cn" of QR codes; 48 is PDF417, 50 MaxiCode, ...

# Printable bytes: everything from 0x20 except DEL. GB18030 trail bytes are all in this range and
# never below 0x30, so a control byte always ends a character and can be read as a command.
_TEXT_RUN = re.compile(rb"[\x20-\x7e\x80-\xff]+")

_CODE_PAGES = {0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865", 16: "cp1252"}
_CODE_PAGES |= {17: "cp866", 18: "cp852", 19: "cp858"}
_ALIGNS: dict[int, Align] = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center"}
_ALIGNS |= {50: "right"}
_QR_EC = {48: "L", 49: "M", 50: "Q", 51: "H"}
_RASTER_SCALE = {0: (1, 1), 1: (2, 1), 2: (1, 2), 3: (2, 2)}
_RASTER_SCALE |= {48 + m: scale for m, scale in _RASTER_SCALE.items()}


# Parameter byte counts of the fixed-length commands, after the two introducing bytes.
def _fixed(*groups: tuple[bytes, int]) -> dict[int, int]:
    return {code: count for codes, count in groups for code in codes}


_ESC_FIXED = _fixed(
    (b"@2<LSimv\x0c", 0),
    (b" !%-3=?EGJKMRTUVadetu{", 1),
    (b"$\\Bcf", 2),
    (b"p", 3),
    (b"W", 8),
)
_GS_FIXED = _fixed((b":c", 0), (b"!#/BEHITabfhjrw", 1), (b"$LPW\\", 2), (b"^z", 3), (b"g", 4))
# FS 2 c1 c2 is followed by the 72 bytes of one 24x24 user-defined character.
_FS_FIXED = _fixed((b"&.", 0), (b"!-CW", 1), (b"S?p", 2), (b"2", 74))

MAX_RASTER_WIDTH_BYTES = 255  # 2040 dots, far wider than any roll printer
MAX_RASTER_HEIGHT = 8192
MAX_BLOCK = 1 << 24  # GS 8 L blocks: refuse absurd lengths instead of waiting for 4 GB


class EscPosDecodeError(ValueError):
    """Malformed ESC/POS: the message names the command and the byte offset."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} (at byte {offset})")
        self.offset = offset


class _Incomplete(Exception):
    """The command at the cursor needs bytes that have not arrived yet."""


@dataclass(frozen=True)
class TextSpan:
    """A run of text in one style."""

    text: str
    bold: bool = False
    width: int = 1
    height: int = 1
    underline: bool = False


@dataclass(frozen=True)
class TextLine:
    """A printed line: spans in order, aligned as set when the line began."""

    spans: tuple[TextSpan, ...]
    align: Align = "left"
    end: int = field(default=0, compare=False, repr=False)

    @property
    def text(self) -> str:
        """The line's characters."""
        return "".join(s.text for s in self.spans)

    @property
    def style(self) -> TextSpan:
        """The style of the first non-empty span (the line's style, for one-style lines)."""
        return next((s for s in self.spans if s.text), self.spans[0])


@dataclass(frozen=True)
class QrCode:
    """A QR code the printer was asked to print."""

    data: bytes
    module_size: int = 3
    error_correction: str = "L"
    model: int = 2
    align: Align = "left"
    end: int = field(default=0, compare=False, repr=False)

    @property
    def text(self) -> str:
        """The payload as text: UTF-8 as python-escpos sends it, else GB18030."""
        try:
            return self.data.decode("utf-8")
        except UnicodeDecodeError:
            return self.data.decode("gb18030", errors="replace")


@dataclass(frozen=True)
class FeedLines:
    """Blank lines fed by ESC d n."""

    lines: int
    end: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class PaperCut:
    """A cut; the end of a receipt."""

    partial: bool = False
    end: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class RasterImage:
    """A GS v 0 raster image: rows of `width` dots, MSB first, 1 = black."""

    width: int
    height: int
    data: bytes
    scale_x: int = 1
    scale_y: int = 1
    align: Align = "left"
    end: int = field(default=0, compare=False, repr=False)

    def is_black(self, x: int, y: int) -> bool:
        """Whether dot (x, y) is printed."""
        byte = self.data[y * (self.width // 8) + x // 8]
        return bool(byte & (0x80 >> (x % 8)))


@dataclass(frozen=True)
class StatusRequest:
    """A DLE EOT n real-time status query (answered, not printed)."""

    n: int
    end: int = field(default=0, compare=False, repr=False)


Item: TypeAlias = TextLine | QrCode | FeedLines | PaperCut | RasterImage
Event: TypeAlias = Item | StatusRequest


@dataclass(frozen=True)
class DecodedJob:
    """What a stretch of ESC/POS printed, plus the status queries and problems met on the way."""

    items: tuple[Item, ...]
    status_queries: tuple[int, ...] = ()
    problems: tuple[str, ...] = ()

    @classmethod
    def from_events(
        cls, events: list[Event], problems: list[str] | tuple[str, ...] = ()
    ) -> DecodedJob:
        """Split decoder events into printed items and status queries."""
        items = tuple(e for e in events if not isinstance(e, StatusRequest))
        queries = tuple(e.n for e in events if isinstance(e, StatusRequest))
        return cls(items=items, status_queries=queries, problems=tuple(problems))

    @property
    def lines(self) -> tuple[TextLine, ...]:
        """The text lines."""
        return tuple(i for i in self.items if isinstance(i, TextLine))

    @property
    def text(self) -> str:
        """All lines joined by newlines."""
        return "\n".join(line.text for line in self.lines)

    @property
    def qr_codes(self) -> tuple[QrCode, ...]:
        """The QR codes."""
        return tuple(i for i in self.items if isinstance(i, QrCode))

    @property
    def qr_payloads(self) -> tuple[str, ...]:
        """The QR payloads as text."""
        return tuple(q.text for q in self.qr_codes)

    @property
    def cuts(self) -> int:
        """How many cuts."""
        return sum(isinstance(i, PaperCut) for i in self.items)

    def to_receipt(self) -> Receipt:
        """The document this job prints; raster images have no receipt element and are left out."""
        elements: list[Element] = []
        for item in self.items:
            try:
                element = _to_element(item)
            except ValueError as exc:
                raise EscPosDecodeError(
                    f"cannot express {item!r} as a receipt: {exc}", item.end
                ) from None
            if element is not None:
                elements.append(element)
        return Receipt(tuple(elements))


def _to_element(item: Item) -> Element | None:
    if isinstance(item, TextLine):
        style = item.style
        double = style.width > 1 or style.height > 1
        return Text(item.text, bold=style.bold, double=double, align=item.align)
    if isinstance(item, QrCode):
        return Qr(item.text, size=min(max(item.module_size, 1), 16), align=item.align)
    if isinstance(item, FeedLines):
        return Feed(item.lines)
    if isinstance(item, PaperCut):
        return Cut(partial=item.partial)
    return None


@dataclass
class _Style:
    bold: bool = False
    width: int = 1
    height: int = 1
    underline: bool = False

    def span(self, text: str) -> TextSpan:
        return TextSpan(text, self.bold, self.width, self.height, self.underline)


@dataclass
class _Chunk:
    style: TextSpan  # text left empty; only the style fields matter
    encoding: str
    offset: int
    data: bytearray


class EscPosStreamDecoder:
    """Incremental ESC/POS decoder: `feed()` chunks as they arrive, `finish()` at the end."""

    def __init__(self, *, strict: bool = False, chinese_default: bool = False) -> None:
        self.strict = strict
        self.chinese_default = chinese_default
        self.problems: list[str] = []
        self._buf = bytearray()
        self._base = 0  # stream offset of _buf[0]
        self._reset()

    def _reset(self) -> None:
        self._style = _Style()
        self._align: Align = "left"
        self._line_align: Align | None = None
        self._chinese = self.chinese_default
        self._codepage = "cp437"
        self._chunks: list[_Chunk] = []
        self._qr_data: bytes | None = None
        self._qr_size, self._qr_ec, self._qr_model = 3, "L", 2

    @property
    def position(self) -> int:
        """Bytes consumed so far (the end offset of the last complete command)."""
        return self._base

    def take_problems(self) -> list[str]:
        """Problems noted since the last call, removed from the decoder."""
        problems, self.problems = self.problems, []
        return problems

    def feed(self, data: bytes) -> list[Event]:
        """Decode what `data` completes; an unfinished command waits for the next chunk."""
        self._buf += data
        events: list[Event] = []
        i = 0
        buf = self._buf
        while i < len(buf):
            run = _TEXT_RUN.match(buf, i)
            if run:
                self._add_text(bytes(run.group()), self._base + i)
                i = run.end()
                continue
            first_new = len(events)
            try:
                i += self._command(buf, i, events)
            except _Incomplete:
                break
            # Stamp each new event with the stream offset just past its command, so the
            # simulator can cut the raw bytes of a job exactly at its cut.
            events[first_new:] = [replace(e, end=self._base + i) for e in events[first_new:]]
        del buf[:i]
        self._base += i
        return events

    def finish(self) -> list[Event]:
        """End of stream: a dangling command is truncated; unterminated text still prints."""
        events: list[Event] = []
        if self._buf:
            name = _command_name(self._buf, 0)
            self._malformed(f"truncated {name}: the data ended inside the command", self._base)
            self._base += len(self._buf)
            self._buf.clear()
        if self._chunks:
            self.problems.append("text after the last LF was never terminated; printed anyway")
            self._flush_line(events)
        return [replace(e, end=self._base) for e in events]

    # -- text --------------------------------------------------------------------------------

    def _add_text(self, data: bytes, offset: int) -> None:
        if self._line_align is None:
            # ESC a only takes effect at the start of a line, as on the printer.
            self._line_align = self._align
        encoding = "gb18030" if self._chinese else self._codepage
        style = self._style.span("")
        last = self._chunks[-1] if self._chunks else None
        if last is not None and last.style == style and last.encoding == encoding:
            last.data += data
        else:
            self._chunks.append(_Chunk(style, encoding, offset, bytearray(data)))

    def _decode_chunk(self, chunk: _Chunk) -> str:
        try:
            text = chunk.data.decode(chunk.encoding)
        except UnicodeDecodeError as exc:
            self._malformed(f"invalid {chunk.encoding} text", chunk.offset + exc.start)
            text = chunk.data.decode(chunk.encoding, errors="replace")
        # GB18030 can encode C0/C1 controls as four bytes; they are not printable text.
        return "".join("\ufffd" if unicodedata.category(c) == "Cc" else c for c in text)

    def _flush_line(self, events: list[Event]) -> None:
        spans: list[TextSpan] = []
        for chunk in self._chunks:
            text = self._decode_chunk(chunk)
            if spans and _same_style(spans[-1], chunk.style):
                spans[-1] = _with_text(spans[-1], spans[-1].text + text)
            else:
                spans.append(_with_text(chunk.style, text))
        if not spans:
            spans.append(self._style.span(""))
        align = self._line_align or self._align
        events.append(TextLine(tuple(spans), align))
        self._chunks.clear()
        self._line_align = None

    def _flush_pending(self, events: list[Event]) -> bool:
        if not self._chunks:
            return False
        self._flush_line(events)
        return True

    # -- commands ----------------------------------------------------------------------------

    def _malformed(self, message: str, offset: int) -> None:
        if self.strict:
            raise EscPosDecodeError(message, offset)
        self.problems.append(f"{message} (at byte {offset})")

    def _command(self, buf: bytearray, i: int, events: list[Event]) -> int:
        """Decode the command at buf[i]; returns how many bytes it took."""
        lead = buf[i]
        if lead == LF:
            self._flush_line(events)
            return 1
        if lead == HT:
            self._add_text(b" ", self._base + i)
            return 1
        if lead == ESC:
            return self._esc(buf, i, events)
        if lead == GS:
            return self._gs(buf, i, events)
        if lead == FS:
            return self._fs(buf, i)
        if lead == DLE:
            return self._dle(buf, i, events)
        return 1  # NUL, CR, BEL, CAN, FF and other lone controls: nothing to print

    def _dle(self, buf: bytearray, i: int, events: list[Event]) -> int:
        _need(buf, i, 2)
        sub = buf[i + 1]
        if sub == 0x04:  # DLE EOT n
            _need(buf, i, 3)
            n = buf[i + 2]
            if 1 <= n <= 4:
                events.append(StatusRequest(n))
                return 3
            if n in (7, 8):  # DLE EOT 7 a / 8 a (ink, slip): one more byte
                _need(buf, i, 4)
                return 4
            self._malformed(f"DLE EOT {n}: no such status query", self._base + i)
            return 3
        if sub == 0x05:  # DLE ENQ n
            _need(buf, i, 3)
            return 3
        if sub == 0x14:  # DLE DC4 fn ...
            _need(buf, i, 3)
            size = {1: 5, 2: 5, 7: 4, 8: 10}.get(buf[i + 2])
            if size is None:
                self._malformed(f"DLE DC4 {buf[i + 2]}: unknown function", self._base + i)
                return 3
            _need(buf, i, size)
            return size
        return 1  # a lone DLE means nothing

    def _esc(self, buf: bytearray, i: int, events: list[Event]) -> int:
        _need(buf, i, 2)
        sub = buf[i + 1]
        if sub == ord("@"):
            if self._chunks:
                self.problems.append(f"ESC @ discarded unprinted text (at byte {self._base + i})")
            self._reset()
            return 2
        if sub == ord("*"):
            return self._esc_bit_image(buf, i)
        if sub == ord("D"):
            return self._until_nul(buf, i, 2, 33, "ESC D")
        if sub == ord("&"):
            return self._esc_user_chars(buf, i)
        if sub == ord("("):
            return _length_prefixed(buf, i, 2)
        if sub not in _ESC_FIXED:
            self.problems.append(
                f"unknown command ESC 0x{sub:02X} skipped (at byte {self._base + i})"
            )
            return 2
        size = 2 + _ESC_FIXED[sub]
        _need(buf, i, size)
        n = buf[i + 2] if size > 2 else 0
        if sub == ord("!"):
            self._style.bold = bool(n & 0x08)
            self._style.height = 2 if n & 0x10 else 1
            self._style.width = 2 if n & 0x20 else 1
            self._style.underline = bool(n & 0x80)
        elif sub == ord("E"):
            self._style.bold = bool(n & 1)
        elif sub == ord("-"):
            self._style.underline = n in (1, 2, 49, 50)
        elif sub == ord("a"):
            self._align = _ALIGNS.get(n, self._align)
        elif sub == ord("t"):
            self._codepage = _CODE_PAGES.get(n, "cp437")
        elif sub == ord("d"):
            had_text = self._flush_pending(events)
            # ESC d n prints the pending line and feeds n lines in all: the line uses one of them.
            lines = n - 1 if had_text else n
            if lines > 0:
                events.append(FeedLines(lines))
        elif sub == ord("J"):
            self._flush_pending(events)
        elif sub in (ord("i"), ord("m")):  # obsolete partial cuts
            self._flush_pending(events)
            events.append(PaperCut(partial=True))
        return size

    def _esc_bit_image(self, buf: bytearray, i: int) -> int:
        _need(buf, i, 5)
        m, count = buf[i + 2], buf[i + 3] | buf[i + 4] << 8
        per_column = {0: 1, 1: 1, 32: 3, 33: 3}.get(m)
        if per_column is None or not 1 <= count <= 2400:
            self._malformed(f"ESC * m={m} n={count}: bad bit image header", self._base + i)
            return 5
        size = 5 + per_column * count
        _need(buf, i, size)
        return size

    def _esc_user_chars(self, buf: bytearray, i: int) -> int:
        _need(buf, i, 5)
        y, c1, c2 = buf[i + 2], buf[i + 3], buf[i + 4]
        if not (1 <= y <= 3 and 32 <= c1 <= c2 <= 126):
            self._malformed(
                f"ESC & y={y} c1={c1} c2={c2}: bad user-defined characters", self._base + i
            )
            return 5
        pos = i + 5
        for _ in range(c2 - c1 + 1):
            _need(buf, pos, 1)
            pos += 1 + y * buf[pos]
            _need(buf, pos, 0)
        return pos - i

    def _gs(self, buf: bytearray, i: int, events: list[Event]) -> int:
        _need(buf, i, 2)
        sub = buf[i + 1]
        if sub == ord("V"):
            return self._gs_cut(buf, i, events)
        if sub == ord("("):
            _need(buf, i, 5)
            if buf[i + 2] == ord("k"):
                return self._gs_2d_code(buf, i, events)
            return _length_prefixed(buf, i, 2)
        if sub == ord("v"):
            return self._gs_raster(buf, i, events)
        if sub == ord("8"):  # GS 8 L / GS 8 A: four-byte length
            _need(buf, i, 7)
            length = int.from_bytes(buf[i + 3 : i + 7], "little")
            if length > MAX_BLOCK:
                self._malformed(f"GS 8 block of {length} bytes is implausible", self._base + i)
                return 7
            _need(buf, i, 7 + length)
            return 7 + length
        if sub == ord("*"):  # GS * x y d1..d(x*y*8): downloaded bit image
            _need(buf, i, 4)
            size = 4 + buf[i + 2] * buf[i + 3] * 8
            _need(buf, i, size)
            return size
        if sub == ord("k"):
            return self._gs_barcode(buf, i)
        if sub not in _GS_FIXED:
            self.problems.append(
                f"unknown command GS 0x{sub:02X} skipped (at byte {self._base + i})"
            )
            return 2
        size = 2 + _GS_FIXED[sub]
        _need(buf, i, size)
        if sub == ord("!"):
            n = buf[i + 2]
            self._style.width = (n >> 4 & 0x07) + 1
            self._style.height = (n & 0x07) + 1
        return size

    def _gs_cut(self, buf: bytearray, i: int, events: list[Event]) -> int:
        _need(buf, i, 3)
        m = buf[i + 2]
        if m in (0, 1, 48, 49):  # function A: cut where the paper is
            size, partial = 3, m in (1, 49)
        elif m in (65, 66, 97, 98, 103, 104):  # B, C, D: feed to the cutter (+n), then cut
            _need(buf, i, 4)
            size, partial = 4, m in (66, 98, 104)
        else:
            self._malformed(f"GS V {m}: no such cut mode", self._base + i)
            return 3
        self._flush_pending(events)
        events.append(PaperCut(partial=partial))
        return size

    def _gs_2d_code(self, buf: bytearray, i: int, events: list[Event]) -> int:
        length = buf[i + 3] | buf[i + 4] << 8
        size = 5 + length
        if length < 2:
            self._malformed(f"GS ( k with length {length}: no room for cn and fn", self._base + i)
            return 5
        _need(buf, i, size)
        cn, fn, params = buf[i + 5], buf[i + 6], bytes(buf[i + 7 : i + size])
        if cn != QR_CN:
            return size  # PDF417, MaxiCode, DataMatrix, ...: not modelled, skipped whole
        if fn == 65:  # model: n1 = 49, 50 or 51 (micro)
            if params and params[0] in (49, 50, 51):
                self._qr_model = params[0] - 48
        elif fn == 67:  # module size
            if len(params) != 1 or not 1 <= params[0] <= 16:
                self._malformed(
                    f"GS ( k QR module size {list(params)} out of range", self._base + i
                )
            else:
                self._qr_size = params[0]
        elif fn == 69:  # error correction
            if len(params) != 1 or params[0] not in _QR_EC:
                self._malformed(
                    f"GS ( k QR error correction {list(params)} invalid", self._base + i
                )
            else:
                self._qr_ec = _QR_EC[params[0]]
        elif fn == 80:  # store: m=48, then the data
            if not params:
                self._malformed("GS ( k QR store without the m byte", self._base + i)
            else:
                self._qr_data = params[1:]
        elif fn == 81:  # print the stored symbol
            self._flush_pending(events)
            if not self._qr_data:
                self._malformed("GS ( k QR print with no data stored", self._base + i)
            else:
                qr = QrCode(self._qr_data, self._qr_size, self._qr_ec, self._qr_model, self._align)
                events.append(qr)
        return size

    def _gs_raster(self, buf: bytearray, i: int, events: list[Event]) -> int:
        _need(buf, i, 8)
        if buf[i + 2] != ord("0"):
            self.problems.append(
                f"unknown command GS v 0x{buf[i + 2]:02X} skipped (at byte {self._base + i})"
            )
            return 3
        m = buf[i + 3]
        width_bytes = buf[i + 4] | buf[i + 5] << 8
        height = buf[i + 6] | buf[i + 7] << 8
        scale = _RASTER_SCALE.get(m)
        if (
            scale is None
            or not 1 <= width_bytes <= MAX_RASTER_WIDTH_BYTES
            or not 1 <= height <= MAX_RASTER_HEIGHT
        ):
            self._malformed(
                f"GS v 0 m={m} {width_bytes}x{height}: bad raster header", self._base + i
            )
            return 8
        size = 8 + width_bytes * height
        _need(buf, i, size)
        self._flush_pending(events)
        data = bytes(buf[i + 8 : i + size])
        image = RasterImage(width_bytes * 8, height, data, scale[0], scale[1], self._align)
        events.append(image)
        return size

    def _gs_barcode(self, buf: bytearray, i: int) -> int:
        _need(buf, i, 3)
        m = buf[i + 2]
        if m <= 6:  # function A: data ends with NUL
            return self._until_nul(buf, i, 3, 256, f"GS k {m}")
        if 65 <= m <= 79:  # function B: n, then n bytes
            _need(buf, i, 4)
            size = 4 + buf[i + 3]
            _need(buf, i, size)
            return size
        self._malformed(f"GS k {m}: no such barcode system", self._base + i)
        return 3

    def _until_nul(self, buf: bytearray, i: int, head: int, limit: int, name: str) -> int:
        """Commands whose data ends with NUL (ESC D tab stops, GS k function A barcodes)."""
        end = buf.find(0, i + head, i + head + limit)
        if end >= 0:
            return end - i + 1
        if len(buf) - (i + head) < limit:
            raise _Incomplete
        self._malformed(f"{name} data has no terminating NUL within {limit} bytes", self._base + i)
        return head

    def _fs(self, buf: bytearray, i: int) -> int:
        _need(buf, i, 2)
        sub = buf[i + 1]
        if sub == ord("&"):
            self._chinese = True
        elif sub == ord("."):
            self._chinese = False
        elif sub == ord("("):
            return _length_prefixed(buf, i, 2)
        elif sub == ord("q"):
            return self._fs_nv_images(buf, i)
        elif sub not in _FS_FIXED:
            self.problems.append(
                f"unknown command FS 0x{sub:02X} skipped (at byte {self._base + i})"
            )
            return 2
        size = 2 + _FS_FIXED[sub]
        _need(buf, i, size)
        return size

    def _fs_nv_images(self, buf: bytearray, i: int) -> int:
        _need(buf, i, 3)
        pos = i + 3
        for _ in range(buf[i + 2]):
            _need(buf, pos, 4)
            width, height = buf[pos] | buf[pos + 1] << 8, buf[pos + 2] | buf[pos + 3] << 8
            pos += 4 + width * height * 8
            _need(buf, pos, 0)
        return pos - i


def _need(buf: bytearray, i: int, count: int) -> None:
    if i + count > len(buf):
        raise _Incomplete


def _length_prefixed(buf: bytearray, i: int, head: int) -> int:
    """ESC ( fn / GS ( fn / FS ( fn: pL pH, then that many bytes."""
    _need(buf, i, head + 3)
    size = head + 3 + (buf[i + head + 1] | buf[i + head + 2] << 8)
    _need(buf, i, size)
    return size


def _same_style(a: TextSpan, b: TextSpan) -> bool:
    return (a.bold, a.width, a.height, a.underline) == (b.bold, b.width, b.height, b.underline)


def _with_text(style: TextSpan, text: str) -> TextSpan:
    return TextSpan(text, style.bold, style.width, style.height, style.underline)


def _command_name(buf: bytearray, i: int) -> str:
    names = {ESC: "ESC", GS: "GS", FS: "FS", DLE: "DLE"}
    parts = [names.get(buf[i], f"0x{buf[i]:02X}")]
    for b in buf[i + 1 : i + 3]:
        if 0x21 <= b <= 0x7E:
            parts.append(chr(b))
        else:
            break
    return " ".join(parts)


def decode_escpos(data: bytes, *, strict: bool = True, chinese_default: bool = False) -> DecodedJob:
    """Decode a whole ESC/POS job; strict raises EscPosDecodeError on malformed input."""
    decoder = EscPosStreamDecoder(strict=strict, chinese_default=chinese_default)
    events = decoder.feed(bytes(data))
    events += decoder.finish()
    return DecodedJob.from_events(events, decoder.problems)
