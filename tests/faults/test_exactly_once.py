"""Delivered exactly once, under a faulty network and kiosks killed (-9) at random moments.

200 seeded trials (see tests/faults/harness.py for what one trial does and checks): most run the
kiosk in this process behind the fault proxy; 40 run it as a process killed during a submission
or during delivery, then started again on the same files; two of those are whole new interpreters
(`python -m tests.faults.kiosk_child`). One central service serves the module.

A failing trial names its seed; replay it with `pytest tests/faults -k "seed-1234"`.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kiosk.delivery import central_sender
from kiosk.outbox import Outbox, TransientDeliveryError, load_or_create_key
from kiosk.store import OutboxMessage, open_store
from tests.faults import kiosk_child
from tests.faults.harness import Lab, TrialResult, run_trial

IN_PROCESS = range(0, 160)
FORKED = range(1000, 1038)
SCRIPT = range(2000, 2002)


def kind_of(seed: int) -> str:
    # Mostly applications (the large, personal payload); every fifth a rating.
    return "rating" if seed % 5 == 0 else "application"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with Lab(tmp_path_factory.mktemp("faults")) as running:
        yield running


def _held(result: TrialResult) -> None:
    problems = result.problems()
    assert not problems, f"{result.describe()}\n" + "\n".join(problems)
    assert result.told or result.unanswered, result.describe()


@pytest.mark.parametrize("seed", IN_PROCESS, ids=lambda seed: f"seed-{seed}")
def test_a_faulty_network_neither_loses_nor_duplicates(lab, seed):
    result = run_trial(lab, seed, kind=kind_of(seed), mode="inprocess")
    _held(result)
    assert len(result.delivered_once) == len(result.told) > 0


@pytest.mark.parametrize("seed", FORKED, ids=lambda seed: f"seed-{seed}")
def test_a_killed_kiosk_keeps_what_it_said_it_received(lab, seed):
    result = run_trial(lab, seed, kind=kind_of(seed), mode="forked")
    _held(result)
    assert result.kills >= 1


@pytest.mark.parametrize("seed", SCRIPT, ids=lambda seed: f"seed-{seed}")
def test_a_killed_kiosk_process_started_as_a_script(lab, seed):
    result = run_trial(lab, seed, kind="application", mode="script")
    _held(result)
    assert result.kills >= 1


def test_the_judge_catches_a_kiosk_that_changes_the_key_on_retry(lab, monkeypatch):
    """The checks can fail: a sender that makes up a new key per attempt is caught duplicating."""

    def forgetful_sender(client):
        send = central_sender(client)

        def resend(kind, payload, key):
            send(kind, payload, f"{key}-{secrets.token_hex(4)}")

        return resend

    monkeypatch.setattr(kiosk_child, "central_sender", forgetful_sender)
    results = [
        run_trial(lab, seed, kind="rating", mode="inprocess", run="forgetful")
        for seed in range(9000, 9012)
    ]
    assert any(result.duplicated for result in results)


def test_a_week_long_outage_still_backs_off(tmp_path):
    """After 1,024 failed attempts (a week offline at the 600 s cap) the back-off holds.

    `2.0 ** 1024` overflowed: `mark_failed` raised, the delivery round stopped at that message
    (the ones behind it never tried) and it was hammered every round instead of every 10 minutes.
    """
    now = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    store = open_store(f"sqlite:///{tmp_path / 'k.db'}", lambda: now)
    outbox = Outbox(store, load_or_create_key(tmp_path / "outbox.key"), max_backoff_s=600)
    try:
        outbox.put("rating", {"level": 5}, "k1")
        outbox.put("rating", {"level": 4}, "k2")
        with store.writing("a week of failures") as s:
            s.get(OutboxMessage, 1).attempts = 1024
        tried = []

        def down(kind, payload, key):
            tried.append(key)
            raise TransientDeliveryError("central unreachable")

        assert outbox.deliver_due({"rating": down}) == 0
        assert tried == ["k1", "k2"]  # the one behind was tried too
        assert outbox.due() == []  # both wait for their next attempt
        with store.session() as s:
            # SQLite hands the stored times back without their zone (they are UTC)
            rows = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
            waits = [row.next_attempt_at.replace(tzinfo=UTC) - now for row in rows]
        assert waits == [timedelta(seconds=600), timedelta(seconds=2)]
    finally:
        store.close()
