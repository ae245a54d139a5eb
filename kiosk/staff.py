"""帮办: a staff member helping a resident signs in with their staff card, and it is recorded.

A staff card carries our maintenance applet (challenge-response, `drivers.smartcard.technician`):
the kiosk sends a fresh challenge with its own id, the card signs it, and the signature is checked
against the site's staff registry (public keys only, a root-readable file). Nothing secret
crosses the reader, and an answer recorded at one kiosk is worthless at another.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from kiosk.tasks import UserFacingError

log = logging.getLogger(__name__)

UseDevice = Callable[[], contextlib.AbstractContextManager[Any]]


class StaffCards:
    """Reads and verifies staff cards in the PC/SC reader."""

    def __init__(
        self, registry_path: str | Path, use_device: UseDevice, *, role: str | None = None
    ) -> None:
        self._registry_path = Path(registry_path)
        self._use_device = use_device
        # Only entries with this `role` (e.g. technician, for the maintenance menu); None: all.
        self._role = role

    def read_staff_id(self, kiosk_id: str, today: date | None = None) -> str:
        """The staff number the card in the reader proves, or `staff_card_not_accepted`."""
        from drivers.smartcard import TechnicianRegistry, verify_technician

        try:
            registry = (
                TechnicianRegistry.load(self._registry_path)
                if self._role is None
                else _registry_with_role(self._registry_path, self._role)
            )
        except Exception as exc:
            log.error("staff registry unusable: %s", type(exc).__name__)
            raise UserFacingError("staff_card_not_accepted") from None
        try:
            with self._use_device() as device:
                try:
                    device.connect()
                    who = verify_technician(device, registry, kiosk_id, today=today)
                finally:
                    device.disconnect()
        except Exception as exc:  # not a staff card, unknown, revoked, expired, unreadable
            log.warning("staff card refused: %s", type(exc).__name__)
            raise UserFacingError("staff_card_not_accepted") from None
        return who.tech_id


def _registry_with_role(path: Path, role: str) -> Any:
    """The registry's entries whose `role` is `role` (same file format, one more key)."""
    from drivers.smartcard import TechnicianRegistry

    whole = TechnicianRegistry.load(path)  # validates the file, names a bad entry
    del whole
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text)
    else:
        import json

        data = json.loads(text)
    items = [i for i in data["technicians"] if isinstance(i, dict) and i.get("role") == role]
    return TechnicianRegistry.from_dict({"technicians": items})
