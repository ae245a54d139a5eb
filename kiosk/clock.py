"""Time, injected: the machine never reads the wall clock itself, so tests can move time."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the kiosk core needs to know about time."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (timeouts)."""
        ...

    def now(self) -> datetime:
        """The current wall-clock time, timezone-aware (records, receipts)."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC).astimezone()


class FakeClock:
    """A clock that only moves when a test says so."""

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._mono = 1000.0
        self._wall = start or datetime(2026, 11, 23, 9, 30, tzinfo=UTC).astimezone()

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def now(self) -> datetime:
        with self._lock:
            return self._wall

    def advance(self, seconds: float) -> None:
        """Move both clocks forward."""
        with self._lock:
            self._mono += seconds
            self._wall += timedelta(seconds=seconds)
