"""Central admits only enrolled kiosks, as themselves, at a bounded rate."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from central.app import create_app
from central.auth import AuthSettings
from tests.central.helpers import KIOSK, WANG, assert_error
from tests.support.kiosk_keys import test_registry, test_signer
from trust.keys import KioskRegistry

SIGNER = test_signer(KIOSK)
OTHER = test_signer("kiosk-other-02")


def _verify_body(person: dict, kiosk_id: str = KIOSK) -> dict:
    return {
        "id_number": person["id_number"],
        "name": person["name"],
        "kiosk_id": kiosk_id,
        "method": "id_card",
    }


@pytest.fixture()
def registry() -> KioskRegistry:
    return test_registry(SIGNER, OTHER)


@pytest.fixture()
def api(registry: KioskRegistry) -> Iterator[TestClient]:
    settings = AuthSettings(identity_limits="3/10 seconds;5/minute", rating_limits="2/minute")
    app = create_app("sqlite://", kiosk_registry=registry, auth_settings=settings)
    with TestClient(app, base_url="http://hall.test/api/v1/") as client:
        yield client


def test_unsigned_calls_are_401_except_the_public_ones(api: TestClient) -> None:
    for method, path in [("GET", "catalogue"), ("GET", "items/tax.invoice"), ("GET", "cases")]:
        response = api.request(method, path)
        assert_error(response, 401, "unauthenticated")
        assert response.headers["WWW-Authenticate"] == "Signature"
    assert_error(api.post("identity/verify", json=_verify_body(WANG)), 401, "unauthenticated")
    assert api.get("health").status_code == 200
    assert api.get("http://hall.test/guides/tax.invoice").status_code == 200
    assert_error(
        api.get("certificates/HJZM0000/verification", params={"code": "X"}),
        404,
        "certificate_not_found",
    )


def test_a_signed_call_passes_and_a_replay_of_it_is_401(api: TestClient) -> None:
    url = "http://hall.test/api/v1/catalogue"
    headers = SIGNER.headers_for("GET", url, b"")
    assert api.get(url, headers=headers).status_code == 200
    assert_error(api.get(url, headers=headers), 401, "replayed")


def test_a_tampered_body_is_401(api: TestClient) -> None:
    url = "http://hall.test/api/v1/identity/verify"
    sent = httpx.Request("POST", url, json=_verify_body(WANG)).content
    headers = SIGNER.headers_for("POST", url, sent)
    forged = sent.replace(b"id_card", b"id_cart")
    response = api.post(
        url, content=forged, headers={**headers, "content-type": "application/json"}
    )
    assert_error(response, 401, "bad_signature")


def test_unknown_and_revoked_kiosks_are_401(api: TestClient, registry: KioskRegistry) -> None:
    stranger = test_signer("kiosk-stranger")
    assert_error(api.get("catalogue", auth=stranger), 401, "unknown_kiosk")
    assert api.get("catalogue", auth=OTHER).status_code == 200
    registry.revoke(OTHER.kiosk_id)
    assert_error(api.get("catalogue", auth=OTHER), 401, "revoked")


def test_a_revocation_in_the_file_takes_effect_without_a_restart(tmp_path) -> None:
    path = tmp_path / "kiosks.yaml"
    KioskRegistry.load(path).enroll(SIGNER.kiosk_id, SIGNER.public_key)
    app = create_app("sqlite://", kiosk_registry=KioskRegistry.load(path))
    with TestClient(app, base_url="http://hall.test/api/v1/") as client:
        assert client.get("catalogue", auth=SIGNER).status_code == 200
        KioskRegistry.load(path).revoke(SIGNER.kiosk_id)  # as `kiosk keys revoke` does
        assert_error(client.get("catalogue", auth=SIGNER), 401, "revoked")


def test_a_stale_signature_is_401(api: TestClient) -> None:
    late = type(SIGNER)(KIOSK, SIGNER._key, clock=lambda: 1_000_000_000.0)
    assert_error(api.get("catalogue", auth=late), 401, "stale_signature")


def test_no_app_registry_admits_no_kiosk() -> None:
    with TestClient(create_app("sqlite://"), base_url="http://hall.test/api/v1/") as client:
        assert_error(client.get("catalogue", auth=SIGNER), 401, "unknown_kiosk")
        assert client.get("health").status_code == 200


def test_a_kiosk_cannot_speak_as_another(api: TestClient) -> None:
    body = _verify_body(WANG, kiosk_id=OTHER.kiosk_id)
    assert_error(api.post("identity/verify", json=body, auth=SIGNER), 403, "kiosk_mismatch")
    params = {"person_ref": "x" * 20, "kiosk_id": OTHER.kiosk_id}
    assert_error(api.get("cases", params=params, auth=SIGNER), 403, "kiosk_mismatch")
    ok = api.post("identity/verify", json=_verify_body(WANG), auth=SIGNER)
    assert ok.status_code == 200 and ok.json()["verified"]


def test_a_person_ref_is_good_only_for_the_kiosk_that_read_the_card(api: TestClient) -> None:
    ref = api.post("identity/verify", json=_verify_body(WANG), auth=SIGNER).json()["person_ref"]
    mine = api.get("cases", params={"person_ref": ref, "kiosk_id": KIOSK}, auth=SIGNER)
    assert mine.status_code == 200
    theirs = api.get("cases", params={"person_ref": ref, "kiosk_id": OTHER.kiosk_id}, auth=OTHER)
    assert_error(theirs, 404, "person_not_found")


def test_identity_checks_are_rate_limited_per_kiosk(api: TestClient) -> None:
    answers = [api.post("identity/verify", json=_verify_body(WANG), auth=SIGNER) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    limited = assert_error(answers[-1], 429, "rate_limited")
    assert limited["error"]["message"]
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 10
    # Another kiosk has its own budget; reads are not limited.
    other = api.post("identity/verify", json=_verify_body(WANG, OTHER.kiosk_id), auth=OTHER)
    assert other.status_code == 200
    assert api.get("catalogue", auth=SIGNER).status_code == 200


def test_forged_ratings_are_limited_and_timed_by_the_server(api: TestClient) -> None:
    statuses = []
    for n in range(3):
        body = {"kiosk_id": KIOSK, "level": 1, "rated_at": "2001-01-01T00:00:00+00:00"}
        response = api.post("ratings", json=body, headers={"Idempotency-Key": f"r{n}"}, auth=SIGNER)
        statuses.append(response.status_code)
        if response.status_code == 201:
            assert not response.json()["received_at"].startswith("2001")
    assert statuses == [201, 201, 429]


def test_unknown_id_numbers_from_an_unknown_caller_all_answer_the_same(api: TestClient) -> None:
    # Without a kiosk credential there is no oracle at all: 1,000 numbers, one answer.
    answers = set()
    for n in range(1000):
        body = _verify_body({"id_number": f"110105198507{n:04d}1X"[:18], "name": "王建国"})
        response = api.post("identity/verify", json=body)
        answers.add((response.status_code, response.text))
    assert len(answers) == 1
    assert answers.pop()[0] == 401


def test_typed_principals_of_applications_spend_the_identity_budget(api: TestClient) -> None:
    # 代办: the principal's name and number are typed and checked against the registry, so
    # probing numbers that way is as limited as /identity/verify.
    body = {"kiosk_id": KIOSK, "agent": {"name": "王建国", "relation": "child"}}
    statuses = [
        api.post(
            "applications", json=body, headers={"Idempotency-Key": f"a{n}"}, auth=SIGNER
        ).status_code
        for n in range(4)
    ]
    assert statuses[:3] != [429] * 3 and statuses[3] == 429
    without_agent = {"kiosk_id": KIOSK}
    response = api.post(
        "applications", json=without_agent, headers={"Idempotency-Key": "b"}, auth=SIGNER
    )
    assert response.status_code != 429
