"""Alert delivery to a webhook: a JSON POST per raise and per clear, retried with back-off.

An alert is `notified = "pending"` until a 2xx answer (then "delivered") or until
`webhook_max_attempts` failures (then "failed"). The next-try times live in memory: after a
restart, pending alerts are simply tried again at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from fleet.db import AlertRow
from fleet.metrics import FleetMetrics
from fleet.settings import FleetSettings

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 600.0


def payload(alert: AlertRow) -> dict[str, Any]:
    """The JSON body: Alertmanager-like `status` (firing | resolved) and the alert itself."""
    return {
        "status": "resolved" if alert.cleared_at is not None else "firing",
        "alert": {
            "id": alert.id,
            "kiosk_id": alert.kiosk_id,
            "kind": alert.kind,
            "subject": alert.subject,
            "severity": alert.severity,
            "message": alert.message,
            "raised_at": alert.raised_at.isoformat(),
            "cleared_at": alert.cleared_at.isoformat() if alert.cleared_at else None,
        },
    }


class WebhookSender:
    """Delivers pending alert notifications; call `deliver_pending` from the sweeper."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: FleetSettings,
        metrics: FleetMetrics,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._metrics = metrics
        self._monotonic = monotonic
        self._next_try: dict[tuple[int, bool], float] = {}  # (alert id, cleared) -> when

    async def deliver_pending(self) -> int:
        """Try every pending notification that is due; returns how many were delivered."""
        url = self._settings.webhook_url
        if not url:
            return 0
        pending = await asyncio.to_thread(self._load_pending)
        now = self._monotonic()
        due = [
            (alert, body)
            for alert, body in pending
            if self._next_try.get((alert.id, alert.cleared_at is not None), 0.0) <= now
        ]
        delivered = 0
        async with httpx.AsyncClient(timeout=self._settings.webhook_timeout_s) as client:
            for alert, body in due:
                ok = await self._post(client, url, body)
                delivered += ok
                await asyncio.to_thread(self._record, alert.id, ok, alert.cleared_at is not None)
        return delivered

    async def _post(self, client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> bool:
        try:
            response = await client.post(url, json=body)
        except httpx.HTTPError as exc:
            log.warning("webhook %s unreachable: %s", url, type(exc).__name__)
            self._metrics.webhook_deliveries.labels(outcome="error").inc()
            return False
        if 200 <= response.status_code < 300:
            self._metrics.webhook_deliveries.labels(outcome="delivered").inc()
            return True
        log.warning("webhook %s answered %d", url, response.status_code)
        self._metrics.webhook_deliveries.labels(outcome="refused").inc()
        return False

    def _load_pending(self) -> list[tuple[AlertRow, dict[str, Any]]]:
        with self._sessions() as session:
            rows = session.scalars(
                select(AlertRow).where(AlertRow.notified == "pending").order_by(AlertRow.id)
            ).all()
            return [(row, payload(row)) for row in rows]

    def _record(self, alert_id: int, ok: bool, cleared: bool) -> None:
        key = (alert_id, cleared)
        with self._sessions.begin() as session:
            row = session.get(AlertRow, alert_id)
            if row is None or row.notified != "pending" or (row.cleared_at is not None) != cleared:
                return  # changed meanwhile (e.g. cleared): the new state is delivered next
            row.attempts += 1
            if ok:
                row.notified = "delivered"
                self._next_try.pop(key, None)
            elif row.attempts >= self._settings.webhook_max_attempts:
                row.notified = "failed"
                self._next_try.pop(key, None)
            else:
                wait = min(
                    self._settings.webhook_backoff_s * 2 ** (row.attempts - 1), MAX_BACKOFF_S
                )
                self._next_try[key] = self._monotonic() + wait
