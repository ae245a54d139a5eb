"""Parked means parked: a rejected or unreadable message waits for a technician, not a timer."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from kiosk.outbox import Outbox, PermanentDeliveryError, TransientDeliveryError, load_or_create_key
from kiosk.store import OutboxMessage

SECRET = "张三丰-110101199003071234"  # stands for personal data inside a payload


@pytest.fixture
def outbox(store, tmp_path):
    return Outbox(store, load_or_create_key(tmp_path / "outbox.key"))


class Recorder:
    def __init__(self, fail: Exception | None = None) -> None:
        self.calls: list[str] = []
        self.fail = fail

    def __call__(self, kind, payload, key):
        self.calls.append(key)
        if self.fail is not None:
            raise self.fail


def test_a_rejected_message_is_never_retried_automatically(outbox, clock):
    reject = Recorder(PermanentDeliveryError("HTTP 422 validation_error"))
    outbox.put("rating", {"level": 5}, "k1")
    assert outbox.deliver_due({"rating": reject}) == 0
    for _ in range(5):
        clock.advance(3600)  # far beyond the longest back-off
        outbox.deliver_due({"rating": reject})
    assert reject.calls == ["k1"]
    assert outbox.due() == []
    assert (outbox.backlog(), outbox.parked()) == (0, 1)


def test_a_message_nobody_can_send_is_parked(outbox, clock):
    outbox.put("application", {"x": 1}, "k1")
    outbox.deliver_due({})
    clock.advance(3600)
    assert outbox.due() == []
    [parked] = outbox.parked_messages()
    assert parked.reason == "no_sender" and "application" in parked.last_error


def test_mark_failed_permanent_parks_the_message(outbox, clock):
    outbox.put("rating", {"level": 5}, "k1")
    [message] = outbox.due()
    outbox.mark_failed(message.id, "HTTP 409 conflict", permanent=True)
    clock.advance(86400)
    assert outbox.due() == [] and outbox.parked() == 1


def test_a_parked_message_is_visible_to_a_technician_without_its_payload(outbox, clock, caplog):
    caplog.set_level(logging.DEBUG)
    outbox.put("rating", {"name": SECRET}, "k1")
    outbox.deliver_due({"rating": Recorder(PermanentDeliveryError("HTTP 422 validation_error"))})
    [parked] = outbox.parked_messages()
    assert parked.kind == "rating" and parked.idempotency_key == "k1"
    assert parked.reason == "rejected" and "validation_error" in parked.last_error
    assert parked.parked_at is not None and parked.attempts == 1
    assert not hasattr(parked, "payload")
    assert SECRET not in caplog.text
    assert "validation_error" in caplog.text or "parked" in caplog.text


def test_a_released_message_is_retried_and_delivered(outbox, clock):
    outbox.put("rating", {"level": 5}, "k1")
    outbox.put("rating", {"level": 4}, "k2")
    outbox.deliver_due({"rating": Recorder(PermanentDeliveryError("HTTP 503 maintenance"))})
    assert outbox.parked() == 2
    first = min(p.id for p in outbox.parked_messages())
    assert outbox.retry_parked(first) == 1
    ok = Recorder()
    assert outbox.deliver_due({"rating": ok}) == 1 and ok.calls == ["k1"]
    assert (outbox.backlog(), outbox.parked()) == (0, 1)
    assert outbox.retry_parked() == 1
    assert outbox.deliver_due({"rating": ok}) == 1 and ok.calls == ["k1", "k2"]
    assert outbox.retry_parked() == 0


def test_a_transient_failure_backs_off_but_is_not_parked(outbox, clock):
    outbox.put("rating", {"level": 5}, "k1")
    outbox.deliver_due({"rating": Recorder(TransientDeliveryError("timeout"))})
    assert (outbox.backlog(), outbox.parked()) == (1, 0)
    clock.advance(2)
    assert [m.idempotency_key for m in outbox.due()] == ["k1"]


def test_a_sender_that_crashes_does_not_block_the_messages_behind(outbox, clock, caplog):
    outbox.put("rating", {"name": SECRET}, "k1")
    outbox.put("rating", {"level": 4}, "k2")

    def send(kind, payload, key):
        if key == "k1":
            raise RuntimeError(f"bug while sending {payload}")

    assert outbox.deliver_due({"rating": send}) == 1
    assert outbox.backlog() == 1 and outbox.parked() == 0
    assert SECRET not in caplog.text


def _undecryptable(store, n):
    stranger = Fernet(Fernet.generate_key())
    with store.sessions.begin() as s:
        for i in range(n):
            s.add(
                OutboxMessage(
                    idempotency_key=f"bad-{i}",
                    kind="rating",
                    created_at=store.now(),
                    payload=b"garbage" if i % 2 else stranger.encrypt(b"{}"),
                    attempts=0,
                    next_attempt_at=store.now(),
                    last_error="",
                )
            )


def test_undecryptable_rows_do_not_starve_the_good_ones(outbox, store, caplog):
    _undecryptable(store, 25)  # more than one batch of due()
    outbox.put("rating", {"level": 5}, "good")
    assert [m.idempotency_key for m in outbox.due()] == ["good"]
    assert outbox.parked() == 25 and outbox.backlog() == 1
    assert {p.reason for p in outbox.parked_messages()} == {"undecryptable"}
    assert outbox.deliver_due({"rating": Recorder()}) == 1


def test_an_undecryptable_row_keeps_its_ciphertext_for_a_restored_key(outbox, store):
    _undecryptable(store, 1)
    outbox.due()
    with store.session() as s:
        row = s.scalars(select(OutboxMessage)).one()
    assert row.payload and row.parked_at is not None and row.delivered_at is None
