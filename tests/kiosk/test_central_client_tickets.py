"""The kiosk client's tickets, check-in, certificate PDFs and rating reasons: against the real
reference service on loopback, and against scripted answers that break the contract."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from central.server import RunningServer, start_background
from kiosk.central import (
    CentralClient,
    CentralProtocolError,
    CentralRejected,
    RatingReason,
    RetryPolicy,
    Ticket,
)
from tests.support.central_auth import UNLIMITED
from tests.support.kiosk_keys import TEST_KIOSKS

FAST = RetryPolicy(attempts=2, initial=0.001, maximum=0.002, total=1.0)
WANG_ID, WANG_NAME = "11010519850721135X", "王建国"
TICKET = {
    "ticket_no": "A023",
    "queue_code": "A",
    "queue_name": "户政业务",
    "queue_name_en": "Household registration",
    "item_code": "huji.id-card-renewal",
    "people_ahead": 3,
    "estimated_wait_min": 30,
    "issued_at": "2026-03-02T09:30:00+08:00",
    "priority": False,
}


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    running = start_background(
        db_url="sqlite://", kiosk_registry=TEST_KIOSKS.registry, auth_settings=UNLIMITED
    )
    yield running
    running.stop()


@pytest.fixture()
def client(server: RunningServer) -> Iterator[CentralClient]:
    with CentralClient(
        server.base_url, kiosk_id="kiosk-t1", retry=FAST, auth=TEST_KIOSKS
    ) as central:
        yield central


def scripted(status: int, body: Any, content_type: str = "application/json") -> CentralClient:
    content = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()

    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=content, headers={"content-type": content_type})

    return CentralClient(
        "http://central.test",
        kiosk_id="k",
        transport=httpx.MockTransport(handler),
        retry=FAST,
        auth=TEST_KIOSKS,
    )


def test_take_ticket_and_replay(client):
    key = str(uuid.uuid4())
    ticket = client.take_ticket("huji.id-card-renewal", key)
    assert isinstance(ticket, Ticket) and ticket.ticket_no[1:].isdigit()
    assert client.take_ticket("huji.id-card-renewal", key) == ticket
    nxt = client.take_ticket("huji.id-card-renewal", str(uuid.uuid4()))
    assert nxt.people_ahead == ticket.people_ahead + 1


def test_take_ticket_rejections_carry_the_code(client):
    with pytest.raises(CentralRejected) as info:
        client.take_ticket("shebao.insured-cert", str(uuid.uuid4()))
    assert info.value.code == "item_not_ticketed"


def test_check_in_by_qr_and_by_person(client):
    ticket = client.check_in(str(uuid.uuid4()), code="APPT:CQCWG6S485SH")
    assert ticket.priority and ticket.item_code == "tax.invoice"
    with pytest.raises(CentralRejected) as info:
        client.check_in(str(uuid.uuid4()), code="APPT:SRGM29VTJSL7")
    assert info.value.code == "appointment_not_today"
    result = client.verify_identity(WANG_ID, WANG_NAME)
    assert result.person_ref
    by_person = client.check_in(str(uuid.uuid4()), person_ref=result.person_ref)
    assert by_person.item_code == "huji.id-card-renewal"
    with pytest.raises(ValueError):
        client.check_in("k", code="x", person_ref="y")


def test_certificate_pdf(client):
    ref = client.verify_identity(WANG_ID, WANG_NAME).person_ref
    assert ref
    cert = client.issue_certificate("huji.household-cert", ref, str(uuid.uuid4()))
    data = client.certificate_pdf(cert.certificate_no, cert.verify_code)
    assert data.startswith(b"%PDF-")
    with pytest.raises(CentralRejected) as info:
        client.certificate_pdf(cert.certificate_no, "WRONG234")
    assert info.value.code == "certificate_not_found"


def test_rating_reasons_and_a_rating_with_them(client):
    reasons = client.rating_reasons()
    assert reasons and all(isinstance(r, RatingReason) for r in reasons)
    receipt = client.submit_rating(
        {
            "item_code": "tax.invoice",
            "level": 1,
            "rated_at": "2026-03-02T09:30:00",  # no offset: kept out, never a failure
            "reasons": [reasons[0].code],
            "case_no": "A023",
            "flow": "ticket",
            "level_name": "非常不满意",
        },
        str(uuid.uuid4()),
    )
    assert receipt.rating_id > 0


def test_item_detail_has_its_guide_url(client, server):
    assert client.item("tax.invoice").guide_url == f"{server.base_url}/guides/tax.invoice"


@pytest.mark.parametrize(
    "body",
    [
        {k: v for k, v in TICKET.items() if k != "ticket_no"},
        {**TICKET, "people_ahead": "3"},
        {**TICKET, "people_ahead": -1},
        {**TICKET, "issued_at": "2026-03-02T09:30:00"},
        [TICKET],
        "A023",
    ],
)
def test_malformed_ticket_is_a_protocol_error(body):
    with scripted(201, body) as central, pytest.raises(CentralProtocolError):
        central.take_ticket("huji.id-card-renewal", "k1")


def test_extra_ticket_fields_are_ignored():
    with scripted(201, {**TICKET, "window": "3号窗口"}) as central:
        assert central.take_ticket("huji.id-card-renewal", "k1").ticket_no == "A023"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"%PDF-1.4 ...", "text/html"),
        (b"<html>proxy</html>", "application/pdf"),
        (b"", "application/pdf"),
        (json.dumps({"pdf": "no"}).encode(), "application/json"),
    ],
)
def test_not_a_pdf_is_a_protocol_error(content, content_type):
    with scripted(200, content, content_type) as central, pytest.raises(CentralProtocolError):
        central.certificate_pdf("X", "Y")


@pytest.mark.parametrize(
    "body",
    [
        [{"code": "long_wait", "label": "等候时间长"}],
        {"code": "long_wait", "label": "等候时间长", "label_en": "x"},
        [{"code": 1, "label": "x", "label_en": "y"}],
    ],
)
def test_malformed_reasons_are_a_protocol_error(body):
    with scripted(200, body) as central, pytest.raises(CentralProtocolError):
        central.rating_reasons()
