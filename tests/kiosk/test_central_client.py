"""The kiosk's central service client: against the real reference service on loopback, and
against scripted transports for every way an answer can be wrong."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from central.server import RunningServer, start_background
from drivers.idcard.sim_cards import FOREIGN_2017
from kiosk.central import (
    NO_RETRY,
    Catalogue,
    CentralClient,
    CentralError,
    CentralProtocolError,
    CentralRejected,
    CentralUnavailable,
    Certificate,
    Health,
    IdentityResult,
    ItemDetail,
    RetryPolicy,
)
from tests.support.central_auth import UNLIMITED
from tests.support.kiosk_keys import TEST_KIOSKS

WANG_ID, WANG_NAME = "11010519850721135X", "王建国"
LI_ID, LI_NAME = "110101195603121240", "李秀英"
FAST = RetryPolicy(attempts=3, initial=0.001, maximum=0.005, total=2.0)
Handler = Callable[[httpx.Request], httpx.Response]


class RecordingTransport(httpx.HTTPTransport):
    """A real HTTP transport that remembers what went out and what came back."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[httpx.Request] = []
        self.statuses: list[int] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response = super().handle_request(request)
        self.statuses.append(response.status_code)
        return response


class Script:
    """A MockTransport handler that plays responses (or raises errors) in order, then repeats
    the last one, and records the requests."""

    def __init__(self, *steps: httpx.Response | Exception) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps[min(len(self.requests), len(self.steps)) - 1]
        if isinstance(step, Exception):
            raise step
        return step


def mock_client(handler: Handler, retry: RetryPolicy = FAST) -> CentralClient:
    return CentralClient(
        "http://central.test",
        kiosk_id="kiosk-t1",
        transport=httpx.MockTransport(handler),
        retry=retry,
        auth=TEST_KIOSKS,
    )


def json_response(status: int, body: Any, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, content=json.dumps(body, ensure_ascii=False).encode(), headers=headers
    )


# --- valid bodies, to be broken one way at a time ---------------------------------------------

ITEM = {
    "code": "shebao.insured-cert",
    "name": "社会保险个人参保证明打印",
    "name_en": "Print social insurance enrolment certificate",
    "flow": "print",
    "identity": "id_card",
    "department": "北京市东城区人力资源和社会保障局",
}
GUIDE = {
    "conditions": ["在本市参加社会保险的人员"],
    "materials": [{"name": "居民身份证", "copies": 0, "note": "原件"}],
    "steps": ["读卡", "打印"],
    "time_limit": "即办",
    "fees": "不收费",
    "legal_basis": ["《中华人民共和国社会保险法》"],
    "phone": "12333",
    "location": "政务服务中心",
}
VALID: dict[str, Any] = {
    "health": {"status": "ok", "version": "0.1.0"},
    "catalogue": {
        "version": "abc",
        "categories": [
            {
                "code": "shebao",
                "name": "社会保障",
                "name_en": "Social",
                "icon": "x",
                "items": [ITEM],
            }
        ],
    },
    "item": {
        **ITEM,
        "category": "shebao",
        "guide": GUIDE,
        "certificate_title": "社会保险个人参保证明",
    },
    "verify": {
        "verified": True,
        "person_ref": "opaque-token",
        "reason": "ok",
        "expires_at": "2026-03-02T09:30:00Z",
    },
    "certificate": {
        "certificate_no": "SBCB2026030212345678",
        "item_code": "shebao.insured-cert",
        "title": "社会保险个人参保证明",
        "issuer": "北京市东城区人力资源和社会保障局",
        "holder_name_masked": "王**",
        "issued_at": "2026-03-02T17:00:00+08:00",
        "lines": [{"label": "参保地", "value": "北京市西城区"}],
        "verify_code": "ABCDEFGH",
        "verify_url": "http://central.test/api/v1/certificates/SBCB2026030212345678/verification",
    },
}
CALLS: dict[str, Callable[[CentralClient], Any]] = {
    "health": lambda c: c.health(),
    "catalogue": lambda c: c.catalogue(),
    "item": lambda c: c.item("shebao.insured-cert"),
    "verify": lambda c: c.verify_identity(WANG_ID, WANG_NAME),
    "certificate": lambda c: c.issue_certificate("shebao.insured-cert", "opaque-token", "key-1"),
}
MODELS = {
    "health": Health,
    "catalogue": Catalogue,
    "item": ItemDetail,
    "verify": IdentityResult,
    "certificate": Certificate,
}


