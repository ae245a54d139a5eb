"""The PC/SC seam: pyscard's low-level `smartcard.scard` calls, with return codes turned into
this driver's typed errors. Nothing above this module touches pyscard.

Why the low-level API rather than pyscard's `CardMonitor`/`CardConnection` classes: the driver
needs the PC/SC return codes to tell "the service went away" from "the card went away" from
"the card answered garbage", needs `SCardGetStatusChange` with a timeout for `poll`, and needs
`SCardCancel` to stop a wait from another thread. pyscard releases the GIL in these calls.

pcsc-lite holds a context's lock for the whole of a `SCardGetStatusChange`, so the device uses
one context for waiting and another for card I/O.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from smartcard import scard

from drivers.smartcard.channel import CardChannel
from drivers.smartcard.errors import (
    CardProtocolError,
    CardRemovedError,
    NoCardError,
    SmartCardError,
    SmartCardUnavailableError,
)

log = logging.getLogger("drivers.smartcard")

PNP_NOTIFICATION = "\\\\?PnP?\\Notification"  # the pseudo reader that reports reader changes


def _u32(code: int) -> int:
    return code & 0xFFFFFFFF


SUCCESS = 0
TIMEOUT = _u32(scard.SCARD_E_TIMEOUT)
CANCELLED = _u32(scard.SCARD_E_CANCELLED)
NO_READERS = _u32(scard.SCARD_E_NO_READERS_AVAILABLE)

# The service is gone (stopped, restarting) or our handle to it is stale: drop and re-establish.
SERVICE_LOST = frozenset(
    _u32(code)
    for code in (
        scard.SCARD_E_NO_SERVICE,
        scard.SCARD_E_SERVICE_STOPPED,
        scard.SCARD_E_INVALID_HANDLE,
        scard.SCARD_F_COMM_ERROR,
        scard.SCARD_E_NO_READERS_AVAILABLE,  # only when connecting: the reader vanished
    )
)
READER_GONE = frozenset(
    _u32(code) for code in (scard.SCARD_E_UNKNOWN_READER, scard.SCARD_E_READER_UNAVAILABLE)
)
CARD_GONE = frozenset(
    _u32(code)
    for code in (
        scard.SCARD_W_REMOVED_CARD,
        scard.SCARD_W_RESET_CARD,
        scard.SCARD_W_UNPOWERED_CARD,
        scard.SCARD_E_NO_SMARTCARD,
    )
)
# The exchange itself failed; whether the card is still there decides what it means.
TRANSMIT_FAILED = frozenset(
    _u32(code)
    for code in (
        scard.SCARD_E_NOT_TRANSACTED,
        scard.SCARD_W_UNRESPONSIVE_CARD,
        scard.SCARD_F_UNKNOWN_ERROR,
        scard.SCARD_E_PROTO_MISMATCH,
        scard.SCARD_E_INSUFFICIENT_BUFFER,
    )
)

STATE_UNAWARE = scard.SCARD_STATE_UNAWARE
STATE_CHANGED = scard.SCARD_STATE_CHANGED
STATE_UNKNOWN = scard.SCARD_STATE_UNKNOWN
STATE_UNAVAILABLE = scard.SCARD_STATE_UNAVAILABLE
STATE_EMPTY = scard.SCARD_STATE_EMPTY
STATE_PRESENT = scard.SCARD_STATE_PRESENT
STATE_MUTE = scard.SCARD_STATE_MUTE


def describe(code: int) -> str:
    """PC/SC's own text for a return code, with the code: safe to log."""
    try:
        text = str(scard.SCardGetErrorMessage(code)).strip()
    except Exception:  # an unknown code must not hide the error being reported
        text = "unknown error"
    return f"{text} (0x{_u32(code):08X})"


def error_for(code: int, action: str) -> SmartCardError:
    """The typed error for a failing PC/SC return code."""
    code = _u32(code)
    message = f"{action}: {describe(code)}"
    if code in SERVICE_LOST or code in READER_GONE:
        return SmartCardUnavailableError(message)
    if code == _u32(scard.SCARD_E_NO_SMARTCARD):
        return NoCardError(message)
    if code in CARD_GONE:
        return CardRemovedError(message)
    if code in TRANSMIT_FAILED:
        return CardProtocolError(message)
    return SmartCardError(message)


@dataclass(frozen=True)
class ReaderState:
    """One reader as `SCardGetStatusChange` reported it."""

    name: str
    event_state: int
    atr: bytes

    @property
    def changed(self) -> bool:
        """The state differs from what the caller said it believed."""
        return bool(self.event_state & STATE_CHANGED)

    @property
    def present(self) -> bool:
        """A card is in the reader and answers (not mute)."""
        return bool(self.event_state & STATE_PRESENT) and not self.mute

    @property
    def mute(self) -> bool:
        """A card is in the reader but does not answer its reset."""
        return bool(self.event_state & STATE_MUTE)

    @property
    def gone(self) -> bool:
        """The reader is unknown or unavailable to the service."""
        return bool(self.event_state & (STATE_UNKNOWN | STATE_UNAVAILABLE))

    @property
    def event_count(self) -> int:
        """pcsc-lite counts card insertions and removals in the upper 16 bits."""
        return (self.event_state >> 16) & 0xFFFF

    @property
    def current(self) -> int:
        """The state to pass back as "what I believe now" on the next wait."""
        return self.event_state & ~STATE_CHANGED


