"""Assembling a running kiosk from its configuration: service, devices, store, core, screens.

`sim://` devices and the `embedded` central service are started here, on loopback and ptys, so the
embedded default runs on a laptop exactly as it would in a hall, real protocols included.

With a screen, the attract screen comes first: `run_kiosk` shows it at once through a
`StartingCore` (every way in greyed out, "please wait") while `BackgroundStart` builds the runtime
on a thread, then attaches the real core. The heavy parts are imported inside `build_runtime`, so
importing this module costs the screen nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import importlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from kiosk.config import PROJECT_ROOT, KioskConfig

if TYPE_CHECKING:
    from kiosk.core import KioskCore
    from kiosk.device_manager import DeviceManager
    from kiosk.events import Event, Intent
    from kiosk.simulation import SimulatedHall
    from kiosk.views import ViewModel

log = logging.getLogger(__name__)
FRONT_END = "screens.runner"
_PR_SET_PDEATHSIG = 1


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
    from kiosk.delivery import central_sender
    from kiosk.device_manager import (
        DeviceManager,
        ManagedDocumentPrinter,
        ManagedPrinter,
        build_specs,
    )
    from kiosk.offline import OfflineCatalogue
    from kiosk.outbox import Outbox, OutboxWorker, load_or_create_key
    from kiosk.simulation import SimulatedHall
    from kiosk.store import open_store

    def check_cancelled() -> None:
        if cancel is not None and cancel.is_set():
            raise StartCancelled("stopped while starting")

    clock = SystemClock()
    closers: list[Any] = []
    try:
        central_url = config.central.url if central is None else central.base_url
        if central_url == "embedded":
            with _starting("reference central service"):
                from central.server import start_background

                server = start_background(db_url=_sqlite_url(config.central.embedded_db))
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
            central_url, timeout=config.central.timeout_s, kiosk_id=config.kiosk_id
        )
        closers.append(client.close)
        # The manager posts to the core, which is built next; the lambda resolves it then.
        manager = DeviceManager(build_specs(enabled, urls), lambda event: core.post(event))
        services = Services(
            central=client,
            printer=ManagedPrinter(manager),
            documents=ManagedDocumentPrinter(manager) if "document_printer" in enabled else None,
            journal=store,
            outbox=outbox,
            catalogue_cache=OfflineCatalogue(CatalogueCache(store)),
            smartcard=_smartcard(config, manager, enabled),
        )
        core = KioskCore(config, services, clock)
        closers.append(core.stop)
        hall.attach(core)
        check_cancelled()
        manager.start()
        closers.append(manager.stop)
        if central is not None:
            central.wait_ready(cancel or threading.Event())
        delivery = OutboxWorker(outbox, {"rating": central_sender(client)})
        delivery.start()
        closers.append(delivery.stop)
        core.start()
        yield Runtime(core, hall, manager)
    finally:
        for close in reversed(closers):
            with contextlib.suppress(Exception):
                close()


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

    return ManagedSmartCard(manager, SoftPsam(SIM_PSAM_MASTER_KEY))


class CentralProcess:
    """The embedded reference central service in a process of its own.

    Started by `kiosk run` once the start screen is up, it loads on another CPU core while the
    rest of the kiosk starts on this one, and shares no GIL with the screens (in a hall it is a
    separate service anyway). The listening socket is bound here and inherited, so the URL is
    known at once and connections made before the service is up wait in the backlog.
    """

    def __init__(self, db_url: str) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.bind(("127.0.0.1", 0))
            sock.listen(128)
            self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
            fd = sock.fileno()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "kiosk.cli", "central", "--listen-fd", str(fd)]
                + ["--db", db_url],
                pass_fds=(fd,),
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - prctl must run in the child
            )
        finally:
            sock.close()  # the child holds its own copy

    def wait_ready(self, cancel: threading.Event, timeout: float = 30.0) -> None:
        """Return once `GET /api/v1/health` answers; StartupError if it dies or stays silent."""
        import httpx

        deadline = time.monotonic() + timeout
        last = "no answer"
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if cancel.is_set():
                    raise StartCancelled("stopped while starting")
                if self.process.poll() is not None:
                    raise StartupError(
                        f"reference central service: exited with status {self.process.returncode}"
                    )
                try:
                    if client.get(f"{self.base_url}/api/v1/health").status_code == 200:
                        log.info("reference central service on %s", self.base_url)
                        return
                except httpx.HTTPError as exc:
                    last = type(exc).__name__
                cancel.wait(0.05)
        raise StartupError(f"reference central service: not healthy after {timeout:.0f} s ({last})")

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM (uvicorn shuts down gracefully), then SIGKILL if it does not go."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _die_with_parent() -> None:
    # In the child between fork and exec: SIGTERM when the thread that started it (the main
    # thread, so the kiosk) dies, even by SIGKILL.
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _first_frame_reporter(started: float, *, announce: bool) -> Callable[[float], None]:
    def report(t: float) -> None:
        log.info("start screen shown after %.2f s", t - started)
        if announce:
            print("FIRST-FRAME", flush=True)  # bench/startup.py waits for this line on stdout

    return report


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


def starting_view(config: KioskConfig) -> ViewModel:
    """The attract screen while the kiosk starts: every way in greyed out, "please wait".

    Nothing on it can be touched (no footer actions either): until the core is attached there is
    nobody to serve a touch.
    """
    from kiosk.i18n import translator
    from kiosk.ids import StateId
    from kiosk.session import Preferences, Session
    from kiosk.views import ViewContext, build_view

    prefs = Preferences(config.ui.large_text, config.ui.language)
    view = build_view(
        ViewContext(
            state=StateId.ATTRACT, session=Session(prefs=prefs), catalogue=None, config=config
        )
    )
    return dataclasses.replace(
        view,
        options=tuple(dataclasses.replace(option, enabled=False) for option in view.options),
        hint=translator(prefs.language)("Please wait…"),
        actions=(),
    )


class StartingCore:
    """What the front end talks to while the kiosk starts, then the real core through it.

    It answers like a `KioskCore` (view, listeners, waker, pump, touch). Until `attach(core)` it
    shows `starting_view` and drops touches and events; afterwards it forwards everything, and the
    first `pump()` after attaching tells the listeners the real view even if no event came.
    """

    def __init__(self, config: KioskConfig) -> None:
        self._view = starting_view(config)
        self._zone = ZoneInfo(config.timezone)
        self._lock = threading.Lock()
        self._core: KioskCore | None = None
        self._listeners: list[Callable[[ViewModel], None]] = []
        self._waker: Callable[[], None] | None = None
        self._announced = False

    @property
    def core(self) -> KioskCore | None:
        """The real core, once attached."""
        return self._core

    def attach(self, core: KioskCore) -> None:
        """Hand over to `core` (from any thread); the front end's waker is called to show it."""
        with self._lock:
            for listener in self._listeners:
                core.add_listener(listener)
            core.set_waker(self._waker)
            self._core = core
            waker = self._waker
        if waker is not None:
            waker()

    def detach(self) -> None:
        """Forget the core before it stops: from now on nothing reaches it."""
        with self._lock:
            core, self._core = self._core, None
            if core is not None:
                core.set_waker(None)
                for listener in self._listeners:
                    core.remove_listener(listener)

    # ---- the KioskCore interface the front end uses ------------------------------------------

    def add_listener(self, listener: Callable[[ViewModel], None]) -> None:
        with self._lock:
            self._listeners.append(listener)
            if self._core is not None:
                self._core.add_listener(listener)

    def remove_listener(self, listener: Callable[[ViewModel], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)
            if self._core is not None:
                self._core.remove_listener(listener)

    def set_waker(self, waker: Callable[[], None] | None) -> None:
        with self._lock:
            self._waker = waker
            if self._core is not None:
                self._core.set_waker(waker)

    def view(self) -> ViewModel:
        core = self._core
        return self._view if core is None else core.view()

    def local_now(self) -> datetime:
        core = self._core
        return datetime.now(self._zone) if core is None else core.local_now()

    def post(self, event: Event) -> None:
        core = self._core
        if core is not None:
            core.post(event)

    def touch(self, intent: Intent | str, arg: str | None = None) -> None:
        core = self._core
        if core is None:
            log.info("touch while starting ignored")  # its button was greyed out anyway
            return
        core.touch(intent, arg)

    def pump(self, limit: int = 1000) -> int:
        core = self._core
        if core is None:
            return 0
        handled = core.pump(limit)
        if not self._announced:
            self._announced = True
            if not handled:  # the core notified nobody: show its view now all the same
                view = core.view()
                for listener in list(self._listeners):
                    try:
                        listener(view)
                    except Exception:
                        log.exception("view listener failed")
        return handled


class BackgroundStart:
    """Builds the runtime on a thread of its own and keeps it until `stop()`.

    `start()`, on the main thread, also starts the embedded central service's process. The
    thread lives as long as the runtime: child processes tied to the thread that started them
    (pcscd) live exactly as long, and the same thread stops every part it started.
    """

    def __init__(self, config: KioskConfig, *, on_failed: Callable[[], None] | None = None) -> None:
        self.config = config
        self.core = StartingCore(config)
        self.runtime: Runtime | None = None
        self.error: BaseException | None = None
        self.ready = threading.Event()
        self._on_failed = on_failed
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kiosk-start")
        self._launched = False
        self._started = time.monotonic()
        self.central: CentralProcess | None = None

    def start(self) -> None:
        """Build the runtime from now on; once only, and not once stopped. Main thread only."""
        if self._launched or self._stop.is_set():
            return
        self._launched = True
        if self.config.central.url == "embedded":
            try:
                self.central = CentralProcess(_sqlite_url(self.config.central.embedded_db))
            except OSError as exc:
                self.error = StartupError(f"reference central service: {exc}")
                if self._on_failed is not None:
                    self._on_failed()
                return
        self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Stop every part started so far (or being started), and wait for it."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("the kiosk's parts did not stop within %.0f s", timeout)
        if self.central is not None:
            self.central.stop()

    def _run(self) -> None:
        try:
            with build_runtime(self.config, cancel=self._stop, central=self.central) as runtime:
                self.runtime = runtime
                self.core.attach(runtime.core)
                self.ready.set()
                log.info("kiosk ready after %.2f s", time.monotonic() - self._started)
                self._stop.wait()
                self.core.detach()
        except StartCancelled:
            log.info("stopped while starting")
        except BaseException as exc:
            self.error = exc
            if self._on_failed is not None:
                self._on_failed()


class _Terminated(Exception):
    """SIGTERM arrived before the screens took it over."""


def _terminate(*_: object) -> None:
    raise _Terminated


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
            return 0
    # The front end is picked by name at run time (as Electrum picks its GUI), so the core never
    # imports the screens above it.
    front_end = importlib.import_module(FRONT_END)
    front_end.ensure_display()
    started = time.monotonic()
    # Until the screens install their own handler, SIGTERM unwinds to the `finally` below.
    previous = signal.signal(signal.SIGTERM, _terminate)
    background: BackgroundStart | None = None
    status = 0
    try:
        # A part that cannot start ends the screens (their SIGTERM handler stops the app), and
        # the error is raised below once everything is stopped.
        starter = BackgroundStart(config, on_failed=lambda: os.kill(os.getpid(), signal.SIGTERM))
        background = starter
        report = _first_frame_reporter(started, announce=exit_after_first_frame)

        def first_frame(t: float) -> None:
            report(t)
            # Only now: Python work on a thread takes the GIL from Kivy's start, and another
            # process the CPU from it, delaying the first frame by more than they gain
            # (measured with bench/startup.py).
            if not exit_after_first_frame:
                starter.start()

        status = int(
            front_end.run_app(
                starter.core,
                fullscreen=config.ui.fullscreen and not windowed,
                size=(config.ui.width, config.ui.height),
                exit_after_first_frame=exit_after_first_frame,
                on_first_frame=first_frame,
            )
        )
    except _Terminated:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # stopping: a second SIGTERM must wait
        if background is not None:
            background.stop()
        signal.signal(signal.SIGTERM, previous)
    if background is not None and background.error is not None:
        raise background.error
    return status
