"""Serial QR scanners: a USB-CDC or RS-232 scanner that sends each code as a line.

    scanner = SerialQrScanner("serial:///dev/ttyACM0?baud=9600&terminator=CR")
    scanner.open()
    codes = scanner.poll(0.5)   # list[ScannedCode], possibly empty

URL parameters: ``baud`` (default 9600, the factory setting of most scanners), ``terminator``
(CR, LF, CRLF or ANY; default ANY, which accepts all three), ``aim=1`` when the scanner is set
to prefix AIM symbology identifiers (``]Q1`` for QR), ``max_bytes`` (default 4096).

The scanner is the device face of docs/DEVICES.md: `open`, `close`, `status`, `poll`.
`poll` opens a closed port by itself, so after an unplug a supervisor simply keeps polling;
while the port is gone it raises `ScannerUnavailableError` (back off and poll again).
"""

from __future__ import annotations

import contextlib
import logging
import os
import termios
import threading
import time
from types import TracebackType

import serial

from drivers.qr.address import ScannerKind, parse_scanner_url
from drivers.qr.errors import ScannerUnavailableError
from drivers.qr.framing import LineFramer, Terminator
from drivers.qr.payload import DEFAULT_MAX_BYTES, ScannedCode
from drivers.qr.scanner_base import ScannerBase
from drivers.state import DeviceState, DeviceStatus
from drivers.url import DeviceUrlError

log = logging.getLogger("drivers.qr")
traffic = logging.getLogger("drivers.qr.traffic")

DEFAULT_BAUD = 9600
# How long one blocking read waits before the loop rechecks its deadline.
_READ_S = 0.05
# A partial line silent this long is the remnant of noise or a cut scan, not the start of a
# code: a scanner sends a whole code in one burst (4 KB at 9600 baud is about 4 s, but
# without pauses between bytes).
DEFAULT_LINE_GAP_S = 0.5
# What a failing or vanished port raises; termios.error is not an OSError.
_PORT_ERRORS = (serial.SerialException, OSError, termios.error)


class SerialQrScanner(ScannerBase):
    """A QR scanner on a serial port (or a pty standing in for one), addressed by URL."""

    def __init__(
        self,
        url: str,
        *,
        baud: int | None = None,
        terminator: Terminator | str | None = None,
        max_bytes: int | None = None,
        aim: bool | None = None,
        line_gap_s: float = DEFAULT_LINE_GAP_S,
    ) -> None:
        address = parse_scanner_url(url)
        if address.kind is not ScannerKind.SERIAL:
            raise DeviceUrlError(f"{url!r} is not a serial scanner URL")
        # The URL is the configuration: its parameters win over the keyword defaults.
        self.path = address.path
        self.baud = address.param_int("baud", baud or DEFAULT_BAUD)
        if self.baud <= 0:
            raise DeviceUrlError(f"{url!r}: baud rate {self.baud} must be positive")
        term = address.params.get("terminator", terminator or Terminator.ANY)
        try:
            self.terminator = Terminator.parse(str(term))
        except ValueError as exc:
            raise DeviceUrlError(f"{url!r}: {exc}") from None
        self.max_bytes = address.param_int("max_bytes", max_bytes or DEFAULT_MAX_BYTES)
        self.aim = address.param_bool("aim", bool(aim))
        self.line_gap_s = line_gap_s
        self.source = f"serial:{self.path}"
        self.framer = LineFramer(self.terminator, max_line=self.max_bytes)
        self._init_base()
        self._port: serial.Serial | None = None
        self._last_rx = 0.0
        self._lock = threading.RLock()

    @property
    def is_open(self) -> bool:
        """True while the port is open."""
        return self._port is not None and self._port.is_open

    def open(self) -> None:
        """Open the port (no-op when open); `ScannerUnavailableError` if it cannot be opened."""
        with self._lock:
            if self.is_open:
                return
            try:
                # exclusive: a second reader on the same port would steal half the codes.
                port = serial.Serial(self.path, self.baud, timeout=_READ_S, exclusive=True)
                # Codes scanned while nobody listened are stale: a resident is not waiting.
                port.reset_input_buffer()
            except (*_PORT_ERRORS, ValueError) as exc:
                self._fail(f"cannot open {self.path}: {_reason(exc)}")
                raise ScannerUnavailableError(self._failure) from exc
            self._port = port
            self.framer.reset()
            self._recovered()
            log.debug("opened QR scanner %s at %d baud", self.path, self.baud)

    def close(self) -> None:
        """Close the port; safe to call twice and after a failed open."""
        with self._lock:
            port, self._port = self._port, None
            if port is not None:
                with contextlib.suppress(*_PORT_ERRORS):
                    port.close()
                log.debug("closed QR scanner %s", self.path)

    def __enter__(self) -> SerialQrScanner:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def status(self) -> DeviceStatus:
        """Online while the port is open; offline with the reason after a failure."""
        details = {
            "path": self.path,
            "baud": self.baud,
            "terminator": self.terminator.value,
            "codes_read": self.codes_read,
            "codes_refused": self.codes_refused,
            "lines_discarded": self.framer.discarded,
        }
        if self.is_open:
            return DeviceStatus(DeviceState.ONLINE, details=details)
        return DeviceStatus(DeviceState.OFFLINE, self._failure or "not opened", details=details)

    def poll(self, timeout: float) -> list[ScannedCode]:
        """Wait up to `timeout` seconds for codes; return those read (none on a quiet line).

        Opens the port first if it is closed. Raises `ScannerUnavailableError` when the port
        cannot be opened or fails while reading (it is then closed; the next poll reopens it).
        """
        with self._lock:
            self.open()
            port = self._port
            assert port is not None
            deadline = time.monotonic() + max(0.0, timeout)
            try:
                while True:
                    chunk = port.read(port.in_waiting or 1)
                    if chunk:
                        codes = self._feed(chunk)
                        if codes:
                            return codes
                    if time.monotonic() >= deadline:
                        return []
            except _PORT_ERRORS as exc:
                self.close()
                self._fail(f"{self.path} failed: {_reason(exc)}")
                raise ScannerUnavailableError(self._failure) from exc

    def _feed(self, chunk: bytes) -> list[ScannedCode]:
        now = time.monotonic()
        if self.framer.pending and now - self._last_rx > self.line_gap_s:
            log.debug("dropped %d bytes of a stale partial line", self.framer.pending)
            self.framer.reset()
        self._last_rx = now
        traffic.debug("<- %d bytes", len(chunk))
        codes = []
        for line in self.framer.feed(chunk):
            code = self._code(line)
            if code is not None:
                codes.append(code)
        return codes


def _reason(exc: BaseException) -> str:
    """A short, readable cause for an OS or pyserial error (pyserial repeats itself)."""
    text = str(exc)
    if "lock" in text.lower():
        return "the port is in use by another program"
    if "returned no data" in text:
        return "the device went away"
    code = getattr(exc, "errno", None)
    if isinstance(code, int) and code > 0:
        return os.strerror(code)
    return text.splitlines()[0] if text else type(exc).__name__