def _without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


# --- against the real reference service --------------------------------------------------------


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


def test_health_is_typed(client: CentralClient) -> None:
    health = client.health()
    assert isinstance(health, Health) and health.status == "ok"


def test_catalogue_is_typed(client: CentralClient) -> None:
    catalogue = client.catalogue()
    assert isinstance(catalogue, Catalogue)
    assert len(catalogue.categories) >= 6 and len(catalogue.items()) >= 30
    assert catalogue.categories[0].name == "社会保障"


def test_catalogue_is_revalidated_with_its_etag(server: RunningServer) -> None:
    transport = RecordingTransport()
    with CentralClient(
        server.base_url, kiosk_id="k", transport=transport, retry=FAST, auth=TEST_KIOSKS
    ) as central:
        first = central.catalogue()
        second = central.catalogue()
    assert second is first
    assert transport.statuses == [200, 304]
    assert "if-none-match" not in transport.requests[0].headers
    assert transport.requests[1].headers["if-none-match"] == f'"{first.version}"'


def test_catalogue_kept_from_an_earlier_run_is_revalidated(
    client: CentralClient, server: RunningServer
) -> None:
    stored = Catalogue.model_validate_json(client.catalogue().model_dump_json())
    transport = RecordingTransport()
    with CentralClient(
        server.base_url, kiosk_id="k", transport=transport, retry=FAST, auth=TEST_KIOSKS
    ) as fresh:
        assert fresh.catalogue(known=stored) is stored
    assert transport.statuses == [304]


def test_item_detail_is_typed(client: CentralClient) -> None:
    item = client.item("huji.household-cert")
    assert isinstance(item, ItemDetail)
    assert item.flow == "print" and item.certificate_title == "户籍证明"
    assert item.guide.time_limit == "即办"
    assert item.conditions == item.guide.conditions and item.phone == "12345"
    assert item.materials[0].name


def test_unknown_item_is_rejected_once_without_retry(server: RunningServer) -> None:
    transport = RecordingTransport()
    central = CentralClient(
        server.base_url, kiosk_id="k", transport=transport, retry=FAST, auth=TEST_KIOSKS
    )
    with central, pytest.raises(CentralRejected) as info:
        central.item("no such.item")
    assert info.value.status_code == 404 and info.value.code == "item_not_found"
    assert len(transport.requests) == 1
    assert transport.requests[0].url.raw_path == b"/api/v1/items/no%20such.item"


def test_verify_then_issue_then_replay(client: CentralClient) -> None:
    result = client.verify_identity(WANG_ID, WANG_NAME)
    assert result.verified and result.reason == "ok" and result.person_ref
    assert result.expires_at is not None and result.expires_at.tzinfo is not None
    cert = client.issue_certificate("shebao.insured-cert", result.person_ref, "kiosk-t1/s1/sb")
    assert isinstance(cert, Certificate)
    assert cert.holder_name_masked == "王**" and cert.title == "社会保险个人参保证明"
    assert {line.label for line in cert.lines} >= {"参保地", "养老保险累计缴费月数"}
    again = client.issue_certificate("shebao.insured-cert", result.person_ref, "kiosk-t1/s1/sb")
    assert again == cert
    with pytest.raises(CentralRejected) as info:
        client.issue_certificate("tax.income-record", result.person_ref, "kiosk-t1/s1/sb")
    assert info.value.status_code == 409 and info.value.code == "idempotency_conflict"


def test_verify_wrong_name(client: CentralClient) -> None:
    result = client.verify_identity(WANG_ID, "王建军")
    assert not result.verified and result.reason == "not_found" and result.person_ref is None


def test_verify_sends_the_card_type(client: CentralClient) -> None:
    number, name = FOREIGN_2017.id_number, FOREIGN_2017.name
    result = client.verify_identity(number, name, card_type="foreign_permanent_2017")
    assert result.verified and result.reason == "ok"
    # The same number as a resident card is not even shaped right.
    with pytest.raises(CentralRejected) as info:
        client.verify_identity(number, name)
    assert info.value.status_code == 422


def test_malformed_id_is_rejected(client: CentralClient) -> None:
    with pytest.raises(CentralRejected) as info:
        client.verify_identity("12345", WANG_NAME)
    assert info.value.status_code == 422 and info.value.code == "invalid_request"


