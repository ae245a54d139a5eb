"""DLE EOT real-time status: the query bytes, the one-byte answers, and a typed status.

ESC/POS `DLE EOT n` (10 04 n) asks the printer for one status byte, answered at once even while
it is offline or busy. Every answer has bit 1 and bit 4 set and bits 0 and 7 clear (0x12 pattern),
which is how a stray byte is told from a real answer. The bits used here (Epson TM reference,
matched by the Chinese 80 mm clones):

    n=1 printer        0x08 offline
    n=2 offline cause  0x04 cover open, 0x08 feed button, 0x20 stopped at paper end, 0x40 error
    n=3 error cause    0x04 recoverable, 0x08 autocutter, 0x20 unrecoverable, 0x40 auto-recoverable
    n=4 paper sensor   0x0C paper near end, 0x60 paper end
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum

DLE_EOT = b"\x10\x04"
FIXED_BITS = 0x12  # bits 1 and 4 always on
FIXED_MASK = 0x93  # bits 0, 1, 4, 7 are fixed

OFFLINE = 0x08
COVER_OPEN = 0x04
FEED_BUTTON = 0x08
PAPER_END_STOP = 0x20
ERROR_OCCURRED = 0x40
RECOVERABLE_ERROR = 0x04
CUTTER_ERROR = 0x08
UNRECOVERABLE_ERROR = 0x20
AUTO_RECOVERABLE_ERROR = 0x40
PAPER_NEAR_END = 0x0C
PAPER_END = 0x60


class StatusQuery(IntEnum):
    """The `n` of DLE EOT n."""

    PRINTER = 1
    OFFLINE_CAUSE = 2
    ERROR_CAUSE = 3
    PAPER = 4


ALL_QUERIES: tuple[StatusQuery, ...] = tuple(StatusQuery)


class PaperLevel(StrEnum):
    """Roll paper as the sensors see it."""

    FULL = "full"
    LOW = "low"
    OUT = "out"
    UNKNOWN = "unknown"


class DeviceState(StrEnum):
    """The shared device state model (CEN/XFS, CUSS) as it applies to a receipt printer."""

    ONLINE = "online"
    OFFLINE = "offline"
    HARDWARE_ERROR = "hardware_error"
    USER_ERROR = "user_error"  # something a person can fix: paper, cover
    UNKNOWN = "unknown"


class StatusDecodeError(ValueError):
    """A byte that is not a DLE EOT answer (wrong fixed bits), or a missing answer."""


@dataclass(frozen=True)
class PrinterStatus:
    """What the printer reported. `known=False` when the transport cannot read (file://)."""

    known: bool = True
    online: bool = True
    paper: PaperLevel = PaperLevel.FULL
    cover_open: bool = False
    feed_button: bool = False
    error: bool = False
    recoverable_error: bool = False
    cutter_error: bool = False
    unrecoverable_error: bool = False
    auto_recoverable_error: bool = False

    @classmethod
    def unknown(cls) -> PrinterStatus:
        """The status of a printer that cannot be asked."""
        return cls(known=False, paper=PaperLevel.UNKNOWN)

    @property
    def hardware_error(self) -> bool:
        """A fault a paper change will not fix (cutter jam, head, power)."""
        return self.cutter_error or self.unrecoverable_error or self.recoverable_error

    @property
    def ready(self) -> bool:
        """Whether a job sent now would print (unknown counts as ready: we cannot tell)."""
        if not self.known:
            return True
        return (
            self.online
            and self.paper is not PaperLevel.OUT
            and not self.cover_open
            and not self.error
            and not self.hardware_error
        )

    @property
    def state(self) -> DeviceState:
        """The shared device state for the device manager and telemetry."""
        if not self.known:
            return DeviceState.UNKNOWN
        if self.hardware_error:
            return DeviceState.HARDWARE_ERROR
        if self.paper is PaperLevel.OUT or self.cover_open:
            return DeviceState.USER_ERROR
        if not self.online or self.error:
            return DeviceState.OFFLINE
        return DeviceState.ONLINE

    @property
    def warnings(self) -> tuple[str, ...]:
        """Conditions that do not stop printing but need attention soon."""
        return ("paper low",) if self.paper is PaperLevel.LOW else ()

    def describe(self) -> str:
        """A short English summary for logs and the maintenance menu."""
        if not self.known:
            return "status unknown (transport cannot read)"
        parts = ["online" if self.online else "offline", f"paper {self.paper.value}"]
        if self.cover_open:
            parts.append("cover open")
        if self.cutter_error:
            parts.append("cutter error")
        if self.unrecoverable_error:
            parts.append("unrecoverable error")
        if self.recoverable_error:
            parts.append("recoverable error")
        if self.auto_recoverable_error:
            parts.append("auto-recoverable error")
        if self.error and not self.hardware_error and not self.auto_recoverable_error:
            parts.append("error")
        return ", ".join(parts)


def status_query(n: int) -> bytes:
    """The bytes of `DLE EOT n`."""
    return DLE_EOT + bytes([StatusQuery(n)])


def is_status_byte(value: int) -> bool:
    """Whether `value` has the fixed bits every DLE EOT answer carries."""
    return 0 <= value <= 0xFF and value & FIXED_MASK == FIXED_BITS


def decode_status(answers: Mapping[int, int]) -> PrinterStatus:
    """Turn the answers to DLE EOT 1..4 (keyed by n) into a status; missing n are assumed fine."""
    for n, value in answers.items():
        if n not in {q.value for q in StatusQuery}:
            raise StatusDecodeError(f"DLE EOT {n} is not a status query this driver knows")
        if not is_status_byte(value):
            raise StatusDecodeError(f"0x{value:02X} is not a DLE EOT {n} answer (fixed bits wrong)")
    printer = answers.get(StatusQuery.PRINTER, FIXED_BITS)
    cause = answers.get(StatusQuery.OFFLINE_CAUSE, FIXED_BITS)
    errors = answers.get(StatusQuery.ERROR_CAUSE, FIXED_BITS)
    paper_bits = answers.get(StatusQuery.PAPER, FIXED_BITS)
    # Printers differ in whether one or both bits of a sensor pair are set; either counts.
    if paper_bits & PAPER_END or cause & PAPER_END_STOP:
        paper = PaperLevel.OUT
    elif paper_bits & PAPER_NEAR_END:
        paper = PaperLevel.LOW
    elif StatusQuery.PAPER in answers:
        paper = PaperLevel.FULL
    else:
        paper = PaperLevel.UNKNOWN
    return PrinterStatus(
        known=True,
        online=not printer & OFFLINE,
        paper=paper,
        cover_open=bool(cause & COVER_OPEN),
        feed_button=bool(cause & FEED_BUTTON),
        error=bool(cause & ERROR_OCCURRED),
        recoverable_error=bool(errors & RECOVERABLE_ERROR),
        cutter_error=bool(errors & CUTTER_ERROR),
        unrecoverable_error=bool(errors & UNRECOVERABLE_ERROR),
        auto_recoverable_error=bool(errors & AUTO_RECOVERABLE_ERROR),
    )


def encode_status(n: int, status: PrinterStatus) -> int:
    """The byte a printer in `status` answers to DLE EOT n (the simulator's side)."""
    query = StatusQuery(n)
    value = FIXED_BITS
    paper_out = status.paper is PaperLevel.OUT
    if query is StatusQuery.PRINTER:
        # A real printer goes offline by itself when the cover opens or the paper runs out.
        offline = not status.online or status.cover_open or paper_out or status.error
        value |= OFFLINE if offline else 0
    elif query is StatusQuery.OFFLINE_CAUSE:
        value |= COVER_OPEN if status.cover_open else 0
        value |= FEED_BUTTON if status.feed_button else 0
        value |= PAPER_END_STOP if paper_out else 0
        value |= ERROR_OCCURRED if status.error or status.hardware_error else 0
    elif query is StatusQuery.ERROR_CAUSE:
        value |= RECOVERABLE_ERROR if status.recoverable_error else 0
        value |= CUTTER_ERROR if status.cutter_error else 0
        value |= UNRECOVERABLE_ERROR if status.unrecoverable_error else 0
        value |= AUTO_RECOVERABLE_ERROR if status.auto_recoverable_error else 0
    else:
        if paper_out:
            # The near-end sensor sits before the end sensor, so it reads "near end" too.
            value |= PAPER_END | PAPER_NEAR_END
        elif status.paper is PaperLevel.LOW:
            value |= PAPER_NEAR_END
    return value
