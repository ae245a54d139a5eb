"""`python -m bench`: run every benchmark in turn."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

BENCHES = [
    "idcard_latency.py",
    "identify_latency.py",
    "qr_decode.py",
    "camera_fps.py",
    "startup.py",
    "touches.py",
    "a4_print.py",
    "screen_transitions.py",
    "gui_sessions.py",
    "ime.py",
    "durable.py",
    "faults.py",
    "central_load.py",
    "fleet_heartbeats.py",
    "fleet_dashboard.py",
]


def main() -> int:
    here = Path(__file__).parent
    for name in BENCHES:
        print(f"== {name}", flush=True)
        sys.argv = [name]
        try:
            runpy.run_path(str(here / name), run_name="__main__")
        except SystemExit as exc:
            if exc.code not in (0, None):
                return int(exc.code) if isinstance(exc.code, int) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
