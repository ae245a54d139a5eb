"""The QR scanner family's uniform face (docs/DEVICES.md): `open_qr_scanner(url)`.

    scanner = open_qr_scanner("serial:///dev/ttyACM0?baud=9600&terminator=CR")
    scanner.open()
    while running:
        for code in scanner.poll(0.5):      # ScannedCode(text, symbology, source, raw)
            post(QrScanned(code.text))

Serial and pty URLs give a `SerialQrScanner`, ``hid://`` and ``evdev://`` URLs (and paths under
``/dev/input/``) an `EvdevScanner`. Both reopen themselves on the next `poll` after an unplug
and raise `ScannerUnavailableError` while the device is missing.
"""

from __future__ import annotations

from typing import Any, Protocol

from drivers.qr.address import ScannerKind, parse_scanner_url
from drivers.qr.payload import ScannedCode
from drivers.state import DeviceStatus


class QrScannerDevice(Protocol):
    """What the device manager drives: every QR scanner kind has these."""

    source: str  # e.g. "serial:/dev/ttyACM0", put into every ScannedCode

    def open(self) -> None:
        """Connect; `ScannerUnavailableError` on failure."""

    def close(self) -> None:
        """Disconnect; idempotent, safe after a failed open."""

    def status(self) -> DeviceStatus:
        """Online, or offline with a reason a technician can read."""

    def poll(self, timeout: float) -> list[ScannedCode]:
        """Wait up to `timeout` seconds for scanned codes."""


def open_qr_scanner(url: str, **options: Any) -> QrScannerDevice:
    """A QR scanner for `url`, not yet opened; `options` go to the scanner's constructor.

    Raises `DeviceUrlError` (a `ValueError`) for a URL that names no scanner.
    """
    address = parse_scanner_url(url)
    if address.kind is ScannerKind.HID:
        from drivers.qr.hid_scanner import EvdevScanner

        return EvdevScanner(url, **options)
    from drivers.qr.serial_scanner import SerialQrScanner

    return SerialQrScanner(url, **options)
