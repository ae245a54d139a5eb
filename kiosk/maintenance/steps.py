"""The core's side of the maintenance menu and of the out-of-service state.

`KioskCore` owns one `MaintenanceSteps` and hands it touches, smart cards, task results and
transitions (as it does `ApplySteps` for applying). Everything here runs on the machine's thread;
slow work (a PIN's hash, a card, a self-test, the network) goes to the core's task runner.

Service state: the kiosk is out of service while a technician or the fleet says so (the last one
to speak wins), or while a required device is down or no resident flow can run (`auto_reason`).
The machine moves there only between residents: a session under way finishes first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from kiosk.diag.checks import config_in_force, network_checks
from kiosk.diag.selftest import SELF_TESTS
from kiosk.events import Intent, ServiceChange, TaskDone, TaskFailed, Touch
from kiosk.ids import MachineEvent, StateId, Task
from kiosk.maintenance import menu
from kiosk.maintenance.auth import PIN_MAX

log = logging.getLogger(__name__)

MAINTENANCE_STATES = frozenset(
    {StateId.MAINTENANCE_LOGIN, StateId.MAINTENANCE_MENU, StateId.MAINTENANCE_PAGE}
)
MAINTENANCE_TASKS = frozenset({Task.TECH_LOGIN, Task.MAINTENANCE})
# Touches that work on every screen, the technician's too (language, more time).
_CHROME = frozenset({Intent.TOGGLE_LANGUAGE, Intent.TOGGLE_LARGE_TEXT, Intent.MORE_TIME})
NO_CATALOGUE = "no_catalogue"


@dataclass
class _Visit:
    """One technician's visit to the menu; forgotten when they leave."""

    actor: str = ""
    pin: str = ""
    notice: str = ""
    notice_params: dict[str, str] = field(default_factory=dict)
    wait_s: float = 0.0
    page: str = ""
    data: Any = None
    working: bool = False


