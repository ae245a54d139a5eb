"""Database of the fleet server: SQLAlchemy 2.x tables, engine and sessions.

Portable column types only, so the same code runs on SQLite (one site) and PostgreSQL (a
province). Times are stored in UTC and set by the server, never taken from a kiosk's clock for
anything that decides status. No personal data is ever stored here: kiosks send device states,
counters and error codes only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    create_engine,
    make_url,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

DEFAULT_DB_URL = "sqlite:///./var/fleet.db"

# JSONB on PostgreSQL (indexable, compact), plain JSON text elsewhere.
Json = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL needs BIGINT for a million beats a day.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite hands back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the fleet server stores UTC only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the fleet tables."""


class KioskRow(Base):
    """One kiosk as last heard of: the latest heartbeat's summary, kept for fast listing."""

    __tablename__ = "fleet_kiosks"

    kiosk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True, default="")
    version: Mapped[str] = mapped_column(String(32), default="")
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    uptime_s: Mapped[int] = mapped_column(Integer, default=0)
    # ok | warning | fault | offline: derived by fleet.status from the latest beat and its age
    status: Mapped[str] = mapped_column(String(16), default="ok", index=True)
    in_service: Mapped[bool] = mapped_column(default=True)
    devices: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)  # name -> state
    paper: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)  # printer -> full|low|out
    outbox_backlog: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")


class HeartbeatRow(Base):
    """Every heartbeat as received; the history behind charts and backlog trends."""

    __tablename__ = "fleet_heartbeats"
    __table_args__ = (Index("ix_fleet_heartbeats_kiosk_time", "kiosk_id", "received_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kiosk_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    site: Mapped[str] = mapped_column(String(64), default="")
    version: Mapped[str] = mapped_column(String(32), default="")
    uptime_s: Mapped[int] = mapped_column(Integer, default=0)
    in_service: Mapped[bool] = mapped_column(default=True)
    devices: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    paper: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    outbox_backlog: Mapped[int] = mapped_column(Integer, default=0)
    sessions: Mapped[int] = mapped_column(Integer, default=0)
    completions: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")


class EventRow(Base):
    """A fault, recovery, maintenance action or service state change, as the kiosk reported it.

    `(kiosk_id, event_id)` is unique: a kiosk resends events it has no acknowledgement for, and
    a resent one is stored once.
    """

    __tablename__ = "fleet_events"
    __table_args__ = (
        Index("ux_fleet_events_kiosk_event", "kiosk_id", "event_id", unique=True),
        Index("ix_fleet_events_kiosk_time", "kiosk_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kiosk_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))  # fault | recovery | maintenance | service_state
    occurred_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    device: Mapped[str] = mapped_column(String(32), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)


class CommandRow(Base):
    """A remote command queued by an operator, picked up with a heartbeat and acknowledged."""

    __tablename__ = "fleet_commands"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kiosk_id: Mapped[str] = mapped_column(String(64), index=True)
    # out_of_service | back_in_service | reload_config | restart
    action: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    issued_by: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # queued -> sent (handed out with a heartbeat answer) -> done | failed
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    acked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    result: Mapped[str] = mapped_column(Text, default="")


class AlertRow(Base):
    """An alert: open while its condition holds, cleared (with a time) once it no longer does."""

    __tablename__ = "fleet_alerts"
    __table_args__ = (Index("ix_fleet_alerts_open", "kiosk_id", "kind", "cleared_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kiosk_id: Mapped[str] = mapped_column(String(64))
    # offline | device_fault | paper_low | paper_out | backlog_growing
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64), default="")  # the device, when there is one
    severity: Mapped[str] = mapped_column(String(16), default="warning")  # warning | critical
    message: Mapped[str] = mapped_column(Text, default="")
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    cleared_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # webhook delivery: pending -> delivered (with attempts) for the raise and for the clear
    notified: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class OperatorRow(Base):
    """A dashboard user; the password is kept only as an argon2 hash."""

    __tablename__ = "fleet_operators"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # viewer | operator
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class OperatorAuditRow(Base):
    """Who did what from the dashboard, and when (logins, commands, alert acknowledgements)."""

    __tablename__ = "fleet_operator_audit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    username: Mapped[str] = mapped_column(String(64), ForeignKey("fleet_operators.username"))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(64), default="")


def now() -> datetime:
    """The server's clock in UTC; the only clock that decides a kiosk's status."""
    return datetime.now(UTC)


def make_engine(db_url: str) -> Engine:
    """An engine for `db_url`. In-memory SQLite keeps one shared connection for all threads."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            from sqlalchemy.pool import StaticPool

            return create_engine(
                "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
            )
        return create_engine(url, connect_args={"timeout": 15})
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def create_schema(engine: Engine) -> None:
    """Create the tables that are missing."""
    Base.metadata.create_all(engine)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (handlers return them)."""
    return sessionmaker(engine, expire_on_commit=False)
