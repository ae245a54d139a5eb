"""The kiosk core: one event queue, one state machine, the session, and the side effects.

Devices and background tasks post events from their threads; `pump()` consumes them on one thread
(Kivy's main thread through `Clock`, or a plain loop headless) and is the only code that changes the
session. Screens observe through `view()` and listeners, and act through `touch()`.
"""

from __future__ import annotations

import itertools
import logging
import queue
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from statemachine.exceptions import TransitionNotAllowed

from drivers.state import DeviceState, DeviceStatus
from kiosk import device_inputs
from kiosk.availability import Function, available_functions
from kiosk.clock import Clock
from kiosk.config import KioskConfig
from kiosk.events import (
    CardRead,
    CardReadFailed,
    DeviceChanged,
    DeviceInput,
    Event,
    Intent,
    TaskDone,
    TaskFailed,
    Tick,
    Touch,
)
from kiosk.flows import identify, print_certificate, rating
from kiosk.machine import SessionMachine
from kiosk.session import Preferences, Session
from kiosk.tasks import TaskRunner, ThreadTaskRunner
from kiosk.views import ViewContext, ViewModel, build_view

log = logging.getLogger(__name__)

# States a card may start a session from; elsewhere a card on the reader is ignored.
_CARD_STATES = frozenset({"attract", "await_card"})


class Journal(Protocol):
    """Where transitions are recorded (without personal data)."""

    def record_transition(self, session_id: str, event: str, source: str, target: str) -> None: ...

    def record_rating(self, session_id: str, item_code: str | None, level: int) -> None: ...


@dataclass
class Services:
    """What the core talks to; each is replaceable in tests."""

    central: Any
    printer: Any
    journal: Journal | None = None
    outbox: Any = None


