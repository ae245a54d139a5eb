"""The serial port under the reader: open by URL, one command in, one checked frame out.

`SerialTransport` owns the pyserial port and nothing of the protocol beyond framing: it writes
a command frame, reads until `FrameDecoder` yields a response or the deadline passes, and turns
OS and pyserial failures into the driver's typed errors. It can be closed and opened again
(a USB reader unplugged and plugged back in); `transact` reopens a closed port by itself.
"""

from __future__ import annotations

import contextlib
import logging
import os
import termios
import threading
import time
from dataclasses import dataclass
from types import TracebackType

import serial

from drivers.idcard.codec import FrameDecoder, Response, encode_frame, redact_frame
from drivers.idcard.errors import (
    ChecksumError,
    FrameError,
    IdCardError,
    ReaderTimeoutError,
    ReaderUnavailableError,
)
from drivers.url import DeviceUrlError, parse_device_url

log = logging.getLogger("drivers.idcard")
traffic = logging.getLogger("drivers.idcard.traffic")

DEFAULT_BAUD = 115200
# How long one blocking read waits before the loop rechecks its deadline.
_POLL_S = 0.05
# What a failing or vanished port raises; termios.error is not an OSError.
_PORT_ERRORS = (serial.SerialException, OSError, termios.error)


@dataclass(frozen=True)
class PortAddress:
    """Where the reader is: a device path and the baud rate to open it at."""

    path: str
    baud: int


def resolve_port(url: str, baud: int = DEFAULT_BAUD) -> PortAddress:
    """Turn ``serial:///dev/ttyUSB0?baud=115200``, ``pty:///dev/pts/3`` or a bare path into an address.

    A ``baud`` in the URL wins over the `baud` argument, since the URL is the configuration.
    Raises `DeviceUrlError` (a `ValueError`) for anything else.
    """
    if isinstance(url, str) and url.startswith("/"):
        path, params_baud = url, None
    else:
        try:
            parsed = parse_device_url(url)
        except DeviceUrlError:
            raise
        except ValueError as exc:  # urlsplit's own complaints ("Invalid IPv6 URL")
            raise DeviceUrlError(f"{url!r} is not a device URL: {exc}") from None
        if parsed.scheme not in {"serial", "pty"}:
            raise DeviceUrlError(
                f"{url!r}: an ID card reader is addressed as serial:///dev/ttyUSB0, "
                "pty:///dev/pts/N or a device path"
            )
        path = parsed.path
        params_baud = parsed.param_int("baud", baud) if "baud" in parsed.params else None
    chosen = params_baud if params_baud is not None else baud
    if chosen <= 0:
        raise DeviceUrlError(f"{url!r}: baud rate {chosen} must be positive")
    return PortAddress(path=path, baud=chosen)


class SerialTransport:
    """A GA 467 link over a serial port (or a pty standing in for one)."""

    def __init__(self, url: str, *, baud: int = DEFAULT_BAUD, timeout: float = 2.0) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.address = resolve_port(url, baud)
        self.timeout = timeout
        self._port: serial.Serial | None = None
        self._decoder = FrameDecoder()
        self._lock = threading.RLock()

    @property
    def is_open(self) -> bool:
        """True while the port is open."""
        return self._port is not None and self._port.is_open

    def open(self) -> None:
        """Open the port (no-op when open); `ReaderUnavailableError` if it cannot be opened."""
        with self._lock:
            if self.is_open:
                return
            try:
                # exclusive: a second process polling the same reader would steal its answers.
                self._port = serial.Serial(
                    self.address.path,
                    self.address.baud,
                    timeout=_POLL_S,
                    write_timeout=self.timeout,
                    exclusive=True,
                )
            except (*_PORT_ERRORS, ValueError) as exc:
                self._port = None
                raise ReaderUnavailableError(
                    f"cannot open the reader port {self.address.path}: {_reason(exc)}"
                ) from exc
            log.debug("opened %s at %d baud", self.address.path, self.address.baud)

    def close(self) -> None:
        """Close the port; safe to call twice."""
        with self._lock:
            port, self._port = self._port, None
            if port is not None:
                # A vanished device cannot be closed any more cleanly than this.
                with contextlib.suppress(*_PORT_ERRORS):
                    port.close()
                log.debug("closed %s", self.address.path)

    def __enter__(self) -> SerialTransport:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def transact(self, frame: bytes, *, timeout: float | None = None) -> Response:
        """Send one command frame and return the first checked response that comes back.

        Stale input is discarded first, so a late answer to an earlier command cannot be taken
        for this one. Raises `ReaderTimeoutError` when no frame arrives in time,
        `ChecksumError`/`FrameError` when only corrupt frames arrive, and
        `ReaderUnavailableError` when the port fails (the port is then closed; the next call
        tries to open it again).
        """
        with self._lock:
            self.open()
            port = self._port
            assert port is not None
            wait_s = self.timeout if timeout is None else timeout
            deadline = time.monotonic() + wait_s
            try:
                port.reset_input_buffer()
                self._decoder.reset()
                traffic.debug("-> %s", redact_frame(frame, outgoing=True))
                port.write(frame)
                return self._read_response(port, deadline, wait_s)
            except IdCardError:
                raise  # ReaderTimeoutError is an OSError too: keep it as it is
            except _PORT_ERRORS as exc:
                self.close()
                raise ReaderUnavailableError(
                    f"the reader port {self.address.path} failed: {_reason(exc)}"
                ) from exc

    def _read_response(self, port: serial.Serial, deadline: float, wait_s: float) -> Response:
        errors: list[FrameError] = []
        last_rx = time.monotonic()
        # After a complete but corrupt frame, a quiet line means that frame was the answer.
        quiet_s = max(0.1, 64 * 10 / self.address.baud)
        while True:
            chunk = port.read(port.in_waiting or 1)
            now = time.monotonic()
            if chunk:
                last_rx = now
                frames = self._decoder.feed(chunk)
                errors.extend(self._note_errors())
                if frames:
                    if traffic.isEnabledFor(logging.DEBUG):
                        whole = encode_frame(frames[0].body)
                        traffic.debug("<- %s", redact_frame(whole, outgoing=False))
                    return frames[0].as_response()
            elif now - last_rx >= quiet_s and any(isinstance(e, ChecksumError) for e in errors):
                raise errors[-1]
            if now >= deadline:
                break
        if errors:
            raise errors[-1]
        pending = self._decoder.pending
        raise ReaderTimeoutError(
            f"the reader on {self.address.path} did not answer within "
            f"{wait_s:g} s" + (f" ({pending} bytes of an incomplete frame)" if pending else "")
        )

    def _note_errors(self) -> list[FrameError]:
        errors = self._decoder.take_errors()
        garbage = self._decoder.garbage_bytes
        if garbage:
            traffic.debug("skipped %d bytes of line noise", garbage)
            self._decoder.garbage_bytes = 0
        for error in errors:
            level = logging.WARNING if isinstance(error, ChecksumError) else logging.DEBUG
            log.log(level, "bad frame from the reader on %s: %s", self.address.path, error)
        return errors


def _reason(exc: BaseException) -> str:
    """A short, readable cause for an OS or pyserial error (pyserial repeats itself)."""
    text = str(exc)
    if "lock" in text.lower():
        return "the port is in use by another program"
    code = getattr(exc, "errno", None)
    if isinstance(code, int) and code > 0:
        return os.strerror(code)
    return text.splitlines()[0] if text else type(exc).__name__
