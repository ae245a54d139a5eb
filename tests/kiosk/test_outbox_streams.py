"""Outbox streams (fleet telemetry): in order, in batches, behind the oldest's back-off; capped
kinds fold their surplus; the central kinds are untouched by any of it."""

from __future__ import annotations

import pytest

from kiosk.outbox import (
    Outbox,
    PermanentDeliveryError,
    Stream,
    TransientDeliveryError,
    load_or_create_key,
)
from kiosk.store import StoreMeta


@pytest.fixture
def outbox(store, tmp_path):
    return Outbox(store, load_or_create_key(tmp_path / "outbox.key"))


class BatchRecorder:
    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.fail: Exception | None = None

    def __call__(self, kind, batch):
        self.batches.append([m.idempotency_key for m in batch])
        if self.fail is not None:
            raise self.fail


def test_a_stream_goes_in_order_in_batches(outbox):
    for i in range(7):
        outbox.put("ev", {"i": i}, f"e{i}")
    send = BatchRecorder()
    assert outbox.deliver_due({}, {"ev": Stream(send, batch=3)}) == 7
    assert send.batches == [["e0", "e1", "e2"], ["e3", "e4", "e5"], ["e6"]]
    assert outbox.backlog() == 0


def test_newer_messages_wait_behind_the_oldest_back_off(outbox, clock):
    send = BatchRecorder()
    streams = {"ev": Stream(send, batch=10)}
    outbox.put("ev", {"i": 0}, "e0")
    send.fail = TransientDeliveryError("connection refused")
    assert outbox.deliver_due({}, streams) == 0
    outbox.put("ev", {"i": 1}, "e1")  # due at once, but behind e0
    send.fail = None
    assert outbox.deliver_due({}, streams) == 0
    assert send.batches == [["e0"]], "nothing overtakes the oldest while it backs off"
    clock.advance(3)
    assert outbox.deliver_due({}, streams) == 2
    assert send.batches[-1] == ["e0", "e1"]


def test_wake_makes_a_backed_off_stream_due_now(outbox):
    send = BatchRecorder()
    send.fail = TransientDeliveryError("down")
    outbox.put("ev", {}, "e0")
    outbox.deliver_due({}, {"ev": Stream(send)})
    send.fail = None
    outbox.wake(["ev"])
    assert outbox.deliver_due({}, {"ev": Stream(send)}) == 1


def test_a_rejected_batch_is_parked_and_the_stream_goes_on(outbox):
    send = BatchRecorder()
    outbox.put("ev", {}, "bad")
    outbox.put("ev", {}, "good")

    def judge(kind, batch):
        send(kind, batch)
        if batch[0].idempotency_key == "bad":
            raise PermanentDeliveryError("HTTP 422 invalid_request")

    assert outbox.deliver_due({}, {"ev": Stream(judge)}) == 1
    assert send.batches == [["bad"], ["good"]]
    assert outbox.parked() == 1 and outbox.backlog() == 0


def test_a_sender_bug_backs_off_without_its_text(outbox):
    def buggy(kind, batch):
        raise KeyError("110101195603121240")

    outbox.put("ev", {}, "e0")
    assert outbox.deliver_due({}, {"ev": Stream(buggy)}) == 0
    assert outbox.backlog() == 1 and outbox.due() == []


def test_streams_do_not_crowd_out_central_messages(outbox):
    """Hundreds of telemetry messages due (the fleet down) must not keep a rating from its turn."""
    for i in range(50):
        outbox.put("ev", {"i": i}, f"e{i}")
    outbox.put("rating", {"level": 5}, "r1")
    sent: list[str] = []
    down = BatchRecorder()
    down.fail = TransientDeliveryError("fleet down")
    delivered = outbox.deliver_due(
        {"rating": lambda kind, payload, key: sent.append(key)}, {"ev": Stream(down, batch=100)}
    )
    assert delivered == 1 and sent == ["r1"]
    assert outbox.backlog() == 50 and outbox.parked() == 0


def test_cap_waiting_folds_the_oldest_into_the_oldest_kept(outbox):
    def merge(older, newer):
        return {**newer, "n": older["n"] + newer["n"]}

    for i in range(10):
        outbox.put("hb", {"seq": i, "n": 1}, f"h{i}")
    outbox.put("rating", {"level": 1}, "r")
    assert outbox.cap_waiting("hb", 4, merge) == 6
    waiting = [m.payload for m in outbox.due(100) if m.kind == "hb"]
    assert [p["seq"] for p in waiting] == [6, 7, 8, 9]
    assert sum(p["n"] for p in waiting) == 10, "no counter lost"
    assert outbox.backlog(exclude=["hb"]) == 1
    assert outbox.cap_waiting("hb", 4, merge) == 0


def test_put_saves_meta_in_the_same_transaction(outbox, store):
    outbox.put("hb", {}, "h1", meta={"seq": "1"})
    assert outbox.put("hb", {}, "h1", meta={"seq": "2"}) is False
    with store.session() as s:
        assert s.get(StoreMeta, "seq").value == "1", "a duplicate leaves the meta alone"
    assert outbox.known("h1") and not outbox.known("h2")
