"""Driving a running kiosk's core from a test: tick and pump until something holds."""

from __future__ import annotations

import time


def pump_until(core, predicate, timeout: float = 20.0) -> None:
    """Tick and pump `core` until `predicate(core)`; fails naming the state and notice."""
    from kiosk.events import Tick

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        core.post(Tick())
        core.pump()
        if predicate(core):
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out in state {core.state}, notice={core.session.notice}")