def test_nothing_to_certify_is_rejected(client: CentralClient) -> None:
    ref = client.verify_identity(LI_ID, LI_NAME).person_ref
    assert ref
    with pytest.raises(CentralRejected) as info:
        client.issue_certificate("gjj.deposit-cert", ref, "kiosk-t1/s2/gjj")
    assert info.value.code == "no_record"


def test_base_url_may_include_the_api_prefix(server: RunningServer) -> None:
    with CentralClient(
        f"{server.base_url}/api/v1/", kiosk_id="k", retry=FAST, auth=TEST_KIOSKS
    ) as central:
        assert central.health().status == "ok"


def test_stopped_server_is_unavailable_after_bounded_retries() -> None:
    server = start_background(
        db_url="sqlite://", kiosk_registry=TEST_KIOSKS.registry, auth_settings=UNLIMITED
    )
    server.stop()
    transport = RecordingTransport()
    central = CentralClient(
        server.base_url, kiosk_id="k", transport=transport, retry=FAST, auth=TEST_KIOSKS
    )
    with central, pytest.raises(CentralUnavailable) as info:
        central.health()
    assert info.value.request_sent is False
    assert len(transport.requests) == FAST.attempts


# --- malformed answers: never a crash, always one of our errors --------------------------------

MALFORMED: list[tuple[str, httpx.Response]] = [
    ("health", json_response(200, {"status": "ok"})),
    ("health", json_response(200, {"status": "degraded", "version": "1"})),
    ("catalogue", json_response(200, {})),
    ("catalogue", json_response(200, {"version": 1, "categories": "many"})),
    ("catalogue", json_response(200, {"version": "v", "categories": [{"code": "x"}]})),
    ("item", json_response(200, _without(VALID["item"], "guide"))),
    ("item", json_response(200, {**VALID["item"], "guide": {**GUIDE, "steps": "one"}})),
    ("item", json_response(200, {**VALID["item"], "flow": "teleport"})),
    ("verify", json_response(200, _without(VALID["verify"], "reason"))),
    ("verify", json_response(200, {**VALID["verify"], "person_ref": None})),
    ("verify", json_response(200, {**VALID["verify"], "verified": "yes"})),
    ("verify", json_response(200, {**VALID["verify"], "expires_at": "2026-03-02T09:30:00"})),
    ("certificate", json_response(201, _without(VALID["certificate"], "lines"))),
    ("certificate", json_response(201, {**VALID["certificate"], "lines": [{"label": 1}]})),
    ("certificate", json_response(201, {**VALID["certificate"], "issued_at": "yesterday"})),
    ("certificate", json_response(202, VALID["certificate"])),
    ("health", httpx.Response(200, text="<html><body>Portal login</body></html>")),
    ("catalogue", httpx.Response(200, content=b"")),
    ("item", httpx.Response(200, content=b"null")),
    ("verify", httpx.Response(200, content=b"[1, 2, 3]")),
    ("certificate", httpx.Response(201, content=b"\xff\xfe\x00garbage")),
    ("catalogue", httpx.Response(200, content=b"[" * 100_000 + b"]" * 100_000)),
    ("health", httpx.Response(200, content=b'{"status": "ok", "version": "1"')),
    ("catalogue", httpx.Response(304)),
    ("health", httpx.Response(301, headers={"Location": "http://elsewhere.test/"})),
    ("health", httpx.Response(101)),
]


@pytest.mark.parametrize(
    ("call", "response"), MALFORMED, ids=[f"{i}-{call}" for i, (call, _) in enumerate(MALFORMED)]
)
def test_malformed_answer_is_a_protocol_error(call: str, response: httpx.Response) -> None:
    with pytest.raises(CentralProtocolError) as info:
        CALLS[call](mock_client(Script(response)))
    assert str(info.value)


def test_protocol_error_message_names_the_field_but_not_its_value() -> None:
    body = {**VALID["certificate"], "holder_name_masked": 12345678901234}
    with pytest.raises(CentralProtocolError) as info:
        CALLS["certificate"](mock_client(Script(json_response(201, body))))
    assert "holder_name_masked" in str(info.value)
    assert "12345678901234" not in str(info.value)


@pytest.mark.parametrize("call", sorted(CALLS))
def test_html_502_is_unavailable(call: str) -> None:
    script = Script(httpx.Response(502, text="<html><h1>502 Bad Gateway</h1></html>"))
    with pytest.raises(CentralUnavailable) as info:
        CALLS[call](mock_client(script))
    assert info.value.status_code == 502


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_4xx_without_error_body_is_still_a_rejection(status: int) -> None:
    script = Script(httpx.Response(status, text="<html>nope</html>"))
    with pytest.raises(CentralRejected) as info:
        mock_client(script).health()
    assert info.value.status_code == status and info.value.code == f"http_{status}"
    assert len(script.requests) == 1


