"""Catalogue and item endpoints: content, caching with ETags, error shape."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.central.helpers import assert_error

GUIDE_KEYS = {
    "conditions",
    "materials",
    "steps",
    "time_limit",
    "fees",
    "legal_basis",
    "phone",
    "location",
}
HAN = re.compile(r"[\u4e00-\u9fff]")
SUMMARY_KEYS = {
    "code",
    "name",
    "name_en",
    "flow",
    "identity",
    "department",
    "department_en",
    "prints",
    "lookup",
    "queue",
}


def _codes(http: httpx.Client) -> list[str]:
    catalogue = http.get("/catalogue").json()
    return [item["code"] for category in catalogue["categories"] for item in category["items"]]


def test_health(http: httpx.Client) -> None:
    response = http.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": "0.1.0"}


def test_catalogue_has_enough_items_and_categories(http: httpx.Client) -> None:
    response = http.get("/catalogue")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert len(body["categories"]) >= 6
    items = [item for category in body["categories"] for item in category["items"]]
    assert len(items) >= 30
    assert len({item["code"] for item in items}) == len(items)
    assert {item["flow"] for item in items} == {"guide", "lookup", "print", "submit", "ticket"}
    assert {item["identity"] for item in items} == {"none", "id_card", "id_card_face"}
    assert sum(item["flow"] == "print" for item in items) >= 8
    for category in body["categories"]:
        assert HAN.search(category["name"]) and category["name_en"] and category["icon"]
        for item in category["items"]:
            assert set(item) == SUMMARY_KEYS
            assert HAN.search(item["name"]) and HAN.search(item["department"])
            assert item["name_en"].isascii() and item["department_en"].isascii()
            assert item["prints"] in {"none", "receipt", "a4"}
            assert (item["lookup"] is not None) == (item["flow"] == "lookup")
            assert (item["queue"] is not None) == (item["flow"] == "ticket")


def test_every_item_has_a_complete_guide(http: httpx.Client) -> None:
    for code in _codes(http):
        response = http.get(f"/items/{code}")
        assert response.status_code == 200, code
        item = response.json()
        guide = item["guide"]
        assert set(guide) == GUIDE_KEYS, code
        assert set(item["guide_en"]) == GUIDE_KEYS, code
        assert all(item["guide_en"][key] for key in GUIDE_KEYS), code
        assert item["guide_en"]["phone"] == guide["phone"], code
        assert set(item) >= SUMMARY_KEYS | {
            "category",
            "guide",
            "guide_en",
            "sample_form",
            "certificate_title",
        }
        for key in GUIDE_KEYS:
            assert guide[key], f"{code}: {key} is empty"
        assert all(entry.strip() for entry in guide["conditions"] + guide["steps"])
        assert all(m["name"] and m["note"] and m["copies"] >= 0 for m in guide["materials"])
        assert all(law.startswith("《") for law in guide["legal_basis"]), code
        assert re.fullmatch(r"\d{5}|\d{3,4}-\d{7,8}", guide["phone"]), code
        if item["flow"] == "print":
            assert item["certificate_title"], code
            assert item["identity"] != "none", code
        else:
            assert item["certificate_title"] is None, code


def test_catalogue_etag_is_its_quoted_version(http: httpx.Client) -> None:
    response = http.get("/catalogue")
    assert response.headers["etag"] == f'"{response.json()["version"]}"'
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    "header",
    ["{etag}", "W/{etag}", '"other", {etag}', "*"],
    ids=["exact", "weak", "list", "star"],
)
def test_catalogue_if_none_match_gives_304(http: httpx.Client, header: str) -> None:
    etag = http.get("/catalogue").headers["etag"]
    response = http.get("/catalogue", headers={"If-None-Match": header.format(etag=etag)})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag


def test_catalogue_stale_etag_gives_full_body(http: httpx.Client) -> None:
    response = http.get("/catalogue", headers={"If-None-Match": '"stale"'})
    assert response.status_code == 200
    assert response.json()["categories"]


def test_catalogue_version_is_stable(http: httpx.Client) -> None:
    assert http.get("/catalogue").json()["version"] == http.get("/catalogue").json()["version"]


def test_item_detail(http: httpx.Client) -> None:
    response = http.get("/items/shebao.insured-cert")
    assert response.status_code == 200
    item = response.json()
    assert item["name"] == "社会保险个人参保证明打印"
    assert item["category"] == "shebao"
    assert item["flow"] == "print" and item["identity"] == "id_card"
    assert item["certificate_title"] == "社会保险个人参保证明"
    assert item["guide"]["time_limit"] == "即办"
    assert item["guide"]["fees"] == "不收费"
    assert item["guide"]["phone"] == "12333"
    assert any("社会保险法" in law for law in item["guide"]["legal_basis"])


def test_item_etag_304(http: httpx.Client) -> None:
    etag = http.get("/items/mz.marriage-record").headers["etag"]
    response = http.get("/items/mz.marriage-record", headers={"If-None-Match": etag})
    assert response.status_code == 304
    other = http.get("/items/tax.income-record", headers={"If-None-Match": etag})
    assert other.status_code == 200


def test_unknown_item_is_404_in_error_shape(http: httpx.Client) -> None:
    body = assert_error(http.get("/items/no.such-item"), 404, "item_not_found")
    assert "no.such-item" in body["error"]["message"]


def test_unknown_route_and_method_use_error_shape(http: httpx.Client) -> None:
    assert_error(http.get("/nothing-here"), 404, "not_found")
    assert_error(http.delete("/catalogue"), 405, "method_not_allowed")


def test_chinese_is_sent_as_utf8(http: httpx.Client) -> None:
    raw = http.get("/items/huji.household-cert").content
    assert "户籍证明".encode() in raw


def test_item_detail_in_english_and_what_it_prints(http: httpx.Client) -> None:
    item = http.get("/items/huji.household-cert").json()
    assert item["prints"] == "a4"
    assert item["department_en"] == "Dongcheng Branch of Beijing Municipal Public Security Bureau"
    guide_en = item["guide_en"]
    assert guide_en["time_limit"] == "On the spot" and guide_en["fees"] == "Free of charge"
    assert guide_en["legal_basis"][1] == (
        "Law of the People's Republic of China on Resident Identity Cards"
    )
    assert "(《中华人民共和国户口登记条例》)" in guide_en["legal_basis"][0]
    assert item["sample_form"] is None and item["queue"] is None and item["lookup"] is None
    assert http.get("/items/shebao.insured-cert").json()["prints"] == "receipt"


def test_lookup_and_ticket_items_carry_their_kind_and_queue(http: httpx.Client) -> None:
    progress = http.get("/items/zonghe.case-progress").json()
    assert (progress["flow"], progress["lookup"], progress["identity"]) == (
        "lookup",
        "cases",
        "none",
    )
    assert progress["category"] == "zonghe"
    assert http.get("/items/bdc.certificate-check").json()["lookup"] == "certificate"
    passport = http.get("/items/crj.passport").json()
    assert passport["queue"]["code"] in "ABCDEFGH" and passport["queue"]["name_en"]
    catalogue = http.get("/catalogue").json()
    general = next(c for c in catalogue["categories"] if c["code"] == "zonghe")
    assert general["name_en"] == "General services"
    summary = general["items"][0]
    assert (summary["lookup"], summary["prints"]) == ("cases", "receipt")


def test_sample_form_is_served_with_guide_items(http: httpx.Client) -> None:
    form = http.get("/items/mz.dibao").json()["sample_form"]
    assert form["title"] == "最低生活保障申请书（示范文本）"
    assert form["title_en"] == "Application for Minimum Living Allowance (sample)"
    first = form["fields"][0]
    assert set(first) == {"label", "label_en", "value", "value_en"}
    assert (first["value"], first["value_en"]) == ("王五（示例）", "Wang Wu (sample)")
    with_forms = [code for code in _codes(http) if http.get(f"/items/{code}").json()["sample_form"]]
    assert len(with_forms) >= 6
