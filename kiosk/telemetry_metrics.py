"""The kiosk's own Prometheus `/metrics`, on loopback only (docs/telemetry.md).

Counters are counted as things happen; gauges (devices, paper, outbox, uptime) are read at
scrape time from a snapshot, so a scrape always shows the state of now. Labels are device and
state names only: nothing about a person can reach a metric.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from drivers.state import DeviceState, DeviceStatus, PaperState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    """What the gauges show, read once per scrape."""

    kiosk_id: str
    site: str
    version: str
    uptime_s: float
    in_service: bool
    devices: Mapping[str, DeviceStatus] = field(default_factory=dict)
    outbox_backlog: int = 0
    outbox_parked: int = 0


class _Live(Collector):
    def __init__(self, snapshot: Callable[[], Snapshot]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        try:
            now = self._snapshot()
        except Exception as exc:  # a locked store must not break the whole scrape
            log.warning("metrics snapshot failed: %s", type(exc).__name__)
            return
        info = GaugeMetricFamily(
            "kiosk_info", "This kiosk (always 1)", labels=["kiosk_id", "site", "version"]
        )
        info.add_metric([now.kiosk_id, now.site, now.version], 1)
        yield info
        yield GaugeMetricFamily("kiosk_uptime_seconds", "Seconds since start", value=now.uptime_s)
        yield GaugeMetricFamily(
            "kiosk_in_service", "1 in service, 0 out of service", value=int(now.in_service)
        )
        yield GaugeMetricFamily(
            "kiosk_outbox_backlog", "Messages waiting for delivery", value=now.outbox_backlog
        )
        yield GaugeMetricFamily(
            "kiosk_outbox_parked", "Messages parked for a technician", value=now.outbox_parked
        )
        state = GaugeMetricFamily(
            "kiosk_device_state", "1 for the device's current state", labels=["device", "state"]
        )
        usable = GaugeMetricFamily(
            "kiosk_device_usable", "1 if the device can be used now", labels=["device"]
        )
        paper = GaugeMetricFamily(
            "kiosk_printer_paper", "1 for the printer's paper state", labels=["printer", "paper"]
        )
        for name, status in sorted(now.devices.items()):
            for value in DeviceState:
                state.add_metric([name, value.value], int(status.state is value))
            usable.add_metric([name], int(status.usable))
            if status.paper is not None:
                for level in PaperState:
                    paper.add_metric([name, level.value], int(status.paper is level))
        yield state
        yield usable
        yield paper


class TelemetryMetrics:
    """The kiosk's metrics registry (its own, never the process-global one)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.sessions = Counter(
            "kiosk_sessions", "Resident sessions started", registry=self.registry
        )
        self.completions = Counter(
            "kiosk_completions",
            "Services delivered (printed, looked up, ticket taken, application received)",
            registry=self.registry,
        )
        self.heartbeat_failures = Counter(
            "kiosk_heartbeat_failures",
            "Heartbeats the fleet server did not take",
            ["reason"],
            registry=self.registry,
        )
        self.events = Counter(
            "kiosk_telemetry_events", "Telemetry events reported", ["kind"], registry=self.registry
        )
        self._live: _Live | None = None

    def bind(self, snapshot: Callable[[], Snapshot]) -> None:
        """Read the gauges from `snapshot` at every scrape."""
        if self._live is not None:
            self.registry.unregister(self._live)
        self._live = _Live(snapshot)
        self.registry.register(self._live)


def require_loopback(host: str) -> None:
    """Metrics tell anyone who can reach them how the kiosk is used: loopback only."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"metrics are served on loopback only, not on {host!r}")


class MetricsServer:
    """`/metrics` over HTTP on a loopback address, in a daemon thread."""

    def __init__(self, metrics: TelemetryMetrics, host: str = "127.0.0.1", port: int = 9108):
        require_loopback(host)
        self._httpd: Any
        self._httpd, self._thread = start_http_server(port, addr=host, registry=metrics.registry)
        self.host = host
        self.port = int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
