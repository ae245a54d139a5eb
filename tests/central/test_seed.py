"""Seed files and their loading: validation, idempotence, sync with changed files."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central import service
from central.db import CategoryRow, ItemRow, PersonRow, create_schema, make_engine
from central.seed import (
    CATALOGUE_FILE,
    PERSONS_FILE,
    SeedError,
    load_seed,
    read_catalogue,
    read_persons,
)


@pytest.fixture()
def session() -> Any:
    engine = make_engine("sqlite://")
    create_schema(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def _counts(session: Session) -> tuple[int, int, int]:
    return (
        session.scalar(select(func.count()).select_from(CategoryRow)) or 0,
        session.scalar(select(func.count()).select_from(ItemRow)) or 0,
        session.scalar(select(func.count()).select_from(PersonRow)) or 0,
    )


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_shipped_seed_files_are_valid() -> None:
    catalogue = read_catalogue()
    assert len(catalogue.categories) >= 6
    assert sum(len(c.items) for c in catalogue.categories) >= 30
    persons = read_persons()
    names = {p.name for p in persons.persons}
    assert {"李秀英", "王建国"} <= names and len(names) >= 4


def test_loading_twice_changes_nothing(session: Session) -> None:
    load_seed(session, key=b"k" * 32)
    first = (_counts(session), service.catalogue(session).version)
    load_seed(session, key=b"k" * 32)
    assert (_counts(session), service.catalogue(session).version) == first
    assert first[0] == (9, 40, 9)


def test_changed_catalogue_is_synced_and_changes_version(session: Session, tmp_path: Path) -> None:
    load_seed(session, key=b"k" * 32)
    before = service.catalogue(session).version
    data = json.loads(CATALOGUE_FILE.read_text("utf-8"))
    removed = data["categories"][0]["items"].pop()["code"]
    data["categories"][0]["items"][0]["name"] = "社会保险参保证明（新版）"
    data["categories"].pop()  # the last category goes, with its items
    load_seed(session, catalogue_path=_write(tmp_path / "c.json", data), key=b"k" * 32)
    after = service.catalogue(session)
    assert after.version != before
    codes = {item.code for category in after.categories for item in category.items}
    assert removed not in codes and "zonghe.case-progress" not in codes
    assert after.categories[0].items[0].name == "社会保险参保证明（新版）"
    assert len(after.categories) == 8


def test_rehashing_with_a_new_key_updates_persons_in_place(session: Session) -> None:
    load_seed(session, key=b"a" * 32)
    hashes = set(session.scalars(select(PersonRow.id_hash)))
    load_seed(session, key=b"b" * 32)
    assert _counts(session)[2] == 9
    assert hashes.isdisjoint(set(session.scalars(select(PersonRow.id_hash))))


def _broken_catalogue(change: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(CATALOGUE_FILE.read_text("utf-8"))
    item = data["categories"][0]["items"][0]  # a print item
    if change == "print-without-certificate":
        del item["certificate"]
    elif change == "empty-guide-field":
        item["guide"]["fees"] = ""
    elif change == "unknown-flow":
        item["flow"] = "teleport"
    elif change == "duplicate-code":
        data["categories"][1]["items"][0]["code"] = item["code"]
    elif change == "unknown-certificate-kind":
        item["certificate"]["kind"] = "passport"
    elif change in ("no-prints", "no-guide-en", "no-department-en"):
        del item[change.removeprefix("no-").replace("-", "_")]
    elif change == "unknown-prints":
        item["prints"] = "a3"
    elif change == "print-item-prints-nothing":
        item["prints"] = "none"
    elif change == "chinese-in-guide-en":
        item["guide_en"]["steps"][0] = "Choose 社会保险个人参保证明打印"
    elif change == "chinese-in-department-en":
        item["department_en"] = "东城区 Human Resources Bureau"
    elif change == "full-width-comma-in-guide-en":
        item["guide_en"]["fees"] = "Free of charge，always"
    elif change == "unmarked-chinese-title-in-parentheses":
        item["guide_en"]["legal_basis"][1] = "Measures (社会保险个人权益记录管理办法)"
    elif change == "guide-en-missing-a-step":
        item["guide_en"]["steps"].pop()
    elif change == "guide-en-copies-differ":
        item["guide_en"]["materials"][0]["copies"] = 3
    elif change == "guide-en-other-phone":
        item["guide_en"]["phone"] = "12345"
    elif change == "lookup-without-kind":
        del _item(data, "gjj.account-query")["lookup"]
    elif change == "lookup-kind-on-print-item":
        item["lookup"] = "records"
    elif change == "ticket-without-queue":
        del _item(data, "crj.passport")["queue"]
    elif change == "queue-on-print-item":
        item["queue"] = {"code": "F", "name": "社保业务", "name_en": "Social insurance"}
    elif change == "queue-letter-out-of-range":
        _item(data, "crj.passport")["queue"]["code"] = "Z"
    elif change == "one-letter-two-queues":
        _item(data, "crj.passport")["queue"]["code"] = _item(data, "tax.invoice")["queue"]["code"]
    elif change == "sample-form-on-print-item":
        item["sample_form"] = _item(data, "mz.dibao")["sample_form"]
    elif change == "chinese-in-sample-form-english":
        _item(data, "mz.dibao")["sample_form"]["fields"][0]["value_en"] = "王五"
    return data


def _item(data: dict[str, Any], code: str) -> dict[str, Any]:
    item: dict[str, Any] = next(
        i for c in data["categories"] for i in c["items"] if i["code"] == code
    )
    return item


# Each broken change, and the words of the refusal that show it was refused for that reason.
BROKEN = {
    "print-without-certificate": "print items, and only they, name a certificate",
    "empty-guide-field": "guide.fees",
    "unknown-flow": "teleport",
    "duplicate-code": "duplicate item codes",
    "unknown-certificate-kind": "unknown certificate kind",
    "no-prints": "prints\n  Field required",
    "no-guide-en": "guide_en\n  Field required",
    "no-department-en": "department_en\n  Field required",
    "unknown-prints": "'none', 'receipt' or 'a4'",
    "print-item-prints-nothing": "must say where it prints",
    "chinese-in-guide-en": "Chinese in English text '社会保险个人参保证明打印'",
    "chinese-in-department-en": "Chinese in English text '东城区'",
    "full-width-comma-in-guide-en": "Chinese in English text '，'",
    "unmarked-chinese-title-in-parentheses": "Chinese in English text '社会保险个人权益记录管理办法'",
    "guide-en-missing-a-step": "guide_en.steps has not the entries of guide",
    "guide-en-copies-differ": "copies differ",
    "guide-en-other-phone": "guide_en.phone differs",
    "lookup-without-kind": "gjj.account-query: lookup items, and only they",
    "lookup-kind-on-print-item": "shebao.insured-cert: lookup items, and only they",
    "ticket-without-queue": "crj.passport: ticket items, and only they, name a queue",
    "queue-on-print-item": "shebao.insured-cert: ticket items, and only they, name a queue",
    "queue-letter-out-of-range": "queue.code",
    "one-letter-two-queues": "used for two different queues",
    "sample-form-on-print-item": "only guide and submit items have a sample form",
    "chinese-in-sample-form-english": "mz.dibao: Chinese in English text '王五'",
}


@pytest.mark.parametrize(("change", "reason"), BROKEN.items(), ids=list(BROKEN))
def test_broken_catalogue_is_refused_with_its_path_and_reason(
    tmp_path: Path, change: str, reason: str
) -> None:
    path = _write(tmp_path / "broken.json", _broken_catalogue(change))
    with pytest.raises(SeedError, match="broken.json") as refused:
        read_catalogue(path)
    assert reason in str(refused.value)


def test_person_with_bad_check_digit_is_refused(tmp_path: Path) -> None:
    data = json.loads(PERSONS_FILE.read_text("utf-8"))
    data["persons"][0]["id_number"] = data["persons"][0]["id_number"][:17] + "9"
    with pytest.raises(SeedError, match="check digit"):
        read_persons(_write(tmp_path / "p.json", data))


def test_foreign_2017_person_with_bad_icao_check_digit_is_refused(tmp_path: Path) -> None:
    data = json.loads(PERSONS_FILE.read_text("utf-8"))
    person = next(p for p in data["persons"] if p.get("card_type") == "foreign_permanent_2017")
    number = person["id_number"]
    person["id_number"] = number[:14] + str((int(number[14]) + 1) % 10)
    with pytest.raises(SeedError, match="foreign_permanent_2017 number fails the check digit"):
        read_persons(_write(tmp_path / "p.json", data))


def test_unreadable_seed_file_is_a_seed_error(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(SeedError, match="bad.json"):
        read_catalogue(tmp_path / "bad.json")
    with pytest.raises(SeedError, match="missing.json"):
        read_persons(tmp_path / "missing.json")


# --- the shipped catalogue as data that drives the kiosk's flows --------------------------------

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
# Written out here rather than taken from central.seed, so the test checks the file on its own.
CJK_OR_FULL_WIDTH = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
PARENTHESISED_TITLE = re.compile(r"\(《[^()]*?》\)")
A4_ITEMS = {"huji.household-cert", "mz.marriage-record", "bdc.info-query", "tax.income-record"}
RECEIPT_CERTIFICATES = {
    "shebao.insured-cert",
    "shebao.pension-statement",
    "yibao.insured-cert",
    "gjj.deposit-cert",
    "gjj.deposit-detail",
}
GB11643_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def _shipped_items() -> list[dict[str, Any]]:
    data = json.loads(CATALOGUE_FILE.read_text("utf-8"))
    return [item for category in data["categories"] for item in category["items"]]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for entry in value.values() for text in _strings(entry)]
    if isinstance(value, list):
        return [text for entry in value for text in _strings(entry)]
    return []


def _english_texts(item: dict[str, Any]) -> list[str]:
    texts = [item["name_en"], item["department_en"], *_strings(item["guide_en"])]
    if "queue" in item:
        texts.append(item["queue"]["name_en"])
    if "sample_form" in item:
        form = item["sample_form"]
        texts += [form["title_en"]] + [
            t for f in form["fields"] for t in (f["label_en"], f["value_en"])
        ]
    return texts


def test_every_item_says_what_it_prints_and_has_its_english() -> None:
    for item in _shipped_items():
        code = item["code"]
        assert item.get("prints") in {"none", "receipt", "a4"}, code
        assert item.get("department_en", "").strip(), code
        guide_en = item.get("guide_en")
        assert isinstance(guide_en, dict) and set(guide_en) == GUIDE_KEYS, code
        for key in GUIDE_KEYS:
            assert guide_en[key], f"{code}: guide_en.{key} is empty"
        assert all(m["name"] and m["note"] for m in guide_en["materials"]), code
        assert len(guide_en["materials"]) == len(item["guide"]["materials"]), code


def test_english_has_no_chinese_outside_parenthesised_chinese_titles() -> None:
    for item in _shipped_items():
        for text in _english_texts(item):
            stray = CJK_OR_FULL_WIDTH.findall(PARENTHESISED_TITLE.sub("", text))
            assert not stray, f"{item['code']}: {text!r}"


def test_english_legal_basis_names_laws_in_english_first() -> None:
    for item in _shipped_items():
        for law in item["guide_en"]["legal_basis"]:
            assert law[0].isascii() and law[0].isupper(), f"{item['code']}: {law!r}"


def test_certificates_print_where_the_paper_belongs() -> None:
    items = {item["code"]: item for item in _shipped_items()}
    assert {code for code, item in items.items() if item["prints"] == "a4"} == A4_ITEMS
    assert all(items[code]["prints"] == "receipt" for code in RECEIPT_CERTIFICATES)
    for item in items.values():
        if item["flow"] in ("guide", "lookup", "ticket", "submit"):
            assert item["prints"] == "receipt", item["code"]


def test_lookup_items_say_what_they_look_up() -> None:
    lookups = {
        item["code"]: item.get("lookup") for item in _shipped_items() if item["flow"] == "lookup"
    }
    assert lookups == {
        "shebao.rights-record": "records",
        "yibao.account-query": "records",
        "gjj.account-query": "records",
        "crj.progress": "cases",
        "bdc.certificate-check": "certificate",
        "zonghe.case-progress": "cases",
    }
    assert all("lookup" not in item for item in _shipped_items() if item["flow"] != "lookup")


def test_ticket_items_name_one_queue_per_business() -> None:
    tickets = [item for item in _shipped_items() if item["flow"] == "ticket"]
    assert tickets and all("queue" in item for item in tickets)
    queues = {item["code"]: item["queue"] for item in tickets}
    assert queues["huji.id-card-renewal"] == {
        "code": "A",
        "name": "户政业务",
        "name_en": "Household registration",
    }
    by_letter: dict[str, dict[str, str]] = {}
    for queue in queues.values():
        assert re.fullmatch(r"[A-H]", queue["code"]) and queue["name"] and queue["name_en"]
        assert by_letter.setdefault(queue["code"], queue) == queue
    assert len({q["name"] for q in by_letter.values()}) == len(by_letter)
    assert all("queue" not in item for item in _shipped_items() if item["flow"] != "ticket")


def test_case_progress_lookup_needs_no_identity() -> None:
    data = json.loads(CATALOGUE_FILE.read_text("utf-8"))
    general = next(c for c in data["categories"] if c["code"] == "zonghe")
    assert (general["name"], general["name_en"]) == ("综合服务", "General services")
    item = next(i for i in general["items"] if i["code"] == "zonghe.case-progress")
    assert item["name"] == "办件进度查询"
    assert (item["flow"], item["identity"], item["lookup"], item["prints"]) == (
        "lookup",
        "none",
        "cases",
        "receipt",
    )


def _check_digit_ok(number: str) -> bool:
    total = sum(
        int(digit) * weight for digit, weight in zip(number[:17], GB11643_WEIGHTS, strict=True)
    )
    return number[17] == "10X98765432"[total % 11]


def test_sample_forms_are_filled_with_obvious_samples() -> None:
    items = [item for item in _shipped_items() if "sample_form" in item]
    assert len(items) >= 6
    assert {item["flow"] for item in items} <= {"guide", "submit"}
    assert {"submit", "guide"} <= {item["flow"] for item in items}
    real_ids = {p["id_number"] for p in json.loads(PERSONS_FILE.read_text("utf-8"))["persons"]}
    for item in items:
        form = item["sample_form"]
        assert "示范文本" in form["title"] and "sample" in form["title_en"], item["code"]
        assert len(form["fields"]) >= 4
        values = [f["value"] for f in form["fields"]]
        assert any("示例" in value for value in values), item["code"]  # a sample name
        for value in values:
            if re.fullmatch(r"\d{17}[\dX]", value):
                assert value.startswith("1101011990") and _check_digit_ok(value), value
                assert value not in real_ids, value


def test_loaded_items_carry_the_new_fields(session: Session) -> None:
    load_seed(session, key=b"k" * 32)
    summary = next(
        item
        for category in service.catalogue(session).categories
        for item in category.items
        if item.code == "mz.marriage-appointment"
    )
    assert summary.prints == "receipt" and summary.queue is not None
    assert summary.queue.code == "C" and summary.department_en.startswith("Civil Affairs")
    household = service.item_detail(session, "huji.household-cert")
    assert household.prints == "a4" and household.lookup is None
    assert household.guide_en.time_limit == "On the spot"
    dibao = service.item_detail(session, "mz.dibao")
    assert dibao.sample_form is not None and dibao.sample_form.fields[0].value == "王五（示例）"
    assert service.item_detail(session, "crj.progress").lookup == "cases"


def test_items_table_of_an_older_version_is_rebuilt_and_reseeded(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as connection:  # the items table as it was before prints and guide_en
        connection.exec_driver_sql(
            "CREATE TABLE items (code VARCHAR(64) PRIMARY KEY, category_code VARCHAR(64), "
            "position INTEGER, name VARCHAR(200), name_en VARCHAR(300), flow VARCHAR(16), "
            "identity VARCHAR(16), department VARCHAR(200), guide JSON, "
            "certificate_kind VARCHAR(64), certificate_title VARCHAR(200))"
        )
        connection.exec_driver_sql(
            "INSERT INTO items VALUES ('old.item', 'shebao', 0, 'x', 'x', 'guide', 'none', 'x', "
            "'{}', NULL, NULL)"
        )
    create_schema(engine)
    with Session(engine) as session:
        load_seed(session, key=b"k" * 32)
        assert _counts(session)[:2] == (9, 40)
        assert service.item_detail(session, "gjj.loan").guide_en.phone == "12329"
    engine.dispose()
