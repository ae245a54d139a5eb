"""Telemetry for fleet monitoring: heartbeats, events and local metrics (being built, issue 9).

The contract other parts of the kiosk rely on is `TelemetrySink.event`: the core and the
maintenance menu report what happened (a fault, a recovery, a maintenance action, a change of
service state) and never personal data. `NullTelemetry` is what a kiosk without a fleet uses.
"""

from __future__ import annotations

from typing import Protocol

EventValue = str | int | float | bool


class TelemetrySink(Protocol):
    """Where the kiosk reports events for the fleet."""

    def event(self, kind: str, *, device: str = "", **detail: EventValue) -> None:
        """Record one event: kind is fault | recovery | maintenance | service_state."""


class NullTelemetry:
    """Reports nothing: a kiosk with no fleet server configured."""

    def event(self, kind: str, *, device: str = "", **detail: EventValue) -> None:
        del kind, device, detail
