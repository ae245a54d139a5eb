"""The local store: SQLite (WAL) through SQLAlchemy 2.x, schema managed by Alembic migrations."""

from kiosk.store.db import Store, open_store
from kiosk.store.errors import StoreWriteError
from kiosk.store.models import CachedDocument, JournalEntry, OutboxMessage, StoreMeta

__all__ = [
    "CachedDocument",
    "JournalEntry",
    "OutboxMessage",
    "Store",
    "StoreMeta",
    "StoreWriteError",
    "open_store",
]
