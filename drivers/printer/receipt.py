"""The receipt document: what to print, independent of any printer's command language.

A `Receipt` is a tuple of small frozen elements. Each element validates itself on creation, so a
receipt that exists can always be printed: no control characters inside a text line (ESC/POS
would take them for commands), no empty QR payload (python-escpos would silently print nothing),
sizes within what ESC/POS accepts.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeAlias

Align: TypeAlias = Literal["left", "center", "right"]
ALIGNS: tuple[Align, ...] = ("left", "center", "right")

# QR model 2 holds at most 7089 numeric characters; 2953 bytes is the binary-mode limit at level L.
QR_MAX_BYTES = 2953
SELFTEST_QR = "KIOSK-SELFTEST"
SELFTEST_TITLE = "打印测试 / PRINT TEST"


def _check_align(align: str) -> None:
    if align not in ALIGNS:
        raise ValueError(f"align must be one of {', '.join(ALIGNS)}, not {align!r}")


def check_line_text(text: str) -> None:
    """Reject text that cannot be one printed line: control characters, unencodable surrogates."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    for ch in text:
        category = unicodedata.category(ch)
        # Cc bytes would be read by the printer as commands; Cs cannot be encoded in GB18030.
        if category in ("Cc", "Cs"):
            raise ValueError(
                f"text line contains control or surrogate character U+{ord(ch):04X}; "
                "split lines into separate Text elements"
            )


@dataclass(frozen=True)
class Text:
    """One printed line. `double` is double width and double height."""

    text: str
    bold: bool = False
    double: bool = False
    align: Align = "left"

    def __post_init__(self) -> None:
        check_line_text(self.text)
        _check_align(self.align)


@dataclass(frozen=True)
class Qr:
    """A QR code; `size` is the module size in printer dots (1-16)."""

    data: str
    size: int = 6
    align: Align = "center"

    def __post_init__(self) -> None:
        if not isinstance(self.data, str) or not self.data:
            raise ValueError("a QR code needs a non-empty str payload")
        if any(unicodedata.category(ch) == "Cs" for ch in self.data):
            raise ValueError("QR payload contains a lone surrogate")
        if len(self.data.encode("utf-8")) > QR_MAX_BYTES:
            raise ValueError(f"QR payload is longer than {QR_MAX_BYTES} bytes")
        if not 1 <= self.size <= 16:
            raise ValueError(f"QR module size must be 1-16 dots, not {self.size}")
        _check_align(self.align)


@dataclass(frozen=True)
class Feed:
    """Blank paper: `lines` line feeds (1-255)."""

    lines: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.lines <= 255:
            raise ValueError(f"feed must be 1-255 lines, not {self.lines}")


@dataclass(frozen=True)
class Cut:
    """Feed to the cutter and cut; `partial` leaves a hinge so the slip hangs until taken."""

    partial: bool = False


Element: TypeAlias = Text | Qr | Feed | Cut


@dataclass(frozen=True)
class Receipt:
    """A printable document: elements in print order."""

    elements: tuple[Element, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.elements, tuple):
            # A list would make the "frozen" document mutable behind our back.
            object.__setattr__(self, "elements", tuple(self.elements))
        for element in self.elements:
            if not isinstance(element, Text | Qr | Feed | Cut):
                raise TypeError(f"not a receipt element: {element!r}")

    @property
    def text(self) -> str:
        """All text lines joined by newlines (for logs, tests and search)."""
        return "\n".join(e.text for e in self.elements if isinstance(e, Text))

    @property
    def qr_payloads(self) -> tuple[str, ...]:
        """The payloads of every QR code, in order."""
        return tuple(e.data for e in self.elements if isinstance(e, Qr))


class ReceiptBuilder:
    """Fluent helper: `ReceiptBuilder().title("...").line("...").qr("...").cut().build()`."""

    def __init__(self) -> None:
        self._elements: list[Element] = []

    def add(self, element: Element) -> ReceiptBuilder:
        """Append any element."""
        self._elements.append(element)
        return self

    def title(self, text: str) -> ReceiptBuilder:
        """A bold, double-size, centred heading."""
        return self.add(Text(text, bold=True, double=True, align="center"))

    def line(
        self, text: str = "", *, bold: bool = False, double: bool = False, align: Align = "left"
    ) -> ReceiptBuilder:
        """One text line."""
        return self.add(Text(text, bold=bold, double=double, align=align))

    def lines(self, text: str, **style: bool | str) -> ReceiptBuilder:
        """Several lines from a multi-line string, one Text each."""
        for part in text.splitlines():
            self.line(part, **style)  # type: ignore[arg-type]
        return self

    def qr(self, data: str, *, size: int = 6, align: Align = "center") -> ReceiptBuilder:
        """A QR code."""
        return self.add(Qr(data, size=size, align=align))

    def feed(self, lines: int = 1) -> ReceiptBuilder:
        """Blank lines."""
        return self.add(Feed(lines))

    def cut(self, *, partial: bool = False) -> ReceiptBuilder:
        """Cut the paper."""
        return self.add(Cut(partial=partial))

    def build(self) -> Receipt:
        """The finished, immutable receipt."""
        return Receipt(tuple(self._elements))


def selftest_receipt(kiosk_id: str, now: datetime) -> Receipt:
    """The maintenance self-test slip: Chinese and ASCII text, styles, a QR code and a cut."""
    if not kiosk_id:
        raise ValueError("the self-test receipt needs a kiosk id")
    return (
        ReceiptBuilder()
        .title(SELFTEST_TITLE)
        .feed(1)
        .line(f"终端编号 Kiosk: {kiosk_id}")
        .line(f"时间 Time: {now:%Y-%m-%d %H:%M:%S}")
        .line("中文 GB18030: 政务服务自助办理")
        .line("ASCII: 0123456789 ABCXYZ abcxyz")
        .line("粗体 Bold", bold=True)
        .line("右对齐 Right", align="right")
        .feed(1)
        .qr(SELFTEST_QR, size=6)
        .line(f"扫码应得 {SELFTEST_QR}", align="center")
        .feed(2)
        .cut()
        .build()
    )
