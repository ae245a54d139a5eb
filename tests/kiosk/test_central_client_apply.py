"""The kiosk's client for forms, applications and face checks, against the real reference service."""

from __future__ import annotations

import uuid

import httpx
import pytest

from kiosk.central import NO_RETRY, CentralClient, CentralProtocolError, CentralRejected
from kiosk.delivery import central_sender
from kiosk.flows.apply import KIND, Application, Attachment, Person
from kiosk.outbox import PermanentDeliveryError
from rules.forms import check
from tests.central.faces import blank, portrait
from tests.central.helpers import LI, WANG
from tests.support.inprocess import central_client
from tests.support.kiosk_keys import TEST_KIOSKS

JPEG = b"\xff\xd8\xff\xe0" + bytes(100) + b"\xff\xd9"


def card_loss(key: str, phone: str = "13812345678") -> Application:
    return Application(
        idempotency_key=key,
        item_code="shebao.card-loss",
        kiosk_id="KIOSK-T-1",
        applicant=Person(WANG["name"], WANG["id_number"]),
        fields={"phone": phone, "loss_reason": "stolen", "reissue": "no"},
    )


@pytest.fixture(scope="module")
def service():
    with central_client() as pair:
        yield pair


def test_the_form_parses_and_its_fields_check_values(service):
    client, _ = service
    form = client.application_form("shebao.unemployment-registration")
    assert form.agent is not None and form.agent.document.code == "authorisation"
    phone = next(field for field in form.fields if field.name == "phone")
    assert check(phone, "13812345678") is None and check(phone, "12345") == "bad_phone"
    with pytest.raises(CentralRejected) as refused:
        client.application_form("shebao.insured-cert")
    assert refused.value.code == "no_form"


def test_submit_replay_and_look_up_by_key(service):
    client, _ = service
    application = card_loss(str(uuid.uuid4()))
    receipt = client.submit_application(application.payload(), application.idempotency_key)
    again = client.submit_application(application.payload(), application.idempotency_key)
    assert receipt == again and receipt.status == "submitted"
    assert client.application(application.idempotency_key) == receipt
    assert client.case(receipt.tracking_no).item_code == "shebao.card-loss"


def test_the_outbox_sender_delivers_applications_and_parks_rejections(service):
    client, _ = service
    send = central_sender(client)
    good = card_loss(str(uuid.uuid4()))
    send(KIND, good.payload(), good.idempotency_key)
    assert client.application(good.idempotency_key).item_code == "shebao.card-loss"
    bad = card_loss(str(uuid.uuid4()), phone="12")
    with pytest.raises(PermanentDeliveryError, match="422 application_invalid"):
        send(KIND, bad.payload(), bad.idempotency_key)


def test_face_check_then_an_application_that_needs_it(service):
    client, _ = service
    ref = client.verify_identity(LI["id_number"], LI["name"]).person_ref
    assert ref is not None
    missed = client.check_face(ref, blank(), frames=10, seconds=2.0, moved=True)
    assert (missed.passed, missed.reason) == (False, "no_face")
    passed = client.check_face(ref, portrait(), frames=10, seconds=2.0, moved=True)
    assert passed.passed and passed.reason is None
    application = Application(
        idempotency_key=str(uuid.uuid4()),
        item_code="mz.elderly-allowance",
        kiosk_id="KIOSK-T-1",
        applicant=Person(LI["name"], LI["id_number"], person_ref=ref),
        fields={
            "birth_date": LI["birth_date"],
            "address": "北京市东城区南池子大街18号院",
            "bank": "boc",
            "account_no": "6217000010001234567",
            "phone": "13912345678",
        },
        documents=(Attachment("payment_card", JPEG),),
        face_check_id=passed.check_id,
    )
    receipt = client.submit_application(application.payload(), application.idempotency_key)
    assert client.case(receipt.tracking_no).holder_name_masked == "李**"


def test_a_receipt_with_a_bad_tracking_number_is_a_protocol_error():
    body = {"tracking_no": "1234", "status": "submitted", "item_code": "x"}
    body["received_at"] = "2026-01-01T00:00:00+08:00"
    transport = httpx.MockTransport(lambda request: httpx.Response(201, json=body))
    client = CentralClient(
        "http://central", kiosk_id="K", transport=transport, retry=NO_RETRY, auth=TEST_KIOSKS
    )
    with pytest.raises(CentralProtocolError, match="tracking_no"):
        client.submit_application(card_loss("k").payload(), "k")
