"""The receipt printer behind the uniform device face (docs/DEVICES.md): open, close, status.

    printer = open_receipt_printer("tcp://192.168.1.50:9100", roll_length_mm=80_000)
    printer.open()                    # PrinterOffline: back off and open again
    printer.status()                  # DeviceStatus: paper full/low/out/jammed, cover open
    printer.print_receipt(receipt)    # DLE EOT before and after, as `ReceiptPrinter` does
    printer.paper_changed()           # a technician put a new roll in

Status mapping (CEN/XFS: the device state, with paper and cover as their own fields):

=====================================  ==============  ==========================
printer says                           state           paper
=====================================  ==============  ==========================
cutter, head or other hardware error   hardware_error  jammed (cutter) or sensor
cover open                             user_error      sensor, cover_open True
paper end                              online          out (not usable)
auto-recoverable error, feed button    busy            sensor
offline or error, no cause given       offline         sensor
ready                                  online          full or low
write-only transport (file://)         online          unknown
cannot be reached, does not answer     offline         None
=====================================  ==============  ==========================

``details`` carries the URL, the printer's own description, and the paper counts of
`drivers.printer.paper` (receipts, lines and millimetres since the near-end sensor tripped,
``paper_remaining_estimate_mm``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from drivers.printer.escpos_printer import (
    DEFAULT_TIMEOUT,
    PrinterError,
    PrinterOffline,
    PrinterProtocolError,
    ReceiptPrinter,
)
from drivers.printer.paper import (
    CUTTER_FEED_MM,
    NEAR_END_LENGTH_MM,
    PaperTracker,
    PaperUsage,
    receipt_length,
)
from drivers.printer.receipt import Receipt
from drivers.printer.status import PaperLevel, PrinterStatus
from drivers.state import DeviceState, DeviceStatus, PaperState

_PAPER = {
    PaperLevel.FULL: PaperState.FULL,
    PaperLevel.LOW: PaperState.LOW,
    PaperLevel.OUT: PaperState.OUT,
    PaperLevel.UNKNOWN: PaperState.UNKNOWN,
}


def device_status(status: PrinterStatus, details: dict[str, Any] | None = None) -> DeviceStatus:
    """The shared device model for a DLE EOT status (see the table in the module docstring)."""
    extra = dict(details or {})
    if not status.known:
        return DeviceStatus(
            DeviceState.ONLINE,
            "status unknown: this transport cannot read the printer",
            paper=PaperState.UNKNOWN,
            details=extra,
        )
    extra["printer"] = status.describe()
    paper = _PAPER[status.paper]
    state, reason = DeviceState.ONLINE, ""
    if status.hardware_error:
        state, reason = DeviceState.HARDWARE_ERROR, status.describe()
        if status.cutter_error:
            paper = PaperState.JAMMED
    elif status.cover_open:
        state, reason = DeviceState.USER_ERROR, "cover open"
    elif status.paper is PaperLevel.OUT:
        reason = "paper out"
    elif status.auto_recoverable_error or status.feed_button:
        state, reason = DeviceState.BUSY, status.describe()
    elif not status.online or status.error:
        state, reason = DeviceState.OFFLINE, status.describe()
    elif status.paper is PaperLevel.LOW:
        reason = "paper low"
    return DeviceStatus(state, reason, paper=paper, cover_open=status.cover_open, details=extra)


class ReceiptPrinterDevice:
    """A `ReceiptPrinter` with the uniform face and paper counting; see the module docstring.

    Options: `profile` (python-escpos), `timeout` (seconds; `timeout_s` is accepted as the
    same), `baud` (serial, when the URL has no ``?baud=``), `roll_length_mm` (a new roll's
    length, for an estimate before the near-end sensor trips), `near_end_length_mm` (paper left
    when it trips), `cutter_feed_mm` (paper from head to blade, counted per cut).
    """

    def __init__(
        self,
        url: str,
        *,
        profile: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        timeout_s: float | None = None,
        baud: int | None = None,
        roll_length_mm: float | None = None,
        near_end_length_mm: float = NEAR_END_LENGTH_MM,
        cutter_feed_mm: float = CUTTER_FEED_MM,
        now: Callable[[], datetime] = datetime.now,
    ) -> None:
        self.paper = PaperTracker(
            roll_length_mm=roll_length_mm, near_end_length_mm=near_end_length_mm, now=now
        )
        self.cutter_feed_mm = cutter_feed_mm
        self.printer = ReceiptPrinter(
            url,
            profile=profile,
            timeout=timeout_s if timeout_s is not None else timeout,
            baud=baud,
            on_status=lambda status: self.paper.observe(status.paper),
        )
        self._lock = threading.Lock()
        self._open = False
        self._closed_status = DeviceStatus(DeviceState.OFFLINE, "not opened")

    @property
    def url(self) -> str:
        """The printer's address."""
        return self.printer.url

    @property
    def paper_remaining_estimate(self) -> float | None:
        """Millimetres of paper thought to be left, or None when nothing is known."""
        return self.paper.paper_remaining_estimate

    def paper_usage(self) -> PaperUsage:
        """What was printed since the near-end sensor tripped, and the estimate."""
        return self.paper.usage()

    # -- the uniform face ------------------------------------------------------------------

    def open(self) -> None:
        """Reach the printer and read its status; `PrinterOffline` when it cannot be reached.

        A printer that answers but needs attention (paper out, cover open) still opens:
        `status` says what is wrong.
        """
        self.printer.status()  # raises PrinterOffline / PrinterTimeout / PrinterProtocolError
        with self._lock:
            self._open = True

    def close(self) -> None:
        """Nothing is held between jobs (each job connects); idempotent."""
        with self._lock:
            self._open = False
            self._closed_status = DeviceStatus(DeviceState.OFFLINE, "closed")

    def status(self) -> DeviceStatus:
        """Ask the printer (DLE EOT 1-4) and map the answer; offline when it cannot be reached."""
        with self._lock:
            if not self._open:
                return self._closed_status
        try:
            status = self.printer.status()
        except (PrinterOffline, PrinterProtocolError) as exc:
            return DeviceStatus(DeviceState.OFFLINE, str(exc)[:200], details=self._details())
        except PrinterError as exc:
            return DeviceStatus(DeviceState.HARDWARE_ERROR, str(exc)[:200], details=self._details())
        return device_status(status, self._details())

    def print_receipt(self, receipt: Receipt) -> PrinterStatus:
        """Print `receipt` as `ReceiptPrinter.print_receipt` does, counting the paper it took.

        Raises the printer's errors (`PaperOut`, `CoverOpen`, `PrinterOffline`, ...) before
        anything is sent when the printer is not ready; a receipt sent before a failure was
        seen (`sent`) is counted as printed.
        """
        length = receipt_length(receipt, cutter_feed_mm=self.cutter_feed_mm)
        try:
            after = self.printer.print_receipt(receipt)
        except PrinterError as exc:
            if exc.sent:
                self.paper.record(length)
            raise
        self.paper.record(length)
        return after

    def paper_changed(self) -> None:
        """A technician reports a new roll: the paper counts start again."""
        self.paper.paper_changed()

    def _details(self) -> dict[str, Any]:
        return {"url": self.url, **self.paper.usage().as_details()}


def open_receipt_printer(url: str, **options: Any) -> ReceiptPrinterDevice:
    """The receipt printer at `url` (tcp://, serial://, usb://VID:PID, file://), not yet opened."""
    return ReceiptPrinterDevice(url, **options)
