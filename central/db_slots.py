"""At most as many requests hold a database session as the pool has connections.

Without this, 40 worker threads share 15 pooled connections: threads that hold one wait for a
thread to give it back, threads that wait for one hold the thread, and everything stalls until
the pool's timeout (500s after 30 s). Requests now queue here, on the event loop, before they take
a thread or a session; one that waits longer than `wait_s` is answered 503 with Retry-After.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from central.errors import service_busy


class DbSlots:
    """A counting gate per event loop (tests run one app on several loops)."""

    def __init__(self, slots: int, wait_s: float) -> None:
        self.slots = slots
        self.wait_s = wait_s
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def _gate(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Semaphore(self.slots)
        return gate

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """Hold one slot for the body of the `async with`; 503 `service_busy` if none comes."""
        gate = self._gate()
        try:
            await asyncio.wait_for(gate.acquire(), self.wait_s)
        except TimeoutError:
            raise service_busy() from None
        try:
            yield
        finally:
            gate.release()
