"""Driver input (a card presented, a code scanned) as the core's own events."""

from __future__ import annotations

from drivers.idcard.device import CardPresented
from drivers.idcard.device import CardReadFailed as DriverCardReadFailed
from drivers.qr.payload import ScannedCode
from drivers.smartcard.reader import CardInserted
from kiosk.events import (
    CardRead,
    CardReadFailed,
    DeviceInput,
    Event,
    QrScanned,
    SmartCardInserted,
)


def to_core_event(event: DeviceInput) -> Event | None:
    """The core event for a device's input, or None when the core has no use for it (yet)."""
    payload = event.payload
    if isinstance(payload, CardPresented):
        return CardRead(payload.record)
    if isinstance(payload, DriverCardReadFailed):
        return CardReadFailed(payload.reason)
    if isinstance(payload, ScannedCode):
        return QrScanned(payload.text, event.device)
    if isinstance(payload, CardInserted) and event.device == "smartcard":
        return SmartCardInserted(payload.reader)
    return None
