"""The catalogue on disk: the last good JSON of `GET /catalogue` and `GET /items/{code}`.

A kiosk booted while the central service is down shows guides from here. This is public data
(the service catalogue), so it is kept as plain JSON text in the store, not encrypted.
Writes fail loudly (`StoreWriteError`); reads never do: a missing or damaged copy is `None`.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from kiosk.store import CachedDocument, Store

log = logging.getLogger(__name__)
CATALOGUE = "catalogue"
ITEM = "item"
FORM = "form"


class CatalogueCache:
    """Saves and loads the service's catalogue JSON with its ETag."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def save_catalogue(self, etag: str, body: dict[str, Any]) -> None:
        """Keep the raw JSON of `GET /catalogue`, replacing the previous copy."""
        self._save(CATALOGUE, "", etag, body)

    def load_catalogue(self) -> tuple[str, dict[str, Any]] | None:
        """(etag, body) of the last saved catalogue, or None."""
        return self._load(CATALOGUE, "")

    def save_item(self, code: str, etag: str, body: dict[str, Any]) -> None:
        """Keep the raw JSON of `GET /items/{code}`, replacing the previous copy."""
        self._save(ITEM, code, etag, body)

    def load_item(self, code: str) -> tuple[str, dict[str, Any]] | None:
        """(etag, body) of the last saved item, or None."""
        return self._load(ITEM, code)

    def save_form(self, code: str, body: dict[str, Any]) -> None:
        """Keep the raw JSON of `GET /items/{code}/form` (applications are taken offline too)."""
        self._save(FORM, code, "", body)

    def load_form(self, code: str) -> tuple[str, dict[str, Any]] | None:
        """("", body) of the last saved form of `code`, or None."""
        return self._load(FORM, code)

    def fetched_at(self) -> datetime | None:
        """When the catalogue was last saved (UTC), or None."""
        try:
            with self._store.session() as s:
                row = s.get(CachedDocument, (CATALOGUE, ""))
                saved_at = None if row is None else row.saved_at
        except SQLAlchemyError as exc:
            log.warning("catalogue cache unreadable: %s", type(exc).__name__)
            return None
        if saved_at is None:
            return None
        # SQLite keeps no offset; we always write UTC (see _save).
        return saved_at.replace(tzinfo=UTC) if saved_at.tzinfo is None else saved_at

    def _save(self, kind: str, code: str, etag: str, body: dict[str, Any]) -> None:
        text = json.dumps(body, ensure_ascii=False)
        saved_at = self._store.now().astimezone(UTC).replace(tzinfo=None)
        with self._store.writing(f"catalogue cache {kind}") as s:
            s.merge(CachedDocument(kind=kind, code=code, etag=etag, body=text, saved_at=saved_at))

    def _load(self, kind: str, code: str) -> tuple[str, dict[str, Any]] | None:
        try:
            with self._store.session() as s:
                row = s.get(CachedDocument, (kind, code))
                if row is None:
                    return None
                etag, text = row.etag, row.body
        except SQLAlchemyError as exc:
            log.warning("catalogue cache unreadable: %s", type(exc).__name__)
            return None
        try:
            body = json.loads(text)
        except (ValueError, TypeError, RecursionError):
            body = None
        if not isinstance(body, dict):
            # The catalogue is public, but the code is named only for the technician's sake.
            log.warning("catalogue cache %s %r is damaged; ignored", kind, code)
            return None
        return etag, body
