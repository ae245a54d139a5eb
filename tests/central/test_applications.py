"""POST /applications: applied exactly once, checked rule by rule, found afterwards as a case."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from central.app import create_app
from central.applications import ApplicationDocumentRow, ApplicationRow
from tests.central.faces import LIVE, b64, portrait
from tests.central.helpers import KIOSK, LI, PERSONS, WANG, assert_error, person_ref
from tests.support.central_auth import UNLIMITED
from tests.support.kiosk_keys import TEST_KIOSKS, signed

JPEG = b"\xff\xd8\xff\xe0" + bytes(200) + b"\xff\xd9"
CHEN = PERSONS[2]


def party(person: dict, **extra) -> dict:
    return {
        "name": person["name"],
        "id_number": person["id_number"],
        "card_type": person.get("card_type", "resident"),
        "person_ref": None,
        **extra,
    }


def doc(code: str, data: bytes = JPEG) -> dict:
    return {"code": code, "content_type": "image/jpeg", "data": base64.b64encode(data).decode()}


def card_loss(**change) -> dict:
    body = {
        "item_code": "shebao.card-loss",
        "kiosk_id": KIOSK,
        "applicant": party(WANG),
        "agent": None,
        "assisted_by": None,
        "fields": {"phone": "13812345678", "loss_reason": "lost", "reissue": "yes"},
        "documents": [],
        "face_check_id": None,
    }
    return {**body, **change}


def unemployment(today: datetime | None = None, **change) -> dict:
    ended = (today or datetime.now(UTC)) - timedelta(days=30)
    fields = {
        "phone": "010-62345678",
        "reason": "contract_expired",
        "last_employer": "北京华信达科技有限公司",
        "ended_on": ended.date().isoformat(),
    }
    base = {
        "item_code": "shebao.unemployment-registration",
        "fields": fields,
        "documents": [doc("termination_proof")],
    }
    return card_loss(**{**base, **change})


def post(http, body, key: str | None = None):
    return http.post(
        "/applications", json=body, headers={"Idempotency-Key": key or str(uuid.uuid4())}
    )


def problems(response) -> list[tuple[str, str]]:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "application_invalid"
    return [(p["field"], p["problem"]) for p in error["problems"]]


def test_new_application_is_201_replay_200_and_the_case_is_found(http):
    key = str(uuid.uuid4())
    first, again = post(http, unemployment(), key), post(http, unemployment(), key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    receipt = first.json()
    assert (
        receipt["status"] == "submitted"
        and receipt["item_code"] == "shebao.unemployment-registration"
    )
    assert datetime.fromisoformat(receipt["received_at"]).utcoffset() == timedelta(hours=8)
    case = http.get(f"/cases/{receipt['tracking_no']}").json()
    assert case["holder_name_masked"] == "王**"
    assert case["history"][0]["note"] == "在自助终端提交申请"
    assert http.get(f"/applications/{key}").json() == receipt
    mine = http.get("/cases", params={"person_ref": person_ref(http, WANG), "kiosk_id": KIOSK})
    assert receipt["tracking_no"] in [c["receipt_no"] for c in mine.json()["cases"]]


def test_same_key_with_another_body_is_409(http):
    key = str(uuid.uuid4())
    assert post(http, card_loss(), key).status_code == 201
    other = card_loss(fields={"phone": "13900000000", "loss_reason": "lost", "reissue": "no"})
    assert_error(post(http, other, key), 409, "idempotency_conflict")


def test_missing_key_and_unknown_application(http):
    assert_error(http.post("/applications", json=card_loss()), 400, "idempotency_key_missing")
    assert_error(http.get(f"/applications/{uuid.uuid4()}"), 404, "application_not_found")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"phone": "123", "loss_reason": "lost", "reissue": "yes"}, [("phone", "bad_phone")]),
        ({"phone": "13812345678", "reissue": "yes"}, [("loss_reason", "required")]),
        (
            {"phone": "13812345678", "loss_reason": "eaten", "reissue": "yes", "x": "1"},
            [("loss_reason", "not_a_choice"), ("x", "unknown_field")],
        ),
    ],
)
def test_fields_are_checked_against_the_form(http, fields, expected):
    assert problems(post(http, card_loss(fields=fields))) == expected


def test_documents_are_checked(http):
    assert problems(post(http, unemployment(documents=[]))) == [
        ("documents.termination_proof", "required")
    ]
    assert ("documents.termination_proof", "not_jpeg") in problems(
        post(http, unemployment(documents=[doc("termination_proof", b"%PDF-1.7 ...")]))
    )
    huge = b"\xff\xd8\xff" + bytes(1_500_001)
    assert ("documents.termination_proof", "too_large") in problems(
        post(http, unemployment(documents=[doc("termination_proof", huge)]))
    )
    nine = [doc("termination_proof")] + [doc(f"extra_{i}") for i in range(8)]
    found = problems(post(http, unemployment(documents=nine)))
    assert ("documents", "too_many") in found and ("documents.extra_0", "unknown_document") in found
    bad = {"code": "termination_proof", "content_type": "image/jpeg", "data": "@@@@"}
    assert ("documents.termination_proof", "bad_encoding") in problems(
        post(http, unemployment(documents=[bad]))
    )


def test_identity_is_rechecked_against_the_registry(http):
    wrong_name = card_loss(applicant=party(WANG, name="王建军"))
    assert_error(post(http, wrong_name), 422, "applicant_not_verified")
    bad_check = card_loss(applicant=party(WANG, id_number="110105198507211351"))
    assert_error(post(http, bad_check), 422, "applicant_not_verified")
    assert_error(post(http, card_loss(item_code="shebao.insured-cert")), 404, "no_form")
    assert_error(post(http, card_loss(item_code="nope.none")), 404, "item_not_found")


def test_agent_needs_authorisation_and_a_relation_and_is_recorded_without_id(http, server):
    agent = party(CHEN, relation="sibling")
    assert problems(post(http, card_loss(agent=agent))) == [("documents.authorisation", "required")]
    odd = party(CHEN, relation="neighbour")
    assert ("agent.relation", "not_a_choice") in problems(
        post(http, card_loss(agent=odd, documents=[doc("authorisation")]))
    )
    assert_error(
        post(
            http, card_loss(agent=party(WANG, relation="spouse"), documents=[doc("authorisation")])
        ),
        422,
        "agent_not_allowed",
    )
    assert_error(
        post(
            http,
            card_loss(
                agent=party(CHEN, name="陈志刚", relation="sibling"),
                documents=[doc("authorisation")],
            ),
        ),
        422,
        "agent_not_verified",
    )
    response = post(
        http, card_loss(agent=agent, assisted_by="GZ0427", documents=[doc("authorisation")])
    )
    assert response.status_code == 201, response.text
    case = http.get(f"/cases/{response.json()['tracking_no']}").json()
    assert case["history"][0]["note"] == "在自助终端提交申请（代办人：兄弟姐妹；工作人员帮办）"
    assert CHEN["id_number"] not in str(case)


def test_face_items_need_a_passed_check_of_the_person_at_the_kiosk(http):
    fields = {
        "birth_date": LI["birth_date"],
        "address": "北京市东城区南池子大街18号院",
        "bank": "icbc",
        "account_no": "6222020200112233445",
        "phone": "13812345678",
    }
    body = card_loss(
        item_code="mz.elderly-allowance",
        applicant=party(LI),
        fields=fields,
        documents=[doc("payment_card")],
    )
    assert_error(post(http, body), 422, "face_check_required")
    assert_error(post(http, {**body, "face_check_id": "made-up"}), 422, "face_check_failed")
    # The son applies for his mother: his face is checked, he brings the authorisation.
    ref = person_ref(http, WANG)
    check = http.post(
        "/identity/face",
        json={"person_ref": ref, "kiosk_id": KIOSK, "image": b64(portrait()), "presence": LIVE},
    ).json()
    assert check["passed"]
    with_agent = {
        **body,
        "agent": party(WANG, relation="child"),
        "documents": [doc("payment_card"), doc("authorisation")],
        "face_check_id": check["check_id"],
    }
    assert post(http, with_agent).status_code == 201
    # The same check does not stand for the mother applying herself.
    assert_error(post(http, {**body, "face_check_id": check["check_id"]}), 422, "face_check_failed")


def test_face_items_refuse_agents_when_the_person_must_come(http):
    body = card_loss(item_code="huji.residence-permit", agent=party(CHEN, relation="spouse"))
    assert_error(post(http, body), 422, "agent_not_allowed")


def test_delivery_hours_later_with_an_expired_person_ref_is_accepted():
    now = [datetime(2026, 11, 23, 1, 0, tzinfo=UTC)]
    app = create_app(
        "sqlite://",
        clock=lambda: now[0],
        kiosk_registry=TEST_KIOSKS.registry,
        auth_settings=UNLIMITED,
    )
    with signed(TestClient(app, base_url="http://testserver/api/v1")) as http:
        ref = person_ref(http, WANG)
        now[0] += timedelta(hours=6)  # the kiosk was offline; the ref expired after 30 minutes
        assert http.get("/cases", params={"person_ref": ref, "kiosk_id": KIOSK}).status_code == 404
        body = card_loss(applicant=party(WANG, person_ref=ref), documents=[])
        response = post(http, body)
        assert response.status_code == 201, response.text
        assert response.json()["received_at"].startswith("2026-11-23T15:00")  # the server's time
        with app.state.central.sessions() as session:
            row = session.scalars(select(ApplicationRow)).one()
            assert row.received_at == now[0]
            doc_body = unemployment(today=now[0])
            assert post(http, doc_body).status_code == 201
            stored = session.scalars(select(ApplicationDocumentRow)).one()
            assert stored.size == len(JPEG) and stored.data == JPEG and len(stored.sha256) == 64


def test_a_huge_body_is_413(http):
    body = card_loss(documents=[doc("x", b"\xff\xd8\xff" + bytes(10_000_000))])
    assert_error(post(http, body), 413, "body_too_large")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(key=st.sampled_from(list(card_loss())), value=json_values)
def test_malformed_bodies_are_4xx_never_500(http, key, value):
    response = post(http, {**card_loss(), key: value})
    assert response.status_code < 500, response.text  # valid by chance: 201


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=200))
def test_bytes_that_are_not_json_are_422(http, raw):
    response = http.post(
        "/applications",
        content=raw,
        headers={"Idempotency-Key": str(uuid.uuid4()), "Content-Type": "application/json"},
    )
    assert response.status_code in (400, 404, 409, 422), response.text
