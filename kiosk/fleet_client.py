"""The fleet server's kiosk API (docs/contracts: section 2): heartbeats, events, command acks.

Every request is signed when an `auth` (trust.signing.KioskSigner) is given. Errors come out as
three kinds the outbox can act on: `FleetUnavailable` (try again later), `FleetRejected` (this
message will never be taken) and nothing else. Error texts carry the status and the server's
error code only, never what was sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
ACTIONS = frozenset({"out_of_service", "back_in_service", "reload_config", "restart"})
MAX_EVENTS_PER_REQUEST = 100
# Refused for this request only: signatures out of the time window and revoked keys are fixed on
# the kiosk (clock, enrolment) without touching the messages, so they are retried, not parked.
_RETRYABLE = frozenset({401, 403, 408, 425, 429})


class FleetError(Exception):
    """The fleet server did not take a request."""


class FleetUnavailable(FleetError):
    """Not reachable, too slow, busy or refusing us for now: retry later."""


class FleetRejected(FleetError):
    """The server refused this request for good (validation, unknown command)."""

    def __init__(self, status_code: int, code: str) -> None:
        super().__init__(f"HTTP {status_code} {code}".strip())
        self.status_code = status_code
        self.code = code


@dataclass(frozen=True)
class FleetCommand:
    """A remote command handed out with a heartbeat answer."""

    id: int
    action: str
    reason: str = ""


def parse_commands(answer: Any) -> list[FleetCommand]:
    """The commands of a heartbeat answer; malformed entries are skipped (and logged), since
    the beat itself was committed and must not be sent again for a bad command list."""
    raw = answer.get("commands") if isinstance(answer, dict) else None
    if not isinstance(raw, list):
        return []
    commands = []
    for entry in raw:
        if not isinstance(entry, dict):
            log.warning("fleet: a command that is not an object was skipped")
            continue
        command_id, action, reason = entry.get("id"), entry.get("action"), entry.get("reason", "")
        if (
            not isinstance(command_id, int)
            or isinstance(command_id, bool)
            or command_id < 0
            or not isinstance(action, str)
            or not isinstance(reason, str)
        ):
            log.warning("fleet: a malformed command was skipped")
            continue
        commands.append(FleetCommand(command_id, action[:32], reason[:500]))
    return commands


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        error = body.get("error")  # the fleet server's shape: {"error": {"code", "message"}}
        if isinstance(error, dict) and isinstance(error.get("code"), str):
            return str(error["code"])[:64]
        if isinstance(body.get("code"), str):
            return str(body["code"])[:64]
    return ""


class FleetClient:
    """A small synchronous client; one instance serves the outbox worker thread."""

    def __init__(
        self,
        base_url: str,
        *,
        auth: httpx.Auth | None = None,
        timeout_s: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        base = base_url.rstrip("/")
        # `fleet.url` may name the server or its API; the kiosk endpoints live under /api/v1.
        self.base_url = base if base.endswith(API_PREFIX) else base + API_PREFIX
        self._http = httpx.Client(
            base_url=self.base_url, auth=auth, timeout=timeout_s, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        try:
            response = self._http.post(path, json=body)
        except httpx.HTTPError as exc:
            raise FleetUnavailable(f"{type(exc).__name__} on {path}") from None
        status = response.status_code
        if status >= 500 or status in _RETRYABLE:
            raise FleetUnavailable(f"HTTP {status} {_error_code(response)}".strip())
        if status >= 400:
            raise FleetRejected(status, _error_code(response))
        if status >= 300:
            raise FleetUnavailable(f"HTTP {status} (redirect not followed)")
        try:
            return response.json()
        except ValueError:
            return None  # taken (2xx); an unreadable answer does not undo that

    def post_heartbeat(self, beat: dict[str, Any]) -> list[FleetCommand]:
        """Send one heartbeat; the commands queued for this kiosk come back with the answer."""
        return parse_commands(self._post("/heartbeats", beat))

    def post_events(self, events: list[dict[str, Any]]) -> None:
        """Send up to 100 events; the server stores each `event_id` once."""
        if len(events) > MAX_EVENTS_PER_REQUEST:
            raise ValueError(f"at most {MAX_EVENTS_PER_REQUEST} events a request")
        self._post("/events", {"events": events})

    def ack(self, command_id: int, result: str, detail: str = "") -> None:
        """Report a command done or failed."""
        if result not in ("done", "failed"):
            raise ValueError("result must be 'done' or 'failed'")
        self._post(f"/commands/{int(command_id)}/ack", {"result": result, "detail": detail[:500]})
