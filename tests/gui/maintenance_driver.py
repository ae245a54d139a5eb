"""The maintenance menu through the real Kivy screens: a long press in the corner, a PIN on the
digit pad, a receipt self-test, out of service and back. Screenshots go to --out DIR.

    xvfb-run -a -s "-screen 0 1080x1920x24" python -m tests.gui.maintenance_driver --out DIR

The receipt self-test prints through the real ESC/POS driver to the printer simulator over TCP;
the audit log is a real SQLite store. Exit status 0 when every step reached its state.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.gui.journey_driver import SIZE, HeldTaskRunner, Journey, Rig

PIN = "246810"
LONG_PRESS_S = 3.0


@contextlib.contextmanager
def build_rig(workdir: Path) -> Iterator[tuple[Rig, Any]]:
    from argon2 import PasswordHasher

    from drivers.printer import open_receipt_printer
    from drivers.printer.simulator import PrinterSimulator
    from kiosk.clock import FakeClock
    from kiosk.config import parse_config
    from kiosk.core import KioskCore, Services
    from kiosk.maintenance.auth import PinFile
    from kiosk.maintenance.tools import build_tools
    from kiosk.store import open_store
    from tests.support.fakes import FakePrinter
    from tests.support.inprocess import central_client

    runners: list[HeldTaskRunner] = []

    def factory(post: Callable[[Any], None]) -> HeldTaskRunner:
        runners.append(HeldTaskRunner(post))
        return runners[-1]

    clock = FakeClock()
    pin_file = workdir / "maintenance-pin"
    PinFile(pin_file, PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)).set(PIN)
    config = parse_config(
        {
            "kiosk_id": "KIOSK-DEMO-01",
            "ui": {"fullscreen": False},
            "maintenance": {"pin_file": str(pin_file), "long_press_s": LONG_PRESS_S},
        }
    )
    store = open_store(f"sqlite:///{workdir / 'kiosk.db'}", clock.now)
    with (
        PrinterSimulator() as sim,
        central_client("KIOSK-DEMO-01", clock=clock.now) as (
            client,
            _http,
        ),
    ):
        printer = open_receipt_printer(sim.url, timeout=2.0)
        printer.open()

        @contextlib.contextmanager
        def use_device(name: str) -> Iterator[Any]:
            if name != "receipt_printer":
                raise LookupError(name)
            yield printer

        tools = build_tools(config, store=store, use_device=use_device)
        services = Services(central=client, printer=FakePrinter(), maintenance=tools)
        core = KioskCore(config, services, clock, factory)
        core.start()
        core.pump()
        try:
            yield Rig(core, clock, runners[0], client, frozenset()), sim
        finally:
            core.stop()
            printer.close()
            store.close()


def long_press() -> Callable[[], float]:
    """A finger held still in the top-left corner for longer than the gesture needs."""

    def act() -> float:
        from kivy.clock import Clock
        from kivy.core.window import Window
        from kivy.tests.common import UnitTestTouch

        finger = UnitTestTouch(30, Window.height - 30)
        finger.touch_down()
        Clock.schedule_once(lambda _dt: finger.touch_up(), LONG_PRESS_S + 0.3)
        return LONG_PRESS_S + 0.4

    return act


def plan(j: Journey) -> None:
    from kiosk.events import Intent
    from kiosk.ids import StateId

    def sign_in(name: str) -> None:
        j.add(f"{name}-login", long_press(), StateId.MAINTENANCE_LOGIN)
        for digit in PIN:
            j.add(None, j.press(Intent.DIGIT, digit), StateId.MAINTENANCE_LOGIN)
        j.add(f"{name}-login-typed", lambda: None, StateId.MAINTENANCE_LOGIN)
        j.add(f"{name}-menu", j.press(Intent.SUBMIT_ENTRY), StateId.MAINTENANCE_MENU)

    j.journey("maintenance")
    j.add("attract", lambda: None, StateId.ATTRACT)
    sign_in("first")
    j.add("self-tests", j.press(Intent.TECH, "self_tests"), StateId.MAINTENANCE_PAGE)
    j.add(
        "self-test-result",
        j.press(Intent.TECH, "self_test:receipt_printer"),
        StateId.MAINTENANCE_PAGE,
        lambda v: bool(v.sections) and v.sections[0].heading.startswith("✓"),
    )
    j.add(None, j.press(Intent.BACK), StateId.MAINTENANCE_MENU)
    j.add("devices", j.press(Intent.TECH, "devices"), StateId.MAINTENANCE_PAGE)
    j.add(None, j.press(Intent.BACK), StateId.MAINTENANCE_MENU)
    j.add(
        "menu-out-of-service",
        j.press(Intent.TECH, "out_of_service"),
        StateId.MAINTENANCE_MENU,
        lambda v: any(o.arg == "back_in_service" for o in v.options),
    )
    j.add("out-of-service", j.press(Intent.HOME), StateId.OUT_OF_SERVICE)
    j.add("out-of-service-en", j.press(Intent.TOGGLE_LANGUAGE), StateId.OUT_OF_SERVICE)
    j.add(None, j.press(Intent.TOGGLE_LANGUAGE), StateId.OUT_OF_SERVICE)
    sign_in("second")
    j.add(None, j.press(Intent.TECH, "back_in_service"), StateId.MAINTENANCE_MENU)
    j.add("back-in-service", j.press(Intent.HOME), StateId.ATTRACT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.png"):
        old.unlink()

    from screens.runner import configure_kivy

    configure_kivy(fullscreen=False, size=SIZE)
    import tempfile

    from kivy.clock import Clock

    from screens.app import KioskApp

    with tempfile.TemporaryDirectory() as workdir, build_rig(Path(workdir)) as (rig, sim):
        app = KioskApp(rig.core, fullscreen=False, size=SIZE)
        journey = Journey(app, rig, args.out)
        plan(journey)
        Clock.schedule_once(journey.begin, 0.5)
        app.run()
        printed = sim.job_count
        audit = [
            (r.actor, r.action, r.result)
            for r in reversed(rig.core.services.maintenance.audit.recent())
        ]
    (args.out / "audit.txt").write_text("\n".join(" ".join(a) for a in audit) + "\n")
    failed = journey.fatal + [
        f"{name}: {error}" for name, r in journey.records.items() for error in r.errors
    ]
    if printed != 1:
        failed.append(f"the printer simulator printed {printed} receipts, not 1")
    for error in failed:
        print(error, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
