"""The client models of the catalogue fields that drive the kiosk's flows (what an item prints,
what a lookup looks up, a ticket's queue, the English guide, the sample form): parsed from the
real reference service, from an older service that lacks them, and from malformed answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from central.server import RunningServer, start_background
from kiosk.central import (
    Catalogue,
    CentralClient,
    CentralProtocolError,
    Guide,
    ItemDetail,
    ItemSummary,
    RetryPolicy,
    SampleForm,
)
from kiosk.flows.items import lookup_kind, prints
from tests.support.central_auth import UNLIMITED
from tests.support.kiosk_keys import TEST_KIOSKS

FAST = RetryPolicy(attempts=2, initial=0.001, maximum=0.002, total=1.0)

OLD_PRINT_ITEM = {
    "code": "shebao.insured-cert",
    "name": "社会保险个人参保证明打印",
    "name_en": "Print social insurance enrolment certificate",
    "flow": "print",
    "identity": "id_card",
    "department": "北京市东城区人力资源和社会保障局",
}
OLD_GUIDE_ITEM = {
    **OLD_PRINT_ITEM,
    "code": "gjj.loan",
    "flow": "guide",
    "identity": "none",
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


def _catalogue(*items: dict[str, Any]) -> dict[str, Any]:
    category = {"code": "shebao", "name": "社会保障", "name_en": "Social", "icon": "x"}
    return {"version": "v1", "categories": [{**category, "items": list(items)}]}


def _answering(body: Any) -> CentralClient:
    content = json.dumps(body, ensure_ascii=False).encode()
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=content))
    return CentralClient(
        "http://central.test", kiosk_id="k-seed", transport=transport, retry=FAST, auth=TEST_KIOSKS
    )


# --- against the real reference service ---------------------------------------------------------


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
        server.base_url, kiosk_id="kiosk-seed", retry=FAST, auth=TEST_KIOSKS
    ) as central:
        yield central


def test_catalogue_says_what_each_item_prints_and_looks_up(client: CentralClient) -> None:
    items = {item.code: item for item in client.catalogue().items()}
    assert len(items) == 40
    assert items["huji.household-cert"].prints == "a4"
    assert items["shebao.insured-cert"].prints == "receipt"
    assert all(item.prints != "none" for item in items.values())
    assert all(item.department_en.isascii() and item.department_en for item in items.values())
    lookups = {code: item.lookup for code, item in items.items() if item.flow == "lookup"}
    assert lookups["crj.progress"] == "cases" and lookups["bdc.certificate-check"] == "certificate"
    assert lookups["zonghe.case-progress"] == "cases"
    assert items["zonghe.case-progress"].identity == "none"
    # The flows read these fields straight off the catalogue summary.
    assert prints(items["mz.marriage-record"]) == "a4"
    assert lookup_kind(items["yibao.account-query"]) == "records"
    assert lookup_kind(items["zonghe.case-progress"]) == "cases"


def test_ticket_items_carry_their_queue(client: CentralClient) -> None:
    tickets = [item for item in client.catalogue().items() if item.flow == "ticket"]
    assert tickets and all(item.queue is not None for item in tickets)
    renewal = next(item for item in tickets if item.code == "huji.id-card-renewal")
    assert renewal.queue is not None
    assert (renewal.queue.code, renewal.queue.name, renewal.queue.name_en) == (
        "A",
        "户政业务",
        "Household registration",
    )


def test_item_detail_has_the_guide_in_english(client: CentralClient) -> None:
    item = client.item("bdc.info-query")
    assert item.prints == "a4"
    assert isinstance(item.guide_en, Guide)
    assert item.guide_en.fees == "Free of charge" and item.guide_en.phone == item.guide.phone
    assert len(item.guide_en.steps) == len(item.guide.steps)
    assert item.department_en.startswith("Dongcheng Branch of Beijing Municipal Commission")
    assert item.sample_form is None


def test_item_detail_has_its_sample_form(client: CentralClient) -> None:
    form = client.item("shebao.unemployment-registration").sample_form
    assert isinstance(form, SampleForm)
    assert form.title == "失业登记表（示范文本）"
    by_label = {field.label_en: field for field in form.fields}
    assert by_label["Name"].value == "张三（示例）"
    assert by_label["Citizen identity number"].value == "110101199003070011"


# --- an older service, without the new fields ---------------------------------------------------


def test_older_catalogue_items_still_parse_with_defaults() -> None:
    catalogue = _answering(_catalogue(OLD_PRINT_ITEM, OLD_GUIDE_ITEM)).catalogue()
    printed, guide = catalogue.items()
    # Before `prints` existed every print item printed on the receipt printer.
    assert (printed.prints, guide.prints) == ("receipt", "none")
    assert printed.department_en == "" and printed.lookup is None and printed.queue is None
    assert prints(printed) == "receipt"


def test_older_item_detail_has_no_english_guide() -> None:
    body = {**OLD_PRINT_ITEM, "category": "shebao", "guide": GUIDE, "certificate_title": "证明"}
    item = _answering(body).item("shebao.insured-cert")
    assert isinstance(item, ItemDetail)
    assert item.guide_en is None and item.sample_form is None and item.department_en == ""
    assert item.prints == "receipt"


def test_stored_catalogue_round_trips_with_the_new_fields(client: CentralClient) -> None:
    catalogue = client.catalogue()
    again = Catalogue.model_validate_json(catalogue.model_dump_json())
    assert again == catalogue


# --- a newer or broken service ------------------------------------------------------------------


def test_items_printing_or_looking_up_in_unknown_ways_are_hidden() -> None:
    catalogue = _answering(
        _catalogue(
            {**OLD_PRINT_ITEM, "prints": "a4"},
            {**OLD_PRINT_ITEM, "code": "new.label", "prints": "label"},
            {**OLD_GUIDE_ITEM, "code": "new.lookup", "flow": "lookup", "lookup": "weather"},
        )
    ).catalogue()
    assert [item.code for item in catalogue.items()] == ["shebao.insured-cert"]


@pytest.mark.parametrize(
    "change",
    [
        {"prints": 4},
        {"prints": None},
        {"department_en": 7},
        {"queue": {"code": "A"}},
        {"queue": "A"},
        {"lookup": ["records"]},
    ],
    ids=[
        "prints-int",
        "prints-null",
        "department-en-int",
        "queue-no-names",
        "queue-str",
        "lookup-list",
    ],
)
def test_wrongly_typed_new_fields_are_a_protocol_error(change: dict[str, Any]) -> None:
    with pytest.raises(CentralProtocolError):
        _answering(_catalogue({**OLD_PRINT_ITEM, **change})).catalogue()


@pytest.mark.parametrize(
    "change",
    [
        {"guide_en": "in English"},
        {"guide_en": {**GUIDE, "steps": "one"}},
        {"sample_form": {"title": "示范", "fields": []}},
        {"sample_form": {"title": "t", "title_en": "t", "fields": [{"label": "姓名"}]}},
    ],
    ids=["guide-en-str", "guide-en-steps-str", "form-no-title-en", "form-field-half"],
)
def test_malformed_english_guide_or_sample_form_is_a_protocol_error(change: dict[str, Any]) -> None:
    body = {**OLD_PRINT_ITEM, "category": "shebao", "guide": GUIDE, **change}
    with pytest.raises(CentralProtocolError):
        _answering(body).item("shebao.insured-cert")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(
    field=st.sampled_from(
        ["prints", "lookup", "queue", "department_en", "guide_en", "sample_form"]
    ),
    value=_JSON,
)
def test_any_value_of_a_new_field_parses_hides_or_fails_cleanly(field: str, value: Any) -> None:
    summary = {**OLD_PRINT_ITEM, field: value}
    try:
        items = _answering(_catalogue(summary)).catalogue().items()
    except CentralProtocolError:
        return
    assert all(isinstance(item, ItemSummary) for item in items)
