"""The kiosk client's e-ID, case and record calls: against the real reference app in-process
(through Starlette's test transport), and against scripted answers that break the contract."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from central.app import create_app
from kiosk.central import (
    Case,
    CentralClient,
    CentralProtocolError,
    CentralRejected,
    CentralUnavailable,
    IdentityResult,
    RecordPage,
    RetryPolicy,
    parse_case_qr,
    receipt_no_is_valid,
)
from tests.support.central_auth import UNLIMITED
from tests.support.kiosk_keys import TEST_KIOSKS, signed

WANG_ID, WANG_NAME, WANG_NO = "11010519850721135X", "王建国", "BJ1101000002"
LI_ID, LI_NAME = "110101195603121240", "李秀英"
WANG_CRJ_CASE = "1100001210058348"
FAST = RetryPolicy(attempts=3, initial=0.001, maximum=0.005, total=2.0)


@pytest.fixture(scope="module")
def service() -> Iterator[TestClient]:
    with signed(
        TestClient(
            create_app("sqlite://", kiosk_registry=TEST_KIOSKS.registry, auth_settings=UNLIMITED)
        )
    ) as test_client:
        yield test_client


class Recording(httpx.BaseTransport):
    """Passes requests to the app's transport and remembers them."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)


@pytest.fixture()
def transport(service: TestClient) -> Recording:
    return Recording(service._transport)


@pytest.fixture()
def client(transport: Recording) -> Iterator[CentralClient]:
    with CentralClient(
        "http://testserver", kiosk_id="kiosk-t1", transport=transport, retry=FAST, auth=TEST_KIOSKS
    ) as central:
        yield central


def mint(service: TestClient, person: str) -> str:
    response = service.post("/api/v1/dev/eid/mint", json={"person": person})
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


# --- against the reference service --------------------------------------------------------------


def test_verify_eid_names_the_holder(client: CentralClient, service: TestClient) -> None:
    token = mint(service, WANG_NO)
    result = client.verify_eid(token)
    assert isinstance(result, IdentityResult)
    assert result.verified and result.person_ref and result.reason == "ok"
    assert (result.name_masked, result.card_type) == ("王**", "resident")
    replay = client.verify_eid(token)
    assert (replay.verified, replay.reason, replay.name_masked) == (False, "token_used", None)
    assert client.verify_eid("not an e-id").reason == "token_invalid"


def test_verify_identity_keeps_its_old_request(client: CentralClient, transport: Recording) -> None:
    assert client.verify_identity(WANG_ID, WANG_NAME).verified
    body = json.loads(transport.requests[-1].content)
    assert body["method"] == "id_card" and "valid_until" not in body


def test_social_security_card_and_expired_cards(
    client: CentralClient, transport: Recording
) -> None:
    result = client.verify_identity(LI_ID, LI_NAME, method="social_security_card")
    assert result.verified and result.name_masked is None
    assert json.loads(transport.requests[-1].content)["method"] == "social_security_card"
    expired = client.verify_identity(LI_ID, LI_NAME, valid_until=date(2001, 1, 1))
    assert (expired.verified, expired.reason) == (False, "card_expired")
    assert json.loads(transport.requests[-1].content)["valid_until"] == "2001-01-01"
    assert client.verify_identity(LI_ID, LI_NAME, valid_until=date(2999, 1, 1)).verified


def test_case_by_receipt_number(client: CentralClient) -> None:
    case = client.case(WANG_CRJ_CASE)
    assert isinstance(case, Case)
    assert case.status == "in_review" and case.status_label == "审核中"
    assert case.holder_name_masked == "王**" and case.history[-1].status == case.status
    assert parse_case_qr(case.qr_payload or "") == WANG_CRJ_CASE
    with pytest.raises(CentralRejected) as unknown:
        client.case("1234567890123452")
    assert (unknown.value.status_code, unknown.value.code) == (404, "case_not_found")
    with pytest.raises(CentralRejected) as malformed:
        client.case("12345")
    assert (malformed.value.status_code, malformed.value.code) == (422, "invalid_receipt_no")


def test_cases_and_records_of_the_identified_person(
    client: CentralClient, transport: Recording
) -> None:
    ref = client.verify_identity(WANG_ID, WANG_NAME).person_ref
    assert ref
    cases = client.cases(ref)
    assert WANG_CRJ_CASE in {case.receipt_no for case in cases} and len(cases) == 3
    page = client.records("shebao.rights-record", ref, page=2)
    assert isinstance(page, RecordPage)
    assert page.page == 2 and len(page.rows) == 12 and page.total > 24
    assert [column.key for column in page.columns][:2] == ["month", "base"]
    # person_ref travels as a query parameter, never inside the logged path.
    assert transport.requests[-1].url.params["person_ref"] == ref
    assert ref not in transport.requests[-1].url.path
    with pytest.raises(CentralRejected) as beyond:
        client.records("shebao.rights-record", ref, page=999)
    assert beyond.value.code == "page_out_of_range"
    with pytest.raises(CentralRejected) as expired:
        client.cases("no-such-ref")
    assert expired.value.code == "person_not_found"


def test_receipt_number_check_matches_the_service() -> None:
    assert receipt_no_is_valid(WANG_CRJ_CASE)
    assert not receipt_no_is_valid(WANG_CRJ_CASE[:-1] + "0")
    assert parse_case_qr(f"CASE:{WANG_CRJ_CASE}\r\n") == WANG_CRJ_CASE
    assert parse_case_qr(WANG_CRJ_CASE) is None and parse_case_qr("CASE:12") is None


