"""Opening the store: engine, SQLite pragmas, migrations; and the journal it keeps."""

from __future__ import annotations

import contextlib
import functools
import logging
import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from kiosk.store.errors import StoreWriteError, reason
from kiosk.store.models import JournalEntry

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_S = 5.0


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, busy_timeout_s: float) -> None:
    cursor = dbapi_connection.cursor()
    # WAL keeps readers (maintenance menu, telemetry) from blocking the session's writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL syncs the WAL at every commit: a rating confirmed to the resident survives a power
    # cut a second later (NORMAL may lose the last commits).
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # A write waits this long for another writer instead of failing at once.
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
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

    @contextlib.contextmanager
    def writing(self, what: str) -> Iterator[Session]:
        """A write transaction; any failure to save comes out as one `StoreWriteError`.

        `IntegrityError` passes through: a constraint says something about the data (a
        duplicate key), which the caller decides on.
        """
        try:
            with self.sessions.begin() as s:
                yield s
        except IntegrityError:
            raise
        except (SQLAlchemyError, sqlite3.Error, OSError) as exc:
            raise StoreWriteError(f"{what} not saved: {reason(exc)}") from exc

    def record_transition(self, session_id: str, event: str, source: str, target: str) -> None:
        """Journal one machine step; never personal data, only state names."""
        self._journal(session_id, "transition", event=event, source=source, target=target)

    def record_rating(self, session_id: str, item_code: str | None, level: int) -> None:
        """Journal a rating (the delivery to the central service goes through the outbox)."""
        self._journal(session_id, "rating", detail={"item_code": item_code, "level": level})

    def _journal(self, session_id: str, kind: str, detail: dict | None = None, **cols: str) -> None:
        # The journal is not the resident's data: a failed entry is logged, the session goes on.
        try:
            with self.writing(f"journal {kind}") as s:
                s.add(
                    JournalEntry(
                        at=self.now(), session_id=session_id, kind=kind, detail=detail or {}, **cols
                    )
                )
        except StoreWriteError as exc:
            log.warning("%s; the session goes on without it", exc)
        except IntegrityError:
            log.warning("journal %s rejected by a constraint; the session goes on", kind)

    def journal(self, session_id: str | None = None) -> list[JournalEntry]:
        """Journal entries in order, optionally of one session."""
        query = select(JournalEntry).order_by(JournalEntry.id)
        if session_id is not None:
            query = query.where(JournalEntry.session_id == session_id)
        with self.session() as s:
            return list(s.scalars(query))

    def close(self) -> None:
        self.engine.dispose()


def open_store(
    url: str, now: Callable[[], datetime], *, busy_timeout_s: float = BUSY_TIMEOUT_S
) -> Store:
    """Open (creating and migrating as needed) the store at a SQLAlchemy URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # hide_parameters: an error's text (and a logged traceback) never carries row values.
    engine = create_engine(url, hide_parameters=True)
    if parsed.get_backend_name() == "sqlite":
        pragmas = functools.partial(_sqlite_pragmas, busy_timeout_s=busy_timeout_s)
        event.listen(engine, "connect", pragmas)
    migrate(engine)
    return Store(engine, now)
