"""Case progress (办件进度) and record lookups against the reference service on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from central import cases
from central.app import create_app
from central.seed import SeedError
from tests.central.helpers import HK, KIOSK, LI, PERSONS, WANG, assert_error, person_ref
from tests.support.central_auth import UNLIMITED
from tests.support.kiosk_keys import TEST_KIOSKS, signed

SEED_CASES: list[dict[str, Any]] = json.loads(cases.CASES_FILE.read_text("utf-8"))["cases"]
CASE_KEYS = {
    "receipt_no", "qr_payload", "item_code", "item_name", "item_name_en", "status",
    "status_label", "status_label_en", "submitted_at", "updated_at", "holder_name_masked",
    "history",
}  # fmt: skip


def records(http: httpx.Client, item: str, ref: str, **params: Any) -> httpx.Response:
    return http.get(f"/records/{item}", params={"person_ref": ref, "kiosk_id": KIOSK, **params})


# --- the seed ---------------------------------------------------------------------------------


def test_seed_cases_cover_every_state_and_several_persons() -> None:
    assert 10 <= len(SEED_CASES) <= 20
    last = {case["history"][-1]["status"] for case in SEED_CASES}
    assert {"received", "in_review", "needs_more", "completed", "rejected"} <= last
    assert len({case["person_no"] for case in SEED_CASES}) >= 6
    assert {case["person_no"] for case in SEED_CASES} <= {p["person_no"] for p in PERSONS}
    for case in SEED_CASES:
        assert cases.receipt_no_is_valid(case["receipt_no"])
        assert cases.parse_case_qr(cases.qr_payload(case["receipt_no"])) == case["receipt_no"]


def test_receipt_numbers_catch_one_mistyped_digit() -> None:
    number = SEED_CASES[0]["receipt_no"]
    for position in range(16):
        for digit in "0123456789":
            if digit != number[position]:
                typo = number[:position] + digit + number[position + 1 :]
                assert not cases.receipt_no_is_valid(typo)


def test_a_seed_case_with_a_bad_check_digit_is_refused(tmp_path: Path) -> None:
    broken = dict(SEED_CASES[0], receipt_no=SEED_CASES[0]["receipt_no"][:-1] + "0")
    if cases.receipt_no_is_valid(broken["receipt_no"]):
        broken["receipt_no"] = SEED_CASES[0]["receipt_no"][:-1] + "1"
    path = tmp_path / "cases.json"
    path.write_text(json.dumps({"cases": [broken]}, ensure_ascii=False), "utf-8")
    with pytest.raises(SeedError, match="check digit"):
        cases.read_cases(path)


@given(st.text(max_size=40))
def test_case_qr_parser_never_fails(text: str) -> None:
    number = cases.parse_case_qr(text)
    assert number is None or (cases.receipt_no_is_valid(number) and number in text)


# --- GET /cases/{receipt_no} ------------------------------------------------------------------


def test_every_seed_case_is_found_with_masked_holder(http: httpx.Client) -> None:
    names = {p["person_no"]: p["name"] for p in PERSONS}
    numbers = {p["person_no"]: p["id_number"] for p in PERSONS}
    for seed in SEED_CASES:
        response = http.get(f"/cases/{seed['receipt_no']}")
        assert response.status_code == 200, response.text
        case = response.json()
        assert set(case) == CASE_KEYS
        assert case["qr_payload"] == f"CASE:{seed['receipt_no']}"
        assert case["status"] == seed["history"][-1]["status"]
        assert [step["status"] for step in case["history"]] == [
            step["status"] for step in seed["history"]
        ]
        assert case["holder_name_masked"][0] == names[seed["person_no"]][0]
        assert "*" in case["holder_name_masked"]
        text = response.text
        assert names[seed["person_no"]] not in text and numbers[seed["person_no"]] not in text
        assert seed["person_no"] not in text
        times = [datetime.fromisoformat(step["at"]) for step in case["history"]]
        assert times == sorted(times)
        assert case["submitted_at"] == case["history"][0]["at"]
        assert case["updated_at"] == case["history"][-1]["at"]


def test_status_labels_in_both_languages(http: httpx.Client) -> None:
    labels = {}
    for seed in SEED_CASES:
        case = http.get(f"/cases/{seed['receipt_no']}").json()
        labels[case["status"]] = (case["status_label"], case["status_label_en"])
    assert labels["needs_more"] == ("待补正", "Awaiting more documents")
    assert labels["rejected"][0] == "不予受理"
    assert labels["completed"][0] == "已办结"
    assert labels["in_review"][0] == "审核中"


def test_unknown_case_is_404_and_malformed_numbers_422(http: httpx.Client) -> None:
    unknown = "123456789012345" + cases.luhn_check_digit("123456789012345")
    assert_error(http.get(f"/cases/{unknown}"), 404, "case_not_found")
    good = SEED_CASES[0]["receipt_no"]
    wrong_check = good[:-1] + str((int(good[-1]) + 1) % 10)
    for bad in (good[:-1], good + "0", "abcdefghijklmnop", wrong_check, "１" * 16):
        assert_error(http.get(f"/cases/{quote(bad)}"), 422, "invalid_receipt_no")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(min_size=1, max_size=40))
def test_any_receipt_number_is_answered_cleanly(http: httpx.Client, text: str) -> None:
    response = http.get(f"/cases/{quote(text, safe='')}")
    assert response.status_code in (200, 404, 405, 422), response.text
    assert "error" in response.json() or response.status_code == 200


# --- GET /cases?person_ref --------------------------------------------------------------------


def test_cases_of_the_identified_person(http: httpx.Client) -> None:
    ref = person_ref(http, WANG)
    response = http.get("/cases", params={"person_ref": ref, "kiosk_id": KIOSK})
    assert response.status_code == 200, response.text
    listed = response.json()["cases"]
    expected = {c["receipt_no"] for c in SEED_CASES if c["person_no"] == WANG["person_no"]}
    assert {case["receipt_no"] for case in listed} == expected
    updated = [case["updated_at"] for case in listed]
    assert updated == sorted(updated, reverse=True)


def test_cases_need_a_live_ref_of_this_kiosk(http: httpx.Client) -> None:
    ref = person_ref(http, WANG)
    other = http.get("/cases", params={"person_ref": ref, "kiosk_id": "kiosk-elsewhere"})
    assert_error(other, 404, "person_not_found")
    assert_error(
        http.get("/cases", params={"person_ref": "nonsense", "kiosk_id": KIOSK}),
        404,
        "person_not_found",
    )
    assert_error(http.get("/cases", params={"kiosk_id": KIOSK}), 422, "invalid_request")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def timed() -> Iterator[tuple[TestClient, Clock]]:
    clock = Clock()
    with signed(
        TestClient(
            create_app(
                "sqlite://",
                clock=clock,
                kiosk_registry=TEST_KIOSKS.registry,
                auth_settings=UNLIMITED,
            ),
            base_url="http://t/api/v1",
        )
    ) as client:
        yield client, clock


def test_expired_ref_is_refused_for_cases_and_records(timed: tuple[TestClient, Clock]) -> None:
    client, clock = timed
    ref = person_ref(client, WANG)
    clock.now += timedelta(minutes=31)
    try:
        params = {"person_ref": ref, "kiosk_id": KIOSK}
        assert_error(client.get("/cases", params=params), 404, "person_ref_expired")
        response = client.get("/records/shebao.rights-record", params=params)
        assert_error(response, 404, "person_ref_expired")
    finally:
        clock.now -= timedelta(minutes=31)


def test_seed_cases_are_dated_before_the_service_started(timed: tuple[TestClient, Clock]) -> None:
    client, clock = timed
    for seed in SEED_CASES:
        case = client.get(f"/cases/{seed['receipt_no']}").json()
        assert datetime.fromisoformat(case["updated_at"]) <= clock.now
        assert datetime.fromisoformat(case["submitted_at"]) >= clock.now - timedelta(days=60)


# --- GET /records/{item_code} ------------------------------------------------------------------


def test_pension_record_one_row_a_month_newest_first(http: httpx.Client) -> None:
    ref = person_ref(http, LI)
    first = records(http, "shebao.rights-record", ref, page_size=12)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [c["key"] for c in page["columns"]] == ["month", "base", "personal", "unit", "status"]
    si = LI["social_insurance"]
    assert page["total"] == si["pension_months"]  # 1992-10 .. 2011-03, paid every month
    assert page["pages"] == -(-page["total"] // 12) and page["page"] == 1
    assert page["rows"][0][:4] == [si["last_paid_month"], "4,850.00", "388.00", "776.00"]
    assert [row[0] for row in page["rows"]] == sorted(
        (row[0] for row in page["rows"]), reverse=True
    )
    last = records(http, "shebao.rights-record", ref, page=page["pages"], page_size=12).json()
    assert last["rows"][-1][0] == si["pension_first_month"]
    assert len(last["rows"]) == page["total"] - 12 * (page["pages"] - 1)
    for row in page["rows"] + last["rows"]:
        assert len(row) == len(page["columns"]) and all(isinstance(cell, str) for cell in row)


def test_fund_and_medical_accounts(http: httpx.Client) -> None:
    wang = person_ref(http, WANG)
    fund = records(http, "gjj.account-query", wang, page_size=5).json()
    hf = WANG["housing_fund"]
    share = hf["monthly_base"] * hf["rate_percent"] / 100
    assert fund["rows"][0][0] == hf["last_paid_month"]
    assert fund["rows"][0][2] == f"{share:,.2f}" and fund["rows"][0][4] == f"{share * 2:,.2f}"
    li = person_ref(http, LI)
    no_fund = records(http, "gjj.account-query", li).json()
    assert (no_fund["total"], no_fund["pages"], no_fund["rows"]) == (0, 1, [])
    medical = records(http, "yibao.account-query", li).json()
    assert medical["total"] > 0 and medical["rows"][0][1] == "100.00"  # retiree's fixed credit


def test_crj_progress_lists_the_persons_exit_entry_cases(http: httpx.Client) -> None:
    page = records(http, "crj.progress", person_ref(http, WANG)).json()
    expected = {
        c["receipt_no"]
        for c in SEED_CASES
        if c["person_no"] == WANG["person_no"] and c["item_code"].startswith("crj.")
    }
    assert {row[0] for row in page["rows"]} == expected and page["total"] == len(expected)
    assert records(http, "crj.progress", person_ref(http, HK)).json()["total"] == 0


def test_record_errors(http: httpx.Client) -> None:
    ref = person_ref(http, WANG)
    assert_error(records(http, "no.such-item", ref), 404, "item_not_found")
    assert_error(records(http, "shebao.insured-cert", ref), 404, "records_not_available")
    for params in ({"page": 0}, {"page": -1}, {"page": "x"}, {"page_size": 0}, {"page_size": 51}):
        assert_error(records(http, "shebao.rights-record", ref, **params), 422, "invalid_request")
    beyond = records(http, "shebao.rights-record", ref, page=9999)
    assert_error(beyond, 422, "page_out_of_range")
    assert_error(
        http.get("/records/shebao.rights-record", params={"person_ref": ref}),
        422,
        "invalid_request",
    )
