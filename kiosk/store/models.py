"""Tables of the local store. Nothing here holds personal data in the clear."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class JournalEntry(Base):
    """One step of a session through the machine: for audits, usage figures and debugging."""

    __tablename__ = "journal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    session_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # transition | rating | ...
    event: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(String(32), default="")
    target: Mapped[str] = mapped_column(String(32), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class OutboxMessage(Base):
    """A message that must reach the central service; durable before the resident is told."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Fernet token of the JSON payload; emptied once delivered so nothing personal lingers.
    payload: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # Parked: never retried automatically (rejected, no sender, undecryptable); a technician
    # looks at `park_reason` and `last_error` and may release it.
    parked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    park_reason: Mapped[str] = mapped_column(String(32), default="")


class StoreMeta(Base):
    """Small facts about the store itself, such as the fingerprint of the outbox key."""

    __tablename__ = "store_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class CachedDocument(Base):
    """The last good copy of public catalogue JSON (`GET /catalogue`, `GET /items/{code}`)."""

    __tablename__ = "catalogue_cache"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # catalogue | item
    code: Mapped[str] = mapped_column(String(128), primary_key=True)  # "" for the catalogue
    etag: Mapped[str] = mapped_column(String(256))
    body: Mapped[str] = mapped_column(Text)  # JSON text
    saved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """One maintenance action: who, what, when, with what result. Never personal data."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(64))  # technician:<id> | pin | fleet | auto
    action: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(16))  # ok | failed | refused | locked
    detail: Mapped[str] = mapped_column(String(200), default="")
