"""Starting the kiosk with a screen: the attract screen first, everything else behind it.

`run_with_screen` shows the attract screen at once through a `StartingCore` (every way in greyed
out, "please wait") while `BackgroundStart` builds the runtime on a thread, then attaches the real
core. The embedded central service runs in a process of its own (`CentralProcess`), so it loads
on another core and shares no GIL with the screens.
"""

from __future__ import annotations

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
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from kiosk.children import die_with_parent
from kiosk.config import KioskConfig
from kiosk.runtime import (
    FRONT_END,
    Runtime,
    StartCancelled,
    StartupError,
    _sqlite_url,
    build_runtime,
)

if TYPE_CHECKING:
    from kiosk.core import KioskCore
    from kiosk.events import Event, Intent
    from kiosk.views import ViewModel

log = logging.getLogger(__name__)


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
                preexec_fn=die_with_parent,  # noqa: PLW1509 - prctl must run in the child
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


def _first_frame_reporter(started: float, *, announce: bool) -> Callable[[float], None]:
    def report(t: float) -> None:
        log.info("start screen shown after %.2f s", t - started)
        if announce:
            print("FIRST-FRAME", flush=True)  # bench/startup.py waits for this line on stdout

    return report


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


def run_with_screen(
    config: KioskConfig, *, windowed: bool = False, exit_after_first_frame: bool = False
) -> int:
    """`kiosk run` with a screen: the attract screen first, the rest built behind it."""
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
