"""The delivery thread outlives a failing store."""

from __future__ import annotations

import sqlite3
import time

from kiosk.outbox import Outbox, OutboxWorker, load_or_create_key
from kiosk.store import open_store


def _wait(condition, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_a_failing_store_does_not_kill_the_delivery_thread(tmp_path, clock):
    store = open_store(f"sqlite:///{tmp_path / 'k.db'}", clock.now, busy_timeout_s=0.05)
    outbox = Outbox(store, load_or_create_key(tmp_path / "outbox.key"))
    outbox.put("rating", {"level": 5}, "k1")
    sent: list[str] = []
    worker = OutboxWorker(
        outbox, {"rating": lambda kind, payload, key: sent.append(key)}, interval_s=0.02
    )
    blocker = sqlite3.connect(tmp_path / "k.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # every write of the worker fails from now on
    worker.start()
    try:
        assert _wait(lambda: len(sent) >= 3), "rounds go on while the store fails"
        assert worker._thread.is_alive() and outbox.backlog() == 1
        blocker.execute("ROLLBACK")
        assert _wait(lambda: outbox.backlog() == 0), "delivered once the store works again"
    finally:
        worker.stop()
        blocker.close()
        store.close()
    assert set(sent) == {"k1"}  # the same message, re-sent under its idempotency key
