"""PC/SC smart card readers behind the uniform device face (docs/DEVICES.md).

    device = open_smartcard("pcsc://")          # not yet connected
    device.open()                               # SmartCardUnavailableError: back off, reopen
    for event in device.poll(1.0):              # CardInserted / CardRemoved / Reader...
        ...
    card = read_social_security_card(device)    # the device is an ApduTransport

Addressing: ``pcsc://`` watches every reader; ``pcsc://<name>`` the reader of that exact name,
else every reader whose name contains it (case-insensitive). Among the watched readers, card
I/O goes to the first that holds a card. Readers present at `open` are not reported as added;
cards present at `open` are reported as inserted by the first `poll`.

Outages: when pcscd stops, `poll` reports the cards as removed and the readers as removed, then
raises `SmartCardUnavailableError` until the service is back; the next successful `poll` (or
`open`) reports the readers and cards again. A reader missing at `open` is an
`SmartCardUnavailableError`; a reader that vanishes later makes `status()` offline while `poll`
waits for it to return. Logs: one line when the device breaks, one when it recovers; never card
data (``drivers.smartcard.traffic`` logs APDU headers and status words at DEBUG).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from types import TracebackType

from drivers.smartcard.apdu import CommandApdu, ResponseApdu
from drivers.smartcard.errors import (
    CardRemovedError,
    NoCardError,
    SmartCardError,
    SmartCardUnavailableError,
)
from drivers.smartcard.pcsc import (
    PNP_NOTIFICATION,
    STATE_UNAWARE,
    PcscCard,
    PcscContext,
    ReaderState,
)
from drivers.state import DeviceState, DeviceStatus
from drivers.url import DeviceUrlError, parse_device_url

log = logging.getLogger("drivers.smartcard")


@dataclass(frozen=True)
class CardInserted:
    """A card was placed in `reader`; `atr` is its answer to reset."""

    reader: str
    atr: bytes


@dataclass(frozen=True)
class CardRemoved:
    """The card left `reader`."""

    reader: str


@dataclass(frozen=True)
class ReaderAdded:
    """A reader matching the address appeared (plugged in, or pcscd came back)."""

    reader: str


@dataclass(frozen=True)
class ReaderRemoved:
    """A watched reader disappeared (unplugged, or pcscd stopped)."""

    reader: str


SmartCardEvent = CardInserted | CardRemoved | ReaderAdded | ReaderRemoved


@dataclass(frozen=True)
class ReaderSelector:
    """Which readers a ``pcsc://`` address means."""

    pattern: str = ""

    @classmethod
    def from_url(cls, url: str) -> ReaderSelector:
        """Parse ``pcsc://[name]``; `DeviceUrlError` for any other scheme."""
        parsed = parse_device_url(url)
        if parsed.scheme != "pcsc":
            raise DeviceUrlError(f"{url!r}: a smart card reader URL starts with pcsc://")
        return cls(parsed.path.strip())

    def select(self, readers: list[str]) -> list[str]:
        """The matching readers, in the service's order."""
        if not self.pattern:
            return list(readers)
        if self.pattern in readers:
            return [self.pattern]
        wanted = self.pattern.casefold()
        return [name for name in readers if wanted in name.casefold()]

    def describe(self) -> str:
        """For messages: ``any reader`` or ``reader matching 'x'``."""
        return f"reader matching {self.pattern!r}" if self.pattern else "any reader"


@dataclass
class _Watched:
    """What the device last knew of one reader."""

    present: bool = False
    atr: bytes = b""
    count: int = -1
    state: int = STATE_UNAWARE
    mute: bool = False


@dataclass
class _Contexts:
    monitor: PcscContext
    io: PcscContext


