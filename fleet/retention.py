"""Keep beats and events for `retention_days`, then delete them in small chunks.

Chunked deletes keep each transaction short, so ingest never waits long on them. At a province's
scale, time-partitioned tables (or TimescaleDB's retention policy) drop whole partitions instead:
see docs/fleet.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from fleet.db import EventRow, HeartbeatRow


def prune(
    sessions: sessionmaker[Session], at: datetime, retention_days: int, *, chunk: int = 5000
) -> dict[str, int]:
    """Delete heartbeats and events received before `at - retention_days`; counts per table."""
    cutoff = at - timedelta(days=retention_days)
    deleted = {"heartbeats": 0, "events": 0}
    for name, table in (("heartbeats", HeartbeatRow), ("events", EventRow)):
        while True:
            with sessions.begin() as session:
                ids = session.scalars(
                    select(table.id).where(table.received_at < cutoff).limit(chunk)
                ).all()
                if not ids:
                    break
                session.execute(delete(table).where(table.id.in_(ids)))
            deleted[name] += len(ids)
            if len(ids) < chunk:
                break
    return deleted
