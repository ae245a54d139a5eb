"""A full disk while writing: the kiosk says REFUSED, never RECEIVED, and recovers once freed.

The kiosk is a process of its own whose store lives on a real 3 MiB tmpfs; the network is faulty
throughout, so deliveries (and their `mark_delivered` writes) also meet the full disk.
"""

from __future__ import annotations

import pytest

from tests.faults.harness import (
    REPLY_TIMEOUT_S,
    START_TIMEOUT_S,
    Lab,
    TrialResult,
    outbox_keys,
    restart_and_judge,
)
from tests.faults.kiosk_child import Tuning
from tests.faults.proxy import FaultMix
from tests.support.tiny_disk import fill, tiny_tmpfs

# One scanned page of a realistic size: it needs pages a full disk no longer has.
TUNING = Tuning(document_bytes=150_000)


@pytest.fixture
def lab(tmp_path):
    with Lab(tmp_path / "lab") as running:
        yield running


@pytest.fixture
def tiny_disk(tmp_path):
    with tiny_tmpfs(tmp_path / "tiny", size="3m") as where:
        yield where


def _submit(child, key: str, result: TrialResult) -> str:
    child.say(f"submit application {key}")
    answer = child.next_line(REPLY_TIMEOUT_S)
    assert answer.split()[1] == key
    (result.told if answer.startswith("RECEIVED") else result.refused).append(key)
    return answer.split()[0]


def test_a_full_disk_refuses_honestly_then_recovers(lab, tiny_disk):
    db, key_file = tiny_disk / "kiosk.db", tiny_disk / "outbox.key"
    result = TrialResult(seed=0, kind="application", mode="forked")
    lab.proxy.configure(seed=5, mix=FaultMix(rate=0.4, delay_s=(0.01, 0.1)))
    child = lab.forked.start(db, key_file, lab.proxy.base_url, TUNING)
    try:
        assert child.next_line(START_TIMEOUT_S) == "READY"
        assert _submit(child, "app-full-before", result) == "RECEIVED"
        filler = fill(tiny_disk)
        answers = [_submit(child, f"app-full-{i}", result) for i in range(3)]
        assert answers == ["REFUSED"] * 3  # told NOT received: the resident can try again
        on_disk = outbox_keys(db)
        assert not on_disk & set(result.refused)  # and nothing of them lingers to be sent
        filler.unlink()
        answers = [_submit(child, f"app-full-after-{i}", result) for i in range(2)]
        assert answers == ["RECEIVED"] * 2
    finally:
        child.kill()
        result.kills += 1
    assert set(result.told) <= outbox_keys(db)
    restart_and_judge(lab, result, db, key_file, TUNING)
    assert not result.problems(), "\n".join(result.problems())
    assert len(result.delivered_once) == 3
