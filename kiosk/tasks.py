"""Slow work (API calls, print jobs) runs off the machine's thread and comes back as events."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from kiosk.events import Event, TaskDone, TaskFailed

log = logging.getLogger(__name__)


class UserFacingError(Exception):
    """An error whose message is safe to show a resident (no personal data, no internals)."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class TaskRunner(Protocol):
    """Runs `work()` somewhere and posts `TaskDone`/`TaskFailed` tagged with `task` and `token`."""

    def submit(self, task: str, token: int, work: Callable[[], Any]) -> None: ...

    def shutdown(self) -> None: ...


def run_task(task: str, token: int, work: Callable[[], Any]) -> Event:
    """Run one task and turn its outcome into an event; never raises."""
    try:
        return TaskDone(task, token, work())
    except UserFacingError as exc:
        return TaskFailed(task, token, str(exc), exc.retryable)
    except Exception:  # a task must never kill its worker; the resident sees a plain message
        log.exception("task %s failed unexpectedly", task)
        return TaskFailed(task, token, "internal_error")


class ThreadTaskRunner:
    """A small worker pool; results go back through `post`."""

    def __init__(self, post: Callable[[Event], None], workers: int = 4) -> None:
        self._post = post
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kiosk-task")

    def submit(self, task: str, token: int, work: Callable[[], Any]) -> None:
        self._pool.submit(lambda: self._post(run_task(task, token, work)))

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class InlineTaskRunner:
    """Runs each task at once on the caller's thread: whole journeys in unit tests, in milliseconds."""

    def __init__(self, post: Callable[[Event], None]) -> None:
        self._post = post

    def submit(self, task: str, token: int, work: Callable[[], Any]) -> None:
        self._post(run_task(task, token, work))

    def shutdown(self) -> None:
        pass
