"""The kiosk core: one event queue, one statechart, the session, and the side effects.

Devices and background tasks post events from their threads; `pump()` consumes them on one thread
(Kivy's main thread through `Clock`, or a plain loop headless) and is the only code that changes the
session. Screens observe through `view()` and listeners, and act through `touch()`.

Side effects come first and the machine moves after them, so a failing side effect (a locked
database, a full disk) leaves the machine where it was; `pump()` contains whatever escapes.
"""

from __future__ import annotations

import itertools
import logging
import queue
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from drivers.qr.admission import (
    Admitted,
    ApplicationCode,
    AppointmentCode,
    CaseNumber,
    EidToken,
    admit,
)
from drivers.state import DeviceState, DeviceStatus
from kiosk import device_inputs, prompts
from kiosk.apply_steps import APPLY_STATES, ApplySteps
from kiosk.availability import IDENTIFY_FUNCTIONS, Function, available_functions
from kiosk.central import CentralClient
from kiosk.clock import Clock
from kiosk.config import KioskConfig
from kiosk.events import (
    CardRead,
    CardReadFailed,
    DeviceChanged,
    DeviceInput,
    Event,
    Intent,
    JobProgress,
    QrScanned,
    ServiceChange,
    SmartCardInserted,
    TaskDone,
    TaskFailed,
    Tick,
    Touch,
)
from kiosk.flows import guide, identify, lookup, print_certificate, rating, ticket
from kiosk.flows.items import item_action, lookup_kind, prints
from kiosk.ids import MachineEvent, StateId, Task
from kiosk.machine import Guards, SessionMachine
from kiosk.maintenance.steps import MAINTENANCE_STATES, MAINTENANCE_TASKS, MaintenanceSteps
from kiosk.session import Preferences, Session
from kiosk.tasks import TaskRunner, ThreadTaskRunner
from kiosk.telemetry import NullTelemetry, TelemetrySink
from kiosk.views import ELDER_CHOICES_PER_PAGE, ViewContext, ViewModel, build_view

log = logging.getLogger(__name__)

# Which scanned code formats each state admits (drivers.qr.admission); elsewhere codes are ignored.
_QR_FORMATS: dict[StateId, tuple[str, ...]] = {
    StateId.ATTRACT: ("eid_token", "appointment", "case_number", "application_code"),
    StateId.AWAIT_IDENTITY: ("eid_token", "appointment", "case_number", "application_code"),
    StateId.LOOKUP_ENTRY: ("case_number", "application_code"),
}
# States an identity (card, e-ID code) may be presented in; elsewhere it is ignored.
_IDENTITY_STATES = frozenset({StateId.ATTRACT, StateId.AWAIT_IDENTITY})
# Digits a receipt number may have on the pad.
_MAX_ENTRY = lookup.RECEIPT_NO_LENGTH
# Tasks that ask the central service (an answer or its absence tells whether it is up).
_CENTRAL_TASKS = frozenset(
    {Task.VERIFY, Task.ITEM, Task.PREPARE, Task.LOOKUP, Task.TICKET, Task.FORM, Task.FACE}
)
_APPLY_TASKS = frozenset({Task.FORM, Task.FACE, Task.CAPTURE, Task.SUBMIT, Task.STAFF})
# 长辈模式 stretches every inactivity timeout by this much.
_ELDER_TIMEOUT_FACTOR = 2.0
# How long a notice (an expired card, a refused code) stays on the attract screen.
_NOTICE_ON_ATTRACT_S = 20.0
_KEY_NAMESPACE = uuid.UUID("0b5f7a64-93c6-4d55-a1f3-2a4e7c9e1d20")


class Journal(Protocol):
    """Where transitions are recorded (without personal data)."""

    def record_transition(self, session_id: str, event: str, source: str, target: str) -> None: ...

    def record_rating(self, session_id: str, item_code: str | None, level: int) -> None: ...


@dataclass
class Services:
    """What the core talks to; each is replaceable in tests."""

    central: CentralClient
    printer: Any
    journal: Journal | None = None
    outbox: Any = None
    documents: Any = None  # the A4 printer (`print_pdf`)
    catalogue_cache: Any = None  # `kiosk.offline.OfflineCatalogue`
    smartcard: Any = None  # the PC/SC reader (`read_social_security`, `read_staff_id`)
    camera: Any = None  # documents and faces for applications (`frame`, `latest`)
    speaker: Any = None  # spoken prompts of 长辈模式 (`say`, `repeat`, `stop`)
    input_methods: Any = None  # `.pinyin`, `.handwriting`, `.extended` engines for the keyboard
    telemetry: TelemetrySink = field(default_factory=NullTelemetry)  # events for the fleet
    maintenance: Any = None  # `kiosk.maintenance.tools.MaintenanceTools`; None: no menu


