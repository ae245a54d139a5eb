"""The background sweeper: offline status, alerts, webhook delivery, retention, metric gauges."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from fleet import alerts, retention
from fleet.metrics import FleetMetrics
from fleet.settings import FleetSettings
from fleet.webhook import WebhookSender

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    marked_offline: int
    raised: int
    cleared: int
    delivered: int
    pruned: dict[str, int] | None


class Sweeper:
    """One pass (`sweep_once`) every `sweep_interval_s` while the server runs."""

    def __init__(
        self, sessions: sessionmaker[Session], settings: FleetSettings, metrics: FleetMetrics
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._metrics = metrics
        self.webhook = WebhookSender(sessions, settings, metrics)
        self._last_prune: datetime | None = None

    async def sweep_once(self) -> SweepReport:
        at = self._settings.clock()
        marked, raised, cleared = await asyncio.to_thread(self._evaluate, at)
        delivered = await self.webhook.deliver_pending()
        pruned = None
        due = self._last_prune is None or (
            (at - self._last_prune).total_seconds() >= self._settings.retention_interval_s
        )
        if due:
            pruned = await asyncio.to_thread(
                retention.prune, self._sessions, at, self._settings.retention_days
            )
            self._last_prune = at
        return SweepReport(marked, raised, cleared, delivered, pruned)

    def _evaluate(self, at: datetime) -> tuple[int, int, int]:
        with self._sessions.begin() as session:
            marked = alerts.mark_offline(session, at, self._settings)
            changes = alerts.evaluate(session, at, self._settings)
        self._metrics.set_kiosk_counts(changes.kiosk_counts)
        self._metrics.set_open_alerts(changes.open_counts)
        return marked, len(changes.raised), len(changes.cleared)

    async def run_forever(self) -> None:
        while True:
            try:
                await self.sweep_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bad pass is logged; the next one tries again
                log.exception("fleet sweep failed")
            await asyncio.sleep(self._settings.sweep_interval_s)
