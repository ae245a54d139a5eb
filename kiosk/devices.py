"""Devices for the kiosk core: the ID card poller thread and the receipt printer.

Driver threads never die silently: they catch, report the device state once per change, back off,
and retry, so a reader that is unplugged and plugged back in works again without a restart.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from drivers.idcard import (
    CardDataError,
    CardReadError,
    IdCardError,
    IdCardReader,
    NoCardError,
)
from drivers.state import DeviceState, DeviceStatus
from kiosk.events import CardRead, CardReadFailed, DeviceChanged, Event

log = logging.getLogger(__name__)


class IdCardPoller:
    """Polls a GA 467 reader in its own thread and posts card events to the core."""

    def __init__(
        self,
        url: str,
        post: Callable[[Event], None],
        *,
        baud: int = 115200,
        timeout_s: float = 3.0,
        poll_s: float = 0.3,
        max_backoff_s: float = 30.0,
        reader_factory: Callable[..., Any] = IdCardReader,
    ) -> None:
        self._url = url
        self._post = post
        self._baud = baud
        self._timeout_s = timeout_s
        self._poll_s = poll_s
        self._max_backoff_s = max_backoff_s
        self._reader_factory = reader_factory
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="idcard-poller", daemon=True)
        self._state = ""

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _set_state(self, state: str, reason: str = "") -> None:
        if state == self._state:
            return  # one line when it breaks, one when it recovers
        self._state = state
        if state == "online":
            log.info("ID card reader online")
        else:
            log.warning("ID card reader %s: %s", state, reason)
        self._post(DeviceChanged("idcard", DeviceStatus(DeviceState(state), reason)))

    def _run(self) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            try:
                with self._reader_factory(
                    self._url, baud=self._baud, timeout=self._timeout_s
                ) as reader:
                    self._set_state("online")
                    backoff = 1.0
                    self._serve(reader)
            except IdCardError as exc:
                self._set_state("offline", str(exc))
            except Exception as exc:  # never let the thread die: report, back off, retry
                log.exception("ID card poller failed")
                self._set_state("hardware_error", type(exc).__name__)
            self._stop.wait(backoff)
            backoff = min(backoff * 2, self._max_backoff_s)

    def _serve(self, reader: Any) -> None:
        while not self._stop.is_set():
            try:
                record = reader.read_card()
            except NoCardError:
                self._stop.wait(self._poll_s)
                continue
            except (CardReadError, CardDataError) as exc:
                self._post(CardReadFailed(type(exc).__name__))
                self._wait_for_removal(reader)
                continue
            self._post(CardRead(record))
            del record  # the core owns the resident's data now; keep no copy in this thread
            self._wait_for_removal(reader)

    def _wait_for_removal(self, reader: Any) -> None:
        # One read per placement: the resident's card lies on the reader for the whole visit.
        while not self._stop.is_set():
            try:
                reader.find_card()
            except NoCardError:
                return
            except CardReadError:
                pass
            self._stop.wait(self._poll_s)
