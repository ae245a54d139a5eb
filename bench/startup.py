"""Time from `kiosk run` to the first frame of the attract screen, against a bare Kivy window.

Both run on one Xvfb server started here, so the figure is the kiosk's own start-up cost: the
embedded central service, the simulators, the store, the font and the screens. Printed as
milliseconds (median of N) and as the ratio to the bare window measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = "FIRST-FRAME"

BARE_KIVY = f"""
import os
os.environ.setdefault("KIVY_NO_ARGS", "1")
from kivy.config import Config
Config.set("graphics", "width", "1080"); Config.set("graphics", "height", "1920")
from kivy.app import App
from kivy.clock import Clock
from kivy.uix.label import Label
class Bare(App):
    def build(self):
        Clock.schedule_once(lambda dt: (print("{MARKER}", flush=True), self.stop()), 0)
        return Label(text="hello")
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=5, help="runs of each (default 5)")
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
            bare = [sys.executable, str(bare_py)]
            _time_until_marker(kiosk, env)  # warm-up: font extraction, bytecode
            kiosk_ms, bare_ms = [], []
            for _ in range(args.n):
                bare_ms.append(_time_until_marker(bare, env))
                kiosk_ms.append(_time_until_marker(kiosk, env))
    finally:
        xvfb.terminate()
        xvfb.wait()
    k, b = statistics.median(kiosk_ms), statistics.median(bare_ms)
    print(
        f"kiosk run -> first attract frame: median {k:.0f} ms (min {min(kiosk_ms):.0f}, max {max(kiosk_ms):.0f})"
    )
    print(
        f"bare Kivy window -> first frame:  median {b:.0f} ms (min {min(bare_ms):.0f}, max {max(bare_ms):.0f})"
    )
    print(f"ratio kiosk/bare: {k / b:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
