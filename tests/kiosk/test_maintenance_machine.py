"""The maintenance menu and out of service through the core: the hidden gesture, sign-in,
timeouts, each source of out of service, the audit rows (real SQLite) and the fleet events."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field

import pytest
from argon2 import PasswordHasher

from drivers.printer import open_receipt_printer
from drivers.printer.simulator import PrinterSimulator
from drivers.state import DeviceState, DeviceStatus
from kiosk.catalogue_cache import CatalogueCache
from kiosk.config import parse_config
from kiosk.core import KioskCore, Services
from kiosk.events import DeviceChanged, Intent, SmartCardInserted, Tick
from kiosk.ids import StateId
from kiosk.maintenance.audit import AuditLog
from kiosk.maintenance.auth import PinFile
from kiosk.maintenance.tools import build_tools
from kiosk.offline import OfflineCatalogue
from kiosk.outbox import Outbox, load_or_create_key
from kiosk.tasks import InlineTaskRunner
from tests.support.fakes import FakePrinter

PIN = "246810"


@dataclass
class RecordingTelemetry:
    events: list[tuple[str, dict]] = field(default_factory=list)

    def event(self, kind: str, *, device: str = "", **detail) -> None:
        self.events.append((kind, detail))


@pytest.fixture
def printer_sim():
    with PrinterSimulator() as sim:
        yield sim


@pytest.fixture
def rig(store, clock, tmp_path, central, printer_sim):
    """build(**config) -> (core, printer, telemetry, restarts); a real store and outbox, and the
    receipt printer's real driver over TCP to its ESC/POS simulator for the self-tests."""

    closers: list = []

    def build(*, pin: bool = True, cached: bool = True, **config):
        cfg = parse_config(
            {
                "kiosk_id": "KIOSK-T-1",
                "maintenance": {"pin_file": str(tmp_path / "pin"), **config.pop("maintenance", {})},
                **config,
            }
        )
        if pin:
            PinFile(
                tmp_path / "pin", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
            ).set(PIN)
        printer = open_receipt_printer(printer_sim.url, timeout=2.0)
        printer.open()
        closers.append(printer.close)

        @contextlib.contextmanager
        def use_device(name):
            if name != "receipt_printer":
                raise LookupError(name)
            yield printer

        restarts: list[int] = []
        outbox = Outbox(store, load_or_create_key(tmp_path / "outbox.key"))
        tools = build_tools(cfg, store=store, use_device=use_device, outbox=outbox)
        tools.restart = lambda: restarts.append(1)
        telemetry = RecordingTelemetry()
        services = Services(
            central=central,
            printer=FakePrinter(),
            journal=store,
            outbox=outbox,
            catalogue_cache=OfflineCatalogue(CatalogueCache(store)) if cached else None,
            telemetry=telemetry,
            maintenance=tools,
        )
        core = KioskCore(cfg, services, clock, runner_factory=InlineTaskRunner)
        core.start()
        core.pump()
        return core, printer, telemetry, restarts

    yield build
    for close in closers:
        close()


def act(core, intent, arg=None):
    core.touch(intent, arg)
    core.pump()


def sign_in(core, pin=PIN):
    act(core, Intent.MAINTENANCE)
    for digit in pin:
        act(core, Intent.DIGIT, digit)
    act(core, Intent.SUBMIT_ENTRY)


def audit(store):
    return [(r.actor, r.action, r.result) for r in reversed(AuditLog(store).recent())]


def test_a_long_press_on_the_start_screen_asks_for_the_pin_which_opens_the_menu(rig, store):
    core, *_ = rig()
    act(core, Intent.MAINTENANCE)
    assert core.state == StateId.MAINTENANCE_LOGIN
    view = core.view()
    assert view.title == "技术人员登录" and view.entry == ""
    for digit in PIN:
        act(core, Intent.DIGIT, digit)
    assert core.view().entry == "●" * len(PIN)  # never the digits themselves
    act(core, Intent.SUBMIT_ENTRY)
    assert core.state == StateId.MAINTENANCE_MENU
    assert "已用维护密码登录" in core.view().subtitle
    assert audit(store) == [("pin", "sign_in", "ok")]


def test_a_wrong_pin_is_refused_and_recorded_without_the_digits(rig, store):
    core, _printer, telemetry, _ = rig()
    sign_in(core, "111111")
    assert core.state == StateId.MAINTENANCE_LOGIN
    assert core.view().notice == "密码错误。" and core.view().entry == ""
    assert audit(store) == [("anonymous", "sign_in_pin", "refused")]
    assert all("111111" not in repr(e) for e in telemetry.events)