class PcscContext:
    """One PC/SC resource manager context. Raises `SmartCardUnavailableError` if pcscd is down."""

    def __init__(self) -> None:
        rv, handle = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if _u32(rv) != SUCCESS:
            raise error_for(rv, "SCardEstablishContext")
        self._handle: Any = handle
        self.valid = True

    def release(self) -> None:
        """Release the context; safe to call twice and after the service died."""
        if self.valid:
            self.valid = False
            scard.SCardReleaseContext(self._handle)

    def cancel(self) -> None:
        """Wake a `get_status_change` blocked in another thread."""
        if self.valid:
            scard.SCardCancel(self._handle)

    def list_readers(self) -> list[str]:
        """The readers the service knows now, in its order (empty if none)."""
        rv, readers = scard.SCardListReaders(self._handle, [])
        rv = _u32(rv)
        if rv == NO_READERS:
            return []
        if rv != SUCCESS:
            raise error_for(rv, "SCardListReaders")
        return [str(name) for name in readers]

    def get_status_change(
        self, timeout_s: float, states: list[tuple[str, int]]
    ) -> list[ReaderState] | None:
        """Wait up to `timeout_s` for any reader to differ from `states`.

        Returns the new states, None on timeout or cancel, [] if a reader vanished meanwhile. Raises `SmartCardUnavailableError`
        when the service is gone.
        """
        timeout_ms = max(0, int(timeout_s * 1000))
        rv, result = scard.SCardGetStatusChange(self._handle, timeout_ms, states)
        rv = _u32(rv)
        if rv in (TIMEOUT, CANCELLED):
            return None
        if rv in READER_GONE:
            return []  # a reader vanished between listing and waiting: the caller lists again
        if rv != SUCCESS:
            raise error_for(rv, "SCardGetStatusChange")
        return [ReaderState(str(name), int(state), bytes(atr)) for name, state, atr in result]

    def connect(self, reader: str, *, exclusive: bool = False) -> PcscCard:
        """Connect to the card in `reader` (T=0 or T=1, whichever it offers)."""
        share = scard.SCARD_SHARE_EXCLUSIVE if exclusive else scard.SCARD_SHARE_SHARED
        protocols = scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
        rv, handle, protocol = scard.SCardConnect(self._handle, reader, share, protocols)
        if _u32(rv) != SUCCESS:
            code = _u32(rv)
            if code in CARD_GONE or code == _u32(scard.SCARD_W_UNRESPONSIVE_CARD):
                raise NoCardError(f"no card in {reader!r}: {describe(code)}")
            raise error_for(code, f"SCardConnect({reader!r})")
        return PcscCard(handle, protocol, reader, self)


class PcscCard(CardChannel):
    """A connection to one card: raw APDU exchange mapped to typed errors.

    `removal_grace_s`: after a failed or empty exchange, how long to wait for the reader to
    report the card gone before calling the answer garbage. Readers that poll for presence
    (pcscd polls serial drivers such as vpcd every 0.4 s) notice a pulled card a little late.
    """

    removal_grace_s = 1.0

    def __init__(self, handle: Any, protocol: int, reader: str, context: PcscContext) -> None:
        self._handle = handle
        self._context = context
        self.protocol = protocol
        self.reader = reader
        self.connected = True
        self.atr = self.status_atr()

    def status_atr(self) -> bytes:
        """The card's ATR; `CardRemovedError` if the card has left."""
        rv, _reader, _state, _protocol, atr = scard.SCardStatus(self._handle)
        if _u32(rv) != SUCCESS:
            raise error_for(rv, "SCardStatus")
        return bytes(atr)

    def transmit_raw(self, apdu: bytes) -> bytes:
        """One exchange. A failure with the card gone is `CardRemovedError`, not garbage."""
        if not self.connected:
            raise CardRemovedError("the card connection is closed")
        rv, response = scard.SCardTransmit(self._handle, self.protocol, list(apdu))
        if _u32(rv) == SUCCESS:
            raw = bytes(response)
            if len(raw) < 2:
                # vpcd (and real readers on a pulled card) can hand back an empty answer:
                # a removed card explains it better than "malformed response".
                self._raise_if_removed()
            return raw
        error = error_for(rv, "SCardTransmit")
        if isinstance(error, CardProtocolError):
            self._raise_if_removed()
        raise error

    def _raise_if_removed(self) -> None:
        removed = CardRemovedError(f"the card left {self.reader!r} during the exchange")
        rv, _reader, _state, _protocol, _atr = scard.SCardStatus(self._handle)
        code = _u32(rv)
        if code in CARD_GONE:
            raise removed
        if code in SERVICE_LOST:
            raise SmartCardUnavailableError(f"SCardStatus: {describe(code)}")
        deadline = time.monotonic() + self.removal_grace_s
        believed = STATE_UNAWARE
        while True:
            states = self._context.get_status_change(
                max(0.0, deadline - time.monotonic()), [(self.reader, believed)]
            )
            if states:
                if not states[0].present:
                    raise removed
                believed = states[0].current
            if time.monotonic() >= deadline:
                return

    def disconnect(self, *, reset: bool = True) -> None:
        """Close the connection; by default reset the card so no security state outlives us."""
        if not self.connected:
            return
        self.connected = False
        disposition = scard.SCARD_RESET_CARD if reset else scard.SCARD_LEAVE_CARD
        rv = scard.SCardDisconnect(self._handle, disposition)
        if _u32(rv) != SUCCESS:
            # The card or the service is already gone: nothing left to close.
            log.debug("SCardDisconnect on %r: %s", self.reader, describe(rv))
