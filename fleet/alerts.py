"""Raise and clear alerts from what the fleet knows now.

Each sweep works out which alerts SHOULD be open (offline for long enough, a device in fault,
paper low or out, an outbox backlog that keeps growing), raises the missing ones and clears the
ones whose condition has gone. Raising and clearing both set `notified = "pending"` so the
webhook sender tells the receiver about each. While a kiosk is offline its device and paper
alerts stay as they were: nothing new is known about them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fleet.db import AlertRow, HeartbeatRow, KioskRow
from fleet.settings import FleetSettings
from fleet.status import FAULT_DEVICE_STATES, OFFLINE, effective_status

AlertKey = tuple[str, str, str]  # kiosk id, kind, subject


@dataclass(frozen=True)
class Wanted:
    severity: str
    message: str


@dataclass
class AlertChanges:
    raised: list[AlertRow] = field(default_factory=list)
    cleared: list[AlertRow] = field(default_factory=list)
    kiosk_counts: dict[str, int] = field(default_factory=dict)
    open_counts: dict[str, int] = field(default_factory=dict)


def mark_offline(session: Session, at: datetime, settings: FleetSettings) -> int:
    """Set status "offline" on kiosks whose beats stopped; the next beat sets it back."""
    cutoff = at - timedelta(seconds=settings.offline_after_s)
    result = session.execute(
        update(KioskRow)
        .where(KioskRow.last_seen < cutoff, KioskRow.status != OFFLINE)
        .values(status=OFFLINE)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _device_alerts(kiosk: KioskRow) -> dict[AlertKey, Wanted]:
    wanted: dict[AlertKey, Wanted] = {}
    for device, state in sorted((kiosk.devices or {}).items()):
        if state in FAULT_DEVICE_STATES:
            wanted[(kiosk.kiosk_id, "device_fault", device)] = Wanted(
                "critical", f"{device}: {state}"
            )
    for printer, level in sorted((kiosk.paper or {}).items()):
        if level in ("out", "jammed"):
            wanted[(kiosk.kiosk_id, "paper_out", printer)] = Wanted(
                "critical", f"{printer}: paper {level}"
            )
        elif level == "low":
            wanted[(kiosk.kiosk_id, "paper_low", printer)] = Wanted(
                "warning", f"{printer}: paper low"
            )
    return wanted


def _growing_backlogs(
    session: Session, candidates: list[str], at: datetime, settings: FleetSettings
) -> set[str]:
    """Kiosks whose backlog never fell over the window and grew by at least the minimum."""
    if not candidates:
        return set()
    since = at - timedelta(seconds=settings.backlog_window_s)
    series: dict[str, list[int]] = defaultdict(list)
    for chunk_start in range(0, len(candidates), 500):
        rows = session.execute(
            select(HeartbeatRow.kiosk_id, HeartbeatRow.outbox_backlog)
            .where(
                HeartbeatRow.kiosk_id.in_(candidates[chunk_start : chunk_start + 500]),
                HeartbeatRow.received_at >= since,
            )
            .order_by(HeartbeatRow.kiosk_id, HeartbeatRow.received_at)
        ).all()
        for kiosk_id, backlog in rows:
            series[kiosk_id].append(backlog)
    growing = set()
    for kiosk_id, values in series.items():
        never_fell = all(b >= a for a, b in zip(values, values[1:], strict=False))
        if (
            len(values) >= 3
            and never_fell
            and values[-1] - values[0] >= settings.backlog_growth_min
        ):
            growing.add(kiosk_id)
    return growing


def evaluate(session: Session, at: datetime, settings: FleetSettings) -> AlertChanges:
    """Raise and clear alerts so that the open ones match the fleet's state at `at`."""
    changes = AlertChanges()
    kiosks = session.scalars(select(KioskRow)).all()
    open_alerts = {
        (a.kiosk_id, a.kind, a.subject): a
        for a in session.scalars(select(AlertRow).where(AlertRow.cleared_at.is_(None))).all()
    }
    open_by_kiosk: dict[str, list[tuple[AlertKey, AlertRow]]] = defaultdict(list)
    for key, alert in open_alerts.items():
        open_by_kiosk[key[0]].append((key, alert))
    wanted: dict[AlertKey, Wanted] = {}
    backlog_candidates = []
    counts: dict[str, int] = defaultdict(int)
    for kiosk in kiosks:
        status = effective_status(kiosk.status, kiosk.last_seen, at, settings)
        counts[status] += 1
        if status == OFFLINE:
            silent_s = (at - kiosk.last_seen).total_seconds()
            if silent_s >= settings.offline_alert_after_s:
                wanted[(kiosk.kiosk_id, "offline", "")] = Wanted(
                    "critical", f"no heartbeat for {int(silent_s // 60)} min"
                )
            # Nothing new is known about its devices: keep their alerts as they are.
            for key, alert in open_by_kiosk.get(kiosk.kiosk_id, ()):
                if key[1] != "offline":
                    wanted[key] = Wanted(alert.severity, alert.message)
            continue
        wanted.update(_device_alerts(kiosk))
        if kiosk.outbox_backlog >= settings.backlog_growth_min:
            backlog_candidates.append(kiosk.kiosk_id)
    for kiosk_id in _growing_backlogs(session, backlog_candidates, at, settings):
        wanted[(kiosk_id, "backlog_growing", "")] = Wanted(
            "warning", "outbox backlog keeps growing"
        )
    # Alerts of kiosks no longer in the table (deleted) are cleared too.
    for key, alert in open_alerts.items():
        if key not in wanted:
            alert.cleared_at = at
            alert.notified = "pending"
            alert.attempts = 0
            changes.cleared.append(alert)
    for key, want in wanted.items():
        if key not in open_alerts:
            alert = AlertRow(
                kiosk_id=key[0],
                kind=key[1],
                subject=key[2],
                severity=want.severity,
                message=want.message,
                raised_at=at,
                notified="pending",
                attempts=0,
            )
            session.add(alert)
            changes.raised.append(alert)
    session.flush()
    open_counts: dict[str, int] = defaultdict(int)
    for key in wanted:
        open_counts[key[1]] += 1
    changes.kiosk_counts = dict(counts)
    changes.open_counts = dict(open_counts)
    return changes
