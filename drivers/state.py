"""One device state model for every driver, after CEN/XFS and IATA CUSS.

Drivers report a `DeviceStatus`; the device manager turns changes into events, the maintenance
menu and fleet telemetry read it, and the kiosk decides from it which functions are available.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class DeviceState(StrEnum):
    """The common states (CEN/XFS `fwDevice`, CUSS device status)."""

    ONLINE = "online"  # ready for use
    OFFLINE = "offline"  # configured, was or may be there, not answering now (unplugged, off)
    BUSY = "busy"  # working on a job; usable again when it ends
    HARDWARE_ERROR = "hardware_error"  # present but broken: needs a technician
    USER_ERROR = "user_error"  # the resident did something wrong (card upside down, cover open)
    NO_DEVICE = "no_device"  # nothing configured or found at that address

    @property
    def usable(self) -> bool:
        """Can a function that needs this device be offered to a resident now?"""
        return self in (DeviceState.ONLINE, DeviceState.BUSY, DeviceState.USER_ERROR)


class PaperState(StrEnum):
    """Printer paper, as CEN/XFS `fwPaper`."""

    FULL = "full"
    LOW = "low"
    OUT = "out"
    JAMMED = "jammed"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class DeviceStatus:
    """A device's state with its typed specifics; comparable, so changes are easy to detect."""

    state: DeviceState
    reason: str = ""  # short, safe to log and show a technician; never personal data
    paper: PaperState | None = None
    cover_open: bool | None = None
    media_present: bool | None = None  # a card on the reader, a document on the glass
    details: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def usable(self) -> bool:
        """Whether functions needing this device can run (printers also need paper)."""
        if not self.state.usable:
            return False
        return self.paper not in (PaperState.OUT, PaperState.JAMMED) and not self.cover_open

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form for diagnostics and telemetry."""
        out: dict[str, Any] = {"state": self.state.value}
        if self.reason:
            out["reason"] = self.reason
        if self.paper is not None:
            out["paper"] = self.paper.value
        if self.cover_open is not None:
            out["cover_open"] = self.cover_open
        if self.media_present is not None:
            out["media_present"] = self.media_present
        if self.details:
            out["details"] = dict(self.details)
        return out