def test_three_wrong_pins_lock_the_menu_even_against_the_right_one(rig, store):
    core, *_ = rig()
    for _ in range(3):
        sign_in(core, "111111")
        act(core, Intent.HOME)
    assert "30" in core.view().notice or core.state == StateId.ATTRACT
    sign_in(core, PIN)
    assert core.state == StateId.MAINTENANCE_LOGIN
    assert core.view().notice.startswith("密码错误次数过多")
    assert audit(store)[-1] == ("anonymous", "sign_in_pin", "locked")


def test_the_gesture_does_nothing_in_the_middle_of_a_residents_session(rig):
    core, *_ = rig()
    act(core, Intent.BROWSE)
    assert core.state == StateId.CATEGORIES
    act(core, Intent.MAINTENANCE)
    assert core.state == StateId.CATEGORIES


def test_without_maintenance_tools_the_gesture_is_ignored(store, clock, central):
    cfg = parse_config({"kiosk_id": "KIOSK-T-1"})
    core = KioskCore(cfg, Services(central=central, printer=FakePrinter()), clock, InlineTaskRunner)
    core.start()
    core.pump()
    act(core, Intent.MAINTENANCE)
    assert core.state == StateId.ATTRACT


@pytest.mark.parametrize("signed_in", [False, True])
def test_inactivity_returns_to_the_resident_side_and_signs_out(rig, clock, store, signed_in):
    core, *_ = rig()
    if signed_in:
        sign_in(core)
    else:
        act(core, Intent.MAINTENANCE)
    clock.advance(119)
    core.post(Tick())
    core.pump()
    assert core.state != StateId.ATTRACT
    clock.advance(2)
    core.post(Tick())
    core.pump()
    assert core.state == StateId.ATTRACT
    if signed_in:
        assert audit(store)[-1] == ("pin", "sign_out", "ok")


def test_a_technician_takes_the_kiosk_out_of_service_and_back(rig, store):
    core, _printer, telemetry, _ = rig()
    sign_in(core)
    act(core, Intent.TECH, "out_of_service")
    assert core.state == StateId.MAINTENANCE_MENU and not core.in_service
    assert any(o.arg == "back_in_service" for o in core.view().options)
    act(core, Intent.HOME)  # sign out: residents now see the out-of-service screen
    assert core.state == StateId.OUT_OF_SERVICE
    view = core.view()
    assert view.title == "本机暂停服务" and "人工服务窗口" in view.sections[0].lines[0]
    assert not any(o.intent in (Intent.START, Intent.BROWSE) for o in view.options + view.actions)
    act(core, Intent.TOGGLE_LANGUAGE)
    assert "staffed service window" in core.view().sections[0].lines[0]
    act(core, Intent.START)  # nothing a resident touches leaves this screen
    assert core.state == StateId.OUT_OF_SERVICE
    sign_in(core)  # the gesture still works here
    act(core, Intent.TECH, "back_in_service")
    act(core, Intent.HOME)
    assert core.state == StateId.ATTRACT and core.in_service
    assert ("pin", "out_of_service", "ok") in audit(store)
    assert ("pin", "back_in_service", "ok") in audit(store)
    states = [d for kind, d in telemetry.events if kind == "service_state"]
    assert [s["in_service"] for s in states] == [False, True]
    assert states[0]["actor"] == "pin"
    assert ("maintenance", {"actor": "pin", "action": "out_of_service"}) in telemetry.events


def test_the_fleet_stops_the_kiosk_between_residents_not_during_one(rig, store):
    core, _printer, telemetry, _ = rig()
    act(core, Intent.BROWSE)
    caller = threading.Thread(
        target=core.set_in_service, args=(False,), kwargs={"actor": "fleet", "reason": "works"}
    )
    caller.start()
    caller.join()
    core.pump()
    assert core.state == StateId.CATEGORIES and not core.in_service
    act(core, Intent.HOME)
    assert core.state == StateId.OUT_OF_SERVICE
    core.set_in_service(True, actor="fleet")
    core.pump()
    assert core.state == StateId.ATTRACT
    assert ("fleet", "out_of_service", "ok") in audit(store)
    assert ("service_state", {"in_service": False, "actor": "fleet", "reason": "works"}) in (
        telemetry.events
    )


