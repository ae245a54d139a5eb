"""What the maintenance menu acts on, bundled; built by the runtime (`build_tools`)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.config import KioskConfig
from kiosk.maintenance.audit import AuditLog, MemoryAudit, StoreSettings
from kiosk.maintenance.auth import (
    Lockout,
    LockoutPolicy,
    MemorySettings,
    PinFile,
    PinLogin,
    Settings,
    TechnicianCards,
)
from kiosk.maintenance.menu import UseDevice
from kiosk.runtime import RESTART_EXIT_CODE

log = logging.getLogger(__name__)


def exit_for_restart() -> None:
    """Leave at once with the code that says "restart me" (systemd: Restart=always).

    The store commits each write with synchronous=FULL, so nothing confirmed is lost.
    """
    logging.shutdown()
    os._exit(RESTART_EXIT_CODE)


@dataclass
class MaintenanceTools:
    """The menu's reach: sign-in, the audit log, devices, the outbox, logs, restart."""

    pins: PinLogin | None
    audit: AuditLog | MemoryAudit = field(default_factory=MemoryAudit)
    cards: TechnicianCards | None = None
    use_device: UseDevice | None = None  # DeviceManager.use
    outbox: Any = None
    logs: Any = None  # a handler with `lines(n)` (kiosk.diag.checks.RecentLogs)
    restart: Callable[[], None] = exit_for_restart
    signer: Any = None  # the kiosk's request signer, for the network checks


def build_tools(
    config: KioskConfig,
    *,
    store: Any = None,
    use_device: UseDevice | None = None,
    outbox: Any = None,
    logs: Any = None,
    restart: Callable[[], None] = exit_for_restart,
    home: Callable[[str], str] = lambda path: path,
    signer: Any = None,
) -> MaintenanceTools:
    """The tools for `config`; `home` resolves relative paths (runtime's `_var_path`)."""
    m = config.maintenance
    settings: Settings = StoreSettings(store) if store is not None else MemorySettings()
    lockout = Lockout(
        settings,
        LockoutPolicy(m.free_tries, m.lockout_base_s, m.lockout_max_s),
        store.now if store is not None else _now,
    )
    pins = PinLogin(PinFile(home(m.pin_file)), lockout) if m.pin_file else None
    registry = m.technician_registry or config.staff_registry
    cards = None
    if registry and use_device is not None and "smartcard" in config.devices.enabled():
        device = use_device
        cards = TechnicianCards(home(registry), lambda: device("smartcard"))
    return MaintenanceTools(
        pins=pins,
        audit=AuditLog(store) if store is not None else MemoryAudit(),
        cards=cards,
        use_device=use_device,
        outbox=outbox,
        logs=logs,
        restart=restart,
        signer=signer,
    )


def _now() -> Any:
    from datetime import datetime

    return datetime.now().astimezone()


def pin_file_path(config: KioskConfig, home: Callable[[str], str] = str) -> Path:
    return Path(home(config.maintenance.pin_file))
