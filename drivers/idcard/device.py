"""The ID card reader behind the uniform device face (docs/DEVICES.md): open, close, status, poll.

    device = open_idcard_reader("serial:///dev/idcard?baud=115200")
    device.open()                     # ReaderUnavailableError: back off and open again
    for event in device.poll(0.3):    # CardPresented(record) / CardReadFailed / CardRemoved
        ...
    device.status()                   # DeviceStatus: online {sam_id}, offline, hardware_error

One read per placement: a card is read once when it is put down, then nothing is reported until
it is lifted (`CardRemoved`) and put down again. A read that fails is tried again at once
(`read_attempts` in all: a card still sliding into place often fails its first read); if it
fails every time it is reported once, and the resident lifts the card and places it again. The card on the reader is recognised by its chip
number (the select answer), so after the reader was unplugged and plugged back in, or after a
close and open, the same card lying there is not read again; another card is reported as the
old one removed and the new one presented.

Removal is declared after `removal_misses` consecutive "no card" answers, so one missed RF
exchange does not end a placement. A reader that stops answering for `max_silent_polls`
polls in a row raises `ReaderUnavailableError` from `poll`, like a vanished port does.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

from drivers.idcard.errors import (
    CardDataError,
    CardReadError,
    NoCardError,
    ProtocolError,
    ReaderStatusError,
    ReaderTimeoutError,
    ReaderUnavailableError,
)
from drivers.idcard.reader import IdCardReader, decode_payload
from drivers.idcard.textblock import CardRecord
from drivers.idcard.transport import DEFAULT_BAUD
from drivers.state import DeviceState, DeviceStatus

log = logging.getLogger("drivers.idcard")


@dataclass(frozen=True, repr=False)
class CardPresented:
    """A card was put on the reader and read. `record` is personal data: never log the event."""

    record: CardRecord

    def __repr__(self) -> str:
        return f"CardPresented(<{self.record.card_type.value}, redacted>)"


@dataclass(frozen=True)
class CardReadFailed:
    """A card was put on the reader but could not be read or decoded.

    `reason` is the error's class name (``CardReadError``: place it again;
    ``InvalidIdNumberError``, ``InvalidFieldError``: the card's data is invalid); `detail` is a
    bilingual or English explanation. Both are safe to log and show: no personal data.
    """

    reason: str
    detail: str = ""


@dataclass(frozen=True)
class CardRemoved:
    """The card that was presented (or failed) was lifted off the reader."""


CardEvent: TypeAlias = CardPresented | CardReadFailed | CardRemoved


@dataclass(frozen=True)
class _Placement:
    """The card lying on the reader: a digest of its chip number (None when unknown)."""

    chip: bytes | None


class IdCardDevice:
    """A GA 467 reader as the device manager drives it; see the module docstring.

    Options: `baud` (a ``?baud=`` in the URL wins), `timeout` (seconds per command; `timeout_s`
    is accepted as the same), `retries` (resends after line noise), `with_fingerprint` (read
    with 30 10, so records carry the card's fingerprint data), `poll_interval_s` (pause between
    looks for a card), `read_attempts`, `removal_misses`, `max_silent_polls`, and
    `status_max_age_s` (how old the last answer may be before `status` asks the SAM again).
    """

    def __init__(
        self,
        url: str,
        *,
        baud: int = DEFAULT_BAUD,
        timeout: float = 2.0,
        timeout_s: float | None = None,
        retries: int = 1,
        with_fingerprint: bool = False,
        poll_interval_s: float = 0.05,
        read_attempts: int = 2,
        removal_misses: int = 2,
        max_silent_polls: int = 3,
        status_max_age_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.reader = IdCardReader(
            url, baud=baud, timeout=timeout_s if timeout_s is not None else timeout, retries=retries
        )
        self.with_fingerprint = with_fingerprint
        self.poll_interval_s = max(0.0, poll_interval_s)
        self.read_attempts = max(1, read_attempts)
        self.removal_misses = max(1, removal_misses)
        self.max_silent_polls = max(1, max_silent_polls)
        self.status_max_age_s = status_max_age_s
        self._clock = clock
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._open = False
        self._state = DeviceState.OFFLINE
        self._reason = "not opened"
        self._sam_id: str | None = None
        self._media: bool | None = None
        self._placement: _Placement | None = None
        self._failed_chip: bytes | None = None  # the chip whose read just failed, if known
        self._pending: list[CardEvent] = []
        self._misses = 0
        self._silent = 0
        self._last_answer = float("-inf")

    @property
    def port(self) -> str:
        """The device path the reader is opened at."""
        return self.reader.port

    @property
    def sam_id(self) -> str | None:
        """The SAM number read at open, or None."""
        return self._sam_id

    # -- the uniform face ------------------------------------------------------------------

    def open(self) -> None:
        """Open the port and ask the SAM its number; `ReaderUnavailableError` if that fails.

        A SAM that answers with a fault (self-test failed, not authorised) still opens: the
        device is there but broken, and `status` says so.
        """
        with self._lock:
            if self._open:
                return
            self._wake.clear()
            try:
                self.reader.open()
            except ReaderUnavailableError as exc:
                self._set(DeviceState.OFFLINE, str(exc))
                raise
            try:
                self._sam_id = self.reader.sam_id()
                self._healthy()
            except ReaderStatusError as exc:  # SamFaultError and the like: there, but broken
                self._answered()
                self._set(DeviceState.HARDWARE_ERROR, str(exc))
            except (ReaderTimeoutError, ProtocolError, ReaderUnavailableError) as exc:
                self.reader.close()
                self._set(DeviceState.OFFLINE, str(exc))
                if isinstance(exc, ReaderUnavailableError):
                    raise
                raise ReaderUnavailableError(
                    f"the reader on {self.port} does not answer: {exc}"
                ) from exc
            self._open = True

    def close(self) -> None:
        """Close the port; idempotent, safe after a failed open. The card on it is remembered."""
        self._wake.set()
        with self._lock:
            self._open = False
            self.reader.close()
            self._media = None
            self._set(DeviceState.OFFLINE, "closed")

    def status(self) -> DeviceStatus:
        """The reader's state; asks the SAM (11 FF) when the last answer is older than allowed."""
        with self._lock:
            if self._open and self._clock() - self._last_answer > self.status_max_age_s:
                self._check_sam()
            details: dict[str, Any] = {"port": self.port}
            if self._sam_id is not None:
                details["sam_id"] = self._sam_id
            return DeviceStatus(
                self._state,
                "" if self._state is DeviceState.ONLINE else self._reason,
                media_present=self._media if self._open else None,
                details=details,
            )

    def poll(self, timeout: float) -> list[CardEvent]:
        """Wait up to `timeout` seconds for a card event; [] when nothing happened.

        Raises `ReaderUnavailableError` when the port vanished or the reader stopped answering
        (the port is then closed: back off and `open` again).
        """
        deadline = self._clock() + max(0.0, timeout)
        while True:
            events = self._probe()
            if events:
                return events
            remaining = deadline - self._clock()
            if remaining <= 0 or self._wake.wait(min(self.poll_interval_s, remaining)):
                return []

    # -- maintenance -----------------------------------------------------------------------

    def reset_sam(self) -> DeviceStatus:
        """Reset the SAM (10 FF), for a technician after a hardware error; returns the status."""
        with self._lock:
            self._require_open()
            try:
                self.reader.sam_reset()
                self._sam_id = self.reader.sam_id()
                self._healthy()
            except ReaderStatusError as exc:
                self._answered()
                self._set(DeviceState.HARDWARE_ERROR, str(exc))
            self._last_answer = float("-inf")  # ask again at the next status
        return self.status()

    # -- internals -------------------------------------------------------------------------

    def _require_open(self) -> None:
        if not self._open:
            raise ReaderUnavailableError(f"the reader on {self.port} is not open")

    def _probe(self) -> list[CardEvent]:
        """One look at the reader: find, and select and read a card newly put down."""
        with self._lock:
            self._require_open()
            try:
                events = self._look()
            except ReaderUnavailableError as exc:
                self._lost(str(exc))
                raise
            except (ReaderTimeoutError, ProtocolError) as exc:
                self._silent += 1
                self._set(DeviceState.OFFLINE, f"the reader does not answer: {exc}")
                if self._silent >= self.max_silent_polls:
                    self._lost(str(exc))
                    raise ReaderUnavailableError(
                        f"the reader on {self.port} stopped answering: {exc}"
                    ) from exc
                return []
            except ReaderStatusError as exc:  # SAM faults and reader errors that are not the card's
                self._answered()
                self._set(DeviceState.HARDWARE_ERROR, str(exc))
                return []
            self._healthy()
            events, self._pending = self._pending + events, []
            return events

    def _look(self) -> list[CardEvent]:
        self._failed_chip = None
        for attempt in range(1, self.read_attempts + 1):
            try:
                return self._look_once()
            except CardReadError as exc:
                if attempt == self.read_attempts:
                    return self._failed_placement(exc)
                log.debug("card read failed (%s), trying again", exc)
        return []  # not reached: the last attempt returns or raises

    def _look_once(self) -> list[CardEvent]:
        """Find, select and read; `CardReadError` when the card is there but not readable."""
        try:
            self.reader.find_card()
        except NoCardError:
            self._answered()
            self._media = False
            return self._missed()
        except CardReadError:  # something there that is not (yet) a readable ID card
            self._answered()
            self._media = True
            self._misses = 0
            raise
        self._answered()
        self._media = True
        self._misses = 0
        chip = hashlib.sha256(self.reader.select_card()).digest()
        if self._placement is not None:
            if self._placement.chip in (None, chip):
                return []  # the card already reported is still there
            # Another card lies there now: the old one was lifted in between.
            self._placement = None
            self._pending.append(CardRemoved())
        # A transport error from here leaves no placement, so the next poll reads the card again.
        try:
            payload = self.reader.read_selected(with_fingerprint=self.with_fingerprint)
        except CardReadError:
            self._failed_chip = chip
            raise
        self._placement = _Placement(chip)
        try:
            record = decode_payload(payload, self.port)
        except CardDataError as exc:
            return [_failure(exc)]
        finally:
            del payload  # the raw files are personal data; keep no copy here
        return [CardPresented(record)]

    def _missed(self) -> list[CardEvent]:
        if self._placement is None:
            return []
        self._misses += 1
        if self._misses < self.removal_misses:
            return []
        self._placement = None
        self._misses = 0
        return [CardRemoved()]

    def _failed_placement(self, exc: CardReadError) -> list[CardEvent]:
        chip, self._failed_chip = self._failed_chip, None
        if self._placement is not None:
            return []  # reported once for this placement already
        self._placement = _Placement(chip)
        return [_failure(exc)]

    def _check_sam(self) -> None:
        try:
            self.reader.sam_status()
        except ReaderUnavailableError as exc:
            self._lost(str(exc))
        except (ReaderTimeoutError, ProtocolError) as exc:
            self._set(DeviceState.OFFLINE, f"the reader does not answer: {exc}")
        except ReaderStatusError as exc:
            self._answered()
            self._set(DeviceState.HARDWARE_ERROR, str(exc))
        else:
            self._healthy()

    def _answered(self) -> None:
        self._silent = 0
        self._last_answer = self._clock()

    def _healthy(self) -> None:
        self._answered()
        self._set(DeviceState.ONLINE, "")

    def _lost(self, reason: str) -> None:
        self._open = False
        self.reader.close()
        self._media = None
        self._set(DeviceState.OFFLINE, reason)

    def _set(self, state: DeviceState, reason: str) -> None:
        self._state, self._reason = state, reason[:200]


def _failure(exc: Exception) -> CardReadFailed:
    return CardReadFailed(type(exc).__name__, str(exc)[:200])


def open_idcard_reader(url: str, **options: Any) -> IdCardDevice:
    """The ID card reader at `url` (``serial:///dev/ttyUSB0?baud=115200``), not yet opened."""
    return IdCardDevice(url, **options)