class KioskCore:
    """The appliance's brain, free of Kivy: feed it events, read its view."""

    def __init__(
        self,
        config: KioskConfig,
        services: Services,
        clock: Clock,
        runner_factory: Callable[[Callable[[Event], None]], TaskRunner] = ThreadTaskRunner,
    ) -> None:
        self.config = config
        self.services = services
        self.clock = clock
        self._events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._runner = runner_factory(self.post)
        self._tokens = itertools.count(1)
        self._listeners: list[Callable[[ViewModel], None]] = []
        self._defaults = Preferences(config.ui.large_text, config.ui.language)
        self.session = Session(prefs=Preferences(config.ui.large_text, config.ui.language))
        self.catalogue: Any = None
        # Optimistic until the device manager reports otherwise: a kiosk starts offering what its
        # configuration says it has; a disabled device is absent.
        self.devices: dict[str, DeviceStatus] = {
            name: DeviceStatus(DeviceState.ONLINE, "not yet reported")
            for name in config.devices.enabled()
        }
        self._last_activity = clock.monotonic()
        self._zone = ZoneInfo(config.timezone)
        self._catalogue_token = 0
        self.machine = SessionMachine(item_is_printable=self._item_is_printable, listeners=[self])

    # ---- input -------------------------------------------------------------------------------

    def post(self, event: Event) -> None:
        """Queue an event; safe from any thread."""
        self._events.put(event)

    def touch(self, intent: Intent | str, arg: str | None = None) -> None:
        """A screen's way to say what the resident asked for."""
        self.post(Touch(Intent(intent), arg))

    def pump(self, limit: int = 1000) -> int:
        """Handle queued events on this thread; returns how many were handled."""
        handled = 0
        while handled < limit:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                break
            self.handle(event)
            handled += 1
        if handled:
            self._notify()
        return handled

    def start(self) -> None:
        """Begin work that does not wait for a resident: fetch the catalogue."""
        self._load_catalogue()

    def stop(self) -> None:
        """Stop background work and forget the current resident."""
        self._runner.shutdown()
        self.session.wipe(self._defaults)

    # ---- observation -------------------------------------------------------------------------

    @property
    def state(self) -> str:
        return self.machine.state_id

    def add_listener(self, listener: Callable[[ViewModel], None]) -> None:
        """Call `listener(view)` whenever something visible may have changed."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[ViewModel], None]) -> None:
        """Stop calling `listener` (a closed window, a finished test)."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def view(self) -> ViewModel:
        """The current view model for the screens."""
        return build_view(
            ViewContext(
                state=self.state,
                session=self.session,
                catalogue=self.catalogue,
                config=self.config,
                seconds_left=self.seconds_left(),
                available=self.available(),
            )
        )

    def local_now(self) -> datetime:
        """The time in the kiosk's configured time zone (what residents read and receipts show)."""
        return self.clock.now().astimezone(self._zone)

    def available(self) -> frozenset[Function]:
        """The kiosk functions its devices allow now."""
        return available_functions(self.devices)

    def seconds_left(self) -> float | None:
        """Seconds until the inactivity timeout, once inside the warning window; else None."""
        limit = self._timeout_for(self.state)
        if limit is None:
            return None
        left = limit - (self.clock.monotonic() - self._last_activity)
        if self.state == "thanks" or left <= self.config.ui.timeouts.warning_s:
            return max(0.0, left)
        return None

    # ---- event handling ----------------------------------------------------------------------

    def handle(self, event: Event) -> None:
        """Apply one event. Only the machine's thread calls this."""
        match event:
            case Touch():
                self._last_activity = self.clock.monotonic()
                self._on_touch(event)
            case CardRead():
                self._on_card(event)
            case CardReadFailed():
                if self.state in _CARD_STATES:
                    self.session.notice = "card_read_failed"
            case Tick():
                self._on_tick()
            case TaskDone() | TaskFailed():
                self._on_task(event)
            case DeviceChanged():
                self.devices[event.device] = event.status
            case DeviceInput():
                translated = device_inputs.to_core_event(event)
                if translated is not None:
                    self.handle(translated)

    def _on_touch(self, touch: Touch) -> None:
        prefs = self.session.prefs
        match touch.intent:
            case Intent.START:
                if Function.IDENTIFY_BY_ID_CARD in self.available():
                    self._send("start")
            case Intent.BACK:
                self._send("finish" if self.state == "thanks" else "back")
            case Intent.HOME:
                self._send("home")
            case Intent.PICK_CATEGORY:
                if self._has_category(touch.arg):
                    self.session.category = touch.arg
                    self._send("pick_category")
            case Intent.PICK_ITEM:
                self._pick_item(touch.arg)
            case Intent.PRINT:
                self._print()
            case Intent.RATE:
                self._rate(touch.arg)
            case Intent.SKIP:
                self._send("skip_rating")
            case Intent.TOGGLE_LARGE_TEXT:
                prefs.large_text = not prefs.large_text
            case Intent.TOGGLE_LANGUAGE:
                prefs.language = "en" if prefs.language == "zh_CN" else "zh_CN"
            case Intent.MORE_TIME:
                pass  # the touch itself reset the inactivity timer

    def _on_card(self, event: CardRead) -> None:
        if self.state not in _CARD_STATES:
            return  # a card mid-journey is not a new resident; ignore it
        self._last_activity = self.clock.monotonic()
        self.session.notice = None
        self.session.identity = identify.identity_from_record(event.record)
        self._send("card_read")
        identity = self.session.identity
        self._submit("verify", lambda: identify.verify(self.services.central, identity))

    def _on_tick(self) -> None:
        limit = self._timeout_for(self.state)
        if limit is None or self.clock.monotonic() - self._last_activity < limit:
            return
        self._send("finish" if self.state == "thanks" else "timeout")

    def _on_task(self, event: TaskDone | TaskFailed) -> None:
        if event.task == "catalogue":
            if event.token == self._catalogue_token and isinstance(event, TaskDone):
                self.catalogue = event.result
            elif isinstance(event, TaskFailed):
                log.warning("catalogue not loaded: %s", event.message)
            return
        if self.session.pending.get(event.task) != event.token:
            return  # a result for a session that has since ended: drop it, it may be personal
        del self.session.pending[event.task]
        if isinstance(event, TaskDone):
            self._on_done(event)
        else:
            self._on_failed(event)

    def _on_done(self, event: TaskDone) -> None:
        match event.task:
            case "verify":
                if self.session.identity is not None:
                    self.session.identity.person_ref = event.result
                    self._send("identified")
            case "item":
                self.session.item = event.result
            case "print":
                self.session.certificate = event.result
                self._send("printed")

    def _on_failed(self, event: TaskFailed) -> None:
        self.session.notice = event.message
        match event.task:
            case "verify":
                self.session.identity = None
                self._send("identity_failed")
            case "print":
                self._send("print_failed")

    # ---- flows -------------------------------------------------------------------------------

    def _pick_item(self, code: str | None) -> None:
        if self.state != "items" or not code or self._find_item(code) is None:
            return
        self.session.item_code = code
        self.session.item = None
        self.session.notice = None
        self._send("pick_item")
        central = self.services.central
        self._submit("item", lambda: identify.fetch_item(central, code))

    def _print(self) -> None:
        if self.state != "guide" or "print" in self.session.pending:
            return  # a second tap while printing must not print twice
        self.session.notice = None
        if not self._send("print_certificate"):
            return
        job = print_certificate.PrintJob(
            item_code=self.session.item_code or "",
            person_ref=(self.session.identity.person_ref or "") if self.session.identity else "",
            idempotency_key=print_certificate.idempotency_key(
                self.session.id, self.session.item_code or ""
            ),
            kiosk_id=self.config.kiosk_id,
            site_name=self.config.site_name,
            now=self.local_now(),
        )
        central, printer = self.services.central, self.services.printer
        self._submit("print", lambda: print_certificate.run(central, printer, job))

    def _rate(self, arg: str | None) -> None:
        if self.state != "rating" or arg not in {"1", "2", "3", "4", "5"}:
            return
        level = int(arg)
        self.session.rating = level
        if self.services.journal is not None:
            self.services.journal.record_rating(self.session.id, self.session.item_code, level)
        if self.services.outbox is not None:
            # Durable before the resident is thanked; delivered later, at least once.
            rating.queue_rating(
                self.services.outbox,
                rating.Rating(
                    session_id=self.session.id,
                    kiosk_id=self.config.kiosk_id,
                    item_code=self.session.item_code,
                    level=level,
                    rated_at=self.clock.now(),
                ),
            )
        self._send("rate")

    def _load_catalogue(self) -> None:
        self._catalogue_token = next(self._tokens)
        central = self.services.central
        self._runner.submit("catalogue", self._catalogue_token, central.catalogue)

    # ---- machine plumbing --------------------------------------------------------------------

    def _send(self, event: str) -> bool:
        try:
            self.machine.send(event)
        except TransitionNotAllowed:
            log.debug("event %s not allowed in %s", event, self.state)
            return False
        return True

    def after_transition(self, event: str, source: Any, target: Any) -> None:
        """Machine listener: journal every step, and wipe the session on return to attract."""
        journal = self.services.journal
        if journal is not None:
            journal.record_transition(self.session.id, event, source.id, target.id)
        if target.id == "attract" and source.id != "attract":
            self.session.wipe(self._defaults)
        self._last_activity = self.clock.monotonic()

    def _submit(self, task: str, work: Callable[[], Any]) -> None:
        token = next(self._tokens)
        self.session.pending[task] = token
        self._runner.submit(task, token, work)

    def _notify(self) -> None:
        view = self.view()
        for listener in self._listeners:
            try:
                listener(view)
            except Exception:  # a broken screen must not stop the machine
                log.exception("view listener failed")

    # ---- lookups -----------------------------------------------------------------------------

    def _timeout_for(self, state: str) -> float | None:
        t = self.config.ui.timeouts
        return {
            "attract": None,
            "printing": None,
            "await_card": t.await_card_s,
            "guide": t.guide_s,
            "rating": t.rating_s,
            "thanks": t.thanks_s,
        }.get(state, t.default_s)

    def _has_category(self, code: str | None) -> bool:
        return self.catalogue is not None and any(c.code == code for c in self.catalogue.categories)

    def _find_item(self, code: str) -> Any:
        if self.catalogue is None:
            return None
        for category in self.catalogue.categories:
            for item in category.items:
                if item.code == code:
                    return item
        return None

    def _item_is_printable(self) -> bool:
        summary = self._find_item(self.session.item_code or "")
        identity = self.session.identity
        return (
            summary is not None
            and summary.flow == "print"
            and Function.PRINT_RECEIPT in self.available()
            and identity is not None
            and bool(identity.person_ref)
        )
