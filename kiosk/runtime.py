"""Assembling a running kiosk from its configuration: service, devices, store, core, screens.

`sim://` devices and the `embedded` central service are started here, on loopback and ptys, so the
embedded default runs on a laptop exactly as it would in a hall, real protocols included.

With a screen, `kiosk.startup` shows the attract screen first and builds the runtime behind it.
The heavy parts are imported inside `build_runtime`, so importing this module costs the screen
nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.config import PROJECT_ROOT, KioskConfig

if TYPE_CHECKING:
    from kiosk.core import KioskCore
    from kiosk.device_manager import DeviceManager
    from kiosk.simulation import SimulatedHall
    from kiosk.startup import CentralProcess

log = logging.getLogger(__name__)
FRONT_END = "screens.runner"
# `kiosk run` exits with this after a restart was asked for (fleet command, maintenance menu);
# the systemd unit starts it again (Restart=always).
RESTART_EXIT_CODE = 75
_restart_requested = threading.Event()


def request_restart() -> None:
    """Stop the kiosk as SIGTERM does (both front ends), then exit with `RESTART_EXIT_CODE`."""
    _restart_requested.set()
    os.kill(os.getpid(), signal.SIGTERM)


@dataclass
class Runtime:
    """The parts of a running kiosk that callers (the front end, tests) reach into."""

    core: KioskCore
    hall: SimulatedHall
    devices: DeviceManager


def _var_path(value: str) -> str:
    """Relative state paths live under $KIOSK_HOME, or the project directory by default."""
    path = Path(value)
    home = Path(os.environ.get("KIOSK_HOME") or PROJECT_ROOT)
    return str(path if path.is_absolute() else home / path)


def _sqlite_url(url: str) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + _var_path(url[len(prefix) :])
    return url


class StartupError(RuntimeError):
    """A part of the kiosk could not start; the message names the part and the cause."""


class StartCancelled(Exception):
    """The kiosk was asked to stop while it was still starting."""


@contextlib.contextmanager
def _starting(part: str) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        raise StartupError(f"{part}: {exc}") from exc


@contextlib.contextmanager
def build_runtime(
    config: KioskConfig,
    *,
    cancel: threading.Event | None = None,
    central: CentralProcess | None = None,
) -> Iterator[Runtime]:
    """Start the service, the simulators, the store and the core; stop them all on exit.

    `central` is the embedded service when the caller started it in a process of its own (`kiosk
    run` does); its answer is awaited only before the core first calls it. Otherwise the service
    is `config.central.url`, where `embedded` is served from a thread of this process. `cancel`
    set while starting (a window closed, a SIGTERM) stops what has started so far and raises
    `StartCancelled` instead.
    """
    from kiosk.catalogue_cache import CatalogueCache
    from kiosk.central import CentralClient
    from kiosk.clock import SystemClock
    from kiosk.core import KioskCore, Services
    from kiosk.credentials import embedded_registry_path, kiosk_signer
    from kiosk.delivery import central_sender
    from kiosk.device_manager import (
        DeviceManager,
        ManagedCamera,
        ManagedDocumentPrinter,
        ManagedPrinter,
        build_specs,
    )
    from kiosk.diag.checks import RecentLogs
    from kiosk.flows.apply import KIND as APPLICATION
    from kiosk.input_methods import InputMethods
    from kiosk.maintenance.tools import build_tools
    from kiosk.offline import OfflineCatalogue
    from kiosk.outbox import Outbox, OutboxWorker, load_or_create_key
    from kiosk.simulation import SimulatedHall
    from kiosk.store import open_store
    from kiosk.telemetry_wiring import build_telemetry, connect, fleet_auth

    def check_cancelled() -> None:
        if cancel is not None and cancel.is_set():
            raise StartCancelled("stopped while starting")

    clock = SystemClock()
    closers: list[Any] = []
    try:
        central_url = config.central.url if central is None else central.base_url
        # The embedded central admits this kiosk by the key it enrolls in the registry here.
        registry_path = (
            embedded_registry_path(_sqlite_url(config.central.embedded_db), _var_path("var"))
            if config.central.url == "embedded"
            else None
        )
        signer = kiosk_signer(
            config, _var_path(config.credentials.key_file), embedded_registry=registry_path
        )
        if central_url == "embedded":
            with _starting("reference central service"):
                from central.server import start_background
                from trust.keys import KioskRegistry

                assert registry_path is not None
                server = start_background(
                    db_url=_sqlite_url(config.central.embedded_db),
                    kiosk_registry=KioskRegistry.load(registry_path),
                )
            closers.append(server.stop)
            central_url = server.base_url
            log.info("reference central service on %s", central_url)
        check_cancelled()

        hall = SimulatedHall(
            config,
            receipts_dir=_var_path(config.simulation.receipts_dir),
            printed_dir=_var_path(config.simulation.printed_dir),
            central_url=central_url,
        )
        closers.append(hall.stop)
        with _starting("device simulators"):
            urls = hall.start_for(config.devices.enabled())
        # a simulator that cannot run here (no pcscd) leaves its device absent, not broken
        enabled = {name: cfg for name, cfg in config.devices.enabled().items() if name in urls}
        check_cancelled()

        with _starting("local store"):
            store = open_store(_sqlite_url(config.store.url), clock.now)
            closers.append(store.close)
            outbox = Outbox(store, load_or_create_key(_var_path(config.store.outbox_key_file)))
        check_cancelled()

        client = CentralClient(
            central_url, timeout=config.central.timeout_s, kiosk_id=config.kiosk_id, auth=signer
        )
        closers.append(client.close)
        # The manager posts to the core, which is built next; the lambda resolves it then.
        manager = DeviceManager(build_specs(enabled, urls), lambda event: core.post(event))
        telemetry = build_telemetry(
            config,
            store=store,
            outbox=outbox,
            clock=clock,
            statuses=manager.statuses,
            in_service=lambda: core.in_service,
        )
        closers.append(telemetry.stop)
        # The maintenance menu's log page: the last lines, personal data masked.
        recent_logs = RecentLogs()
        logging.getLogger().addHandler(recent_logs)
        closers.append(lambda: logging.getLogger().removeHandler(recent_logs))
        maintenance = build_tools(
            config,
            store=store,
            use_device=manager.use,
            outbox=outbox,
            logs=recent_logs,
            restart=request_restart,
            home=_var_path,
            signer=signer,
        )
        services = Services(
            central=client,
            printer=ManagedPrinter(manager),
            documents=ManagedDocumentPrinter(manager) if "document_printer" in enabled else None,
            journal=store,
            outbox=outbox,
            catalogue_cache=OfflineCatalogue(CatalogueCache(store)),
            smartcard=_smartcard(config, manager, enabled),
            camera=ManagedCamera(manager) if "camera" in enabled else None,
            input_methods=InputMethods(_var_path("var/rime")),
            speaker=_speaker(config),
            telemetry=telemetry.telemetry,
            maintenance=maintenance,
        )
        core = KioskCore(config, services, clock)
        closers.append(core.stop)
        if services.speaker is not None:
            closers.append(services.speaker.close)
        hall.attach(core)
        check_cancelled()
        manager.start()
        closers.append(manager.stop)
        if central is not None:
            central.wait_ready(cancel or threading.Event())
        sender = central_sender(client)
        streams = connect(
            telemetry,
            config,
            outbox=outbox,
            set_in_service=lambda on, why: core.set_in_service(on, actor="fleet", reason=why),
            restart=request_restart,
            auth=fleet_auth(config, _var_path) if config.fleet.url else None,
        )
        delivery = OutboxWorker(outbox, {"rating": sender, APPLICATION: sender}, streams=streams)
        delivery.start()
        closers.append(delivery.stop)
        core.start()
        yield Runtime(core, hall, manager)
    finally:
        for close in reversed(closers):
            with contextlib.suppress(Exception):
                close()


def _speaker(config: KioskConfig) -> Any:
    """The voice of 长辈模式; None (silent) when its output cannot be opened."""
    from drivers.speech import open_speaker

    output = config.speech.output
    if output.startswith("dir://"):
        output = "dir://" + _var_path(output[len("dir://") :])
    try:
        return open_speaker(
            output, speed=config.speech.speed, cache_dir=_var_path(config.speech.cache_dir)
        )
    except Exception as exc:
        log.warning("no voice for elder mode: %s", type(exc).__name__)
        return None


def _smartcard(config: KioskConfig, manager: DeviceManager, enabled: dict[str, Any]) -> Any:
    """The social security card reader, with the PSAM that opens the holder file.

    Only the simulated hall has one yet: the software PSAM its virtual cards were made with. A
    hall's hardware PSAM (a SAM slot of the reader) is not supported, so there the card is not
    offered as a way to identify.
    """
    cfg = config.devices.enabled().get("smartcard")
    if "smartcard" not in enabled or cfg is None or not cfg.url.startswith("sim://"):
        return None
    from drivers.smartcard import SoftPsam
    from drivers.smartcard.sim_cards import SIM_PSAM_MASTER_KEY
    from kiosk.device_manager import ManagedSmartCard

    registry = _var_path(config.staff_registry) if config.staff_registry else ""
    return ManagedSmartCard(manager, SoftPsam(SIM_PSAM_MASTER_KEY), staff_registry=registry)


def run_headless(core: KioskCore, stop: threading.Event) -> None:
    """The machine's loop without a screen: pump as soon as events arrive, tick once a second."""
    from kiosk.events import Tick

    wake = threading.Event()
    core.set_waker(wake.set)
    next_tick = 0.0
    try:
        while not stop.is_set():
            now = time.monotonic()
            if now >= next_tick:
                core.post(Tick())
                next_tick = now + 1.0
            wake.clear()
            core.pump()
            wake.wait(max(0.0, min(0.25, next_tick - time.monotonic())))
    finally:
        core.set_waker(None)


def run_kiosk(
    config: KioskConfig,
    *,
    headless: bool = False,
    windowed: bool = False,
    exit_after_first_frame: bool = False,
) -> int:
    """`kiosk run`: the whole appliance until it is closed."""
    if headless:
        with build_runtime(config) as runtime:
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            with contextlib.suppress(KeyboardInterrupt):
                run_headless(runtime.core, stop)
            return RESTART_EXIT_CODE if _restart_requested.is_set() else 0
    from kiosk.startup import run_with_screen

    status = run_with_screen(
        config, windowed=windowed, exit_after_first_frame=exit_after_first_frame
    )
    return RESTART_EXIT_CODE if _restart_requested.is_set() else status