def test_a_required_device_down_takes_the_kiosk_out_of_service_by_itself(rig, store):
    core, _printer, telemetry, _ = rig(maintenance={"required_devices": ["idcard"]})
    core.post(DeviceChanged("idcard", DeviceStatus(DeviceState.HARDWARE_ERROR, "no answer")))
    core.pump()
    assert core.state == StateId.OUT_OF_SERVICE
    sign_in(core)
    assert "身份证阅读器不可用" in core.view().subtitle
    act(core, Intent.HOME)
    assert core.state == StateId.OUT_OF_SERVICE
    core.post(DeviceChanged("idcard", DeviceStatus(DeviceState.ONLINE)))
    core.pump()
    assert core.state == StateId.ATTRACT
    reported = [d for kind, d in telemetry.events if kind == "service_state"]
    assert reported == [
        {"in_service": False, "actor": "auto", "reason": "device:idcard"},
        {"in_service": True, "actor": "auto", "reason": ""},
    ]
    assert ("auto", "out_of_service", "ok") in audit(store)


def test_a_device_not_required_does_not_stop_the_kiosk(rig):
    core, *_ = rig()
    core.post(DeviceChanged("receipt_printer", DeviceStatus(DeviceState.OFFLINE)))
    core.pump()
    assert core.state == StateId.ATTRACT and core.in_service


def test_no_catalogue_and_no_central_service_means_no_flow_can_run(rig, central):
    central.outage.down = True
    core, *_ = rig(cached=False)
    assert core.catalogue is None and core.state == StateId.OUT_OF_SERVICE
    central.outage.down = False


def test_a_self_test_from_the_menu_prints_and_is_audited(rig, store, printer_sim):
    core, printer, *_ = rig()
    sign_in(core)
    act(core, Intent.TECH, "self_tests")
    assert core.state == StateId.MAINTENANCE_PAGE
    tests = [o.arg for o in core.view().options]
    assert "self_test:receipt_printer" in tests
    act(core, Intent.TECH, "self_test:receipt_printer")
    view = core.view()
    assert view.sections[0].heading.startswith("✓"), view.sections
    assert printer_sim.job_count == 1
    assert ("pin", "self_test:receipt_printer", "ok") in audit(store)
    act(core, Intent.BACK)
    assert core.state == StateId.MAINTENANCE_MENU


def test_paper_replaced_resets_the_printers_counts(rig, store):
    core, printer, *_ = rig()
    sign_in(core)
    act(core, Intent.TECH, "paper_replaced")
    assert printer.paper_usage().mm_since_change == 0.0  # counting from a new roll
    assert core.view().notice == "已完成。"
    assert ("pin", "paper_replaced", "ok") in audit(store)


def test_device_status_and_configuration_pages_hide_secrets(rig):
    core, *_ = rig()
    sign_in(core)
    act(core, Intent.TECH, "devices")
    headings = [s.heading for s in core.view().sections]
    assert "身份证阅读器" in headings and "凭条打印机" in headings
    act(core, Intent.BACK)
    act(core, Intent.TECH, "config")
    rows = dict(core.view().table.rows)
    assert rows["kiosk_id"] == "KIOSK-T-1"
    assert all("pin" not in value for key, value in rows.items() if key.endswith("pin_file"))


def test_the_outbox_page_and_retry_now(rig, store):
    core, *_ = rig()
    sign_in(core)
    act(core, Intent.TECH, "outbox")
    lines = core.view().sections[0].lines
    assert lines[0] == "待发送：0 条"
    act(core, Intent.TECH, "retry_outbox")
    assert ("pin", "retry_outbox", "ok") in audit(store)


def test_restart_is_audited_then_asked_for(rig, store):
    core, _printer, _telemetry, restarts = rig()
    sign_in(core)
    act(core, Intent.TECH, "restart")
    assert restarts == [1] and audit(store)[-1] == ("pin", "restart", "ok")


def test_a_technician_card_signs_in_with_its_id(rig, store):
    core, *_ = rig()
    core.services.maintenance.cards = type(
        "Cards", (), {"read_technician_id": lambda self, kiosk_id: "T0007"}
    )()
    act(core, Intent.MAINTENANCE)
    core.post(SmartCardInserted("reader"))
    core.pump()
    assert core.state == StateId.MAINTENANCE_MENU
    assert "技术人员 T0007" in core.view().subtitle
    assert audit(store) == [("technician:T0007", "sign_in", "ok")]
