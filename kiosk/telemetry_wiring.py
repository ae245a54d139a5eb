"""Assembling telemetry for a running kiosk: the sink, the fleet client, commands, /metrics.

`kiosk.runtime` calls `build_telemetry` once the store and the device manager exist, gives the
sink to the core (`Services.telemetry`), then `connect` once the core exists, and adds the
streams to the outbox worker. Everything here is optional at run time: a fleet server that is
not configured, a metrics port in use, or a missing kiosk key leaves the kiosk running.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from kiosk.telemetry import FLEET_KINDS, LastErrorHandler, Telemetry

if TYPE_CHECKING:
    from drivers.state import DeviceStatus
    from kiosk.clock import Clock
    from kiosk.config import KioskConfig
    from kiosk.fleet_client import FleetClient
    from kiosk.outbox import Outbox, Stream
    from kiosk.store import Store
    from kiosk.telemetry_metrics import MetricsServer

log = logging.getLogger(__name__)


def changed_keys(before: Any, after: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two dumps of the configuration (values are
    never returned: some are secrets)."""
    if isinstance(before, dict) and isinstance(after, dict):
        keys: list[str] = []
        for key in sorted(set(before) | set(after)):
            keys += changed_keys(before.get(key), after.get(key), f"{prefix}{key}.")
        return keys
    return [] if before == after else [prefix.rstrip(".")]


# What a reload applies without a restart; everything else waits for the next start.
LIVE_KEYS = ("fleet.heartbeat_s",)


def reload_config(in_force: KioskConfig, telemetry: Telemetry) -> str:
    """Re-read the configuration file and apply what can be applied live; the answer says
    which keys were applied and which wait for a restart. Raises `ConfigError` (names the key)
    when the file is not valid: then nothing changes."""
    from kiosk.config import load_config

    fresh = load_config(in_force.source_path)
    changed = changed_keys(in_force.model_dump(mode="json"), fresh.model_dump(mode="json"))
    applied = [key for key in changed if key in LIVE_KEYS]
    if "fleet.heartbeat_s" in applied:
        telemetry.heartbeat_s = fresh.fleet.heartbeat_s
        telemetry.beat_soon()
    waiting = [key for key in changed if key not in LIVE_KEYS]
    log.info("configuration reloaded: applied %s; at the next start %s", applied, waiting)
    if not changed:
        return "reloaded: nothing changed"
    detail = f"applied: {', '.join(applied) or 'nothing'}"
    if waiting:
        detail += f"; at the next restart: {', '.join(waiting)}"
    return detail[:500]


def fleet_auth(config: KioskConfig, var_path: Callable[[str], str] = str) -> httpx.Auth | None:
    """The kiosk's request signer (trust/), from `credentials.key_file` when it is configured;
    `var_path` resolves a relative key path (the runtime's state directory)."""
    credentials = getattr(config, "credentials", None)
    key_file = getattr(credentials, "key_file", "") if credentials is not None else ""
    if not key_file:
        log.warning("fleet: no kiosk key configured; requests go unsigned and will be refused")
        return None
    from trust.keys import KeyFileError, load_private_key
    from trust.signing import KioskSigner

    try:
        key = load_private_key(var_path(key_file))
    except KeyFileError as exc:
        log.error("fleet: kiosk key not usable (%s); requests will be refused", exc)
        return None
    return KioskSigner(config.kiosk_id, key)


@dataclass
class TelemetryParts:
    """Telemetry of a running kiosk and what must be stopped with it."""

    telemetry: Telemetry
    client: FleetClient | None = None
    metrics_server: MetricsServer | None = None
    streams: dict[str, Stream] = field(default_factory=dict)
    _error_handler: logging.Handler | None = None

    def stop(self) -> None:
        self.telemetry.stop()
        if self._error_handler is not None:
            logging.getLogger().removeHandler(self._error_handler)
        if self.metrics_server is not None:
            self.metrics_server.stop()
        if self.client is not None:
            self.client.close()


def build_telemetry(
    config: KioskConfig,
    *,
    store: Store,
    outbox: Outbox,
    clock: Clock,
    statuses: Callable[[], Mapping[str, DeviceStatus]],
    in_service: Callable[[], bool],
) -> TelemetryParts:
    """The sink (for `Services.telemetry`) and the local /metrics, before the core exists."""
    from kiosk.telemetry_metrics import MetricsServer, TelemetryMetrics

    metrics = TelemetryMetrics()
    telemetry = Telemetry(
        config,
        store=store,
        clock=clock,
        outbox=outbox,
        statuses=statuses,
        in_service=in_service,
        metrics=metrics,
    )
    parts = TelemetryParts(telemetry)
    handler = LastErrorHandler(telemetry)
    logging.getLogger().addHandler(handler)
    parts._error_handler = handler
    if config.fleet.metrics_port:
        try:
            parts.metrics_server = MetricsServer(
                metrics, config.fleet.metrics_host, config.fleet.metrics_port
            )
            log.info("metrics on %s", parts.metrics_server.url)
        except OSError as exc:
            log.error("metrics not served on port %s: %s", config.fleet.metrics_port, exc)
    return parts


def connect(
    parts: TelemetryParts,
    config: KioskConfig,
    *,
    outbox: Outbox,
    set_in_service: Callable[[bool, str], None],
    restart: Callable[[], None],
    auth: httpx.Auth | None = None,
    transport: httpx.BaseTransport | None = None,
    start: bool = True,
) -> dict[str, Stream]:
    """Start watching and beating (unless `start` is False: a test drives it); with a fleet
    URL, the client and the command runner too. Returns the outbox streams for the worker
    (empty with the fleet off)."""
    from kiosk.fleet_client import FleetClient
    from kiosk.telemetry_commands import CommandActions, CommandRunner

    telemetry = parts.telemetry
    if telemetry.fleet_on:
        parts.client = FleetClient(
            config.fleet.url, auth=auth, timeout_s=config.fleet.timeout_s, transport=transport
        )
        actions = CommandActions(
            set_in_service=set_in_service,
            reload_config=lambda: reload_config(config, telemetry),
            restart=restart,
        )
        runner = CommandRunner(outbox, config.fleet.url, actions)
        parts.streams = telemetry.streams(parts.client, runner)
        log.info("fleet telemetry to %s every %.0f s", config.fleet.url, telemetry.heartbeat_s)
    else:
        waiting = outbox.backlog() - outbox.backlog(exclude=FLEET_KINDS)
        if waiting:
            log.warning("fleet off: %d telemetry messages left from before are parked", waiting)
    if start:
        telemetry.start()
    return parts.streams
