"""Keyboard-wedge (HID) QR scanners, read from their evdev input device.

    scanner = EvdevScanner("hid:///dev/input/by-id/usb-Newland_HR22-event-kbd")
    scanner.open()              # grabs the device: scans no longer type into the focused window
    codes = scanner.poll(0.5)   # list[ScannedCode]

URL parameters: ``grab=0`` to leave the device ungrabbed (debugging only: codes then also
type into whatever window has focus), ``alt_codes=gbk|unicode`` for how the scanner types
Chinese (see `drivers.qr.keymap`), ``aim=1`` for AIM symbology prefixes, ``max_bytes``.

The device is opened with the ``evdev`` package (which also grabs it) when installed, else
with a plain ``EVIOCGRAB`` ioctl; either way the raw ``struct input_event`` bytes are read from
its file descriptor and parsed by `drivers.qr.evdev_events`, the same code that reads the
recorded fixtures. A path that is a regular file is a recording and is replayed (not grabbed;
at its end the scanner is simply idle); a FIFO or pipe behaves like a device, and its end
means the device went away.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import select
import stat
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, NoReturn, Protocol

from drivers.qr.address import ScannerKind, parse_scanner_url
from drivers.qr.errors import ScannerUnavailableError
from drivers.qr.evdev_events import NATIVE_FORMAT, EventParser
from drivers.qr.keymap import KeyDecoder
from drivers.qr.payload import DEFAULT_MAX_BYTES, ScannedCode
from drivers.qr.scanner_base import ScannerBase
from drivers.state import DeviceState, DeviceStatus
from drivers.url import DeviceUrlError

log = logging.getLogger("drivers.qr")

EVIOCGRAB = 0x40044590  # _IOW('E', 0x90, int)
_READ_BYTES = 24 * 256


class InputSource(Protocol):
    """An open input device or recording: a file descriptor to read events from."""

    name: str
    grabbed: bool
    replay: bool  # a recording: its end means "no more scans", not "unplugged"

    def fileno(self) -> int: ...

    def close(self) -> None: ...


class FdSource:
    """A plain file descriptor (a recording, a FIFO, a pipe, or a device grabbed by ioctl)."""

    def __init__(self, fd: int, *, name: str = "", grabbed: bool = False, replay: bool = False):
        self._fd = fd
        self.name = name
        self.grabbed = grabbed
        self.replay = replay

    def fileno(self) -> int:
        """The descriptor to read from."""
        return self._fd

    def close(self) -> None:
        """Close the descriptor (closing also releases a grab); safe to call twice."""
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1


class EvdevSource:
    """A device opened through the ``evdev`` package."""

    def __init__(self, device: Any, *, grabbed: bool) -> None:
        self._device = device
        self.name = str(getattr(device, "name", ""))
        self.grabbed = grabbed
        self.replay = False

    def fileno(self) -> int:
        """The device's descriptor; events are read from it raw."""
        return int(self._device.fd)

    def close(self) -> None:
        """Release the grab and close the device."""
        if self.grabbed:
            with contextlib.suppress(OSError):
                self._device.ungrab()
            self.grabbed = False
        with contextlib.suppress(OSError):
            self._device.close()


