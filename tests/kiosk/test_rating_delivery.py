"""好差评 ratings: durable in the outbox, delivered to the real reference service exactly once."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from central.db import RatingRow
from central.server import start_background
from kiosk.central import NO_RETRY, CentralClient
from kiosk.delivery import central_sender
from kiosk.flows.rating import Rating, queue_rating
from kiosk.outbox import Outbox, OutboxWorker, load_or_create_key
from kiosk.store import OutboxMessage, open_store
from tests.support.central_auth import UNLIMITED
from tests.support.kiosk_keys import TEST_KIOSKS


@pytest.fixture
def server():
    with start_background(
        db_url="sqlite://", kiosk_registry=TEST_KIOSKS.registry, auth_settings=UNLIMITED
    ) as running:
        yield running


@pytest.fixture
def outbox(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'k.db'}", lambda: datetime.now(UTC))
    yield Outbox(store, load_or_create_key(tmp_path / "outbox.key"))
    store.close()


def _ratings(server):
    with server.app.state.central.sessions() as s:
        return list(s.scalars(select(RatingRow)))


def _rating(level=5, session_id="s1"):
    return Rating(session_id, "KIOSK-T-1", "shebao.insured-cert", level, datetime.now(UTC))


def test_a_rating_is_delivered_once_even_when_sent_twice(server, outbox):
    client = CentralClient(server.base_url, kiosk_id="KIOSK-T-1", retry=NO_RETRY, auth=TEST_KIOSKS)
    queue_rating(outbox, _rating())
    queue_rating(outbox, _rating())  # the same session rating again is one rating
    assert outbox.backlog() == 1
    message = outbox.due()[0]
    send = central_sender(client)
    send(message.kind, message.payload, message.idempotency_key)
    send(message.kind, message.payload, message.idempotency_key)  # a lost acknowledgement
    assert outbox.deliver_due({"rating": send}) == 1
    rows = _ratings(server)
    assert [(r.level, r.kiosk_id, r.item_code) for r in rows] == [
        (5, "KIOSK-T-1", "shebao.insured-cert")
    ]
    assert outbox.backlog() == 0


def test_a_delivered_message_keeps_no_payload(server, outbox):
    client = CentralClient(server.base_url, kiosk_id="KIOSK-T-1", retry=NO_RETRY, auth=TEST_KIOSKS)
    queue_rating(outbox, _rating())
    outbox.deliver_due({"rating": central_sender(client)})
    with outbox._store.session() as s:
        row = s.scalars(select(OutboxMessage)).one()
    assert row.payload is None and row.delivered_at is not None


def test_an_offline_service_keeps_the_rating_for_later(outbox):
    client = CentralClient(
        "http://127.0.0.1:9", kiosk_id="KIOSK-T-1", retry=NO_RETRY, auth=TEST_KIOSKS
    )
    queue_rating(outbox, _rating())
    assert outbox.deliver_due({"rating": central_sender(client)}) == 0
    assert outbox.backlog() == 1
    assert outbox.due() == [], "backed off: not due again at once"


def test_a_rejected_rating_is_parked_not_retried_in_a_loop(outbox):
    def reject(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"error": {"code": "validation_error", "message": "x"}})

    client = CentralClient(
        "http://central.test",
        kiosk_id="KIOSK-T-1",
        retry=NO_RETRY,
        transport=httpx.MockTransport(reject),
        auth=TEST_KIOSKS,
    )
    queue_rating(outbox, _rating())
    assert outbox.deliver_due({"rating": central_sender(client)}) == 0
    with outbox._store.session() as s:
        row = s.scalars(select(OutboxMessage)).one()
    assert "validation_error" in row.last_error and row.attempts == 1
    assert outbox.parked() == 1 and outbox.backlog() == 0


def test_a_rejection_keeps_the_services_wording_out_of_the_store(outbox):
    """A validation message may echo what was sent; only the status and code are kept."""

    def reject(request: httpx.Request) -> httpx.Response:
        message = "level: input 张三 110101199003071234 is not valid"
        return httpx.Response(422, json={"error": {"code": "validation_error", "message": message}})

    client = CentralClient(
        "http://central.test",
        kiosk_id="KIOSK-T-1",
        retry=NO_RETRY,
        transport=httpx.MockTransport(reject),
        auth=TEST_KIOSKS,
    )
    queue_rating(outbox, _rating())
    outbox.deliver_due({"rating": central_sender(client)})
    [parked] = outbox.parked_messages()
    assert parked.last_error == "HTTP 422 validation_error"


def test_the_worker_delivers_in_the_background(server, outbox):
    client = CentralClient(server.base_url, kiosk_id="KIOSK-T-1", retry=NO_RETRY, auth=TEST_KIOSKS)
    for i in range(3):
        queue_rating(outbox, _rating(level=i + 1, session_id=f"s{i}"))
    worker = OutboxWorker(outbox, {"rating": central_sender(client)}, interval_s=0.05)
    worker.start()
    try:
        import time

        deadline = time.monotonic() + 5
        while outbox.backlog() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    assert sorted(r.level for r in _ratings(server)) == [1, 2, 3]


def test_the_outbox_payload_is_encrypted_at_rest(outbox, tmp_path):
    queue_rating(outbox, _rating())
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("k.db*"))
    assert b"shebao.insured-cert" not in raw
