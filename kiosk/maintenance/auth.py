"""Technician sign-in: a PIN kept only as an argon2 hash, a lockout that grows, and cards.

The PIN file holds one argon2id hash and nothing else, mode 0600 (root-readable on a kiosk).
Failures are counted in the store, so a restart does not reset the lockout: after `free_tries`
failures every further failure waits `base_s * 2**k`, capped at `max_s`. Technician cards are
the staff cards' challenge-response (`kiosk.staff`), accepted only for registry entries whose
role is technician.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from kiosk.staff import StaffCards

log = logging.getLogger(__name__)

PIN_MIN, PIN_MAX = 6, 12
TECHNICIAN_ROLE = "technician"
_FAILURES_KEY = "maintenance.pin_failures"
_LOCKED_UNTIL_KEY = "maintenance.pin_locked_until"


class PinError(ValueError):
    """A PIN that may not be set (length, not digits); the message says why."""


def check_pin_format(pin: str) -> None:
    """A PIN is 6 to 12 ASCII digits."""
    if not (PIN_MIN <= len(pin) <= PIN_MAX and pin.isascii() and pin.isdigit()):
        raise PinError(f"a PIN is {PIN_MIN} to {PIN_MAX} digits")


class PinFile:
    """The technician PIN's argon2 hash in a file of its own."""

    def __init__(self, path: str | Path, hasher: PasswordHasher | None = None) -> None:
        self.path = Path(path)
        self._hasher = hasher or PasswordHasher()

    def set(self, pin: str) -> None:
        """Hash `pin` and write it, readable by the owner only (atomic replace)."""
        check_pin_format(pin)
        encoded = self._hasher.hash(pin)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)  # even when the umask or an old file said otherwise
            os.write(fd, (encoded + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)

    @property
    def configured(self) -> bool:
        return self.path.is_file()

    def verify(self, pin: str) -> bool:
        """Whether `pin` matches; False when no PIN is set or the file is unusable."""
        try:
            encoded = self.path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("maintenance PIN file unusable: %s", type(exc).__name__)
            return False
        if self.path.stat().st_mode & 0o077:
            log.warning("maintenance PIN file %s is readable by others; refusing it", self.path)
            return False
        try:
            return bool(self._hasher.verify(encoded, pin))
        except VerifyMismatchError:
            return False
        except (VerificationError, InvalidHashError) as exc:
            log.warning("maintenance PIN file holds no valid hash: %s", type(exc).__name__)
            return False


class Settings(Protocol):
    """Small persistent facts (the store's `store_meta`)."""

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...


class MemorySettings:
    """`Settings` in memory, for tests and a kiosk without a store."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def set(self, key: str, value: str) -> None:
        self.values[key] = value


@dataclass(frozen=True)
class LockoutPolicy:
    free_tries: int = 3
    base_s: float = 30.0
    max_s: float = 900.0

    def delay_after(self, failures: int) -> float:
        """Seconds to wait after `failures` consecutive failures."""
        if failures < self.free_tries:
            return 0.0
        return float(min(self.base_s * 2 ** min(failures - self.free_tries, 30), self.max_s))


class Lockout:
    """Consecutive PIN failures and the wait they impose, kept across restarts."""

    def __init__(
        self, settings: Settings, policy: LockoutPolicy, now: Callable[[], datetime]
    ) -> None:
        self._settings = settings
        self.policy = policy
        self._now = now

    @property
    def failures(self) -> int:
        return _int(self._settings.get(_FAILURES_KEY))

    def wait_s(self) -> float:
        """Seconds until a PIN may be tried again (0: now)."""
        until = _float(self._settings.get(_LOCKED_UNTIL_KEY))
        return max(0.0, until - self._now().timestamp())

    def failed(self) -> float:
        """Count a failure; returns the wait it imposes."""
        failures = self.failures + 1
        delay = self.policy.delay_after(failures)
        self._settings.set(_FAILURES_KEY, str(failures))
        self._settings.set(_LOCKED_UNTIL_KEY, repr(self._now().timestamp() + delay))
        return delay

    def succeeded(self) -> None:
        self._settings.set(_FAILURES_KEY, "0")
        self._settings.set(_LOCKED_UNTIL_KEY, "0")


@dataclass(frozen=True)
class PinOutcome:
    ok: bool
    wait_s: float = 0.0  # locked out for this long (before or because of this try)
    locked: bool = False  # refused without checking: a wait was still running


class PinLogin:
    """Checks a PIN under the lockout."""

    def __init__(self, pin_file: PinFile, lockout: Lockout) -> None:
        self.pin_file = pin_file
        self.lockout = lockout

    def attempt(self, pin: str) -> PinOutcome:
        wait = self.lockout.wait_s()
        if wait > 0:
            return PinOutcome(False, wait, locked=True)
        if self.pin_file.verify(pin):
            self.lockout.succeeded()
            return PinOutcome(True)
        return PinOutcome(False, self.lockout.failed())


def _int(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        return 0


def _float(text: str | None) -> float:
    try:
        return float(text or 0)
    except ValueError:
        return 0.0


UseDevice = Callable[[], contextlib.AbstractContextManager[Any]]


class TechnicianCards:
    """A technician card in the PC/SC reader, proved by challenge-response (`kiosk.staff`)."""

    def __init__(self, registry_path: str | Path, use_device: UseDevice) -> None:
        self._cards = StaffCards(registry_path, use_device, role=TECHNICIAN_ROLE)

    def read_technician_id(self, kiosk_id: str, today: date | None = None) -> str:
        """The technician id the card proves; `UserFacingError("staff_card_not_accepted")`."""
        return self._cards.read_staff_id(kiosk_id, today)