@pytest.mark.parametrize("call", sorted(CALLS))
def test_valid_answers_parse(call: str) -> None:
    status = 201 if call == "certificate" else 200
    assert isinstance(
        CALLS[call](mock_client(Script(json_response(status, VALID[call])))), MODELS[call]
    )


def test_newer_service_fields_and_kinds_do_not_break_the_kiosk() -> None:
    newer_item = {**ITEM, "code": "new.thing", "flow": "appointment", "badge": "新"}
    catalogue = {
        "version": "v2",
        "generated_by": "central 2.0",
        "categories": [{**VALID["catalogue"]["categories"][0], "items": [ITEM, newer_item]}],
    }
    result = mock_client(Script(json_response(200, catalogue))).catalogue()
    assert [item.code for item in result.items()] == ["shebao.insured-cert"]
    verify = {**VALID["verify"], "verified": False, "person_ref": None, "reason": "card_revoked"}
    assert (
        mock_client(Script(json_response(200, verify))).verify_identity(WANG_ID, WANG_NAME).reason
        == "other"
    )


# --- the retry split ---------------------------------------------------------------------------


def test_5xx_is_retried_then_unavailable() -> None:
    script = Script(json_response(503, {"error": {"code": "busy", "message": "later"}}))
    with pytest.raises(CentralUnavailable) as info:
        mock_client(script).catalogue()
    assert info.value.status_code == 503
    assert len(script.requests) == FAST.attempts


def test_5xx_then_success_recovers() -> None:
    script = Script(httpx.Response(500), httpx.Response(502), json_response(200, VALID["health"]))
    assert mock_client(script).health().version == "0.1.0"
    assert len(script.requests) == 3


def test_4xx_is_not_retried() -> None:
    script = Script(json_response(404, {"error": {"code": "item_not_found", "message": "no"}}))
    with pytest.raises(CentralRejected) as info:
        mock_client(script).item("nope")
    assert (info.value.code, info.value.message) == ("item_not_found", "no")
    assert len(script.requests) == 1


def test_429_with_short_retry_after_is_retried() -> None:
    script = Script(
        httpx.Response(429, headers={"Retry-After": "0"}), json_response(200, VALID["health"])
    )
    assert mock_client(script).health().status == "ok"
    assert len(script.requests) == 2


def test_429_asking_for_a_long_pause_gives_up_at_once() -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "3600"}))
    with pytest.raises(CentralUnavailable) as info:
        mock_client(script).health()
    assert info.value.retry_after == 3600 and len(script.requests) == 1


