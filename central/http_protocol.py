"""uvicorn's h11 protocol with a request-head deadline and a cap on open connections.

uvicorn closes idle keep-alive connections, but its timer stops at the first byte: a client that
connects and then sends nothing, or a header line now and then, holds its connection forever.
This subclass adds one timer per connection, armed while a request head is awaited (after
connecting, and after each response) and disarmed once a whole head has arrived; when it fires
the connection is closed. Past `max_connections`, the connection that has waited longest for its
head is closed to make room, so half-open connections cannot crowd out working kiosks.

It hooks only `connection_made`, `data_received`, `on_response_complete` and `connection_lost`
of `uvicorn.protocols.http.h11_impl.H11Protocol` (uvicorn picks h11 when httptools is absent, as
here); a request has begun exactly when the protocol has a response cycle that is not complete.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from central.limits import ServiceLimits


class GuardedH11Protocol(H11Protocol):
    """H11Protocol + head deadline + connection cap; settings come from `limits`."""

    limits: ServiceLimits = ServiceLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_deadline: asyncio.TimerHandle | None = None
        self.awaiting_head_since: float | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()
        if len(self.connections) > self.limits.max_connections:
            self._make_room()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._request_in_progress():
            self._stop_awaiting_head()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # may start a pipelined request at once
        if not self.transport.is_closing() and not self._request_in_progress():
            self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_awaiting_head()
        super().connection_lost(exc)

    def _request_in_progress(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def _await_head(self) -> None:
        self._stop_awaiting_head()
        self.awaiting_head_since = time.monotonic()
        self._head_deadline = self.loop.call_later(self.limits.header_timeout_s, self._close)

    def _stop_awaiting_head(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None
        self.awaiting_head_since = None

    def _close(self) -> None:
        self._stop_awaiting_head()
        if not self.transport.is_closing():
            self.transport.close()

    def _make_room(self) -> None:
        """Close the connection that has waited longest for a request head (maybe this one)."""
        waiting = [
            conn
            for conn in self.connections
            if isinstance(conn, GuardedH11Protocol) and conn.awaiting_head_since is not None
        ]
        oldest = min(waiting, key=lambda conn: conn.awaiting_head_since or 0.0, default=self)
        oldest._close()


def guarded_protocol(limits: ServiceLimits) -> type[GuardedH11Protocol]:
    """The protocol class to give `uvicorn.Config(http=...)` for these limits."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"limits": limits})
