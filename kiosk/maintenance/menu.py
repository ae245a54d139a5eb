"""The maintenance menu's entries and actions, and what its pages show (as data, no words).

Words are the views' business (`kiosk.views_maintenance`): here a page is a name and the facts
behind it. Each action is a plain function of the tools it needs, so it is testable alone and
runs off the machine's thread when it may be slow.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from drivers.state import DeviceStatus
from kiosk.config import KioskConfig
from kiosk.diag.checks import outbox_summary
from kiosk.diag.selftest import SelfTestResult, run_self_test

UseDevice = Callable[[str], contextlib.AbstractContextManager[Any]]

# Menu entries in the order shown: (action, what kind of thing it is).
#   page: opens a page; task: opens a page once slow work is done; act: does it at once.
DEVICES = "devices"
SELF_TESTS = "self_tests"
PAPER_REPLACED = "paper_replaced"
OUTBOX = "outbox"
LOGS = "logs"
NETWORK = "network"
CONFIG = "config"
OUT_OF_SERVICE = "out_of_service"
BACK_IN_SERVICE = "back_in_service"
RESTART = "restart"
# On pages
SELF_TEST = "self_test"  # arg "self_test:<device>"
RETRY_OUTBOX = "retry_outbox"
SELF_TEST_RESULT = "self_test_result"

MENU = (DEVICES, SELF_TESTS, PAPER_REPLACED, OUTBOX, LOGS, NETWORK, CONFIG, RESTART)
PAGES = frozenset({DEVICES, SELF_TESTS, OUTBOX, LOGS, CONFIG})
TASK_PAGES = frozenset({NETWORK})
LOG_LINES = 40


@dataclass(frozen=True)
class MaintenanceView:
    """What the maintenance views need from the core, as one immutable snapshot."""

    actor: str = ""  # technician:<id> | pin | "" before sign-in
    pin_length: int = 0
    wait_s: float = 0.0  # PIN locked out for this long
    can_use_pin: bool = False
    can_use_card: bool = False
    notice: str = ""  # a key of views_maintenance.NOTICES
    notice_params: dict[str, str] = field(default_factory=dict)
    page: str = ""
    data: Any = None  # the page's facts
    working: bool = False  # slow work (a self-test, the network checks) is running
    in_service: bool = True
    out_reason: str = ""  # why out of service: a device name, no_catalogue, or free text
    out_actor: str = ""
    devices: dict[str, DeviceStatus] = field(default_factory=dict)
    self_tests: dict[str, str] = field(default_factory=dict)
    nearest_window: str = ""
    nearest_window_en: str = ""


def paper_replaced(use_device: UseDevice) -> None:
    """A new roll is in: the printer forgets its paper counts and reads its sensor afresh."""
    with use_device("receipt_printer") as printer:
        reset = getattr(printer, "paper_changed", None)
        if reset is None:
            raise LookupError("this receipt printer keeps no paper counts")
        reset()


def self_test(device: str, use_device: UseDevice, config: KioskConfig) -> Any:
    """Run one device's self-test on the live driver."""
    try:
        with use_device(device) as driver:
            return run_self_test(device, driver, config=config)
    except Exception as exc:  # not usable now: a result that says so, not a crash
        from kiosk.i18n import N_

        return SelfTestResult(
            device, False, N_("The device is not usable now: {error}"), {"error": _reason(exc)}
        )


def _reason(exc: Exception) -> str:
    status = getattr(exc, "status", None)
    if isinstance(status, DeviceStatus):
        return status.reason or str(status.state)
    return type(exc).__name__


@dataclass(frozen=True)
class OutboxPage:
    summary: Any
    released: int | None = None  # how many parked messages "retry now" released


def outbox_page(outbox: Any) -> OutboxPage:
    return OutboxPage(outbox_summary(outbox))


# What the outbox carries to the central service (rating, application) and the fleet.
OUTBOX_KINDS = ("rating", "application", "telemetry", "heartbeat", "event")


def retry_outbox(outbox: Any, kinds: tuple[str, ...] = OUTBOX_KINDS) -> OutboxPage:
    """Release the parked messages and make the waiting ones due now."""
    released = int(outbox.retry_parked())
    wake = getattr(outbox, "wake", None)
    if wake is not None:
        wake(kinds)
    return OutboxPage(outbox_summary(outbox), released)


def log_lines(logs: Any) -> tuple[str, ...]:
    if logs is None:
        return ()
    return tuple(logs.lines(LOG_LINES))
