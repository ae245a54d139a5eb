"""取号 and 预约签到 against the real app (in-process, real SQLite), with a movable clock."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from central.app import create_app
from tests.central.helpers import KIOSK, WANG, assert_error, person_ref
from tests.support.central_auth import UNLIMITED
from tests.support.kiosk_keys import TEST_KIOSKS, signed

TICKET_ITEM = "huji.id-card-renewal"  # seeded: 王建国 has an appointment for it today
WANG_TODAY = "PN3PJMY8WVPS"
WANG_TOMORROW = "SRGM29VTJSL7"
LI_YESTERDAY = "2LYT7GK8PDDP"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # 09:30 in Beijing

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def api(clock: Clock) -> Iterator[TestClient]:
    with signed(
        TestClient(
            create_app(
                "sqlite://",
                clock=clock,
                kiosk_registry=TEST_KIOSKS.registry,
                auth_settings=UNLIMITED,
            ),
            base_url="http://hall.test",
        )
    ) as client:
        client.base_url = client.base_url.join("/api/v1/")
        yield client


def take(api: TestClient, item: str = TICKET_ITEM, key: str | None = None, **extra):
    return api.post(
        "tickets",
        json={"item_code": item, "kiosk_id": KIOSK, **extra},
        headers={"Idempotency-Key": key or str(uuid.uuid4())},
    )


def check_in(api: TestClient, key: str | None = None, **body):
    return api.post(
        "appointments/check-in",
        json={"kiosk_id": KIOSK, **body},
        headers={"Idempotency-Key": key or str(uuid.uuid4())},
    )


def test_tickets_count_up_per_queue_and_estimate_the_wait(api):
    first, second = take(api), take(api)
    assert (first.status_code, second.status_code) == (201, 201)
    a, b = first.json(), second.json()
    assert a["queue_code"] == b["queue_code"]
    assert a["ticket_no"] == f"{a['queue_code']}001" and b["ticket_no"] == f"{a['queue_code']}002"
    assert a["queue_name"] and a["queue_name_en"] and a["item_code"] == TICKET_ITEM
    assert (a["people_ahead"], b["people_ahead"]) == (0, 1)
    assert a["estimated_wait_min"] == 0 and b["estimated_wait_min"] > 0
    assert datetime.fromisoformat(a["issued_at"]).utcoffset() == timedelta(hours=8)
    assert a["priority"] is False


def test_other_queue_has_its_own_numbers(api):
    take(api)
    other = take(api, "tax.invoice").json()
    assert other["queue_code"] != take(api).json()["queue_code"]
    assert other["ticket_no"].endswith("001")


def test_replay_returns_the_same_ticket_and_another_body_conflicts(api):
    key = str(uuid.uuid4())
    first = take(api, key=key)
    again = take(api, key=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert_error(take(api, "tax.invoice", key=key), 409, "idempotency_conflict")


def test_calling_numbers_lowers_people_ahead(api):
    queue = take(api).json()["queue_code"]
    take(api)
    assert take(api).json()["people_ahead"] == 2
    called = api.post(f"dev/queues/{queue}/call")
    assert called.status_code == 200 and called.json()["ticket_no"] == f"{queue}001"
    assert take(api).json()["people_ahead"] == 2  # 002, 003 wait; 001 was called
    for _ in range(4):
        api.post(f"dev/queues/{queue}/call")
    assert_error(api.post(f"dev/queues/{queue}/call"), 404, "queue_empty")
    assert take(api).json()["people_ahead"] == 0
    assert_error(api.post("dev/queues/Q/call"), 404, "queue_not_found")


def test_numbers_start_again_each_beijing_day(api, clock):
    take(api)
    clock.now = datetime(2026, 3, 2, 15, 59, tzinfo=UTC)  # 23:59 Beijing, same service day
    assert take(api).json()["ticket_no"].endswith("002")
    clock.now = datetime(2026, 3, 2, 16, 1, tzinfo=UTC)  # 00:01 Beijing, next day
    fresh = take(api).json()
    assert fresh["ticket_no"].endswith("001") and fresh["people_ahead"] == 0


def test_only_ticket_items_can_be_ticketed(api):
    assert_error(take(api, "shebao.insured-cert"), 422, "item_not_ticketed")
    assert_error(take(api, "no.such-item"), 404, "item_not_found")


@pytest.mark.parametrize(
    "body",
    [{"item_code": "UPPER"}, {"kiosk_id": ""}, {"person_ref": ""}, {"item_code": 5}],
)
def test_malformed_ticket_request_is_422(api, body):
    response = api.post(
        "tickets",
        json={"item_code": TICKET_ITEM, "kiosk_id": KIOSK, **body},
        headers={"Idempotency-Key": "k-malformed"},
    )
    assert_error(response, 422, "invalid_request")


def test_ticket_needs_an_idempotency_key(api):
    response = api.post("tickets", json={"item_code": TICKET_ITEM, "kiosk_id": KIOSK})
    assert_error(response, 400, "idempotency_key_missing")


def test_person_ref_must_be_live(api):
    assert_error(take(api, person_ref="not-a-ref"), 404, "person_not_found")


def test_check_in_by_qr_gives_a_priority_ticket_ahead_of_walk_ins(api):
    take(api), take(api)
    key = str(uuid.uuid4())
    response = check_in(api, key=key, code=f"APPT:{WANG_TODAY}")
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert ticket["priority"] is True and ticket["people_ahead"] == 0
    assert ticket["ticket_no"].endswith("003") and ticket["item_code"] == TICKET_ITEM
    # The priority ticket is called first; a walk-in now counts it as ahead.
    assert take(api).json()["people_ahead"] == 3
    assert (
        api.post(f"dev/queues/{ticket['queue_code']}/call").json()["ticket_no"]
        == (ticket["ticket_no"])
    )
    # Replay with the same key: the same ticket; a new key: already checked in.
    assert check_in(api, key=key, code=f"APPT:{WANG_TODAY}").json() == ticket
    assert_error(check_in(api, code=WANG_TODAY.lower()), 409, "already_checked_in")


def test_check_in_on_the_wrong_day_names_the_date(api, clock):
    body = assert_error(check_in(api, code=WANG_TOMORROW), 422, "appointment_not_today")
    assert "2026-03-03" in body["error"]["message"]
    body = assert_error(check_in(api, code=LI_YESTERDAY), 422, "appointment_not_today")
    assert "2026-03-01" in body["error"]["message"]


def test_unknown_code_is_not_found(api):
    assert_error(check_in(api, code="APPT:ABCDEFGHJK"), 404, "appointment_not_found")


@pytest.mark.parametrize(
    "body",
    [{}, {"code": "APPT:short"}, {"code": "APPT:" + "A" * 13}, {"code": "x", "person_ref": "y"}],
)
def test_malformed_check_in_is_422(api, body):
    assert_error(check_in(api, **body), 422, "invalid_request")


def test_check_in_by_person_ref(api):
    http = api  # same interface as httpx.Client for the helpers
    ref = person_ref(http, WANG)
    response = check_in(api, person_ref=ref)
    assert response.status_code == 201, response.text
    assert response.json()["item_code"] == TICKET_ITEM and response.json()["priority"] is True
    # Today's is used (that is what the resident is told); tomorrow's is not yet due.
    assert_error(check_in(api, person_ref=ref), 409, "already_checked_in")
    body = assert_error(
        check_in(api, person_ref=ref, item_code="crj.passport"), 422, "appointment_not_today"
    )
    assert "2026-03-03" in body["error"]["message"]
    assert_error(
        check_in(api, person_ref=ref, item_code="tax.invoice"), 404, "appointment_not_found"
    )


def test_minted_appointment_checks_in(api):
    minted = api.post("dev/appointments", json={"person": "王建国", "item_code": "tax.invoice"})
    assert minted.status_code == 201, minted.text
    appointment = minted.json()
    assert appointment["qr_payload"] == "APPT:" + appointment["code"]
    assert 10 <= len(appointment["code"]) <= 12 and appointment["date"] == "2026-03-02"
    assert "王建国" not in minted.text  # the holder's name travels masked
    ticket = check_in(api, code=appointment["qr_payload"]).json()
    assert ticket["item_code"] == "tax.invoice" and ticket["priority"] is True


def test_minting_checks_person_item_and_date(api):
    later = api.post(
        "dev/appointments",
        json={"person": WANG["person_no"], "item_code": TICKET_ITEM, "date": "2026-03-09"},
    )
    assert later.status_code == 201 and later.json()["date"] == "2026-03-09"
    assert_error(
        api.post("dev/appointments", json={"person": "无此人", "item_code": TICKET_ITEM}),
        404,
        "person_not_found",
    )
    assert_error(
        api.post("dev/appointments", json={"person": "穆安娜", "item_code": TICKET_ITEM}),
        409,
        "person_ambiguous",
    )
    assert_error(
        api.post("dev/appointments", json={"person": "王建国", "item_code": "shebao.insured-cert"}),
        422,
        "item_not_ticketed",
    )
    response = api.post(
        "dev/appointments", json={"person": "王建国", "item_code": TICKET_ITEM, "date": "soon"}
    )
    assert_error(response, 422, "invalid_request")


def test_cli_mints_an_appointment_with_a_qr_png(tmp_path, capsys):
    import zxingcpp
    from PIL import Image

    from kiosk.cli import main

    png = tmp_path / "appt.png"
    db_url = f"sqlite:///{tmp_path / 'central.db'}"
    argv = ["central", "mint-appointment", "王建国", TICKET_ITEM, "--db", db_url]
    assert main([*argv, "--date", "2030-01-02", "--png", str(png)]) == 0
    payload = capsys.readouterr().out.strip()
    assert payload.startswith("APPT:") and 10 <= len(payload) - 5 <= 12
    assert [code.text for code in zxingcpp.read_barcodes(Image.open(png))] == [payload]
    assert main(["central", "mint-appointment", "无此人", TICKET_ITEM, "--db", db_url]) == 1
