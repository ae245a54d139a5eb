"""Opening the store: engine, SQLite pragmas, migrations; and the journal it keeps."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from kiosk.store.models import JournalEntry

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL keeps readers (maintenance menu, telemetry) from blocking the session's writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


class Store:
    """The kiosk's local database."""

    def __init__(self, engine: Engine, now: Callable[[], datetime]) -> None:
        self.engine = engine
        self.now = now
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    def session(self) -> Session:
        """A new ORM session (use as a context manager)."""
        return self.sessions()

    def record_transition(self, session_id: str, event: str, source: str, target: str) -> None:
        """Journal one machine step; never personal data, only state names."""
        self._journal(session_id, "transition", event=event, source=source, target=target)

    def record_rating(self, session_id: str, item_code: str | None, level: int) -> None:
        """Journal a rating (the delivery to the central service goes through the outbox)."""
        self._journal(session_id, "rating", detail={"item_code": item_code, "level": level})

    def _journal(self, session_id: str, kind: str, detail: dict | None = None, **cols: str) -> None:
        with self.sessions.begin() as s:
            s.add(
                JournalEntry(
                    at=self.now(), session_id=session_id, kind=kind, detail=detail or {}, **cols
                )
            )

    def journal(self, session_id: str | None = None) -> list[JournalEntry]:
        """Journal entries in order, optionally of one session."""
        query = select(JournalEntry).order_by(JournalEntry.id)
        if session_id is not None:
            query = query.where(JournalEntry.session_id == session_id)
        with self.session() as s:
            return list(s.scalars(query))

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str, now: Callable[[], datetime]) -> Store:
    """Open (creating and migrating as needed) the store at a SQLAlchemy URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    migrate(engine)
    return Store(engine, now)