@pytest.mark.parametrize(
    ("error", "sent"),
    [
        (httpx.ConnectError("refused"), False),
        (httpx.ConnectTimeout("slow"), False),
        (httpx.ReadTimeout("slow"), True),
        (httpx.RemoteProtocolError("peer closed"), True),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_transport_errors_are_unavailable_and_retried_for_gets(
    error: Exception, sent: bool
) -> None:
    script = Script(error)
    with pytest.raises(CentralUnavailable) as info:
        mock_client(script).catalogue()
    assert info.value.request_sent is sent
    assert len(script.requests) == FAST.attempts


def test_verify_is_not_retried_once_the_server_may_have_seen_it() -> None:
    for failure in (httpx.Response(503), httpx.ReadTimeout("slow")):
        script = Script(failure)
        with pytest.raises(CentralUnavailable):
            mock_client(script).verify_identity(WANG_ID, WANG_NAME)
        assert len(script.requests) == 1


def test_verify_is_retried_when_it_never_left_or_was_refused_for_load() -> None:
    ok = json_response(200, VALID["verify"])
    for failure in (httpx.ConnectError("refused"), httpx.Response(429)):
        script = Script(failure, ok)
        assert mock_client(script).verify_identity(WANG_ID, WANG_NAME).verified
        assert len(script.requests) == 2


def test_certificate_post_is_retried_with_the_same_key_and_body() -> None:
    script = Script(
        httpx.ReadTimeout("slow"), httpx.Response(503), json_response(201, VALID["certificate"])
    )
    cert = mock_client(script).issue_certificate("shebao.insured-cert", "opaque-token", "key-7")
    assert cert.certificate_no == "SBCB2026030212345678"
    assert [r.headers["idempotency-key"] for r in script.requests] == ["key-7"] * 3
    assert len({r.content for r in script.requests}) == 1
    assert json.loads(script.requests[0].content) == {
        "item_code": "shebao.insured-cert",
        "person_ref": "opaque-token",
        "kiosk_id": "kiosk-t1",
    }


def test_certificate_replay_200_is_accepted() -> None:
    cert = mock_client(Script(json_response(200, VALID["certificate"]))).issue_certificate(
        "shebao.insured-cert", "opaque-token", "key-8"
    )
    assert cert.verify_code == "ABCDEFGH"


def test_total_retry_time_is_bounded() -> None:
    policy = RetryPolicy(attempts=1000, initial=0.02, maximum=0.02, total=0.15)
    script = Script(httpx.Response(503))
    started = time.monotonic()
    with pytest.raises(CentralUnavailable):
        mock_client(script, policy).health()
    assert time.monotonic() - started < 1.0
    assert 2 <= len(script.requests) < 20


def test_no_retry_policy_makes_one_attempt() -> None:
    script = Script(httpx.Response(503))
    with pytest.raises(CentralUnavailable):
        mock_client(script, NO_RETRY).health()
    assert len(script.requests) == 1


def test_exception_tree() -> None:
    assert issubclass(CentralUnavailable, CentralError) and CentralUnavailable.retryable
    assert issubclass(CentralRejected, CentralError) and not CentralRejected.retryable
    assert issubclass(CentralProtocolError, CentralError) and not CentralProtocolError.retryable


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        CentralClient("http://central.test", kiosk_id="")
    with pytest.raises(ValueError):
        mock_client(Script(httpx.Response(500))).issue_certificate("a", "b", "")


# --- logging -----------------------------------------------------------------------------------


def test_outage_and_recovery_logged_once_without_personal_data(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    script = Script(httpx.Response(503))
    central = mock_client(script)
    for _ in range(3):
        with pytest.raises(CentralUnavailable):
            central.verify_identity(WANG_ID, WANG_NAME)
    script.steps = [json_response(200, VALID["verify"])]
    central.verify_identity(WANG_ID, WANG_NAME)
    central.verify_identity(WANG_ID, WANG_NAME)
    ours = [r for r in caplog.records if r.name == "kiosk.central"]
    assert [r.levelno for r in ours if r.levelno >= logging.INFO] == [logging.WARNING, logging.INFO]
    text = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (WANG_ID, WANG_ID[:14], WANG_NAME):
        assert secret not in text


def test_real_round_trip_logs_no_personal_data(
    client: CentralClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ref = client.verify_identity(LI_ID, LI_NAME).person_ref
    assert ref
    client.issue_certificate("mz.marriage-record", ref, "kiosk-t1/s3/mz")
    text = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (LI_ID, LI_NAME, ref):
        assert secret not in text


# --- property-based: arbitrary bodies never escape as anything but CentralError ----------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
STATUSES = st.sampled_from([200, 201, 204, 304, 400, 404, 409, 418, 422, 429, 500, 502, 503])


def _shaped_like(call: str) -> st.SearchStrategy[Any]:
    """Objects with the right keys and random values: they get deep into validation."""
    template = VALID[call]
    return st.fixed_dictionaries({key: JSON | st.just(value) for key, value in template.items()})


def _check(call: str, status: int, content: bytes) -> None:
    central = mock_client(Script(httpx.Response(status, content=content)), NO_RETRY)
    try:
        result = CALLS[call](central)
    except CentralError:
        return
    assert isinstance(result, MODELS[call])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(call=st.sampled_from(sorted(CALLS)), status=STATUSES, body=JSON)
def test_random_json_never_crashes(call: str, status: int, body: Any) -> None:
    _check(call, status, json.dumps(body).encode())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), call=st.sampled_from(sorted(CALLS)), status=STATUSES)
def test_almost_valid_json_never_crashes(data: st.DataObject, call: str, status: int) -> None:
    _check(call, status, json.dumps(data.draw(_shaped_like(call))).encode())


@settings(max_examples=100, deadline=None)
@given(call=st.sampled_from(sorted(CALLS)), status=STATUSES, content=st.binary(max_size=64))
def test_random_bytes_never_crash(call: str, status: int, content: bytes) -> None:
    _check(call, status, content)


# --- layering ----------------------------------------------------------------------------------


def test_client_imports_neither_the_reference_service_nor_kivy() -> None:
    code = (
        "import sys, kiosk.central; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('central', 'kivy')); "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