def open_input(path: str, *, grab: bool = True) -> InputSource:
    """Open an input device (grabbed) or a recording; `ScannerUnavailableError` on failure."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise ScannerUnavailableError(f"cannot open {path}: {exc.strerror}") from exc
    if not stat.S_ISCHR(mode):
        flags = os.O_RDONLY | (0 if stat.S_ISREG(mode) else os.O_NONBLOCK)
        try:
            fd = os.open(path, flags)
        except OSError as exc:
            raise ScannerUnavailableError(f"cannot open {path}: {exc.strerror}") from exc
        return FdSource(fd, name=os.path.basename(path), replay=stat.S_ISREG(mode))
    try:
        import evdev
    except ImportError:
        return _open_with_ioctl(path, grab=grab)
    try:
        device = evdev.InputDevice(path)
    except OSError as exc:
        raise ScannerUnavailableError(f"cannot open {path}: {exc.strerror}") from exc
    if grab:
        try:
            device.grab()
        except OSError as exc:
            device.close()
            raise ScannerUnavailableError(_grab_failure(path, exc)) from exc
    return EvdevSource(device, grabbed=grab)


def _open_with_ioctl(path: str, *, grab: bool) -> InputSource:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise ScannerUnavailableError(f"cannot open {path}: {exc.strerror}") from exc
    if grab:
        try:
            fcntl.ioctl(fd, EVIOCGRAB, 1)
        except OSError as exc:
            os.close(fd)
            raise ScannerUnavailableError(_grab_failure(path, exc)) from exc
    return FdSource(fd, name=os.path.basename(path), grabbed=grab)


def _grab_failure(path: str, exc: OSError) -> str:
    if exc.errno == errno.EBUSY:
        return f"cannot grab {path}: another program holds it"
    return f"cannot grab {path}: {exc.strerror}"


class EvdevScanner(ScannerBase):
    """A keyboard-wedge QR scanner read from its input device, addressed by URL.

    `opener(path, grab=...)` opens the device; tests pass one that returns a pipe.
    """

    def __init__(
        self,
        url: str,
        *,
        grab: bool | None = None,
        alt_codes: str | None = None,
        aim: bool | None = None,
        max_bytes: int | None = None,
        event_format: str = NATIVE_FORMAT,
        opener: Callable[..., InputSource] = open_input,
    ) -> None:
        address = parse_scanner_url(url)
        if address.kind is not ScannerKind.HID:
            raise DeviceUrlError(f"{url!r} is not a HID scanner URL (hid:///dev/input/...)")
        self.path = address.path
        self.grab = address.param_bool("grab", True if grab is None else grab)
        self.aim = address.param_bool("aim", bool(aim))
        self.max_bytes = address.param_int("max_bytes", max_bytes or DEFAULT_MAX_BYTES)
        try:
            self.keys = KeyDecoder(
                max_chars=self.max_bytes,
                alt_codes=address.params.get("alt_codes", alt_codes or "gbk"),
            )
        except ValueError as exc:
            raise DeviceUrlError(f"{url!r}: {exc}") from None
        self.source = f"hid:{self.path}"
        self._init_base()
        self._parser = EventParser(event_format)
        self._opener = opener
        self._input: InputSource | None = None
        self._lock = threading.RLock()

    @property
    def is_open(self) -> bool:
        """True while the device is open."""
        return self._input is not None

    def open(self) -> None:
        """Open (and grab) the device; `ScannerUnavailableError` if it cannot be."""
        with self._lock:
            if self._input is not None:
                return
            try:
                self._input = self._opener(self.path, grab=self.grab)
            except ScannerUnavailableError as exc:
                self._fail(str(exc))
                raise
            self._parser.reset()
            self.keys.reset()
            self._recovered()
            log.debug("opened HID scanner %s (%s)", self.path, self._input.name or "unnamed")

    def close(self) -> None:
        """Release and close the device; safe to call twice."""
        with self._lock:
            source, self._input = self._input, None
            if source is not None:
                source.close()

    def __enter__(self) -> EvdevScanner:
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
        """Online while open (with the device name and whether it is grabbed), else offline."""
        details: dict[str, Any] = {
            "path": self.path,
            "codes_read": self.codes_read,
            "codes_refused": self.codes_refused,
            "lines_discarded": self.keys.discarded,
            "unknown_keys": self.keys.unknown_keys,
        }
        if self._input is not None:
            details.update(name=self._input.name, grabbed=self._input.grabbed)
            return DeviceStatus(DeviceState.ONLINE, details=details)
        return DeviceStatus(DeviceState.OFFLINE, self._failure or "not opened", details=details)

    def poll(self, timeout: float) -> list[ScannedCode]:
        """Wait up to `timeout` seconds for scanned codes; open the device first if needed.

        Raises `ScannerUnavailableError` when the device cannot be opened or went away (it is
        then closed; the next poll opens it again).
        """
        with self._lock:
            self.open()
            source = self._input
            assert source is not None
            deadline = time.monotonic() + max(0.0, timeout)
            while True:
                left = deadline - time.monotonic()
                data = self._read(source, max(0.0, left))
                if data:
                    codes = self._feed(data)
                    if codes:
                        return codes
                elif data is not None and source.replay:
                    # The end of a recording: nothing more will come, so just wait out the poll.
                    time.sleep(max(0.0, deadline - time.monotonic()))
                    return []
                if time.monotonic() >= deadline:
                    return []

    def _read(self, source: InputSource, wait_s: float) -> bytes | None:
        """Bytes read, b"" at the end of a recording, None when nothing came in `wait_s`."""
        try:
            ready, _, _ = select.select([source], [], [], wait_s)
            if not ready:
                return None
            data = os.read(source.fileno(), _READ_BYTES)
        except BlockingIOError:
            return None
        except OSError as exc:
            # ENODEV: the USB device was unplugged while open.
            self._gone(os.strerror(exc.errno) if exc.errno else str(exc))
        if not data and not source.replay:
            self._gone("the device went away")
        return data

    def _gone(self, reason: str) -> NoReturn:
        self.close()
        self._fail(f"{self.path} failed: {reason}")
        raise ScannerUnavailableError(self._failure)

    def _feed(self, data: bytes) -> list[ScannedCode]:
        codes = []
        for line in self.keys.feed_all(self._parser.feed(data)):
            code = self._code(line.encode("utf-8"))
            if code is not None:
                codes.append(code)
        return codes
