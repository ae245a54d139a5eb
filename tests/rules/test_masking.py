"""The one masking policy: names (Chinese and Latin), ID numbers, document numbers, addresses, dates."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.idnumbers import gb11643_check_char, icao_check_digit
from rules.masking import (
    mask_address,
    mask_date,
    mask_document_number,
    mask_id_number,
    mask_name,
    redact_text,
)

LI_ID = "110101195603121240"
WANG_ID = "11010519850721135X"


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("李秀英", "李**"),
        ("王建国", "王**"),
        ("张三", "张*"),
        ("欧阳娜娜", "欧***"),  # compound surnames keep one character too: less is shown
        ("阿依古丽·买买提", "阿*******"),
        ("欧阳䶮", "欧**"),
        ("李", "*"),
        ("", ""),
    ],
)
def test_chinese_name_keeps_the_first_character(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("SMITH JOHN", "S**** J***"),
        ("SMITH, JOHN MICHAEL", "S****, J*** M******"),
        ("O'BRIEN ANNE-MARIE", "O****** A***-M****"),
        ("Müller Jürgen", "M***** J*****"),
        ("J", "*"),
        ("LI A", "L* *"),  # a one-letter word is not shown whole either
    ],
)
def test_latin_name_keeps_the_first_letter_of_each_word(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_mixed_script_name_follows_the_chinese_rule() -> None:
    assert mask_name("李John") == "李****"


# A name holding the mask character itself ("0*") would look unmasked though it was masked.
@given(st.text(min_size=2, max_size=40).filter(lambda name: "*" not in name))
def test_a_name_is_never_shown_whole_and_keeps_its_length(name: str) -> None:
    masked = mask_name(name)
    assert len(masked) == len(name)
    assert masked != name or set(name) <= set(" ,.-*")


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        (LI_ID, "1101**********1240"),
        (WANG_ID, "1101**********135X"),
        ("810000199408230021", "8100**********0021"),  # 港澳台 residence permit
        ("931586198702150043", "9315**********0043"),  # 2023 foreigner's card
        ("USA310075010012", "USA3*******0012"),  # 2017 foreigner's card: same rule, 15 chars
        ("12345678", "********"),
        ("", ""),
    ],
)
def test_id_number_keeps_first_and_last_four(number: str, masked: str) -> None:
    assert mask_id_number(number) == masked


def test_document_numbers_keep_only_their_first_character() -> None:
    assert mask_document_number("H12345678") == "H********"  # 港澳台 pass number
    assert mask_document_number("A12345678") == "A********"  # social security card number
    assert mask_document_number("") == ""


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("北京市东城区景山前街4号", "北京市东城区****"),
        ("宁夏回族自治区银川市兴庆区解放东街1号", "宁夏回族自治区银川市兴庆区****"),
        ("湖北省恩施土家族苗族自治州恩施市舞阳大街1号", "湖北省恩施土家族苗族自治州恩施市****"),
        ("北京市东城区", "北京市****"),  # nothing after the district: still hide something
        ("景山前街四号院东门内", "景山前街四号****"),
        ("", ""),
    ],
)
def test_address_keeps_the_divisions(address: str, masked: str) -> None:
    assert mask_address(address) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("1956-03-12", "1956-**-**"),
        ("19560312", "1956****"),
        (date(1956, 3, 12), "1956-**-**"),
        ("长期", "**"),
    ],
)
def test_date_keeps_the_year(value: str | date, masked: str) -> None:
    assert mask_date(value) == masked


def test_redact_text_masks_both_number_layouts() -> None:
    foreign = "USA31007501001" + icao_check_digit("USA31007501001")
    text = f"查询 {LI_ID}，外国人 {foreign}，订单号 9{LI_ID}1 不变"
    assert redact_text(text) == (
        f"查询 1101**********1240，外国人 {mask_id_number(foreign)}，订单号 9{LI_ID}1 不变"
    )


@given(
    st.text(alphabet="0123456789", min_size=17, max_size=17).filter(lambda s: s[0] != "0"),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
)
def test_any_resident_number_in_text_is_masked(first17: str, birth: date) -> None:
    body = first17[:6] + birth.strftime("%Y%m%d") + first17[14:]
    number = body + gb11643_check_char(body)
    assert redact_text(f"id {number}.") == f"id {mask_id_number(number)}."
