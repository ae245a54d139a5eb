"""How much paper a receipt takes, and how much is left once the near-end sensor has tripped.

A printer's near-end sensor only says "low": it trips when the roll's diameter falls below a
threshold, with a few metres still on the roll. From then on `PaperTracker` counts what is
printed (receipts, lines, millimetres) and estimates what is left from a configured length of
paper at the near-end point, so the fleet can send a technician before a resident's receipt
runs out. A roll of known length, after a technician reports a change (`paper_changed`), gives
an estimate before the sensor trips too. The counts reset when the sensor reads full again or
a paper change is reported.

Lengths follow the printer's built-in font metrics the PNG renderer draws with: 12x24-dot
ASCII and 24x24-dot Chinese cells, a 30-dot line pitch, 8 dots per millimetre, text wrapped at
the paper's printable width; QR codes are their module count plus a quiet zone; a cut feeds
the paper from the print head to the blade (`cutter_feed_mm`).
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import qrcode

from drivers.printer.receipt import Cut, Feed, Qr, Receipt, Text
from drivers.printer.status import PaperLevel

DOTS_PER_MM = 8
CELL_W, CELL_H, LINE_PITCH = 12, 24, 30
PAPER_DOTS = 576  # 80 mm paper, 72 mm printable
# Assumptions, both configurable: paper from head to blade on common 80 mm kiosk printers, and
# what is left on the roll when a near-end sensor trips (its lever is usually set for 2-5 m).
CUTTER_FEED_MM = 15.0
NEAR_END_LENGTH_MM = 3000.0


@dataclass(frozen=True)
class ReceiptLength:
    """How much paper one receipt takes: text rows and feed lines, and millimetres in all."""

    lines: int
    mm: float


def _char_dots(char: str) -> int:
    return CELL_W * (2 if unicodedata.east_asian_width(char) in ("W", "F") else 1)


def _text_rows(text: Text, paper_dots: int) -> int:
    scale = 2 if text.double else 1
    rows, x = 1, 0
    for char in text.text:
        width = _char_dots(char) * scale
        if x + width > paper_dots and x > 0:
            rows, x = rows + 1, 0  # the printer wraps at the paper edge
        x += width
    return rows


def _qr_dots(qr: Qr) -> int:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(qr.data.encode("utf-8"))
    code.make(fit=True)
    return (code.modules_count + 4) * qr.size  # two modules of quiet zone above and below


def receipt_length(
    receipt: Receipt, *, paper_dots: int = PAPER_DOTS, cutter_feed_mm: float = CUTTER_FEED_MM
) -> ReceiptLength:
    """The paper `receipt` takes: text rows plus feed lines, and its length in millimetres."""
    lines = 0
    dots = 0
    mm = 0.0
    for element in receipt.elements:
        if isinstance(element, Text):
            rows = _text_rows(element, paper_dots)
            lines += rows
            dots += rows * (CELL_H * (2 if element.double else 1) + LINE_PITCH - CELL_H)
        elif isinstance(element, Feed):
            lines += element.lines
            dots += element.lines * LINE_PITCH
        elif isinstance(element, Qr):
            dots += _qr_dots(element)
        elif isinstance(element, Cut):
            mm += cutter_feed_mm
    return ReceiptLength(lines, mm + dots / DOTS_PER_MM)


@dataclass(frozen=True)
class PaperUsage:
    """What was printed since the near-end sensor tripped, and what is thought to be left."""

    low_since: datetime | None
    receipts_since_low: int
    lines_since_low: int
    mm_since_low: float
    mm_since_change: float | None  # None until a paper change was reported
    remaining_estimate_mm: float | None  # None when nothing is known

    def as_details(self) -> dict[str, Any]:
        """The keys the printer's `DeviceStatus.details` carries."""
        return {
            "paper_low_since": self.low_since.isoformat() if self.low_since else None,
            "receipts_since_low": self.receipts_since_low,
            "lines_since_low": self.lines_since_low,
            "mm_since_low": round(self.mm_since_low, 1),
            "paper_remaining_estimate_mm": (
                None if self.remaining_estimate_mm is None else round(self.remaining_estimate_mm, 1)
            ),
        }


class PaperTracker:
    """Counts paper from the near-end point on; see the module docstring. Thread-safe."""

    def __init__(
        self,
        *,
        roll_length_mm: float | None = None,
        near_end_length_mm: float = NEAR_END_LENGTH_MM,
        now: Callable[[], datetime] = datetime.now,
    ) -> None:
        if near_end_length_mm < 0 or (roll_length_mm is not None and roll_length_mm <= 0):
            raise ValueError("paper lengths must be positive")
        self.roll_length_mm = roll_length_mm
        self.near_end_length_mm = near_end_length_mm
        self._now = now
        self._lock = threading.Lock()
        self._sensor = PaperLevel.UNKNOWN
        self._low_since: datetime | None = None
        self._receipts = 0
        self._lines = 0
        self._mm = 0.0
        self._since_change: float | None = None

    def observe(self, paper: PaperLevel) -> None:
        """A paper sensor reading (from DLE EOT 4, before and after each job, and status)."""
        with self._lock:
            if paper is PaperLevel.UNKNOWN:
                return
            if paper is PaperLevel.FULL and self._sensor in (PaperLevel.LOW, PaperLevel.OUT):
                self._reset(new_roll=True)  # back to full: somebody put a new roll in
            elif paper in (PaperLevel.LOW, PaperLevel.OUT) and self._low_since is None:
                self._low_since = self._now()
                self._receipts = self._lines = 0
                self._mm = 0.0
            self._sensor = paper

    def record(self, length: ReceiptLength) -> None:
        """One receipt printed."""
        with self._lock:
            if self._since_change is not None:
                self._since_change += length.mm
            if self._low_since is not None:
                self._receipts += 1
                self._lines += length.lines
                self._mm += length.mm

    def paper_changed(self) -> None:
        """A technician put a new roll in: forget the counts; a known roll length applies."""
        with self._lock:
            self._reset(new_roll=True)
            self._sensor = PaperLevel.UNKNOWN

    def _reset(self, *, new_roll: bool) -> None:
        self._low_since = None
        self._receipts = self._lines = 0
        self._mm = 0.0
        self._since_change = 0.0 if new_roll else None

    @property
    def paper_remaining_estimate(self) -> float | None:
        """Millimetres of paper thought to be left, or None when nothing is known."""
        return self.usage().remaining_estimate_mm

    def usage(self) -> PaperUsage:
        """A snapshot of the counts and the estimate."""
        with self._lock:
            # The smaller of what the near-end point and a known roll length leave.
            known: list[float] = []
            if self._sensor is PaperLevel.OUT:
                known.append(0.0)
            if self._low_since is not None:
                known.append(self.near_end_length_mm - self._mm)
            if self._since_change is not None and self.roll_length_mm is not None:
                known.append(self.roll_length_mm - self._since_change)
            estimate = max(0.0, min(known)) if known else None
            return PaperUsage(
                low_since=self._low_since,
                receipts_since_low=self._receipts,
                lines_since_low=self._lines,
                mm_since_low=self._mm,
                mm_since_change=self._since_change,
                remaining_estimate_mm=estimate,
            )
