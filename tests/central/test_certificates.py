"""Certificates: content per item, idempotent replay, conflicts, refusals, expiry, verification."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from central.app import create_app
from central.server import start_background
from tests.central.helpers import KIOSK, LI, PERSONS, WANG, assert_error, person_ref
from tests.support.central_auth import UNLIMITED
from tests.support.kiosk_keys import TEST_KIOSKS

ZHOU = next(p for p in PERSONS if p["name"] == "周晓梅")
CHEN = next(p for p in PERSONS if p["name"] == "陈志强")
ZHAO = next(p for p in PERSONS if p["name"] == "赵子轩")


def _issue(
    http: httpx.Client, item_code: str, ref: str, key: str | None = None, kiosk_id: str = KIOSK
) -> httpx.Response:
    headers = {"Idempotency-Key": key or str(uuid.uuid4())}
    body = {"item_code": item_code, "person_ref": ref, "kiosk_id": kiosk_id}
    return http.post("/certificates", json=body, headers=headers)


def _print_items(http: httpx.Client) -> list[dict[str, Any]]:
    catalogue = http.get("/catalogue").json()
    codes = [i["code"] for c in catalogue["categories"] for i in c["items"] if i["flow"] == "print"]
    return [http.get(f"/items/{code}").json() for code in codes]


def _lines(certificate: dict[str, Any]) -> dict[str, str]:
    return {line["label"]: line["value"] for line in certificate["lines"]}


def test_every_print_item_issues_for_a_fully_recorded_person(http: httpx.Client) -> None:
    ref = person_ref(http, WANG)
    numbers = set()
    for item in _print_items(http):
        response = _issue(http, item["code"], ref)
        assert response.status_code == 201, (item["code"], response.text)
        cert = response.json()
        assert cert["title"] == item["certificate_title"]
        assert cert["item_code"] == item["code"]
        assert cert["issuer"] == item["department"]
        assert cert["holder_name_masked"] == "王**"  # the one policy: rules.masking
        assert len(cert["lines"]) >= 3
        assert all(line["label"] and line["value"] for line in cert["lines"])
        assert WANG["id_number"] not in response.text
        assert "王建国" not in response.text
        assert cert["issued_at"].endswith("+08:00")
        assert cert["verify_url"].endswith(
            f"/{cert['certificate_no']}/verification?code={cert['verify_code']}"
        )
        numbers.add(cert["certificate_no"])
    assert len(numbers) == len(_print_items(http))


def test_certificate_contents_come_from_the_registry(http: httpx.Client) -> None:
    wang = person_ref(http, WANG)
    insured = _lines(_issue(http, "shebao.insured-cert", wang).json())
    assert insured["养老保险累计缴费月数"] == f"{WANG['social_insurance']['pension_months']}个月"
    assert insured["参保单位"] == "北京华信达科技有限公司"
    assert insured["公民身份号码"] == "1101**********135X"
    fund = _lines(_issue(http, "gjj.deposit-cert", wang).json())
    assert fund["账户余额"] == f"{WANG['housing_fund']['balance']:,.2f}元"

    zhou = person_ref(http, ZHOU)
    marriage = _lines(_issue(http, "mz.marriage-record", zhou).json())
    assert marriage["最近一次登记后状态"] == "离婚"
    assert "黄**" in " ".join(marriage.values()) and "黄立军" not in " ".join(marriage.values())
    estate = _lines(_issue(http, "bdc.info-query", zhou).json())
    assert estate["查询结果"] == "该权利人名下共有不动产2处"

    chen = person_ref(http, CHEN)
    assert "未发现" in _lines(_issue(http, "bdc.info-query", chen).json())["查询结果"]
    assert "未发现" in _lines(_issue(http, "mz.marriage-record", chen).json())["查询结果"]
    tax = _lines(_issue(http, "tax.income-record", chen).json())
    assert tax["实缴税额合计"] == "2,300.00元"


@pytest.mark.parametrize(
    ("person", "item_code"),
    [(LI, "gjj.deposit-cert"), (CHEN, "huji.household-cert"), (ZHAO, "shebao.insured-cert")],
    ids=["no-fund-account", "household-elsewhere", "no-social-insurance"],
)
def test_no_record_is_422(http: httpx.Client, person: dict[str, Any], item_code: str) -> None:
    assert_error(_issue(http, item_code, person_ref(http, person)), 422, "no_record")


def test_same_key_replays_the_same_certificate(http: httpx.Client) -> None:
    ref = person_ref(http, WANG)
    key = str(uuid.uuid4())
    first = _issue(http, "shebao.insured-cert", ref, key)
    assert first.status_code == 201
    again = _issue(http, "shebao.insured-cert", ref, key)
    assert again.status_code == 200
    assert again.json() == first.json()


def test_same_key_other_body_is_409(http: httpx.Client) -> None:
    ref = person_ref(http, WANG)
    key = str(uuid.uuid4())
    assert _issue(http, "shebao.insured-cert", ref, key).status_code == 201
    assert_error(_issue(http, "tax.income-record", ref, key), 409, "idempotency_conflict")


def test_concurrent_requests_with_one_key_issue_one_certificate(tmp_path: Path) -> None:
    with start_background(
        db_url=f"sqlite:///{tmp_path / 'central.db'}",
        kiosk_registry=TEST_KIOSKS.registry,
        auth_settings=UNLIMITED,
    ) as server:
        with httpx.Client(base_url=f"{server.base_url}/api/v1", auth=TEST_KIOSKS) as http:
            ref = person_ref(http, WANG)
        key = str(uuid.uuid4())
        results: list[httpx.Response] = []

        def post() -> None:
            with httpx.Client(
                base_url=f"{server.base_url}/api/v1", timeout=20, auth=TEST_KIOSKS
            ) as client:
                results.append(_issue(client, "yibao.insured-cert", ref, key))

        threads = [threading.Thread(target=post) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(r.status_code for r in results) == [200] * 7 + [201]
    assert len({r.json()["certificate_no"] for r in results}) == 1


def test_missing_or_bad_idempotency_key_is_400(http: httpx.Client) -> None:
    body = {
        "item_code": "shebao.insured-cert",
        "person_ref": person_ref(http, WANG),
        "kiosk_id": KIOSK,
    }
    assert_error(http.post("/certificates", json=body), 400, "idempotency_key_missing")
    bad = http.post("/certificates", json=body, headers={"Idempotency-Key": "has space"})
    assert_error(bad, 400, "idempotency_key_invalid")


def test_non_print_item_is_422(http: httpx.Client) -> None:
    ref = person_ref(http, WANG)
    assert_error(_issue(http, "shebao.card-apply", ref), 422, "item_not_printable")


def test_unknown_item_is_404(http: httpx.Client) -> None:
    assert_error(_issue(http, "no.such-item", person_ref(http, WANG)), 404, "item_not_found")


def test_unknown_person_ref_is_404(http: httpx.Client) -> None:
    assert_error(_issue(http, "shebao.insured-cert", "not-a-real-ref"), 404, "person_not_found")


def test_person_ref_of_a_failed_check_does_not_exist(http: httpx.Client) -> None:
    # Only verified checks hand out refs; a made-up ref of the same shape is unknown.
    assert_error(_issue(http, "shebao.insured-cert", "A" * 32), 404, "person_not_found")


def test_person_ref_only_works_from_its_kiosk(http: httpx.Client) -> None:
    ref = person_ref(http, WANG, kiosk_id="kiosk-a")
    response = _issue(http, "shebao.insured-cert", ref, kiosk_id="kiosk-b")
    assert_error(response, 404, "person_not_found")
    assert _issue(http, "shebao.insured-cert", ref, kiosk_id="kiosk-a").status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {"item_code": "shebao.insured-cert", "person_ref": "x"},
        {"item_code": "BAD CODE", "person_ref": "x", "kiosk_id": KIOSK},
        {"item_code": "shebao.insured-cert", "person_ref": "", "kiosk_id": KIOSK},
    ],
    ids=["missing-kiosk", "bad-code", "empty-ref"],
)
def test_malformed_certificate_request_is_422(http: httpx.Client, body: dict[str, str]) -> None:
    response = http.post("/certificates", json=body, headers={"Idempotency-Key": "k-422"})
    assert_error(response, 422, "invalid_request")


def test_person_ref_expires() -> None:
    now = [datetime(2026, 3, 2, 9, 0, tzinfo=UTC)]
    app = create_app(
        "sqlite://",
        person_ref_ttl=timedelta(minutes=30),
        clock=lambda: now[0],
        kiosk_registry=TEST_KIOSKS.registry,
        auth_settings=UNLIMITED,
    )
    with (
        start_background(app=app) as server,
        httpx.Client(base_url=f"{server.base_url}/api/v1", auth=TEST_KIOSKS) as http,
    ):
        ref = person_ref(http, WANG)
        key = str(uuid.uuid4())
        issued = _issue(http, "shebao.insured-cert", ref, key)
        assert issued.json()["issued_at"] == "2026-03-02T17:00:00+08:00"
        now[0] += timedelta(minutes=31)
        assert_error(_issue(http, "tax.income-record", ref), 404, "person_ref_expired")
        # A replay needs no live ref: the certificate already exists.
        assert _issue(http, "shebao.insured-cert", ref, key).json() == issued.json()


def test_issued_certificate_can_be_verified(http: httpx.Client) -> None:
    cert = _issue(http, "huji.household-cert", person_ref(http, WANG)).json()
    response = httpx.get(cert["verify_url"])
    assert response.status_code == 200
    assert response.json() == {
        "certificate_no": cert["certificate_no"],
        "title": "户籍证明",
        "issuer": cert["issuer"],
        "holder_name_masked": "王**",
        "issued_at": cert["issued_at"],
    }
    lowercase = http.get(
        f"/certificates/{cert['certificate_no']}/verification",
        params={"code": cert["verify_code"].lower()},
    )
    assert lowercase.status_code == 200


def test_wrong_verify_code_and_unknown_number_look_the_same(http: httpx.Client) -> None:
    cert = _issue(http, "huji.household-cert", person_ref(http, WANG)).json()
    wrong = http.get(
        f"/certificates/{cert['certificate_no']}/verification", params={"code": "AAAAAAAA"}
    )
    unknown = http.get("/certificates/HJZM0000/verification", params={"code": cert["verify_code"]})
    assert_error(wrong, 404, "certificate_not_found")
    assert_error(unknown, 404, "certificate_not_found")
    assert wrong.json() == unknown.json()


def test_public_base_url_is_used_for_verify_urls() -> None:
    app = create_app(
        "sqlite://",
        public_base_url="https://zwfw.example.gov.cn/",
        kiosk_registry=TEST_KIOSKS.registry,
        auth_settings=UNLIMITED,
    )
    with (
        start_background(app=app) as server,
        httpx.Client(base_url=f"{server.base_url}/api/v1", auth=TEST_KIOSKS) as http,
    ):
        cert = _issue(http, "tax.income-record", person_ref(http, WANG)).json()
    assert cert["verify_url"].startswith("https://zwfw.example.gov.cn/api/v1/certificates/NSJL")
