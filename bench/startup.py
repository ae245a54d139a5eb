"""Time from `kiosk run` to the first frame of the attract screen, against a bare Kivy window.

Both run on one Xvfb server started here, so the figure is the kiosk's own start-up cost: the
configuration, the font and the screens (the central service, the simulators, the store and the
core start behind the first frame). The bare window shows one CJK label in the face the kiosk
uses, at the same window size. Printed as milliseconds (median of N) and as the ratio to the bare
window measured in the same run; then how long `kiosk run` takes until it is ready to serve (its
"kiosk ready after" log line), which it is stopped at with SIGTERM, as systemd would.

Both commands run once before timing, with bytecode caching on (in a private cache), as an
installed kiosk has it: the figures are not about compiling our sources.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = "FIRST-FRAME"

BARE_KIVY = f"""
import os, sys
os.environ.setdefault("KIVY_NO_ARGS", "1")
from kivy.config import Config
Config.set("graphics", "width", "1080"); Config.set("graphics", "height", "1920")
from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.label import Label
class Bare(App):
    def build(self):
        # as the kiosk does: announce once the first frame is drawn, on the next clock tick
        def flipped(*_):
            Window.unbind(on_flip=flipped)
            Clock.schedule_once(lambda dt: (print("{MARKER}", flush=True), self.stop()), 0)
        Window.bind(on_flip=flipped)
        return Label(text="自助服务终端", font_name=sys.argv[1], font_size="64sp")
Bare().run()
"""


def _time_until_marker(cmd: list[str], env: dict[str, str], timeout: float = 120) -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if MARKER in line:
                elapsed = time.perf_counter() - start
                break
        else:
            raise RuntimeError(f"{cmd[0]} exited without drawing a frame")
    finally:
        proc.wait(timeout=timeout)
    return elapsed * 1000


READY = re.compile(r"kiosk ready after ([0-9.]+) s")


def _time_until_ready(cmd: list[str], env: dict[str, str], timeout: float = 120) -> float:
    """Milliseconds from start to the "kiosk ready" log line; then SIGTERM and wait."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if READY.search(line):
                elapsed = time.perf_counter() - start
                break
        else:
            raise RuntimeError(f"{cmd[0]} exited before it was ready")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=timeout)
    return elapsed * 1000


def _summary(what: str, values: list[float]) -> str:
    med = statistics.median(values)
    return f"{what}: median {med:.0f} ms (min {min(values):.0f}, max {max(values):.0f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=5, help="runs of each (default 5)")
    parser.add_argument(
        "--no-ready", action="store_true", help="skip the runs until the kiosk is ready"
    )
    args = parser.parse_args()
    if shutil.which("Xvfb") is None:
        print("Xvfb is not installed (make setup installs it)", file=sys.stderr)
        return 2
    display = ":97"
    xvfb = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "1080x1920x24", "-nolisten", "tcp"],
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1.0)
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, DISPLAY=display, KIVY_HOME=tmp, KIOSK_HOME=tmp)
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
            kiosk = [
                sys.executable,
                "-m",
                "kiosk.cli",
                "run",
                "--windowed",
                "--exit-after-first-frame",
            ]
            bare_py = Path(tmp) / "bare_kivy.py"
            bare_py.write_text(BARE_KIVY, encoding="utf-8")  # Kivy's App wants a source file
            _time_until_marker(kiosk, env)  # warm-up: font extraction, bytecode
            # The bare window draws its CJK label with the face the kiosk's warm-up cached, so
            # both pay the same font cost and the ratio is the kiosk's own work.
            from screens.fonts import find_font_files

            bare = [sys.executable, str(bare_py), str(find_font_files().regular)]
            _time_until_marker(bare, env)  # warm-up: bytecode
            kiosk_ms, bare_ms, ready_ms = [], [], []
            for _ in range(args.n):
                bare_ms.append(_time_until_marker(bare, env))
                kiosk_ms.append(_time_until_marker(kiosk, env))
            if not args.no_ready:
                serve = [arg for arg in kiosk if arg != "--exit-after-first-frame"]
                for _ in range(args.n):
                    ready_ms.append(_time_until_ready(serve, env))
    finally:
        xvfb.terminate()
        xvfb.wait()
    k, b = statistics.median(kiosk_ms), statistics.median(bare_ms)
    print(_summary("kiosk run -> first attract frame", kiosk_ms))
    print(_summary("bare Kivy window -> first frame ", bare_ms))
    print(f"ratio kiosk/bare: {k / b:.2f}")
    if ready_ms:
        print(_summary("kiosk run -> ready to serve    ", ready_ms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
