"""A kiosk killed (-9) the instant after it said a rating was received still has the rating."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from kiosk.outbox import Outbox, load_or_create_key
from kiosk.store import open_store

CHILD = """
import sys, time
from datetime import UTC, datetime
from kiosk.outbox import Outbox, load_or_create_key
from kiosk.store import open_store

store = open_store(sys.argv[1], lambda: datetime.now(UTC))
outbox = Outbox(store, load_or_create_key(sys.argv[2]))
for i in range(int(sys.argv[3])):
    outbox.put("rating", {"level": 5, "n": i}, idempotency_key=f"rating-{i}")
    print(f"received {i}", flush=True)  # what the resident is told
time.sleep(60)
"""


def test_every_rating_said_received_survives_a_kill(tmp_path: Path) -> None:
    db, key = tmp_path / "kiosk.db", tmp_path / "outbox.key"
    root = Path(__file__).resolve().parents[2]
    for trial in range(5):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, f"sqlite:///{db}", str(key), str(trial + 1)],
            cwd=root,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        told = [child.stdout.readline() for _ in range(trial + 1)]
        os.kill(child.pid, signal.SIGKILL)  # at once: no shutdown, no flush, no close
        child.wait()
        assert told[-1].startswith("received")
        store = open_store(f"sqlite:///{db}", lambda: datetime.now(UTC))
        try:
            keys = {m.idempotency_key for m in Outbox(store, load_or_create_key(key)).due(100)}
        finally:
            store.close()
        assert {f"rating-{i}" for i in range(trial + 1)} <= keys
