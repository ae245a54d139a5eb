"""One person, one masked form: the kiosk's greeting, the central service's certificate and the
drivers' reprs all show 王建国 as 王** and 11010519850721135X as 1101**********135X."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from central.server import RunningServer, start_background
from drivers.idcard.sim_cards import WANG_JIANGUO
from drivers.smartcard.socialsecurity import SocialSecurityHolder
from kiosk.config import parse_config
from kiosk.privacy import mask_record_dict
from kiosk.session import Identity, Session
from kiosk.views import ViewContext, build_view
from rules.masking import mask_id_number, mask_name
from tests.central.helpers import KIOSK, WANG, person_ref
from tests.support.central_auth import UNLIMITED
from tests.support.kiosk_keys import TEST_KIOSKS

NAME, NUMBER = "王建国", "11010519850721135X"
NAME_MASKED, NUMBER_MASKED = "王**", "1101**********135X"


@pytest.fixture(scope="module")
def central() -> Iterator[RunningServer]:
    running = start_background(
        db_url="sqlite://", kiosk_registry=TEST_KIOSKS.registry, auth_settings=UNLIMITED
    )
    yield running
    running.stop()


def test_the_rule_itself() -> None:
    assert (
        (WANG["name"], WANG["id_number"])
        == (NAME, NUMBER)
        == (
            WANG_JIANGUO.name,
            WANG_JIANGUO.id_number,
        )
    )
    assert (mask_name(NAME), mask_id_number(NUMBER)) == (NAME_MASKED, NUMBER_MASKED)


def test_kiosk_greeting() -> None:
    identity = Identity(name=NAME, id_number=NUMBER, sex="男", birth_date=None)
    view = build_view(
        ViewContext(
            state="categories",
            session=Session(identity=identity),
            catalogue=None,
            config=parse_config({"kiosk_id": KIOSK}),
        )
    )
    assert NAME_MASKED in view.subtitle and NAME not in view.subtitle


def test_kiosk_diagnostics() -> None:
    masked = mask_record_dict(WANG_JIANGUO.as_dict())
    assert (masked["name"], masked["id_number"]) == (NAME_MASKED, NUMBER_MASKED)


def test_central_certificate(central: RunningServer) -> None:
    with httpx.Client(base_url=f"{central.base_url}/api/v1", timeout=5.0, auth=TEST_KIOSKS) as http:
        body = {
            "item_code": "shebao.insured-cert",
            "person_ref": person_ref(http, WANG),
            "kiosk_id": KIOSK,
        }
        response = http.post(
            "/certificates", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
    assert response.status_code == 201, response.text
    certificate = response.json()
    assert certificate["holder_name_masked"] == NAME_MASKED
    lines = {line["label"]: line["value"] for line in certificate["lines"]}
    assert lines["姓名"] == NAME_MASKED and lines["公民身份号码"] == NUMBER_MASKED


def test_driver_reprs() -> None:
    card = repr(WANG_JIANGUO)
    assert f"name='{NAME_MASKED}'" in card and f"id_number='{NUMBER_MASKED}'" in card
    holder = repr(SocialSecurityHolder(NUMBER, NAME, "1", "01", None))
    assert f"name='{NAME_MASKED}'" in holder and f"='{NUMBER_MASKED}'" in holder
    assert NAME not in card + holder and NUMBER not in card + holder