class SmartCardDevice:
    """A PC/SC reader (or several) addressed by a ``pcsc://`` URL; see the module docstring.

    `poll` runs in the device's own thread; `close` may be called from another thread to end a
    wait. Card I/O (`connect`, `transmit`) belongs to the polling thread.
    """

    def __init__(self, url: str = "pcsc://", *, exclusive: bool = False) -> None:
        self.url = url
        self.selector = ReaderSelector.from_url(url)
        self.exclusive = exclusive
        self._ctx: _Contexts | None = None
        # What the last poll reported, kept across context drops so an outage noticed by
        # `status` or `transmit` is still reported by the next `poll`.
        self._watched: dict[str, _Watched] = {}
        self._pnp = STATE_UNAWARE  # pcsc-lite 2.x keeps the reader count here; 1.9 leaves 0
        self._card: PcscCard | None = None
        self._lock = threading.Lock()  # held while waiting, so close cannot pull the context
        self._closed = True
        self._opened_once = False
        self._failing = False

    # -- lifecycle -------------------------------------------------------------------------

    def open(self) -> None:
        """Connect to the PC/SC service and find the reader; raise if either is missing."""
        self._closed = False
        try:
            ctx = self._contexts()
            names = self._list(ctx)
        except SmartCardUnavailableError as exc:
            self._failed(str(exc))
            raise
        if not self._opened_once:
            # Readers already there at the first open are the configuration, not news.
            self._opened_once = True
            for name in names:
                self._watched.setdefault(name, _Watched())
        if not names:
            self._failed(f"no {self.selector.describe()}")
            known = ", ".join(repr(name) for name in self._all(ctx)) or "none"
            raise SmartCardUnavailableError(f"no {self.selector.describe()} (readers: {known})")
        self._recovered()

    def close(self) -> None:
        """Disconnect the card and release the service; safe to call twice and from any thread."""
        self._closed = True
        ctx = self._ctx
        if ctx is not None:
            ctx.monitor.cancel()
        with self._lock:
            self._drop_card()
            self._drop_contexts()

    def __enter__(self) -> SmartCardDevice:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the uniform face ------------------------------------------------------------------

    def readers(self) -> list[str]:
        """The readers this device watches, as the service lists them now."""
        return self._list(self._contexts())

    def all_readers(self) -> list[str]:
        """Every reader the service knows, matching or not (for diagnostics)."""
        return self._all(self._contexts())

    def status(self) -> DeviceStatus:
        """Online with `media_present` when a watched reader is there; never raises."""
        try:
            ctx = self._contexts()
            names = self._list(ctx)
            if not names:
                return DeviceStatus(DeviceState.OFFLINE, f"no {self.selector.describe()}")
            states = ctx.io.get_status_change(0, [(name, STATE_UNAWARE) for name in names]) or []
        except SmartCardUnavailableError as exc:
            return DeviceStatus(DeviceState.OFFLINE, str(exc))
        except SmartCardError as exc:
            return DeviceStatus(DeviceState.HARDWARE_ERROR, str(exc))
        present = [s for s in states if s.present]
        details: dict[str, object] = {"readers": names}
        if present:
            details["reader"] = present[0].name
            details["atr"] = present[0].atr.hex(" ").upper()
        if any(s.mute for s in states) and not present:
            reason = "the card does not answer: insert it again"
            return DeviceStatus(DeviceState.USER_ERROR, reason, media_present=True, details=details)
        return DeviceStatus(DeviceState.ONLINE, media_present=bool(present), details=details)

    def poll(self, timeout: float) -> list[object]:
        """Wait up to `timeout` seconds for card or reader changes; return the events.

        Raises `SmartCardUnavailableError` while the PC/SC service is unreachable.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        with self._lock:
            if self._closed:
                raise SmartCardUnavailableError("the device is closed")
            if self._ctx is None and self._watched:
                # The service went away since the last poll (status or transmit noticed).
                return self._lost("the PC/SC service connection was lost")
            try:
                ctx = self._contexts()
            except SmartCardUnavailableError as exc:
                self._failed(str(exc))
                raise
            try:
                return self._poll(ctx, deadline)
            except SmartCardUnavailableError as exc:
                return self._lost(str(exc))

    # -- card I/O --------------------------------------------------------------------------

    def connect(self, reader: str | None = None) -> PcscCard:
        """Connect to the card in `reader`, or in the first watched reader holding one.

        Raises `NoCardError` if there is none, `SmartCardUnavailableError` if the service or
        reader is gone. The connection stays open for `transmit` until `disconnect`.
        """
        self._drop_card()
        ctx = self._contexts()
        names = self._list(ctx)
        if reader is not None:
            names = [name for name in names if name == reader]
        if not names:
            raise SmartCardUnavailableError(f"no {self.selector.describe()}")
        states = ctx.io.get_status_change(0, [(name, STATE_UNAWARE) for name in names]) or []
        with_card = [s.name for s in states if s.present]
        if not with_card:
            raise NoCardError(f"no card in {', '.join(repr(n) for n in names)}")
        try:
            self._card = ctx.io.connect(with_card[0], exclusive=self.exclusive)
        except SmartCardUnavailableError:
            self._drop_contexts()
            raise
        log.debug("connected to the card in %r", with_card[0])
        return self._card

    def disconnect(self) -> None:
        """Close the card connection (resetting the card); safe without one."""
        self._drop_card()

    @property
    def card(self) -> PcscCard | None:
        """The open card connection, if any."""
        return self._card

    def transmit(self, command: CommandApdu) -> ResponseApdu:
        """Send a command to the current card (connecting first if needed); see `ApduTransport`."""
        card = self._card if self._card is not None and self._card.connected else self.connect()
        try:
            return card.transmit(command)
        except CardRemovedError:
            self._drop_card()
            raise
        except SmartCardUnavailableError:
            self._drop_card()
            self._drop_contexts()
            raise

    # -- internals -------------------------------------------------------------------------

    def _contexts(self) -> _Contexts:
        if self._ctx is None:
            monitor = PcscContext()
            try:
                io = PcscContext()
            except SmartCardError:
                monitor.release()
                raise
            self._ctx = _Contexts(monitor, io)
        return self._ctx

    def _drop_contexts(self) -> None:
        ctx, self._ctx = self._ctx, None
        if ctx is not None:
            ctx.monitor.release()
            ctx.io.release()

    def _drop_card(self) -> None:
        card, self._card = self._card, None
        if card is not None:
            card.disconnect()

    def _all(self, ctx: _Contexts) -> list[str]:
        try:
            return ctx.io.list_readers()
        except SmartCardUnavailableError:
            self._drop_contexts()
            raise

    def _list(self, ctx: _Contexts) -> list[str]:
        return self.selector.select(self._all(ctx))

    def _poll(self, ctx: _Contexts, deadline: float) -> list[object]:
        events: list[object] = []
        while True:
            events += self._diff_readers(self._list(ctx))
            wait = 0.0 if events else max(0.0, deadline - time.monotonic())
            states = [(name, watched.state) for name, watched in self._watched.items()]
            # pcsc-lite wakes a wait on this pseudo reader when readers come or go.
            states.append((PNP_NOTIFICATION, self._pnp))
            result = ctx.monitor.get_status_change(wait, states)
            for state in result or []:
                if state.name == PNP_NOTIFICATION:
                    self._pnp = state.current
                elif state.name in self._watched and state.changed:
                    events += self._card_events(state)
            if self._closed or events or time.monotonic() >= deadline:
                self._update_health()
                return events

    def _diff_readers(self, names: list[str]) -> list[object]:
        events: list[object] = []
        for name in [n for n in self._watched if n not in names]:
            if self._watched.pop(name).present:
                events.append(CardRemoved(name))
            events.append(ReaderRemoved(name))
        for name in names:
            if name not in self._watched:
                self._watched[name] = _Watched()
                events.append(ReaderAdded(name))
        return events

    def _card_events(self, state: ReaderState) -> list[object]:
        watched = self._watched[state.name]
        watched.state = state.current
        events: list[object] = []
        if state.gone:
            return events  # the reader itself left; the next listing reports it
        swapped = (
            watched.present
            and state.present
            and (state.event_count != watched.count or state.atr != watched.atr)
        )
        if watched.present and (not state.present or swapped):
            events.append(CardRemoved(state.name))
        if state.present and (not watched.present or swapped):
            events.append(CardInserted(state.name, state.atr))
        card = self._card
        if watched.present and not state.present and card is not None and card.reader == state.name:
            self._drop_card()
        watched.present, watched.atr, watched.mute = state.present, state.atr, state.mute
        watched.count = state.event_count
        return events

    def _lost(self, reason: str) -> list[object]:
        events: list[object] = []
        for name, watched in self._watched.items():
            if watched.present:
                events.append(CardRemoved(name))
            events.append(ReaderRemoved(name))
        self._watched.clear()
        self._pnp = STATE_UNAWARE
        self._card = None  # its handle died with the service
        self._drop_contexts()
        self._failed(reason)
        return events

    def _update_health(self) -> None:
        if self._watched:
            self._recovered()
        else:
            self._failed(f"no {self.selector.describe()}")

    def _failed(self, reason: str) -> None:
        # One line when the device breaks, not one per poll.
        if not self._failing:
            self._failing = True
            log.warning("smart card %s unavailable: %s", self.url, reason)

    def _recovered(self) -> None:
        if self._failing:
            self._failing = False
            log.info("smart card %s available again", self.url)


def open_smartcard(url: str = "pcsc://", **options: bool) -> SmartCardDevice:
    """The factory of the uniform device face: a `SmartCardDevice`, not yet opened."""
    return SmartCardDevice(url, **options)
