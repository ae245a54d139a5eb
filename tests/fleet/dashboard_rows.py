"""Rows for the dashboard's tests and bench: a fleet written straight into the fleet tables."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from fleet.dashboard import install
from fleet.db import (
    AlertRow,
    CommandRow,
    EventRow,
    HeartbeatRow,
    KioskRow,
    create_schema,
    make_engine,
    make_sessionmaker,
)
from fleet.operators import add_operator

NOW = datetime(2026, 12, 5, 6, 30, tzinfo=UTC)  # 14:30 in Beijing
PASSWORD = "correct horse battery"


@dataclass
class Fleet:
    app: FastAPI
    sessions: sessionmaker[Session]
    clock: list[datetime]  # clock[0] is "now" for the dashboard; tests move it


def dashboard_settings(clock: list[datetime], **overrides: Any) -> SimpleNamespace:
    values: dict[str, Any] = {
        "dashboard_secret": "test-secret-0123456789abcdef",
        "dashboard_summary_cache_s": 0.0,
        "clock": lambda: clock[0],
    }
    values.update(overrides)
    return SimpleNamespace(**values)


def make_fleet(db_url: str = "sqlite://", **overrides: Any) -> Fleet:
    engine = make_engine(db_url)
    create_schema(engine)
    sessions = make_sessionmaker(engine)
    clock = [NOW]
    app = FastAPI()
    install(app, sessions, dashboard_settings(clock, **overrides))
    add_operator(sessions, "wang.op", PASSWORD, "operator")
    add_operator(sessions, "li.view", PASSWORD, "viewer")
    return Fleet(app, sessions, clock)


def kiosk(kiosk_id: str, site: str, status: str = "ok", **fields: Any) -> KioskRow:
    values: dict[str, Any] = {
        "version": "1.4.0",
        "first_seen": NOW - timedelta(days=30),
        "last_seen": NOW - timedelta(seconds=20),
        "uptime_s": 86_400,
        "in_service": True,
        "devices": {
            "receipt_printer": "online",
            "idcard": "online",
            "qr_scanner": "online",
            "camera": "online",
        },
        "paper": {"receipt_printer": "full"},
        "outbox_backlog": 0,
        "last_error": "",
    }
    values.update(fields)
    return KioskRow(kiosk_id=kiosk_id, site=site, status=status, **values)


def sample_fleet(sessions: sessionmaker[Session]) -> None:
    """Six kiosks at two sites in every status, with beats, events, alerts and a command."""
    rows = [
        kiosk("HD-001", "海淀政务服务中心"),
        kiosk(
            "HD-002",
            "海淀政务服务中心",
            "fault",
            devices={"receipt_printer": "hardware_error", "idcard": "online"},
            paper={"receipt_printer": "jammed"},
            last_error="ESC/POS: paper jam",
        ),
        kiosk(
            "HD-003",
            "海淀政务服务中心",
            "warning",
            paper={"receipt_printer": "low"},
            outbox_backlog=73,
        ),
        kiosk("CY-001", "朝阳政务服务中心"),
        kiosk("CY-002", "朝阳政务服务中心", "offline", last_seen=NOW - timedelta(minutes=42)),
        kiosk("CY-003", "朝阳政务服务中心", "warning", in_service=False),
    ]
    with sessions.begin() as session:
        session.add_all(rows)
        session.add_all(beats("HD-001", hours=30))
        session.add_all(events("HD-002", 45))
        session.add_all(
            [
                AlertRow(
                    kiosk_id="HD-002",
                    kind="device_fault",
                    subject="receipt_printer",
                    severity="critical",
                    message="receipt_printer: hardware_error",
                    raised_at=NOW - timedelta(minutes=12),
                ),
                AlertRow(
                    kiosk_id="CY-002",
                    kind="offline",
                    severity="critical",
                    message="no heartbeat for 42 min",
                    raised_at=NOW - timedelta(minutes=37),
                ),
                AlertRow(
                    kiosk_id="HD-003",
                    kind="paper_low",
                    subject="receipt_printer",
                    message="receipt_printer: low",
                    raised_at=NOW - timedelta(hours=2),
                    cleared_at=NOW - timedelta(hours=1),
                ),
            ]
        )
        session.add(
            CommandRow(
                kiosk_id="HD-002",
                action="restart",
                reason="",
                issued_by="wang.op",
                issued_at=NOW - timedelta(hours=3),
                state="done",
                result="ok",
            )
        )


def beats(kiosk_id: str, hours: int, every_s: int = 30) -> list[HeartbeatRow]:
    """A beat every `every_s` for `hours` hours up to NOW; sessions follow the hour of day."""
    out = []
    count = hours * 3600 // every_s
    for i in range(count):
        at = NOW - timedelta(seconds=i * every_s)
        local_hour = (at.hour + 8) % 24
        busy = 8 <= local_hour < 18
        out.append(
            HeartbeatRow(
                kiosk_id=kiosk_id,
                received_at=at,
                sent_at=at,
                seq=count - i,
                site="",
                sessions=(1 if busy and i % 4 == 0 else 0),
                completions=(1 if busy and i % 8 == 0 else 0),
            )
        )
    return out


def events(kiosk_id: str, n: int) -> list[EventRow]:
    kinds = ["fault", "recovery", "maintenance", "service_state"]
    return [
        EventRow(
            kiosk_id=kiosk_id,
            event_id=str(uuid.UUID(int=i + 1)),
            kind=kinds[i % 4],
            occurred_at=NOW - timedelta(minutes=5 * i),
            received_at=NOW - timedelta(minutes=5 * i),
            device="receipt_printer",
            detail={"seq": i, "state": "hardware_error"},
        )
        for i in range(n)
    ]
