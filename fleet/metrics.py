"""The fleet server's own Prometheus metrics, in a registry per app (tests run several apps)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from fleet.status import STATUSES

__all__ = ["CONTENT_TYPE_LATEST", "FleetMetrics"]

ALERT_KINDS = ("offline", "device_fault", "paper_low", "paper_out", "backlog_growing")


@dataclass
class FleetMetrics:
    """Counters and gauges of one fleet server; `render()` is the /metrics body."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.beats_received = Counter(
            "fleet_heartbeats_received", "Heartbeats accepted for ingest", registry=r
        )
        self.beats_committed = Counter(
            "fleet_heartbeats_committed", "Heartbeats committed to the database", registry=r
        )
        self.commit_failures = Counter(
            "fleet_commit_failures", "Group commits that failed (their beats got 503)", registry=r
        )
        self.commit_seconds = Histogram(
            "fleet_commit_seconds",
            "Time to commit one batch of heartbeats",
            buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5),
            registry=r,
        )
        self.batch_size = Histogram(
            "fleet_commit_batch_size",
            "Heartbeats per group commit",
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
            registry=r,
        )
        self.events_stored = Counter("fleet_events_stored", "Kiosk events stored", registry=r)
        self.kiosks = Gauge("fleet_kiosks", "Kiosks by status", ["status"], registry=r)
        self.alerts_open = Gauge("fleet_alerts_open", "Open alerts by kind", ["kind"], registry=r)
        self.webhook_deliveries = Counter(
            "fleet_webhook_deliveries", "Webhook POSTs by outcome", ["outcome"], registry=r
        )
        for status in STATUSES:
            self.kiosks.labels(status=status).set(0)
        for kind in ALERT_KINDS:
            self.alerts_open.labels(kind=kind).set(0)

    def set_kiosk_counts(self, counts: dict[str, int]) -> None:
        for status in STATUSES:
            self.kiosks.labels(status=status).set(counts.get(status, 0))

    def set_open_alerts(self, counts: dict[str, int]) -> None:
        for kind in ALERT_KINDS:
            self.alerts_open.labels(kind=kind).set(counts.get(kind, 0))

    def render(self) -> bytes:
        return generate_latest(self.registry)
