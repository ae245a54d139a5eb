"""Database of the central service: SQLAlchemy 2.x tables, engine and sessions.

Only portable column types and ORM statements are used, so the same code runs on SQLite (the
default, a file under ./var or in memory for tests) and on PostgreSQL. No raw ID number is ever
stored: persons and identity checks hold a keyed hash (see `central.idnumber.keyed_hash`).
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import weakref
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    create_engine,
    event,
    inspect,
    make_url,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import QueuePool

DEFAULT_DB_URL = "sqlite:///./var/central.db"


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    SQLite drops the offset and hands back naive values while PostgreSQL keeps it; normalising here
    keeps comparisons (token expiry) correct on both.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the central service stores UTC only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the central service tables."""


class Meta(Base):
    """Key-value settings that belong to one database, e.g. its ID hashing key."""

    __tablename__ = "central_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class CategoryRow(Base):
    """A catalogue category; rows are kept in sync with the seed file."""

    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(200))
    icon: Mapped[str] = mapped_column(String(100))


class ItemRow(Base):
    """A service item (事项) with its guide as a JSON document."""

    __tablename__ = "items"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(300))
    flow: Mapped[str] = mapped_column(String(16))
    identity: Mapped[str] = mapped_column(String(16))
    department: Mapped[str] = mapped_column(String(200))
    department_en: Mapped[str] = mapped_column(String(300))
    prints: Mapped[str] = mapped_column(String(16))
    lookup: Mapped[str | None] = mapped_column(String(16))
    queue: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    guide: Mapped[dict[str, Any]] = mapped_column(JSON)
    guide_en: Mapped[dict[str, Any]] = mapped_column(JSON)
    sample_form: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    certificate_kind: Mapped[str | None] = mapped_column(String(64))
    certificate_title: Mapped[str | None] = mapped_column(String(200))


class PersonRow(Base):
    """A person of the reference registry (standing in for the government's own databases)."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_no: Mapped[str] = mapped_column(String(32), unique=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    id_masked: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(50))
    records: Mapped[dict[str, Any]] = mapped_column(JSON)


class IdentityCheckRow(Base):
    """One identity check, kept for audit. The person_ref token is stored hashed too."""

    __tablename__ = "identity_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(UtcDateTime)
    kiosk_id: Mapped[str] = mapped_column(String(64), index=True)
    method: Mapped[str] = mapped_column(String(16))
    id_hash: Mapped[str] = mapped_column(String(64), index=True)
    verified: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    ref_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    ref_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CertificateRow(Base):
    """An issued certificate with the request it answered, for idempotent replay."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    certificate_no: Mapped[str] = mapped_column(String(40), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    item_code: Mapped[str] = mapped_column(String(64), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    kiosk_id: Mapped[str] = mapped_column(String(64), index=True)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    verify_code: Mapped[str] = mapped_column(String(16))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class RatingRow(Base):
    """A 好差评 rating from a kiosk, anonymous, applied once per Idempotency-Key."""

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    kiosk_id: Mapped[str] = mapped_column(String(64), index=True)
    item_code: Mapped[str | None] = mapped_column(String(64), index=True)
    level: Mapped[int] = mapped_column(Integer)
    # The service's own time of the rating (= received_at); the kiosk's is only kept, untrusted.
    rated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    client_rated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    case_no: Mapped[str | None] = mapped_column(String(40), index=True)
    flow: Mapped[str | None] = mapped_column(String(16))


# Connections per process: PostgreSQL's max_connections must cover this times the replicas.
POOL_SIZE = 10
POOL_OVERFLOW = 5
POOL_TIMEOUT_S = 10.0
SQLITE_BUSY_TIMEOUT_S = 15.0


def make_engine(
    db_url: str,
    *,
    pool_size: int = POOL_SIZE,
    max_overflow: int = POOL_OVERFLOW,
    pool_timeout: float = POOL_TIMEOUT_S,
) -> Engine:
    """An engine for `db_url`; SQLite files get their folder created and WAL mode.

    The pool holds `pool_size + max_overflow` connections (see `pool_capacity`); the app lets no
    more requests than that hold a session, so nobody waits on the pool itself.
    """
    url = make_url(db_url)
    pool = {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": pool_timeout}
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **pool)  # type: ignore[arg-type]
    database = url.database or ""
    folder = None
    if database in ("", ":memory:"):
        # A throwaway file, not one in-memory connection shared by every request thread (their
        # transactions would interleave on it): real SQLite locking, gone with the engine.
        folder = tempfile.mkdtemp(prefix="central-db-")
        url = make_url(f"sqlite:///{folder}/central.db")
    elif not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # Waiting a little for a concurrent writer beats failing with "database is locked".
    engine = create_engine(
        url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S}, poolclass=QueuePool, **pool
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    if folder is not None:
        weakref.finalize(engine, shutil.rmtree, folder, True)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL: readers never wait for the writer (nor it for them); busy_timeout as a pragma too,
    # so it holds for statements the sqlite3 module does not wrap.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
    cursor.close()


def pool_capacity(engine: Engine) -> int:
    """How many connections `engine`'s pool hands out at most (its size plus overflow)."""
    pool = engine.pool
    if isinstance(pool, QueuePool):
        return pool.size() + max(pool._max_overflow, 0)
    return POOL_SIZE


def create_schema(engine: Engine) -> None:
    """Create missing tables (the reference service has no migrations; its data is re-seedable)."""
    # create_all never adds columns: an items table from an older version is dropped, and
    # refilled from the seed on start, rather than failing every catalogue query.
    items = Base.metadata.tables[ItemRow.__tablename__]
    existing = inspect(engine)
    if existing.has_table(items.name):
        columns = {column["name"] for column in existing.get_columns(items.name)}
        if not set(items.columns.keys()) <= columns:
            items.drop(engine)
    Base.metadata.create_all(engine)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values usable after commit (responses are built after it)."""
    return sessionmaker(engine, expire_on_commit=False)


def id_hash_key(session: Session) -> bytes:
    """This database's secret key for hashing ID numbers, created on first use."""
    row = session.get(Meta, "id_hash_key")
    if row is None:
        row = Meta(key="id_hash_key", value=secrets.token_hex(32))
        session.add(row)
        session.commit()
    return bytes.fromhex(row.value)


def find_person_by_hash(session: Session, id_hash: str) -> PersonRow | None:
    """The registry person whose ID number hashes to `id_hash`, if any."""
    return session.scalars(select(PersonRow).where(PersonRow.id_hash == id_hash)).one_or_none()