@given(st.text(max_size=40))
def test_case_qr_parser_never_fails(text: str) -> None:
    number = parse_case_qr(text)
    assert number is None or receipt_no_is_valid(number)


def test_person_ref_is_not_logged_on_outage(caplog: pytest.LogCaptureFixture) -> None:
    central = mock_client(lambda _request: httpx.Response(503))
    with caplog.at_level(logging.DEBUG, logger="kiosk.central"), pytest.raises(CentralUnavailable):
        central.cases("secret-person-ref")
    assert caplog.records and "secret-person-ref" not in caplog.text


# --- malformed answers ----------------------------------------------------------------------------

STEP = {
    "at": "2026-03-02T09:12:00+08:00",
    "status": "in_review",
    "status_label": "审核中",
    "status_label_en": "Under review",
    "department": "北京市公安局出入境管理总队",
    "department_en": "Exit and Entry Administration",
    "note": "审批中",
    "note_en": "Under approval",
}
CASE = {
    "receipt_no": WANG_CRJ_CASE,
    "qr_payload": f"CASE:{WANG_CRJ_CASE}",
    "item_code": "crj.hk-macau-endorsement",
    "item_name": "往来港澳通行证再次签注",
    "item_name_en": "Renew Hong Kong and Macao travel endorsement",
    "status": "in_review",
    "status_label": "审核中",
    "status_label_en": "Under review",
    "submitted_at": "2026-03-01T15:20:00+08:00",
    "updated_at": "2026-03-02T09:12:00+08:00",
    "holder_name_masked": "王**",
    "history": [STEP],
}
PAGE = {
    "item_code": "shebao.rights-record",
    "title": "社会保险缴费记录",
    "title_en": "Contributions",
    "columns": [{"key": "month", "label": "缴费年月", "label_en": "Month"}],
    "rows": [["2026-02"], ["2026-01"]],
    "page": 1,
    "page_size": 2,
    "pages": 3,
    "total": 6,
}
EID = {
    "verified": True,
    "person_ref": "opaque",
    "reason": "ok",
    "expires_at": "2026-03-02T02:00:00Z",
    "name_masked": "王**",
    "card_type": "resident",
}
VALID: dict[str, Any] = {"case": CASE, "cases": {"cases": [CASE]}, "records": PAGE, "eid": EID}
CALLS: dict[str, Callable[[CentralClient], Any]] = {
    "case": lambda c: c.case(WANG_CRJ_CASE),
    "cases": lambda c: c.cases("opaque"),
    "records": lambda c: c.records("shebao.rights-record", "opaque"),
    "eid": lambda c: c.verify_eid("CNEID1.x.y"),
}


def mock_client(handler: Callable[[httpx.Request], httpx.Response]) -> CentralClient:
    return CentralClient(
        "http://central.test",
        kiosk_id="kiosk-t1",
        transport=httpx.MockTransport(handler),
        retry=FAST,
        auth=TEST_KIOSKS,
    )


def answer(body: Any) -> CentralClient:
    content = json.dumps(body, ensure_ascii=False).encode()
    return mock_client(lambda _request: httpx.Response(200, content=content))


@pytest.mark.parametrize("what", sorted(VALID))
def test_valid_answers_parse(what: str) -> None:
    assert CALLS[what](answer(VALID[what])) is not None


@pytest.mark.parametrize(
    ("what", "broken"),
    [
        ("case", {**CASE, "receipt_no": "1100001210058340"}),  # check digit wrong
        ("case", {**CASE, "history": []}),
        ("case", {**CASE, "updated_at": "2026-03-02T09:12:00"}),  # no offset
        ("cases", [CASE]),  # a bare list, not {"cases": [...]}
        ("records", {**PAGE, "rows": [["2026-02", "extra"]]}),
        ("records", {**PAGE, "page": 4}),
        ("records", {**PAGE, "rows": [[202602]]}),
        ("records", {**PAGE, "total": 1}),
        ("eid", {**EID, "person_ref": None}),
        ("eid", {**EID, "name_masked": 5}),
    ],
)
def test_contract_breaches_are_protocol_errors(what: str, broken: Any) -> None:
    with pytest.raises(CentralProtocolError):
        CALLS[what](answer(broken))


def test_unknown_identity_reasons_become_other() -> None:
    result = CALLS["eid"](answer({**EID, "verified": False, "person_ref": None, "reason": "x"}))
    assert result.reason == "other"


def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
        max_leaves=8,
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    what=st.sampled_from(sorted(VALID)),
    drop=st.booleans(),
    key_index=st.integers(min_value=0, max_value=20),
    value=_json_values(),
)
def test_mutated_answers_parse_or_fail_cleanly(
    what: str, drop: bool, key_index: int, value: Any
) -> None:
    body = dict(VALID[what])
    key = sorted(body)[key_index % len(body)]
    if drop:
        del body[key]
    else:
        body[key] = value
    with contextlib.suppress(CentralProtocolError):
        CALLS[what](answer(body))


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_bodies_are_protocol_errors(content: bytes) -> None:
    central = mock_client(lambda _request: httpx.Response(200, content=content))
    for call in CALLS.values():
        with contextlib.suppress(CentralProtocolError):
            call(central)
