"""The maintenance audit log: who did what, when, and how it went. Never personal data.

Every menu action, sign-in (and refusal) and service-state change is one row of the store's
`audit` table (migration 0003). Actors are `technician:<id>`, `pin`, `fleet`, `auto` or
`anonymous` (a failed sign-in); details are short technical words, cut to 200 characters.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from kiosk.store.db import Store
from kiosk.store.errors import StoreWriteError
from kiosk.store.models import AuditEntry, StoreMeta

log = logging.getLogger(__name__)

DETAIL_MAX = 200


@dataclass(frozen=True)
class AuditRecord:
    at: datetime
    actor: str
    action: str
    result: str
    detail: str = ""


class AuditLog:
    """Audit rows in the store; a failed write is logged, never stops the technician."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def record(self, actor: str, action: str, result: str = "ok", detail: str = "") -> None:
        try:
            with self._store.writing("audit entry") as s:
                s.add(
                    AuditEntry(
                        at=self._store.now(),
                        actor=actor[:64],
                        action=action[:64],
                        result=result[:16],
                        detail=detail[:DETAIL_MAX],
                    )
                )
        except StoreWriteError as exc:
            log.warning("%s", exc)

    def recent(self, limit: int = 50) -> list[AuditRecord]:
        """The newest entries first."""
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        with self._store.session() as s:
            return [
                AuditRecord(_utc(row.at), row.actor, row.action, row.result, row.detail)
                for row in s.scalars(query)
            ]


def _utc(at: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were written in UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


class MemoryAudit:
    """`AuditLog` in memory (a kiosk without a store, tests)."""

    def __init__(self) -> None:
        self.entries: list[AuditRecord] = []

    def record(self, actor: str, action: str, result: str = "ok", detail: str = "") -> None:
        self.entries.append(
            AuditRecord(datetime.now().astimezone(), actor, action, result, detail[:DETAIL_MAX])
        )

    def recent(self, limit: int = 50) -> list[AuditRecord]:
        return list(reversed(self.entries))[:limit]


class StoreSettings:
    """`kiosk.maintenance.auth.Settings` in the store's `store_meta` table."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def get(self, key: str) -> str | None:
        with self._store.session() as s:
            row = s.get(StoreMeta, key)
            return None if row is None else row.value

    def set(self, key: str, value: str) -> None:
        with self._store.writing("store meta") as s:
            row = s.get(StoreMeta, key)
            if row is None:
                s.add(StoreMeta(key=key, value=value))
            else:
                row.value = value