class MaintenanceSteps:
    """Sign-in, the menu's actions, and the service state, for `KioskCore`."""

    def __init__(self, core: Any) -> None:
        self.core = core
        self.visit = _Visit()
        self._manual: tuple[str, str] | None = None  # (actor, reason) while stopped by hand
        self._auto = ""  # why the kiosk stopped by itself ("" = it did not)
        self._in_service = True
        self._asked_by: tuple[str, str] | None = None  # who asked in the event being handled

    @property
    def tools(self) -> Any:
        return self.core.services.maintenance

    # ---- service state ---------------------------------------------------------------------

    @property
    def in_service(self) -> bool:
        """As of the last event handled (a plain read: safe from any thread)."""
        return self._in_service

    def on_service_change(self, event: ServiceChange) -> None:
        self._manual = None if event.in_service else (event.actor, event.reason)
        self._asked_by = (event.actor, event.reason)
        action = _service_action(event.in_service)
        self._audit(event.actor, action, detail=event.reason)
        if event.actor not in ("fleet", "auto"):  # a technician's own action
            self._report("maintenance", actor=event.actor, action=action)

    def auto_reason(self) -> str:
        """Why no resident can be served now, or "": a required device down, or nothing works."""
        core = self.core
        for name in core.config.maintenance.required_devices:
            status = core.devices.get(name)
            if status is None or not status.usable:
                return f"device:{name}"
        # Without a catalogue (none cached, the service unreachable) no flow can start.
        if core.catalogue is None and not core.central_up:
            return NO_CATALOGUE
        return ""

    def settle(self) -> None:
        """After each event: recompute the service state, report a change, move between
        residents (attract <-> out of service)."""
        self._auto = self.auto_reason()
        now_in = self._manual is None and not self._auto
        asked_by, self._asked_by = self._asked_by, None
        if now_in != self._in_service:
            self._in_service = now_in
            actor, reason = self._why()
            if now_in and asked_by is not None:
                actor, reason = asked_by
            log.info(
                "kiosk %s (%s: %s)",
                "back in service" if now_in else "out of service",
                actor,
                reason,
            )
            if actor == "auto":
                self._audit("auto", _service_action(now_in), detail=reason)
            self._report("service_state", in_service=now_in, actor=actor, reason=reason)
        state = self.core.state
        if state == StateId.ATTRACT and not self._in_service:
            self.core.send_event(MachineEvent.SUSPEND)
        elif state == StateId.OUT_OF_SERVICE and self._in_service:
            self.core.send_event(MachineEvent.RESUME)

    def _why(self) -> tuple[str, str]:
        if self._manual is not None:
            return self._manual
        if self._auto:
            return "auto", self._auto
        return "auto", ""

    # ---- input -----------------------------------------------------------------------------

    def touch(self, touch: Touch) -> bool:
        """Handle `touch` if it is the technicians' business; True when it was."""
        state = self.core.state
        if touch.intent == Intent.MAINTENANCE:
            if state in (StateId.ATTRACT, StateId.OUT_OF_SERVICE) and self.tools is not None:
                self.visit = _Visit()
                self.core.send_event(MachineEvent.ENTER_MAINTENANCE)
            return True  # mid-session the gesture does nothing: a resident's data is on screen
        if state not in MAINTENANCE_STATES or touch.intent in _CHROME:
            return False
        if touch.intent == Intent.HOME:
            self.leave()
        elif state == StateId.MAINTENANCE_LOGIN:
            self._login_touch(touch)
        elif touch.intent == Intent.BACK:
            if state == StateId.MAINTENANCE_PAGE:
                self._show("", None)
                self.core.send_event(MachineEvent.BACK)
            else:
                self.leave()
        elif touch.intent == Intent.TECH and touch.arg:
            self._act(touch.arg)
        return True

    def leave(self) -> None:
        self.core.send_event(MachineEvent.LEAVE_MAINTENANCE)

    def on_smartcard(self) -> bool:
        """A card in the reader on the sign-in screen: a technician card, perhaps."""
        if self.core.state not in MAINTENANCE_STATES:
            return False
        cards = self.tools.cards if self.tools is not None else None
        if self.core.state == StateId.MAINTENANCE_LOGIN and cards is not None:
            kiosk_id = self.core.config.kiosk_id
            self.visit.working = True
            self.core.submit_task(
                Task.TECH_LOGIN, lambda: ("card", cards.read_technician_id(kiosk_id))
            )
        return True

    # ---- sign-in ---------------------------------------------------------------------------

    def _login_touch(self, touch: Touch) -> None:
        visit = self.visit
        if touch.intent == Intent.DIGIT and touch.arg:
            if touch.arg == "clear":
                visit.pin = ""
            elif touch.arg.isdigit() and len(touch.arg) == 1 and len(visit.pin) < PIN_MAX:
                visit.pin += touch.arg
                visit.notice = ""
        elif touch.intent == Intent.BACK:
            if visit.pin:
                visit.pin = visit.pin[:-1]
            else:
                self.leave()
        elif touch.intent == Intent.SUBMIT_ENTRY:
            self._try_pin()

    def _try_pin(self) -> None:
        pins = self.tools.pins
        pin, self.visit.pin = self.visit.pin, ""
        if pins is None or not pin or Task.TECH_LOGIN in self.core.session.pending:
            return
        self.visit.working = True
        self.core.submit_task(Task.TECH_LOGIN, lambda: ("pin", pins.attempt(pin)))

    def _signed_in(self, how: str, result: Any) -> None:
        visit = self.visit
        visit.working = False
        if how == "card":
            actor = f"technician:{result}"
        elif result.ok:
            actor = "pin"
        else:
            visit.wait_s = result.wait_s
            visit.notice = "pin_locked" if result.locked else "pin_wrong"
            visit.notice_params = {"seconds": str(int(result.wait_s + 0.999))}
            self._audit("anonymous", "sign_in_pin", "locked" if result.locked else "refused")
            return
        visit.actor, visit.notice, visit.wait_s = actor, "", 0.0
        self._audit(actor, "sign_in")
        self._report("maintenance", actor=actor, action="sign_in")
        self.core.send_event(MachineEvent.TECHNICIAN_IN)

    # ---- the menu's actions ----------------------------------------------------------------

    def _act(self, action: str) -> None:
        tools, core, visit = self.tools, self.core, self.visit
        if core.state == StateId.MAINTENANCE_LOGIN or visit.working:
            return
        visit.notice = ""
        name, _, arg = action.partition(":")
        if name in (menu.DEVICES, menu.SELF_TESTS):
            self._open(name, None)
        elif name == menu.CONFIG:
            self._open(name, tuple(config_in_force(core.config)))
        elif name == menu.LOGS:
            self._open(name, menu.log_lines(tools.logs))
        elif name == menu.OUTBOX and tools.outbox is not None:
            self._open(name, None)
            self._work(name, lambda: menu.outbox_page(tools.outbox))
        elif name == menu.RETRY_OUTBOX and tools.outbox is not None:
            self._work(menu.OUTBOX, lambda: menu.retry_outbox(tools.outbox), audit=name)
        elif name == menu.NETWORK:
            self._open(name, None)
            config, signer = core.config, tools.signer
            self._work(name, lambda: network_checks(config, signer=signer), audit=name)
        elif name == menu.SELF_TEST and arg in SELF_TESTS and tools.use_device:
            self._open(menu.SELF_TEST_RESULT, None)
            use, config = tools.use_device, core.config
            self._work(
                menu.SELF_TEST_RESULT,
                lambda: menu.self_test(arg, use, config),
                audit=f"self_test:{arg}",
            )
        elif name == menu.PAPER_REPLACED and tools.use_device is not None:
            use = tools.use_device
            self._work("", lambda: menu.paper_replaced(use), audit=name)
        elif name == menu.OUT_OF_SERVICE:
            core.set_in_service(False, actor=visit.actor, reason="technician")
        elif name == menu.BACK_IN_SERVICE:
            core.set_in_service(True, actor=visit.actor)
        elif name == menu.RESTART:
            self._audit(visit.actor, name)
            self._report("maintenance", actor=visit.actor, action=name)
            tools.restart()

    def _open(self, page: str, data: Any) -> None:
        self._show(page, data)
        if self.core.state == StateId.MAINTENANCE_MENU:
            self.core.send_event(MachineEvent.OPEN_PAGE)
        if page in (menu.DEVICES, menu.CONFIG, menu.LOGS, menu.SELF_TESTS):
            self._audit(self.visit.actor, f"view:{page}")

    def _show(self, page: str, data: Any) -> None:
        self.visit.page, self.visit.data = page, data

    def _work(self, page: str, work: Any, audit: str = "") -> None:
        self.visit.working = True
        self.core.submit_task(Task.MAINTENANCE, lambda: (page, audit, work()))

    def on_task(self, event: TaskDone | TaskFailed) -> None:
        if self.core.state not in MAINTENANCE_STATES:
            return  # the technician left (or timed out) meanwhile
        visit = self.visit
        visit.working = False
        if event.task == Task.TECH_LOGIN:
            if isinstance(event, TaskDone):
                how, result = event.result
                self._signed_in(how, result)
            else:
                visit.notice = "card_refused"
                self._audit("anonymous", "sign_in_card", "refused")
            return
        if isinstance(event, TaskFailed):
            visit.notice = "action_failed"
            self._audit(visit.actor, visit.page or "action", "failed", event.message)
            return
        page, audit, data = event.result
        if audit:
            ok = (
                bool(getattr(data, "ok", True))
                if not isinstance(data, list)
                else all(getattr(r, "ok", True) for r in data)
            )
            self._audit(visit.actor, audit, "ok" if ok else "failed")
            self._report("maintenance", actor=visit.actor, action=audit)
        if page:
            self._show(page, data)
        else:
            visit.notice = "done"

    # ---- transitions -----------------------------------------------------------------------

    def after_transition(self, source: str, target: str) -> None:
        # The source may be the compound `maintenance` (a timeout, a sign-out from any page).
        left = target not in MAINTENANCE_STATES and target != "maintenance"
        if left and (source in MAINTENANCE_STATES or source == "maintenance"):
            if self.visit.actor:
                self._audit(self.visit.actor, "sign_out")
            self.visit = _Visit()

    def timeout_for(self, state: StateId) -> float | None:
        if state == StateId.OUT_OF_SERVICE:
            return None
        if state in MAINTENANCE_STATES:
            return float(self.core.config.maintenance.idle_timeout_s)
        return None

    # ---- the views -------------------------------------------------------------------------

    def snapshot(self) -> menu.MaintenanceView:
        tools, visit, m = self.tools, self.visit, self.core.config.maintenance
        actor, reason = self._why()
        pins = tools.pins if tools is not None else None
        return menu.MaintenanceView(
            actor=visit.actor,
            pin_length=len(visit.pin),
            wait_s=visit.wait_s,
            can_use_pin=pins is not None and pins.pin_file.configured,
            can_use_card=tools is not None and tools.cards is not None,
            notice=visit.notice,
            notice_params=dict(visit.notice_params),
            page=visit.page,
            data=visit.data,
            working=visit.working,
            in_service=self._in_service,
            out_reason=reason if not self._in_service else "",
            out_actor=actor if not self._in_service else "",
            devices=dict(self.core.devices),
            self_tests=dict(SELF_TESTS),
            nearest_window=m.nearest_window,
            nearest_window_en=m.nearest_window_en,
        )

    # ---- records ---------------------------------------------------------------------------

    def _audit(self, actor: str, action: str, result: str = "ok", detail: str = "") -> None:
        tools = self.tools
        if tools is None:
            return
        try:
            tools.audit.record(actor or "anonymous", action, result, detail)
        except Exception as exc:  # the audit must never take the menu down
            log.warning("audit entry not written: %s", type(exc).__name__)

    def _report(self, kind: str, **detail: Any) -> None:
        try:
            self.core.services.telemetry.event(kind, **detail)
        except Exception as exc:
            log.warning("telemetry event not recorded: %s", type(exc).__name__)


def _service_action(in_service: bool) -> str:
    return menu.BACK_IN_SERVICE if in_service else menu.OUT_OF_SERVICE
