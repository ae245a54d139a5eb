"""A kiosk's status, ok | warning | fault | offline, from its latest beat and that beat's age."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fleet.settings import FleetSettings

OK, WARNING, FAULT, OFFLINE = "ok", "warning", "fault", "offline"
STATUSES = (OK, WARNING, FAULT, OFFLINE)

# A device in one of these states cannot serve; paper in one of these cannot print.
FAULT_DEVICE_STATES = frozenset({"hardware_error", "offline"})
FAULT_PAPER = frozenset({"out", "jammed"})


def beat_status(
    devices: Mapping[str, Any],
    paper: Mapping[str, Any],
    *,
    in_service: bool,
    outbox_backlog: int,
    settings: FleetSettings,
) -> str:
    """The status a beat reports, ignoring its age: fault, warning or ok."""
    if any(state in FAULT_DEVICE_STATES for state in devices.values()) or any(
        level in FAULT_PAPER for level in paper.values()
    ):
        return FAULT
    if (
        not in_service
        or "user_error" in devices.values()
        or "low" in paper.values()
        or outbox_backlog >= settings.backlog_warning
    ):
        return WARNING
    return OK


def is_offline(last_seen: datetime, at: datetime, settings: FleetSettings) -> bool:
    """True once `offline_after_missed` heartbeats in a row have not arrived."""
    return (at - last_seen).total_seconds() > settings.offline_after_s


def effective_status(
    reported: str, last_seen: datetime, at: datetime, settings: FleetSettings
) -> str:
    """What to show for a kiosk now: offline when its beats stopped, else what it last reported."""
    return OFFLINE if is_offline(last_seen, at, settings) else reported
