"""Form field checks shared by the kiosk (as typed) and the central service (on arrival)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.forms import FIELD_TYPES, PROBLEMS, check, check_all, resolve_bound

TODAY = date(2026, 11, 23)
CHOICES = [{"value": "dismissed", "label": "被解除劳动合同"}, {"value": "expired", "label": "到期"}]
SPECS = {
    "chinese_name": {"type": "chinese_name"},
    "phone": {"type": "phone"},
    "id_number": {"type": "id_number"},
    "date": {"type": "date", "min": "today-5y", "max": "today"},
    "choice": {"type": "choice", "choices": CHOICES},
    "address": {"type": "address"},
    "text": {"type": "text", "max_length": 10},
}


@pytest.mark.parametrize(
    "name", ["王建国", "李娜", "王䶮", "𠮷野家", "阿依古丽·买买提", "欧阳娜娜", "爱新觉罗・溥仪"]
)
def test_chinese_names_that_pass(name: str) -> None:
    assert check(SPECS["chinese_name"], name) is None


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("王", "too_short"),
        ("王" * 21, "too_long"),
        ("Wang Jianguo", "not_a_name"),
        ("王建国1", "not_a_name"),
        ("·买买提", "not_a_name"),
        ("买买提·", "not_a_name"),
        ("阿依古丽··买买提", "not_a_name"),
        ("王 建国", "not_a_name"),
        ("王\u202e建国", "bad_characters"),
        ("", "required"),
        ("   ", "required"),
    ],
)
def test_chinese_names_that_fail(name: str, problem: str) -> None:
    assert check(SPECS["chinese_name"], name) == problem


@pytest.mark.parametrize("phone", ["13812345678", "19912345678", "010-62345678", "075588886666"])
def test_phones_that_pass(phone: str) -> None:
    assert check(SPECS["phone"], phone) is None


@pytest.mark.parametrize(
    "phone",
    ["12812345678", "1381234567", "138123456789", "010-0234567", "+8613812345678", "１３８"],
)
def test_phones_that_fail(phone: str) -> None:
    assert check(SPECS["phone"], phone) == "bad_phone"


@pytest.mark.parametrize(
    "number", ["11010519850721135X", "11010519850721135x", "110101195603121240", "DEU310185041226"]
)
def test_id_numbers_that_pass(number: str) -> None:
    assert check(SPECS["id_number"], number) is None


@pytest.mark.parametrize(
    "number", ["110105198507211351", "110101195613121240", "11010519850721135", "abc"]
)
def test_id_numbers_that_fail(number: str) -> None:
    assert check(SPECS["id_number"], number) == "bad_id_number"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("2024-02-29", None),
        ("2026-11-23", None),
        ("2023-02-29", "bad_date"),
        ("2026-13-01", "bad_date"),
        ("2026/11/23", "bad_date"),
        ("２０２６-11-23", "bad_date"),
        ("2026-11-24", "date_out_of_range"),
        ("2021-11-22", "date_out_of_range"),
        ("2021-11-23", None),
    ],
)
def test_dates_against_relative_bounds(value: str, problem: str | None) -> None:
    assert check(SPECS["date"], value, today=TODAY) == problem


def test_date_bounds_may_be_explicit_and_leap_days_move_back() -> None:
    spec = {"type": "date", "min": "2000-01-01", "max": "2000-12-31"}
    assert check(spec, "1999-12-31", today=TODAY) == "date_out_of_range"
    assert check(spec, "2000-06-01", today=TODAY) is None
    assert resolve_bound("today-1y", date(2024, 2, 29)) == date(2023, 2, 28)
    assert resolve_bound("today+30d", TODAY) == date(2026, 12, 23)
    with pytest.raises(ValueError):
        resolve_bound("yesterday", TODAY)


def test_choices_address_and_text() -> None:
    assert check(SPECS["choice"], "expired") is None
    assert check(SPECS["choice"], "被解除劳动合同") == "not_a_choice"  # the label is not the value
    assert check(SPECS["address"], "北京市西城区丰盛胡同22号") is None
    assert check(SPECS["address"], "北京市") == "too_short"
    assert check(SPECS["address"], "北" * 101) == "too_long"
    assert check(SPECS["address"], "北京市西城区\n丰盛胡同") == "bad_characters"
    assert check(SPECS["text"], "0123456789") is None
    assert check(SPECS["text"], "01234567890") == "too_long"
    assert check({"type": "text"}, "字" * 200) is None
    assert check({"type": "text"}, "字" * 201) == "too_long"


def test_optional_fields_may_be_empty_and_required_ones_may_not() -> None:
    assert check({"type": "phone", "required": False}, "") is None
    assert check({"type": "phone", "required": False}, None) is None
    assert check({"type": "phone"}, None) == "required"
    assert check({"type": "phone"}, 13812345678) == "bad_characters"


def test_a_spec_may_be_an_object_with_attributes() -> None:
    class Spec:
        type = "text"
        required = True
        max_length = 3

    assert check(Spec(), "abcd") == "too_long"


def test_unknown_field_type_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        check({"type": "colour"}, "red")


def test_check_all_lists_problems_in_form_order() -> None:
    fields = [{"name": "phone", "type": "phone"}, {"name": "reason", **SPECS["choice"]}]
    assert check_all(fields, {"phone": "123", "extra": "x"}) == [
        ("phone", "bad_phone"),
        ("reason", "required"),
    ]


@given(st.sampled_from(list(SPECS.values())), st.text(max_size=300))
def test_never_raises_on_any_text(spec: dict, value: str) -> None:
    assert check(spec, value, today=TODAY) in (None, *PROBLEMS)


@given(st.sampled_from(FIELD_TYPES), st.one_of(st.none(), st.integers(), st.binary()))
def test_never_raises_on_values_that_are_not_text(kind: str, value: object) -> None:
    assert check({"type": kind, "choices": CHOICES}, value) in (None, *PROBLEMS)