def session_key(session_id: str, what: str) -> str:
    """An idempotency key: the same session doing the same thing twice is one request."""
    return str(uuid.uuid5(_KEY_NAMESPACE, f"{session_id}/{what}"))


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
        self._waker: Callable[[], None] | None = None
        self._runner = runner_factory(self.post)
        self._tokens = itertools.count(1)
        self._listeners: list[Callable[[ViewModel], None]] = []
        self._defaults = Preferences(config.ui.large_text, config.ui.language)
        self.session = Session(prefs=Preferences(config.ui.large_text, config.ui.language))
        self.catalogue: Any = None
        # Whether the central service answered the last call; a failed catalogue fetch says no.
        self.central_up = True
        self._catalogue_retry_at = 0.0
        self._catalogue_refresh_at = 0.0
        # Optimistic until the device manager reports otherwise: a kiosk starts offering what its
        # configuration says it has; a disabled device is absent.
        self.devices: dict[str, DeviceStatus] = {
            name: DeviceStatus(DeviceState.ONLINE, "not yet reported")
            for name in config.devices.enabled()
        }
        self._last_activity = clock.monotonic()
        self._zone = ZoneInfo(config.timezone)
        self._catalogue_token = 0
        self.apply = ApplySteps(self)
        self.maintenance = MaintenanceSteps(self)
        self.machine = SessionMachine(
            guards=Guards(
                has_pending_item=lambda: self.session.item is not None,
                from_preview=lambda: self.session.print_origin == "preview",
                from_lookup=lambda: self.session.print_origin == "lookup",
                has_lookup_entry=lambda: self.session.lookup_started_on_entry,
                came_browsing=lambda: self.session.came_browsing,
                lookup_needs_entry=self._lookup_needs_entry,
                agent_allowed=self.apply.agent_allowed,
                needs_face=self.apply.needs_face,
                needs_documents=self.apply.needs_documents,
                out_of_service_now=lambda: not self.maintenance.in_service,
            ),
            listeners=[self],
        )

    # ---- input -------------------------------------------------------------------------------

    def post(self, event: Event) -> None:
        """Queue an event; safe from any thread. The front end's waker pumps it at once, so a
        card read or an answer does not wait for the next frame's scheduled pump."""
        self._events.put(event)
        waker = self._waker
        if waker is not None:
            waker()

    def set_waker(self, waker: Callable[[], None] | None) -> None:
        """Called (from any thread) whenever an event is posted: schedule a `pump()` soon."""
        self._waker = waker

    def touch(self, intent: Intent | str, arg: str | None = None) -> None:
        """A screen's way to say what the resident asked for."""
        self.post(Touch(Intent(intent), arg))

    def set_in_service(self, in_service: bool, *, actor: str, reason: str = "") -> None:
        """Out of service or back, as a technician (`technician:<id>`), the fleet or `auto`
        asks; safe from any thread. A resident's session under way finishes first."""
        self.post(ServiceChange(in_service, actor, reason[:200]))

    @property
    def in_service(self) -> bool:
        """Whether residents are served (as of the last event handled)."""
        return self.maintenance.in_service

    def pump(self, limit: int = 1000) -> int:
        """Handle queued events on this thread; returns how many were handled.

        A failing side effect is contained here: it is logged (type only, the message may hold
        personal data), the resident is told something went wrong, and the loop goes on.
        """
        handled = 0
        while handled < limit:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                break
            try:
                self.handle(event)
                self.maintenance.settle()
            except Exception as exc:
                log.error(
                    "handling %s in %s failed: %s", type(event).__name__, self.state, type(exc)
                )
                self.session.notice = "internal_error"
            handled += 1
        if handled:
            self._notify()
        return handled

    def start(self) -> None:
        """Begin work that does not wait for a resident: the catalogue (cached copy first)."""
        self._load_cached_catalogue()
        self._load_catalogue()

    def stop(self) -> None:
        """Stop background work and forget the current resident."""
        self._runner.shutdown()
        self.session.wipe(self._defaults)

    # ---- observation -------------------------------------------------------------------------

    @property
    def state(self) -> StateId:
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
                central_up=self.central_up,
                action=self._current_action(),
                maintenance=(
                    self.maintenance.snapshot()
                    if self.state in MAINTENANCE_STATES or self.state == StateId.OUT_OF_SERVICE
                    else None
                ),
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
        if self.state == StateId.THANKS or left <= self.config.ui.timeouts.warning_s:
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
                if self.state in _IDENTITY_STATES:
                    self.session.notice = "card_read_failed"
            case QrScanned():
                self._on_qr(event)
            case SmartCardInserted():
                self._on_smartcard()
            case Tick():
                self._on_tick()
            case TaskDone() | TaskFailed():
                self._on_task(event)
            case JobProgress():
                if self.session.pending.get(event.task) == event.token:
                    self.session.progress = event.step
            case DeviceChanged():
                self.devices[event.device] = event.status
            case DeviceInput():
                translated = device_inputs.to_core_event(event)
                if translated is not None:
                    self.handle(translated)
            case ServiceChange():
                self.maintenance.on_service_change(event)

    def _on_touch(self, touch: Touch) -> None:
        prefs = self.session.prefs
        if self.maintenance.touch(touch) or self.apply.touch(touch):
            return
        match touch.intent:
            case Intent.START:
                if IDENTIFY_FUNCTIONS & self.available():
                    self._send(MachineEvent.START)
            case Intent.BROWSE:
                if self._send(MachineEvent.BROWSE):
                    self.session.came_browsing = True
            case Intent.BACK:
                self._back()
            case Intent.HOME:
                self._send(MachineEvent.HOME)
            case Intent.PICK_CATEGORY:
                if self._has_category(touch.arg):
                    self.session.category = touch.arg
                    self._send(MachineEvent.PICK_CATEGORY)
            case Intent.PICK_ITEM:
                self._pick_item(touch.arg)
            case Intent.ACT:
                self._act()
            case Intent.PRINT:
                self._print()
            case Intent.DIGIT:
                self._type_digit(touch.arg)
            case Intent.SUBMIT_ENTRY:
                self._submit_entry()
            case Intent.LOOKUP_BY_IDENTITY:
                self._lookup_by_identity()
            case Intent.PAGE:
                self._page(touch.arg)
            case Intent.DONE:
                self._send(MachineEvent.DONE)
            case Intent.RATE:
                self._rate(touch.arg)
            case Intent.TOGGLE_REASON:
                self._toggle_reason(touch.arg)
            case Intent.SUBMIT_RATING:
                self._submit_rating()
            case Intent.SKIP:
                self._send(MachineEvent.SKIP_RATING)
            case Intent.TOGGLE_LARGE_TEXT:
                prefs.large_text = not prefs.large_text
            case Intent.TOGGLE_LANGUAGE:
                prefs.language = "en" if prefs.language == "zh_CN" else "zh_CN"
                self._speak()
            case Intent.TOGGLE_ELDER:
                prefs.elder = not prefs.elder
                if prefs.elder:
                    self._speak()
                else:
                    self._hush()
            case Intent.MUTE:
                prefs.muted = not prefs.muted
                if prefs.muted:
                    self._hush()
                else:
                    self._speak()
            case Intent.SAY_AGAIN:
                self._speak(force=True)
            case Intent.MORE_TIME:
                pass  # the touch itself reset the inactivity timer

    def _back(self) -> None:
        if self.apply.back():
            return
        if self.state == StateId.THANKS:
            self._send(MachineEvent.FINISH)
        elif self.state == StateId.LOOKUP_ENTRY and self.session.lookup_entry:
            # Backspace first: a resident who mistyped a digit expects it gone, not the page.
            self.session.lookup_entry = self.session.lookup_entry[:-1]
        else:
            self._send(MachineEvent.BACK)

    # ---- identify ----------------------------------------------------------------------------

    def _on_card(self, event: CardRead) -> None:
        if self.state == StateId.PRINCIPAL:
            self._last_activity = self.clock.monotonic()
            self.apply.on_card(identify.identity_from_record(event.record))
            return
        if self.state not in _IDENTITY_STATES:
            return  # a card mid-journey is not a new resident; ignore it
        self._last_activity = self.clock.monotonic()
        identity = identify.identity_from_record(event.record)
        if identify.is_expired(identity, self.local_now().date()):
            self.session.notice = f"card_expired_{identity.card_type}"
            return
        self.session.notice = None
        self.session.identity = identity
        self._send(MachineEvent.IDENTITY_READ)
        self._submit(Task.VERIFY, lambda: identify.verify(self.services.central, identity))

    def _on_smartcard(self) -> None:
        """A card went into the PC/SC reader: read it as a social security card."""
        smartcard = self.services.smartcard
        if self.maintenance.on_smartcard():
            return
        if self.state in APPLY_STATES and smartcard is not None:
            self._read_staff_card(smartcard)
            return
        if self.state not in _IDENTITY_STATES or smartcard is None:
            return
        self._last_activity = self.clock.monotonic()
        self.session.notice = None
        central, today = self.services.central, self.local_now().date()
        if self._send(MachineEvent.IDENTITY_READ):
            self._submit(
                Task.VERIFY,
                lambda: identify.read_social_security_card(smartcard, central, today),
            )

    def _on_qr(self, event: QrScanned) -> None:
        """A code from a scanner or the camera: an e-ID, an appointment, a case receipt.

        Decoding said what the code holds; here each state admits only the formats it can use.
        """
        state = self.state
        kinds = _QR_FORMATS.get(state)
        if kinds is None:
            return  # mid-journey a code means nothing; a passer-by's phone must not derail it
        self._last_activity = self.clock.monotonic()
        result = admit(event.text, kinds)
        if not isinstance(result, Admitted):
            self.session.notice = "code_not_recognised"
            return
        self.session.notice = None
        payload = result.payload
        central = self.services.central
        if isinstance(payload, EidToken):
            token = payload.token
            if self._send(MachineEvent.IDENTITY_READ):
                self._submit(Task.VERIFY, lambda: identify.verify_eid(central, token))
        elif isinstance(payload, AppointmentCode):
            self._check_in(payload.code)
        elif isinstance(payload, CaseNumber):
            self.session.lookup_entry = payload.number
            self._run_lookup(lookup.LookupQuery("case", receipt_no=payload.number))
        elif isinstance(payload, ApplicationCode):
            self._run_lookup(lookup.LookupQuery("application", application_key=payload.key))

    # ---- items and their actions -------------------------------------------------------------

    def _pick_item(self, code: str | None) -> None:
        if self.state != StateId.ITEMS or not code or self._find_item(code) is None:
            return
        self.session.item_code = code
        self.session.item = None
        self.session.notice = None
        self._send(MachineEvent.PICK_ITEM)
        self._fetch_item(code)

    def _fetch_item(self, code: str) -> None:
        central, cache = self.services.central, self.services.catalogue_cache

        def work() -> Any:
            try:
                detail = identify.fetch_item(central, code)
            except Exception:
                cached = cache.load_item_detail(code) if cache is not None else None
                if cached is None:
                    raise
                return cached
            if cache is not None:
                cache.remember_item(detail)
            return detail

        self._submit(Task.ITEM, work)

    def _current_action(self) -> Any:
        summary = self._find_item(self.session.item_code or "")
        if summary is None:
            return None
        identity = self.session.identity
        identified = identity is not None and bool(identity.person_ref or identity.offline)
        return item_action(
            summary, self.available(), central_up=self.central_up, identified=identified
        )

    def _act(self) -> None:
        """The guide's main button: print, look up, take a ticket, print the checklist."""
        if self.state != StateId.GUIDE or self.session.item is None:
            return
        action = self._current_action()
        if action is None or not action.enabled:
            return
        if action.needs_identity:
            self.session.after_identify = action.kind
            self._send(MachineEvent.NEED_IDENTITY)
            return
        self._run_action(action.kind)

    def _run_action(self, kind: str) -> None:
        self.session.notice = None
        match kind:
            case "print_receipt":
                self._print_receipt_certificate()
            case "print_a4":
                self._prepare_document()
            case "lookup":
                self._start_lookup()
            case "ticket":
                self._take_ticket()
            case "checklist":
                self._print_checklist()
            case "apply":
                self.apply.start()

    def _lookup_needs_entry(self) -> bool:
        summary = self._find_item(self.session.item_code or "")
        return summary is not None and lookup_kind(summary) != "records"

    # ---- print -------------------------------------------------------------------------------

    def _print_job(self) -> print_certificate.PrintJob:
        identity = self.session.identity
        return print_certificate.PrintJob(
            item_code=self.session.item_code or "",
            person_ref=(identity.person_ref or "") if identity else "",
            idempotency_key=print_certificate.idempotency_key(
                self.session.id, self.session.item_code or ""
            ),
            kiosk_id=self.config.kiosk_id,
            site_name=self.config.site_name,
            now=self.local_now(),
        )

    def _print_receipt_certificate(self) -> None:
        if Task.PRINT in self.session.pending:
            return  # a second tap while printing must not print twice
        job = self._print_job()
        self.session.print_origin = "guide"
        if not self._send(MachineEvent.PRINT):
            return
        central, printer = self.services.central, self.services.printer
        self._submit(Task.PRINT, lambda: print_certificate.run(central, printer, job))

    def _prepare_document(self) -> None:
        job = self._print_job()
        if not self._send(MachineEvent.PREPARE):
            return
        central = self.services.central
        self._submit(Task.PREPARE, lambda: print_certificate.prepare(central, job))

    def _print_checklist(self) -> None:
        item = self.session.item
        if Task.PRINT in self.session.pending or item is None:
            return
        job = guide.ChecklistJob(
            item,
            self.config.site_name,
            self.config.kiosk_id,
            self.local_now(),
            language=self.session.prefs.language,
        )
        self.session.print_origin = "guide"
        if self._send(MachineEvent.PRINT):
            printer = self.services.printer
            self._submit(Task.PRINT, lambda: guide.print_checklist(printer, job))

    def _print(self) -> None:
        """The print button of a preview (A4) or of a lookup's result."""
        if Task.PRINT in self.session.pending or Task.DOCUMENT in self.session.pending:
            return
        if self.state == StateId.PREVIEW and self.session.document is not None:
            document = self.session.document
            self.session.print_origin = "preview"
            self.session.notice = None
            if self._send(MachineEvent.PRINT):
                documents = self.services.documents
                token = next(self._tokens)

                def progress(step: str) -> None:  # from the worker thread: an event, as always
                    self.post(JobProgress(Task.DOCUMENT, token, step))

                self._submit(
                    Task.DOCUMENT,
                    lambda: print_certificate.print_document(documents, document, progress),
                    token=token,
                )
        elif self.state == StateId.LOOKUP_RESULT and self.session.lookup_result is not None:
            receipt = lookup.build_receipt(
                self.session.lookup_result,
                self.config.site_name,
                self.config.kiosk_id,
                self.local_now(),
                self.session.prefs.language,
            )
            self.session.print_origin = "lookup"
            self.session.notice = None
            if self._send(MachineEvent.PRINT):
                printer = self.services.printer
                self._submit(Task.PRINT, lambda: lookup.print_result(printer, receipt))
        elif self.state == StateId.GUIDE:
            self._act()

    # ---- lookup ------------------------------------------------------------------------------

    def _start_lookup(self) -> None:
        summary = self._find_item(self.session.item_code or "")
        if summary is None:
            return
        if lookup_kind(summary) == "records":
            self._lookup_by_identity()
            return
        self.session.lookup_entry = ""
        self.session.lookup_started_on_entry = True
        self._send(MachineEvent.LOOKUP)

    def _type_digit(self, digit: str | None) -> None:
        if self.state != StateId.LOOKUP_ENTRY or digit is None:
            return
        if digit == "clear":
            self.session.lookup_entry = ""
        elif len(digit) == 1 and digit.isdigit() and len(self.session.lookup_entry) < _MAX_ENTRY:
            self.session.lookup_entry += digit
            self.session.notice = None

    def _submit_entry(self) -> None:
        if self.state != StateId.LOOKUP_ENTRY:
            return
        problem = lookup.entry_problem(self.session.lookup_entry)
        if problem is not None:
            self.session.notice = problem
            return
        self._run_lookup(lookup.LookupQuery("case", receipt_no=self.session.lookup_entry))

    def _lookup_by_identity(self) -> None:
        identity = self.session.identity
        if identity is None or not identity.person_ref:
            self.session.after_identify = "lookup"
            self._send(MachineEvent.NEED_IDENTITY)
            return
        summary = self._find_item(self.session.item_code or "")
        if summary is not None and lookup_kind(summary) == "records":
            query = lookup.LookupQuery(
                "records", item_code=summary.code, person_ref=identity.person_ref
            )
        else:
            query = lookup.LookupQuery("cases", person_ref=identity.person_ref)
        self._run_lookup(query)

    def _page(self, arg: str | None) -> None:
        if self.state in (StateId.CATEGORIES, StateId.ITEMS):
            self._page_choices(arg)
            return
        result = self.session.lookup_result
        if self.state != StateId.LOOKUP_RESULT or result is None or result.page is None:
            return
        step = {"next": 1, "previous": -1}.get(arg or "")
        if step is None:
            return
        page = result.page.page + step
        if 1 <= page <= result.page.pages:
            query = result.query
            self._run_lookup(
                lookup.LookupQuery(
                    query.kind, query.item_code, person_ref=query.person_ref, page=page
                )
            )

    def _page_choices(self, arg: str | None) -> None:
        """长辈模式 shows a long list four at a time."""
        if self.catalogue is None:
            return
        if self.state == StateId.CATEGORIES:
            count = len(self.catalogue.categories)
        else:
            category = next(
                (c for c in self.catalogue.categories if c.code == self.session.category), None
            )
            count = len(category.items) if category is not None else 0
        pages = max(1, -(-count // ELDER_CHOICES_PER_PAGE))
        step = {"next": 1, "previous": -1}.get(arg or "", 0)
        self.session.option_page = min(max(0, self.session.option_page + step), pages - 1)

    def _run_lookup(self, query: lookup.LookupQuery) -> None:
        if Task.LOOKUP in self.session.pending:
            return
        self.session.notice = None
        if not self._send(MachineEvent.LOOKUP):
            return
        central = self.services.central
        self._submit(Task.LOOKUP, lambda: lookup.run(central, query))

    # ---- ticket ------------------------------------------------------------------------------

    def _take_ticket(self) -> None:
        identity = self.session.identity
        job = ticket.TicketJob(
            idempotency_key=session_key(self.session.id, f"ticket/{self.session.item_code}"),
            site_name=self.config.site_name,
            kiosk_id=self.config.kiosk_id,
            now=self.local_now(),
            item_code=self.session.item_code,
            person_ref=identity.person_ref if identity else None,
            language=self.session.prefs.language,
        )
        self._run_ticket(job)

    def _check_in(self, code: str) -> None:
        job = ticket.TicketJob(
            idempotency_key=session_key(self.session.id, f"check-in/{code}"),
            site_name=self.config.site_name,
            kiosk_id=self.config.kiosk_id,
            now=self.local_now(),
            appointment_code=code,
            language=self.session.prefs.language,
        )
        self._run_ticket(job)

    def _run_ticket(self, job: ticket.TicketJob) -> None:
        if Task.TICKET in self.session.pending:
            return
        self.session.notice = None
        if not self._send(MachineEvent.TAKE_TICKET):
            return
        central, printer = self.services.central, self.services.printer
        self._submit(Task.TICKET, lambda: ticket.take(central, printer, job))

    # ---- rating ------------------------------------------------------------------------------

    def _rate(self, arg: str | None) -> None:
        if self.state != StateId.RATE or arg not in {"1", "2", "3", "4", "5"}:
            return
        level = int(arg)
        self.session.rating = level
        if level in rating.REASONS_FOR:
            self.session.reasons = []
            self._send(MachineEvent.ASK_REASONS)
            return
        self._submit_rating()

    def _toggle_reason(self, code: str | None) -> None:
        if self.state != StateId.REASONS or not code:
            return
        reasons = self.session.reasons
        if code in reasons:
            reasons.remove(code)
        elif code in {c for c, *_ in rating.DEFAULT_REASONS}:
            reasons.append(code)

    def _submit_rating(self) -> None:
        level = self.session.rating
        if self.state not in (StateId.RATE, StateId.REASONS) or level is None:
            return
        summary = self._find_item(self.session.item_code or "")
        if self.services.outbox is not None:
            # Durable before the resident is thanked; delivered later, at least once. If the
            # write fails the resident stays here and is told, and may try again or skip.
            try:
                rating.queue_rating(
                    self.services.outbox,
                    rating.Rating(
                        session_id=self.session.id,
                        kiosk_id=self.config.kiosk_id,
                        item_code=self.session.item_code,
                        level=level,
                        rated_at=self.clock.now(),
                        reasons=tuple(self.session.reasons),
                        case_no=self.session.case_no,
                        flow=summary.flow if summary is not None else None,
                    ),
                )
            except Exception as exc:
                log.error("rating not saved: %s", type(exc).__name__)
                self.session.notice = "rating_not_saved"
                return
        if self.services.journal is not None:
            self.services.journal.record_rating(self.session.id, self.session.item_code, level)
        self._send(MachineEvent.RATE)

    # ---- catalogue ---------------------------------------------------------------------------

    def _load_cached_catalogue(self) -> None:
        cache = self.services.catalogue_cache
        if cache is None or self.catalogue is not None:
            return
        try:
            self.catalogue = cache.load_catalogue_model()
        except Exception as exc:
            log.warning("cached catalogue unusable: %s", type(exc).__name__)

    def _load_catalogue(self) -> None:
        self._catalogue_token = next(self._tokens)
        central, cache, known = self.services.central, self.services.catalogue_cache, self.catalogue

        def work() -> Any:
            result = central.catalogue(known) if known is not None else central.catalogue()
            if cache is not None and result is not known:
                cache.remember_catalogue(result)
            return result

        self._runner.submit(Task.CATALOGUE, self._catalogue_token, work)

    def _on_catalogue(self, event: TaskDone | TaskFailed) -> None:
        if event.token != self._catalogue_token:
            return
        now = self.clock.monotonic()
        t = self.config.central
        if isinstance(event, TaskDone):
            self.catalogue = event.result
            self.central_up = True
            self._catalogue_refresh_at = now + t.catalogue_refresh_s
        else:
            log.warning("catalogue not loaded: %s", event.message)
            self.central_up = False
            self._catalogue_retry_at = now + t.retry_s

    def _maybe_refresh_catalogue(self) -> None:
        """Revalidate on a schedule, and retry soon while the service is unreachable."""
        now = self.clock.monotonic()
        due = self._catalogue_retry_at if not self.central_up else self._catalogue_refresh_at
        if due and now >= due:
            self._catalogue_retry_at = self._catalogue_refresh_at = 0.0
            self._load_catalogue()

    # ---- tasks -------------------------------------------------------------------------------

    def _on_task(self, event: TaskDone | TaskFailed) -> None:
        if event.task == Task.CATALOGUE:
            self._on_catalogue(event)
            return
        if self.session.pending.get(event.task) != event.token:
            return  # a result for a session that has since ended: drop it, it may be personal
        del self.session.pending[event.task]
        if event.task in MAINTENANCE_TASKS:
            self.maintenance.on_task(event)
            return
        self._note_central(event)
        if event.task in _APPLY_TASKS:
            if isinstance(event, TaskDone):
                self.apply.on_done(event)
            else:
                self.apply.on_failed(event)
            return
        if isinstance(event, TaskDone):
            self._on_done(event)
        else:
            self._on_failed(event)

    def _note_central(self, event: TaskDone | TaskFailed) -> None:
        """An answer from central says it is up; an unreachable one that it is down."""
        if event.task not in _CENTRAL_TASKS:
            return  # a checklist or a table on paper says nothing about the service
        if isinstance(event, TaskFailed):
            if event.message == "service_unavailable":
                self.central_up = False
                self._catalogue_retry_at = self._catalogue_retry_at or (
                    self.clock.monotonic() + self.config.central.retry_s
                )
        elif not self.central_up:
            self.central_up = True
            self._load_catalogue()  # it came back: fill in what the cache could not

    def _on_done(self, event: TaskDone) -> None:
        session = self.session
        match event.task:
            case Task.VERIFY:
                if isinstance(event.result, str):  # a card: the service's reference for it
                    if session.identity is not None:
                        session.identity.person_ref = event.result
                else:  # an e-ID: the service says who it is
                    session.identity = event.result
                self._send(MachineEvent.IDENTIFIED)
                if session.item is not None and session.after_identify:
                    kind, session.after_identify = session.after_identify, None
                    self._run_action(kind)
            case Task.ITEM:
                session.item = event.result
            case Task.PRINT:
                if session.print_origin == "guide" and event.result is not None:
                    session.certificate = event.result
                    session.case_no = event.result.certificate_no
                self._send(MachineEvent.PRINTED)
            case Task.PREPARE:
                session.document = event.result
                session.case_no = event.result.certificate.certificate_no
                self._send(MachineEvent.PREPARED)
            case Task.DOCUMENT:
                session.certificate = event.result
                self._send(MachineEvent.PRINTED)
            case Task.LOOKUP:
                session.lookup_result = event.result
                if event.result.cases and len(event.result.cases) == 1:
                    session.case_no = event.result.cases[0].receipt_no
                self._send(MachineEvent.LOOKED_UP)
            case Task.TICKET:
                session.ticket = event.result.ticket
                session.case_no = event.result.ticket.ticket_no
                session.notice = event.result.print_problem
                self._send(MachineEvent.TICKETED)

    def _identified_offline(self, event: TaskFailed) -> bool:
        """The service is unreachable and an ID card was read to apply: go on offline."""
        session, identity = self.session, self.session.identity
        if (
            event.message != "service_unavailable"
            or identity is None
            or identity.method != "id_card"
            or session.after_identify != "apply"
            or session.item is None
        ):
            return False
        identity.offline = True
        self._send(MachineEvent.IDENTIFIED)
        session.after_identify = None
        self._run_action("apply")
        return True

    def _on_failed(self, event: TaskFailed) -> None:
        # The notice is set after the move: a failure that ends on attract (a check-in) wipes
        # the session, and the resident must still read why.
        if event.task == Task.VERIFY and self._identified_offline(event):
            return
        self._move_after_failure(event)
        self.session.notice = event.message

    def _move_after_failure(self, event: TaskFailed) -> None:
        match event.task:
            case Task.VERIFY:
                self.session.identity = None
                self._send(MachineEvent.IDENTITY_FAILED)
            case Task.PRINT | Task.PREPARE | Task.DOCUMENT:
                self._send(MachineEvent.PRINT_FAILED)
            case Task.LOOKUP:
                self._send(MachineEvent.LOOKUP_FAILED)
            case Task.TICKET:
                self._send(MachineEvent.TICKET_FAILED)

    # ---- apply helpers -----------------------------------------------------------------------

    def session_key(self, what: str) -> str:
        """An idempotency key for `what` in this session."""
        return session_key(self.session.id, what)

    def _read_staff_card(self, smartcard: Any) -> None:
        """A staff card in the reader during an application: 帮办, recorded with it."""
        reader = getattr(smartcard, "read_staff_id", None)
        if reader is None or Task.STAFF in self.session.pending:
            return
        self._last_activity = self.clock.monotonic()
        kiosk_id = self.config.kiosk_id
        self._submit(Task.STAFF, lambda: reader(kiosk_id))

    # ---- voice (长辈模式) ----------------------------------------------------------------------

    def _speak(self, *, force: bool = False) -> None:
        """Say the current step's prompt, when 长辈模式 is on and not muted (or asked again)."""
        speaker, prefs = self.services.speaker, self.session.prefs
        if speaker is None or not prefs.elder or (prefs.muted and not force):
            return
        voice = "en" if prefs.language == "en" else "zh"
        text = prompts.prompt_for(str(self.state), voice)
        if not text:
            return
        try:
            speaker.say(text, voice)
        except Exception as exc:  # a voice problem must never stop a resident
            log.warning("prompt not spoken: %s", type(exc).__name__)

    def _hush(self) -> None:
        speaker = self.services.speaker
        if speaker is not None:
            try:
                speaker.stop()
            except Exception as exc:
                log.warning("speaker not stopped: %s", type(exc).__name__)

    # ---- machine plumbing --------------------------------------------------------------------

    def _send(self, event: MachineEvent) -> bool:
        before = self.machine.configuration_values
        self.machine.send(str(event))
        return self.machine.configuration_values != before

    def send_event(self, event: MachineEvent) -> bool:
        """Send `event` to the machine (for the steps helpers); True if it moved."""
        return self._send(event)

    def submit_task(self, task: Task, work: Callable[[], Any]) -> None:
        """Run `work` off this thread; its result comes back as a task event of this session."""
        self._submit(task, work)

    def after_transition(self, event: str, source: Any, target: Any) -> None:
        """Machine listener: journal every step, and wipe the session on return to attract."""
        if not event:
            return  # entering a compound state's initial child: part of the step already logged
        journal = self.services.journal
        if journal is not None:
            try:
                journal.record_transition(self.session.id, event, source.id, target.id)
            except Exception as exc:  # the journal is ours, not the resident's: never block them
                log.warning("journal write failed: %s", type(exc).__name__)
        if source.id != target.id:
            self.session.option_page = 0
        self.maintenance.after_transition(source.id, target.id)
        if target.id == StateId.ATTRACT and source.id != StateId.ATTRACT:
            self._hush()
            self.session.wipe(self._defaults)
        self._last_activity = self.clock.monotonic()
        self._speak()

    def _submit(self, task: Task, work: Callable[[], Any], token: int | None = None) -> None:
        token = next(self._tokens) if token is None else token
        self.session.pending[task] = token
        self._runner.submit(task, token, work)

    def _notify(self) -> None:
        view = self.view()
        for listener in self._listeners:
            try:
                listener(view)
            except Exception:  # a broken screen must not stop the machine
                log.exception("view listener failed")

    def _on_tick(self) -> None:
        self._maybe_refresh_catalogue()
        idle = self.clock.monotonic() - self._last_activity
        if self.state == StateId.ATTRACT and self.session.notice and idle >= _NOTICE_ON_ATTRACT_S:
            self.session.notice = None  # the next resident must not read the last one's problem
        limit = self._timeout_for(self.state)
        if limit is None or self.clock.monotonic() - self._last_activity < limit:
            return
        self._send(MachineEvent.FINISH if self.state == StateId.THANKS else MachineEvent.TIMEOUT)

    # ---- lookups -----------------------------------------------------------------------------

    def _timeout_for(self, state: StateId) -> float | None:
        if state in MAINTENANCE_STATES or state == StateId.OUT_OF_SERVICE:
            return self.maintenance.timeout_for(state)
        limit = self._base_timeout(state)
        if limit is not None and self.session.prefs.elder:
            return limit * _ELDER_TIMEOUT_FACTOR
        return limit

    def _base_timeout(self, state: StateId) -> float | None:
        t = self.config.ui.timeouts
        return {
            StateId.ATTRACT: None,
            StateId.PRINTING: None,
            StateId.SUBMITTING: None,
            StateId.FORM: t.guide_s,
            StateId.EDITING: t.guide_s,
            StateId.DOCUMENTS: t.guide_s,
            StateId.REVIEW: t.guide_s,
            StateId.SUBMITTED: t.guide_s,
            StateId.AWAIT_IDENTITY: t.await_card_s,
            StateId.GUIDE: t.guide_s,
            StateId.LOOKUP_RESULT: t.guide_s,
            StateId.PREVIEW: t.guide_s,
            StateId.RATE: t.rating_s,
            StateId.REASONS: t.rating_s,
            StateId.THANKS: t.thanks_s,
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

    def item_prints(self, code: str) -> str:
        """What an item prints (`receipt`, `a4`, `none`); for the views and tests."""
        summary = self._find_item(code)
        return prints(summary) if summary is not None else "none"
