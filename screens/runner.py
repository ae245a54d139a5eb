"""Starting the Kivy front end: a display, Kivy's settings, the CJK font, then the app.

Kivy reads its environment and much of its configuration when first imported, so everything here
happens before `import kivy`; `screens.app` is imported only inside `run_app`.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_SIZE = (1080, 1920)
_REEXEC_MARK = "KIOSK_UNDER_XVFB"


def has_display() -> bool:
    """Whether a graphical display is reachable (X11, or Wayland)."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def xvfb_command(argv: list[str], size: tuple[int, int] = DEFAULT_SIZE) -> list[str]:
    """`argv` wrapped in xvfb-run with a virtual screen of `size` (portrait by default)."""
    width, height = size
    return ["xvfb-run", "-a", "-s", f"-screen 0 {width}x{height}x24", *argv]


def ensure_display(size: tuple[int, int] = DEFAULT_SIZE) -> None:
    """Make sure Kivy will have a display: re-exec under xvfb-run if none, or exit 2 explaining how.

    Returns only when a display is available; otherwise replaces or ends the process.
    """
    if has_display():
        return
    if os.environ.get(_REEXEC_MARK) or shutil.which("xvfb-run") is None:
        print(
            "kiosk: no display: set DISPLAY (a desktop or the kiosk's X session), "
            "or install xvfb (apt-get install xvfb xauth) to run on a virtual screen",
            file=sys.stderr,
        )
        sys.exit(2)
    # sys.orig_argv keeps "-m package" forms intact, which sys.argv does not.
    argv = [sys.executable, *sys.orig_argv[1:]]
    os.environ[_REEXEC_MARK] = "1"
    log.info("no display: restarting under xvfb-run")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvp("xvfb-run", xvfb_command(argv, size))


def kivy_home() -> str:
    """A writable KIVY_HOME that keeps Kivy's config.ini out of the user's ~/.kivy."""
    preset = os.environ.get("KIVY_HOME")
    if preset:
        return preset
    candidates = [
        Path.cwd() / "var" / "kivy",
        Path(tempfile.gettempdir()) / f"kiosk-kivy-{os.getuid()}",
    ]
    for path in candidates:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(path, os.W_OK):
            return str(path)
    return str(candidates[-1])


def configure_kivy(*, fullscreen: bool, size: tuple[int, int] = DEFAULT_SIZE) -> None:
    """Set Kivy's environment and configuration; call before anything imports kivy."""
    if "kivy" in sys.modules:
        log.debug("kivy already imported: environment settings may not take effect")
    os.environ.setdefault("KIVY_NO_ARGS", "1")  # our argv belongs to the kiosk CLI, not Kivy
    os.environ.setdefault("KIVY_NO_FILELOG", "1")  # the kiosk has its own logging
    os.environ.setdefault("KIVY_HOME", kivy_home())
    # Kivy's own mode takes over the root logger and stderr; log through Python's logging instead
    # (the CLI's handlers, or Python's last-resort handler for warnings when there are none).
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")

    from kivy.config import Config

    width, height = size
    Config.set("kivy", "log_level", "warning")
    Config.set("kivy", "exit_on_escape", "0" if fullscreen else "1")
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "resizable", "0" if fullscreen else "1")
    Config.set("graphics", "show_cursor", "0" if fullscreen else "1")
    # Without this a right click leaves red multitouch dots on the screen.
    Config.set("input", "mouse", "mouse,multitouch_on_demand")
    logging.getLogger("kivy").setLevel(logging.WARNING)

    from screens.fonts import register_fonts

    register_fonts()


def run_app(
    core: Any,
    *,
    fullscreen: bool,
    size: tuple[int, int] = DEFAULT_SIZE,
    exit_after_first_frame: bool = False,
    on_first_frame: Callable[[float], None] | None = None,
) -> int:
    """Show the kiosk screens for `core` until the window closes; returns an exit status.

    The caller owns the core (it has called `core.start()` and will call `core.stop()`); `core`
    may also be `kiosk.startup.StartingCore`, which stands in while the kiosk starts behind the
    start screen. `on_first_frame(t)` gets `time.monotonic()` once the start screen is first on
    screen; with `exit_after_first_frame` the app then quits (a startup benchmark).
    """
    configure_kivy(fullscreen=fullscreen, size=size)
    from kivy.clock import Clock

    from screens.app import KioskApp

    app: KioskApp

    def first_frame(t: float) -> None:
        if on_first_frame is not None:
            on_first_frame(t)
        if exit_after_first_frame:
            app.stop()

    app = KioskApp(core, fullscreen=fullscreen, size=size, on_first_frame=first_frame)

    def stop_on_signal(*_: object) -> None:
        # systemd stops the kiosk with SIGTERM: leave through App.stop so the caller's cleanup runs.
        Clock.schedule_once(lambda _dt: app.stop(), 0)

    previous = signal.signal(signal.SIGTERM, stop_on_signal)
    try:
        app.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0
