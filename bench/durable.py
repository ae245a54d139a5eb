"""Time from "submit" to durable: `queue_application` on the real store, against a bare commit.

The application is realistic: a seeded applicant, the form's fields and one scanned page of about
200 KB (JPEG). `queue_application` serialises it, encrypts it (Fernet) and commits one outbox row
through SQLAlchemy on SQLite in WAL with `synchronous=FULL`: when it returns, the resident may be
told "received". The baseline is a bare `sqlite3` INSERT + COMMIT of a blob as large as the
encrypted row, in WAL with `synchronous=FULL`, in the same run and on the same filesystem (the
directory given, by default a temporary one under var/). Printed: median and p95 of each, in
milliseconds, and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from kiosk.flows.apply import queue_application  # noqa: E402
from kiosk.outbox import Outbox, load_or_create_key  # noqa: E402
from kiosk.store import OutboxMessage, open_store  # noqa: E402
from tests.faults.kiosk_child import application, noise_jpeg  # noqa: E402


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]


def time_queue_application(where: Path, runs: int, page: bytes) -> tuple[list[float], int]:
    """Milliseconds per `queue_application`, and the size of the stored (encrypted) row."""
    store = open_store(f"sqlite:///{where / 'kiosk.db'}", lambda: datetime.now(UTC))
    outbox = Outbox(store, load_or_create_key(where / "outbox.key"))
    samples = []
    try:
        queue_application(outbox, application("warm-up", page))
        for i in range(runs):
            app = application(f"bench-{i}", page)
            started = time.perf_counter()
            queue_application(outbox, app)
            samples.append((time.perf_counter() - started) * 1000)
        with store.session() as s:
            size = int(s.scalar(select(func.max(func.length(OutboxMessage.payload)))) or 0)
    finally:
        store.close()
    return samples, size


def time_bare_commit(where: Path, runs: int, size: int) -> list[float]:
    """Milliseconds per bare INSERT + COMMIT of `size` bytes, WAL, synchronous=FULL."""
    db = sqlite3.connect(where / "bare.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY, key TEXT UNIQUE, payload BLOB)")
    samples = []
    try:
        for i in range(runs + 1):
            blob = os.urandom(size)  # fresh bytes each time, as each application is
            started = time.perf_counter()
            db.execute("BEGIN")
            db.execute("INSERT INTO outbox (key, payload) VALUES (?, ?)", (f"k{i}", blob))
            db.execute("COMMIT")
            if i:  # the first is the warm-up
                samples.append((time.perf_counter() - started) * 1000)
    finally:
        db.close()
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--page-bytes", type=int, default=200_000)
    parser.add_argument("--dir", type=Path, default=ROOT / "var", help="filesystem to test on")
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    page = noise_jpeg(args.page_bytes)
    with tempfile.TemporaryDirectory(prefix="bench-durable-", dir=args.dir) as tmp:
        where = Path(tmp)
        kiosk, size = time_queue_application(where, args.runs, page)
        bare = time_bare_commit(where, args.runs, size)
    print(f"filesystem: {args.dir} ; page {len(page) / 1000:.0f} KB JPEG, row {size / 1000:.0f} KB")
    for name, samples in (("queue_application", kiosk), ("bare sqlite3 commit", bare)):
        median, p95 = statistics.median(samples), _p95(samples)
        print(f"{name:<20} median {median:7.2f} ms   p95 {p95:7.2f} ms   (n={len(samples)})")
    ratio = statistics.median(kiosk) / statistics.median(bare)
    print(f"ratio (medians): {ratio:.2f}x the bare commit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
