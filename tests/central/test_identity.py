"""Identity verification: registry match, wrong name, check digit, malformed input, no clear IDs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from central.db import IdentityCheckRow, PersonRow
from central.idnumber import CARD_TYPES
from central.models import IdentityVerifyRequest
from central.server import RunningServer
from rules.idnumbers import (
    gb11643_check_char,
    has_valid_check_digit_for,
    has_valid_gb11643_check,
    icao_check_digit,
)
from rules.masking import mask_id_number, mask_name
from tests.central.helpers import (
    FOREIGN_2017,
    FOREIGN_2023,
    HK,
    KIOSK,
    LI,
    PERSONS,
    WANG,
    assert_error,
    verify,
)


@pytest.mark.parametrize("person", PERSONS, ids=[p["person_no"] for p in PERSONS])
def test_every_seed_person_verifies(http: httpx.Client, person: dict[str, Any]) -> None:
    response = verify(http, person)
    assert response.status_code == 200
    body = response.json()
    assert body["verified"] is True
    assert body["reason"] == "ok"
    ref = body["person_ref"]
    assert isinstance(ref, str) and len(ref) >= 24
    # Opaque: nothing of the ID number leaks into the token.
    assert person["id_number"] not in ref and person["id_number"][-6:] not in ref
    assert body["expires_at"]


def test_each_check_gets_a_new_person_ref(http: httpx.Client) -> None:
    first = verify(http, WANG).json()["person_ref"]
    second = verify(http, WANG).json()["person_ref"]
    assert first != second


def test_wrong_name_is_not_verified(http: httpx.Client) -> None:
    body = verify(http, WANG, name="王建军").json()
    assert body == {
        "verified": False,
        "person_ref": None,
        "reason": "not_found",
        "expires_at": None,
    }


def test_a_known_number_with_a_guessed_name_answers_as_an_unknown_number(
    http: httpx.Client,
) -> None:
    """Even a kiosk's credential learns nothing about which numbers are registered without the
    name that goes with them (the audit still tells a wrong name from an unknown number)."""
    first17 = "32010219900101123"
    unknown = verify(http, WANG, id_number=first17 + gb11643_check_char(first17), name="张三")
    known = verify(http, WANG, name="张三")
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())


def test_name_compared_after_normalising_blanks(http: httpx.Client) -> None:
    assert verify(http, WANG, name=" 王建国 ").json()["verified"] is True


def test_bad_check_digit_is_not_verified(http: httpx.Client) -> None:
    wrong = WANG["id_number"][:17] + "1"  # the right one is X
    body = verify(http, WANG, id_number=wrong).json()
    assert body["verified"] is False
    assert body["reason"] == "invalid_check_digit"
    assert body["person_ref"] is None


def test_lowercase_x_is_accepted(http: httpx.Client) -> None:
    body = verify(http, WANG, id_number=WANG["id_number"].lower()).json()
    assert body["verified"] is True


def test_valid_unknown_person_is_not_found(http: httpx.Client) -> None:
    first17 = "32010219900101123"
    body = verify(http, WANG, id_number=first17 + gb11643_check_char(first17), name="张三").json()
    assert body["verified"] is False
    assert body["reason"] == "not_found"


@pytest.mark.parametrize(
    "override",
    [
        {"id_number": "11010519850721135"},  # 17 characters
        {"id_number": "1101051985072113XX"},
        {"id_number": "11010519851321135X"},  # month 13
        {"id_number": "11010519850230135X"},  # 30 February
        {"id_number": "１１０１０５１９８５０７２１１３５X"},  # full-width digits
        {"name": ""},
        {"name": "   "},
        {"name": "王" * 51},
        {"method": "face"},
        {"kiosk_id": ""},
        {"kiosk_id": "kiosk 01"},
    ],
    ids=lambda override: next(iter(override)),
)
def test_malformed_input_is_422(http: httpx.Client, override: dict[str, str]) -> None:
    body = assert_error(verify(http, WANG, **override), 422, "invalid_request")
    # The error message never echoes the personal data it was sent.
    assert WANG["id_number"][:10] not in body["error"]["message"]
    assert "王建国" not in body["error"]["message"]


@pytest.mark.parametrize("missing", ["id_number", "name", "kiosk_id", "method"])
def test_missing_field_is_422(http: httpx.Client, missing: str) -> None:
    body = {
        "id_number": WANG["id_number"],
        "name": "王建国",
        "kiosk_id": KIOSK,
        "method": "id_card",
    }
    del body[missing]
    message = assert_error(http.post("/identity/verify", json=body), 422, "invalid_request")
    assert missing in message["error"]["message"]


@pytest.mark.parametrize("content", [b"", b"not json", b"[]", b'{"id_number": 110105}'], ids=repr)
def test_non_object_bodies_are_422(http: httpx.Client, content: bytes) -> None:
    response = http.post(
        "/identity/verify", content=content, headers={"Content-Type": "application/json"}
    )
    assert_error(response, 422, "invalid_request")


def test_database_holds_no_clear_id_numbers_or_names(
    http: httpx.Client, server: RunningServer
) -> None:
    for person in PERSONS:
        verify(http, person)
    verify(http, WANG, name="王建军")
    engine = server.app.state.central.engine
    with engine.connect() as connection:
        for table in ("persons", "identity_checks", "certificates", "central_meta"):
            dump = repr(connection.exec_driver_sql(f"SELECT * FROM {table}").fetchall())
            for person in PERSONS:
                assert person["id_number"] not in dump, table
                assert person["id_number"].lower() not in dump, table
            if table == "identity_checks":
                assert "王建" not in dump
    with server.app.state.central.sessions() as session:
        checks = session.scalars(select(IdentityCheckRow)).all()
        assert checks and all(len(check.id_hash) == 64 for check in checks)
        persons = session.scalars(select(PersonRow)).all()
        assert {p.id_masked for p in persons} == {mask_id_number(p["id_number"]) for p in PERSONS}


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_digit_round_trip(first17: str) -> None:
    valid = first17 + gb11643_check_char(first17)
    assert has_valid_gb11643_check(valid)
    for other in "0123456789X".replace(valid[-1], ""):
        assert not has_valid_gb11643_check(first17 + other)


def test_known_check_digits() -> None:
    assert gb11643_check_char("11010519491231002") == "X"  # the GB 11643 standard's own example
    for person in PERSONS:
        assert has_valid_check_digit_for(person.get("card_type", "resident"), person["id_number"])
    assert not has_valid_gb11643_check("11010519491231002")
    assert not has_valid_gb11643_check("1101051949123100２X")


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("李秀英", "李**"),
        ("王五", "王*"),
        ("欧阳娜娜", "欧***"),
        ("买买提·艾力", "买*****"),
        ("X", "*"),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


# --- card types: resident, HK/Macau/Taiwan residence permit, foreigner's permanent residence ---

OTHER_CARDS = [HK, FOREIGN_2023, FOREIGN_2017]


def test_card_type_defaults_to_resident(http: httpx.Client) -> None:
    assert "card_type" not in LI
    assert verify(http, LI).json()["verified"] is True
    assert verify(http, LI, card_type="resident").json()["verified"] is True
    request = IdentityVerifyRequest.model_validate(
        {"id_number": LI["id_number"], "name": LI["name"], "kiosk_id": KIOSK, "method": "id_card"}
    )
    assert request.card_type == "resident"
    assert set(CARD_TYPES) == {
        "resident",
        "hk_mo_tw_residence",
        "foreign_permanent_2017",
        "foreign_permanent_2023",
    }


@pytest.mark.parametrize("person", OTHER_CARDS, ids=lambda p: p["card_type"])
def test_each_card_type_verifies(http: httpx.Client, person: dict[str, Any]) -> None:
    body = verify(http, person).json()
    assert body["verified"] is True and body["reason"] == "ok" and body["person_ref"]


def test_foreign_2017_number_in_lower_case_is_accepted(http: httpx.Client) -> None:
    body = verify(http, FOREIGN_2017, id_number=FOREIGN_2017["id_number"].lower()).json()
    assert body["verified"] is True


@pytest.mark.parametrize(
    ("person", "wrong_type"),
    # 18 characters with a valid check digit are shaped like a resident number: not found.
    [(HK, "resident"), (FOREIGN_2023, "resident")],
    ids=["hk-as-resident", "foreign2023-as-resident"],
)
def test_number_presented_as_another_card_type_is_not_found(
    http: httpx.Client, person: dict[str, Any], wrong_type: str
) -> None:
    body = verify(http, person, card_type=wrong_type).json()
    assert body["verified"] is False
    assert body["reason"] == "not_found"
    assert body["person_ref"] is None


@pytest.mark.parametrize(
    ("person", "wrong_type"),
    [
        (LI, "hk_mo_tw_residence"),  # does not start with 81, 82 or 83
        (LI, "foreign_permanent_2023"),  # does not start with 9
        (LI, "foreign_permanent_2017"),
        (HK, "foreign_permanent_2023"),
        (FOREIGN_2023, "hk_mo_tw_residence"),
        (FOREIGN_2017, "resident"),
        (FOREIGN_2017, "foreign_permanent_2023"),
        (FOREIGN_2023, "foreign_permanent_2017"),
    ],
    ids=lambda v: v if isinstance(v, str) else v["person_no"],
)
def test_number_not_shaped_as_its_card_type_is_422(
    http: httpx.Client, person: dict[str, Any], wrong_type: str
) -> None:
    body = assert_error(verify(http, person, card_type=wrong_type), 422, "invalid_request")
    assert person["id_number"][:10] not in body["error"]["message"]


def test_unknown_card_type_is_422(http: httpx.Client) -> None:
    assert_error(verify(http, LI, card_type="passport"), 422, "invalid_request")


def _bad_mod11(number: str) -> str:
    return number[:17] + ("1" if number[17] != "1" else "2")


@pytest.mark.parametrize(
    ("person", "bad_number"),
    [
        (HK, _bad_mod11(HK["id_number"])),
        (FOREIGN_2023, _bad_mod11(FOREIGN_2023["id_number"])),
        (FOREIGN_2017, FOREIGN_2017["id_number"][:14] + "0"),
    ],
    ids=["hk_mo_tw_residence", "foreign_permanent_2023", "foreign_permanent_2017"],
)
def test_bad_check_digit_per_card_type_is_not_verified(
    http: httpx.Client, person: dict[str, Any], bad_number: str
) -> None:
    assert bad_number != person["id_number"]
    body = verify(http, person, id_number=bad_number).json()
    assert body["verified"] is False
    assert body["reason"] == "invalid_check_digit"


def test_foreign_2017_with_impossible_birth_date_is_422(http: httpx.Client) -> None:
    first14 = FOREIGN_2017["id_number"][:9] + "13" + FOREIGN_2017["id_number"][11:14]  # month 13
    number = first14 + icao_check_digit(first14)
    assert_error(verify(http, FOREIGN_2017, id_number=number), 422, "invalid_request")


def test_icao_check_digit_known_value() -> None:
    # ICAO Doc 9303's own example document number L898902C3 has check digit 6.
    assert icao_check_digit("L898902C3") == "6"
    assert has_valid_check_digit_for("foreign_permanent_2017", FOREIGN_2017["id_number"])
    assert not has_valid_check_digit_for("foreign_permanent_2017", FOREIGN_2023["id_number"])


def test_foreigner_is_matched_by_the_name_the_reader_gives(http: httpx.Client) -> None:
    # The reader's record name is the Chinese name when the card has one.
    assert verify(http, FOREIGN_2023, name="穆安娜").json()["verified"] is True
    wrong = verify(http, FOREIGN_2023, name="MUELLER-LUDENSCHEIDT, ANNA").json()
    assert wrong["verified"] is False and wrong["reason"] == "not_found"


@pytest.mark.parametrize("person", OTHER_CARDS, ids=lambda p: p["card_type"])
def test_social_insurance_certificate_for_other_card_types(
    http: httpx.Client, person: dict[str, Any]
) -> None:
    ref = verify(http, person).json()["person_ref"]
    item = next(
        i["code"]
        for c in http.get("/catalogue").json()["categories"]
        for i in c["items"]
        if i["flow"] == "print" and "参保证明" in i["name"]
    )
    response = http.post(
        "/certificates",
        json={"item_code": item, "person_ref": ref, "kiosk_id": KIOSK},
        headers={"Idempotency-Key": f"test-{person['person_no']}"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["title"] == "社会保险个人参保证明"
    assert person["id_number"] not in response.text
