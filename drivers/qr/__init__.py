"""QR code input: serial scanners, keyboard-wedge (HID) scanners, and codes in camera images.

    from drivers.qr import open_qr_scanner, decode_frame

    scanner = open_qr_scanner("serial:///dev/ttyACM0?baud=9600&terminator=CR")
    scanner.open()
    codes = scanner.poll(0.5)            # list[ScannedCode]

    codes = decode_frame(frame)          # a camera frame (numpy BGR): list[DecodedCode]
    codes = decode_image(photo)          # a still image: every pipeline stage

    verdict = admit(code.text, ["appointment", "text"])   # drivers.qr.admission

Scanner lines pass `validate_payload` (size, UTF-8 or GB18030, no control characters) before
they become a `ScannedCode`. Codes in images come back as they are (`DecodedCode`: every code,
its text by ECI or charset detection, no policy); whether a flow takes one is decided by
`drivers.qr.admission.admit` with the formats that flow accepts. The image decoders are
imported on first use, so a kiosk with only a serial scanner never loads OpenCV.
The pty simulator lives in `drivers.qr.simulator` (not imported here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drivers.qr.address import ScannerAddress, ScannerKind, parse_scanner_url
from drivers.qr.device import QrScannerDevice, open_qr_scanner
from drivers.qr.errors import ImageError, PayloadError, QrError, ScannerUnavailableError
from drivers.qr.framing import LineFramer, Terminator
from drivers.qr.payload import ScannedCode, split_aim_prefix, validate_payload

if TYPE_CHECKING:
    from drivers.qr.decode import DecodedCode, QrDecoder, decode_file, decode_frame, decode_image

_DECODE_NAMES = {"DecodedCode", "QrDecoder", "decode_file", "decode_frame", "decode_image"}


def __getattr__(name: str) -> Any:
    # Lazy: drivers.qr.decode pulls in OpenCV, zxing-cpp and libzbar.
    if name in _DECODE_NAMES:
        from drivers.qr import decode

        return getattr(decode, name)
    raise AttributeError(f"module 'drivers.qr' has no attribute {name!r}")


__all__ = [
    "DecodedCode",
    "ImageError",
    "LineFramer",
    "PayloadError",
    "QrDecoder",
    "QrError",
    "QrScannerDevice",
    "ScannedCode",
    "ScannerAddress",
    "ScannerKind",
    "ScannerUnavailableError",
    "Terminator",
    "decode_file",
    "decode_frame",
    "decode_image",
    "open_qr_scanner",
    "parse_scanner_url",
    "split_aim_prefix",
    "validate_payload",
]
