"""The local store: SQLite (WAL) through SQLAlchemy 2.x, schema managed by Alembic migrations."""

from kiosk.store.db import Store, open_store
from kiosk.store.models import JournalEntry, OutboxMessage

__all__ = ["JournalEntry", "OutboxMessage", "Store", "open_store"]
