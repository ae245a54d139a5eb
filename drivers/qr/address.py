"""Where a QR scanner is: its device URL, parsed and checked.

    serial:///dev/ttyACM0?baud=9600&terminator=CR     a serial (or USB-CDC) scanner
    pty:///dev/pts/4                                  the same, on a simulator's pty
    hid:///dev/input/by-id/usb-XYZ-event-kbd          a keyboard-wedge scanner read with evdev
    evdev:///dev/input/event5                         the same
    /dev/ttyACM0, /dev/input/event5                   bare paths: the kind is told by the path

`drivers.url` does not know ``hid``/``evdev`` yet, so those are parsed here with the same
rules (a path is required, query parameters as a dict); everything else goes through
`drivers.url.parse_device_url`, so its errors and messages are the same as for other devices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import parse_qsl, unquote, urlsplit

from drivers.url import DeviceUrlError, parse_device_url

HID_SCHEMES = frozenset({"hid", "evdev"})
SERIAL_SCHEMES = frozenset({"serial", "pty"})


class ScannerKind(StrEnum):
    """How the scanner is connected."""

    SERIAL = "serial"
    HID = "hid"


@dataclass(frozen=True)
class ScannerAddress:
    """A parsed scanner URL: kind, device path and query parameters."""

    kind: ScannerKind
    path: str
    params: dict[str, str] = field(default_factory=dict)
    raw: str = ""

    def param_int(self, name: str, default: int) -> int:
        """An integer query parameter, or `default` when absent."""
        value = self.params.get(name)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise DeviceUrlError(f"{self.raw}: {name}={value!r} is not a whole number") from None

    def param_bool(self, name: str, default: bool) -> bool:
        """A yes/no query parameter (1/0, true/false, yes/no, on/off)."""
        value = self.params.get(name)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise DeviceUrlError(f"{self.raw}: {name}={value!r} is not yes or no (1/0)")


def parse_scanner_url(url: str) -> ScannerAddress:
    """Parse a scanner URL or bare device path; `DeviceUrlError` names what is wrong."""
    if isinstance(url, str) and url.startswith("/"):
        kind = ScannerKind.HID if url.startswith("/dev/input/") else ScannerKind.SERIAL
        return ScannerAddress(kind=kind, path=url, raw=url)
    if isinstance(url, str) and "://" in url:
        parts = urlsplit(url)
        if parts.scheme.lower() in HID_SCHEMES:
            path = unquote(parts.path)
            if not path:
                raise DeviceUrlError(
                    f"{url!r}: a {parts.scheme} URL needs a path, e.g. "
                    f"{parts.scheme}:///dev/input/by-id/usb-XYZ-event-kbd"
                )
            params = dict(parse_qsl(parts.query, keep_blank_values=True))
            return ScannerAddress(kind=ScannerKind.HID, path=path, params=params, raw=url)
    parsed = parse_device_url(url)
    if parsed.scheme not in SERIAL_SCHEMES:
        raise DeviceUrlError(
            f"{url!r}: a QR scanner is addressed as serial:///dev/ttyACM0, pty:///dev/pts/N, "
            "hid:///dev/input/... or evdev:///dev/input/eventN"
        )
    return ScannerAddress(kind=ScannerKind.SERIAL, path=parsed.path, params=parsed.params, raw=url)
