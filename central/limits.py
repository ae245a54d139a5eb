"""How much a client may send and how slowly: request size, body pace, connections.

`ServiceLimits` is the one place these are configured. The body rules are enforced here, in an
ASGI middleware in front of the app (`BodyLimits`); the request-head deadline and the connection
cap need the HTTP protocol itself and live in `central.http_protocol`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MIB = 1024 * 1024
# An application carries up to 8 photographed pages as base64 (central.api_applications);
# it has its own, larger limit, and that route checks it again itself.
APPLICATION_BODY_BYTES = 12 * MIB


def _route_limits() -> Mapping[str, int]:
    return MappingProxyType({"POST /api/v1/applications": APPLICATION_BODY_BYTES})


@dataclass(frozen=True)
class ServiceLimits:
    """Limits of one central service process; the defaults fit the kiosks' largest requests.

    - `max_body_bytes`: any request body (the largest other than an application is a face
      capture: 400 KB of JPEG is 533 KB of base64, so 1 MiB leaves room).
    - `route_body_bytes`: `"METHOD /path"` -> a larger (or smaller) limit for that route.
    - `header_timeout_s`: a connection has this long to send a complete request head, from
      connecting or from the end of its previous response; then it is closed.
    - `body_timeout_s`: longest pause between two pieces of a request body while the service
      waits for it; then 408 and the connection is closed.
    - `max_connections`: open connections per process; past it, the connection that has waited
      longest without sending a request head is closed to make room (else the new one).
    - `keep_alive_s`: how long an idle keep-alive connection stays open.
    - `db_wait_s`: how long a request waits for a database slot, and then for a pooled
      connection, before 503 `service_busy` with Retry-After.
    """

    max_body_bytes: int = 1 * MIB
    route_body_bytes: Mapping[str, int] = field(default_factory=_route_limits)
    header_timeout_s: float = 10.0
    body_timeout_s: float = 10.0
    max_connections: int = 2000
    keep_alive_s: int = 5
    db_wait_s: float = 10.0

    def body_limit(self, method: str, path: str) -> int:
        """The body limit of one request."""
        return self.route_body_bytes.get(f"{method} {path}", self.max_body_bytes)


class _Refused(Exception):
    """Raised from `receive` to stop the app; the middleware answers in its place."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


class BodyLimits:
    """ASGI middleware: bodies over the limit get 413 and bodies that stall get 408.

    A declared `Content-Length` over the limit is refused before the app runs, so nothing of the
    body is read (and `Expect: 100-continue` clients never send it); chunked bodies are counted as
    they arrive and refused at the first byte over. Both answers close the connection, since the
    rest of the body would otherwise be read as the next request.
    """

    def __init__(self, app: ASGIApp, limits: ServiceLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.body_limit(scope["method"], scope["path"])
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(send, _too_large(limit))
            return
        received = 0
        body_done = False
        responded = False
        refused: _Refused | None = None

        def refuse(exc: _Refused) -> _Refused:
            nonlocal refused
            refused = exc  # from here on, whatever the app sends is dropped
            return exc

        async def limited_receive() -> Message:
            nonlocal received, body_done
            if body_done:  # only the disconnect is left to wait for: no deadline
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.limits.body_timeout_s)
            except TimeoutError:
                stalled = _Refused(408, "body_timeout", "the request body stopped arriving")
                raise refuse(stalled) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise refuse(_too_large(limit))
                body_done = not message.get("more_body", False)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal responded
            if refused is not None:
                return  # the app's answer to the refusal (FastAPI makes it a 400); ours goes out
            if message["type"] == "http.response.start":
                responded = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except Exception:
            if refused is None:
                raise
        if refused is not None and not responded:
            await _refuse(send, refused)


def _too_large(limit: int) -> _Refused:
    return _Refused(413, "body_too_large", f"the request body is over {limit} bytes")


async def _refuse(send: Send, refused: _Refused) -> None:
    body = json.dumps({"error": {"code": refused.code, "message": refused.message}}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": refused.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
