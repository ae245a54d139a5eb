"""The one GB 11643 check character and ICAO check digit, number layouts and embedded dates."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.idnumbers import (
    FOREIGN_PERMANENT_2017,
    FOREIGN_PERMANENT_2023,
    HK_MO_TW_RESIDENCE,
    NUMBER_SHAPES,
    RESIDENT,
    birth_date_in,
    gb11643_check_char,
    has_shape_of,
    has_valid_check_digit_for,
    has_valid_gb11643_check,
    icao_check_digit,
)

DIGITS = "0123456789"
bodies = st.text(alphabet=DIGITS, min_size=17, max_size=17)


@given(bodies)
def test_every_body_with_its_check_character_validates(body: str) -> None:
    number = body + gb11643_check_char(body)
    assert has_valid_gb11643_check(number)
    assert has_valid_gb11643_check(number.lower())  # x as residents type it


@given(bodies, st.integers(0, 17), st.sampled_from("0123456789X"))
def test_any_single_changed_character_fails(body: str, position: int, new: str) -> None:
    number = body + gb11643_check_char(body)
    if position < 17:
        new = new if new != "X" else "0"  # the 17 body positions are digits
    if number[position] == new:
        return
    changed = number[:position] + new + number[position + 1 :]
    # MOD 11-2 catches every single substitution: each weight is invertible mod 11.
    assert not has_valid_gb11643_check(changed)


def test_published_examples() -> None:
    assert gb11643_check_char("11010519491231002") == "X"  # the GB 11643 standard's own example
    assert gb11643_check_char("11010119560312124") == "0"
    assert icao_check_digit("L898902C3") == "6"  # ICAO Doc 9303 specimen passport number
    assert icao_check_digit("AB2134<<<") == "5"  # with filler characters


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "1101051949123100",
        "110105194912310021",
        "1101051949123100a",
        "１１０１０５１９４９１２３１００２",
    ],
)
def test_check_character_needs_17_ascii_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        gb11643_check_char(bad)


@pytest.mark.parametrize(
    "bad",
    ["", "11010519491231002", "1101051949123100２X", "11010519491231002XX", "1101O519491231002X"],
)
def test_malformed_numbers_do_not_validate(bad: str) -> None:
    assert not has_valid_gb11643_check(bad)


def test_icao_refuses_other_characters() -> None:
    with pytest.raises(ValueError):
        icao_check_digit("abc")


@given(st.text(max_size=30))
def test_checks_never_crash_on_any_text(text: str) -> None:
    for card_type in NUMBER_SHAPES:
        assert isinstance(has_valid_check_digit_for(card_type, text), bool)
        birth_date_in(card_type, text)
    has_valid_gb11643_check(text)


def test_each_card_type_has_its_layout_and_check() -> None:
    resident = "11010519491231002X"
    permit = "81000019940823002" + gb11643_check_char("81000019940823002")
    foreign_2023 = "93158619870215004" + gb11643_check_char("93158619870215004")
    foreign_2017 = "USA31008701150" + icao_check_digit("USA31008701150")
    assert has_valid_check_digit_for(RESIDENT, resident)
    assert has_valid_check_digit_for(RESIDENT, resident.lower())
    assert has_valid_check_digit_for(HK_MO_TW_RESIDENCE, permit)
    assert not has_valid_check_digit_for(HK_MO_TW_RESIDENCE, resident)  # region 11, not 81-83
    assert has_valid_check_digit_for(FOREIGN_PERMANENT_2023, foreign_2023)
    assert has_valid_check_digit_for(FOREIGN_PERMANENT_2017, foreign_2017)
    assert not has_valid_check_digit_for(
        FOREIGN_PERMANENT_2017,
        foreign_2017[:-1] + "0" if foreign_2017[-1] != "0" else foreign_2017[:-1] + "1",
    )
    assert not has_valid_check_digit_for("passport", resident)
    assert not has_shape_of(RESIDENT, "１１０１０５１９４９１２３１００２X")  # full-width digits


def test_birth_dates_in_numbers() -> None:
    assert birth_date_in(RESIDENT, "11010519491231002X") == date(1949, 12, 31)
    assert birth_date_in(FOREIGN_PERMANENT_2017, "USA310087011501") == date(1987, 1, 15)
    assert birth_date_in(FOREIGN_PERMANENT_2017, "USA310000022901") == date(
        2000, 2, 29
    )  # 1900 had none
    assert birth_date_in(RESIDENT, "110105194913310021") is None
