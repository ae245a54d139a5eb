"""The dashboard's reads: each one a bounded, indexed query that stays fast at fleet scale.

10,000 kiosks and millions of beats: the kiosk table reads `fleet_kiosks` only (one row per
kiosk, filtered on indexed site/status, one page at a time); a kiosk's history reads its own
beats, events, alerts and commands through the `(kiosk_id, time)` indexes, bounded by a time
window or a page. Only "sessions today" sums the day's beats of the whole fleet, and the
dashboard caches that figure for a few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from fleet.db import AlertRow, CommandRow, EventRow, HeartbeatRow, KioskRow
from fleet.status import FAULT, OFFLINE, OK, STATUSES, WARNING

# The kiosk table shows trouble first.
STATUS_ORDER = {FAULT: 0, OFFLINE: 1, WARNING: 2, OK: 3}


@dataclass(frozen=True)
class FleetSummary:
    by_status: dict[str, int]
    total: int
    open_alerts: int


@dataclass(frozen=True)
class SessionsToday:
    sessions: int
    completions: int


@dataclass(frozen=True)
class KioskFilter:
    site: str = ""
    status: str = ""
    kiosk_prefix: str = ""


@dataclass(frozen=True)
class KioskPage:
    rows: list[KioskRow]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class HourBucket:
    start: datetime  # local time
    sessions: int


def fleet_summary(session: Session) -> FleetSummary:
    counts = dict.fromkeys(STATUSES, 0)
    for status, n in session.execute(
        select(KioskRow.status, func.count()).group_by(KioskRow.status)
    ):
        counts[status] = counts.get(status, 0) + int(n)
    open_alerts = session.scalar(
        select(func.count()).select_from(AlertRow).where(AlertRow.cleared_at.is_(None))
    )
    return FleetSummary(counts, sum(counts.values()), int(open_alerts or 0))


def sessions_since(session: Session, since: datetime) -> SessionsToday:
    """Sessions and completions the fleet reported in beats received since `since`."""
    sessions, completions = session.execute(
        select(
            func.coalesce(func.sum(HeartbeatRow.sessions), 0),
            func.coalesce(func.sum(HeartbeatRow.completions), 0),
        ).where(HeartbeatRow.received_at >= since)
    ).one()
    return SessionsToday(int(sessions), int(completions))


def sites(session: Session) -> list[str]:
    return [s for s in session.scalars(select(KioskRow.site).distinct().order_by(KioskRow.site))]


def kiosk_page(session: Session, where: KioskFilter, page: int, page_size: int) -> KioskPage:
    conditions = []
    if where.site:
        conditions.append(KioskRow.site == where.site)
    if where.status:
        conditions.append(KioskRow.status == where.status)
    if where.kiosk_prefix:
        escaped = where.kiosk_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(KioskRow.kiosk_id.like(f"{escaped}%", escape="\\"))
    total = int(session.scalar(select(func.count()).select_from(KioskRow).where(*conditions)) or 0)
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    trouble_first = case(STATUS_ORDER, value=KioskRow.status, else_=len(STATUS_ORDER))
    rows = session.scalars(
        select(KioskRow)
        .where(*conditions)
        .order_by(trouble_first, KioskRow.kiosk_id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return KioskPage(list(rows), total, page, page_size)


def open_alerts(session: Session, kiosk_id: str | None = None, limit: int = 50) -> list[AlertRow]:
    query = select(AlertRow).where(AlertRow.cleared_at.is_(None))
    if kiosk_id is not None:
        query = query.where(AlertRow.kiosk_id == kiosk_id)
    query = query.order_by(AlertRow.raised_at.desc(), AlertRow.id.desc()).limit(limit)
    return list(session.scalars(query))


def kiosk_events(
    session: Session, kiosk_id: str, page: int, page_size: int
) -> tuple[list[EventRow], bool]:
    """One page of the kiosk's events, newest first, and whether an older page exists."""
    rows = session.scalars(
        select(EventRow)
        .where(EventRow.kiosk_id == kiosk_id)
        .order_by(EventRow.received_at.desc(), EventRow.id.desc())
        .limit(page_size + 1)
        .offset((max(1, page) - 1) * page_size)
    ).all()
    return list(rows[:page_size]), len(rows) > page_size


def sessions_per_hour(
    session: Session, kiosk_id: str, end: datetime, tz: ZoneInfo, hours: int = 24
) -> list[HourBucket]:
    """Sessions the kiosk reported per local clock hour, for the `hours` hours up to `end`."""
    last_hour = end.astimezone(tz).replace(minute=0, second=0, microsecond=0)
    first_hour = last_hour - timedelta(hours=hours - 1)
    buckets = {first_hour + timedelta(hours=i): 0 for i in range(hours)}
    beats = session.execute(
        select(HeartbeatRow.received_at, HeartbeatRow.sessions).where(
            HeartbeatRow.kiosk_id == kiosk_id,
            HeartbeatRow.received_at >= first_hour,
            HeartbeatRow.sessions > 0,
        )
    )
    for received_at, sessions in beats:
        hour = received_at.astimezone(tz).replace(minute=0, second=0, microsecond=0)
        if hour in buckets:
            buckets[hour] += int(sessions)
    return [HourBucket(start, n) for start, n in buckets.items()]


def recent_commands(session: Session, kiosk_id: str, limit: int = 10) -> list[CommandRow]:
    return list(
        session.scalars(
            select(CommandRow)
            .where(CommandRow.kiosk_id == kiosk_id)
            .order_by(CommandRow.id.desc())
            .limit(limit)
        )
    )
