"""Masking of personal data, and the logging filter that keeps ID numbers out of logs."""

from __future__ import annotations

import io
import logging
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.idcard.sim_cards import GONG_YAN, LI_XIUYING, WANG_JIANGUO
from drivers.idcard.textblock import IdCardRecord, gb11643_check_char
from kiosk.privacy import (
    RedactingFilter,
    mask_address,
    mask_date,
    mask_id_number,
    mask_name,
    mask_record_dict,
    redact_text,
)

LI_ID = LI_XIUYING.id_number
WANG_ID = WANG_JIANGUO.id_number


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("李秀英", "李**"),
        ("张三", "张*"),
        ("龚䶮", "龚*"),
        ("欧阳娜娜", "欧***"),
        ("阿依古丽·买买提", "阿*******"),
        ("李", "*"),
        ("", ""),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_mask_id_number() -> None:
    assert mask_id_number(LI_ID) == "1101**********1240"
    assert mask_id_number(WANG_ID) == "1101**********135X"
    assert mask_id_number("12345678") == "********"
    assert mask_id_number("") == ""


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("北京市东城区景山前街4号", "北京市东城区****"),
        ("宁夏回族自治区银川市兴庆区解放东街1号", "宁夏回族自治区银川市兴庆区****"),
        ("广东省深圳市福田区福华一路1号", "广东省深圳市福田区****"),
        ("江苏省苏州市昆山市前进路8号", "江苏省苏州市昆山市****"),
        ("湖北省恩施土家族苗族自治州恩施市舞阳大街1号", "湖北省恩施土家族苗族自治州恩施市****"),
        (
            "内蒙古自治区呼伦贝尔市鄂温克族自治旗巴彦托海镇",
            "内蒙古自治区呼伦贝尔市鄂温克族自治旗****",
        ),
        ("上海市浦东新区世纪大道100号", "上海市浦东新区****"),
        ("某某村三组", "某某****"),  # short and no district: hide the second half
        ("", ""),
    ],
)
def test_mask_address(address: str, masked: str) -> None:
    assert mask_address(address) == masked


def test_mask_address_never_shows_everything() -> None:
    assert mask_address("北京市东城区") == "北京市****"
    assert mask_address("某地") == "某****"


def test_mask_address_falls_back_to_six_characters() -> None:
    assert mask_address("景山前街四号院东门内") == "景山前街四号****"


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("1956-03-12", "1956-**-**"),
        ("19560312", "1956****"),
        (date(1956, 3, 12), "1956-**-**"),
        ("长期", "**"),
    ],
)
def test_mask_date(value: str | date, masked: str) -> None:
    assert mask_date(value) == masked


def test_mask_record_dict() -> None:
    original = LI_XIUYING.as_dict()
    masked = mask_record_dict(original)
    assert masked == {
        "name": "李**",
        "sex": "女",
        "nation": "汉",
        "birth_date": "1956-**-**",
        "address": "北京市东城区****",
        "id_number": "1101**********1240",
        "issuer": "北京市公安局东城分局",
        "valid_from": "2016-05-10",
        "valid_to": "长期",
        "card_type": "resident",
        "photo_wlt_size": 1024,
    }
    assert original == LI_XIUYING.as_dict()  # the input is not changed
    assert mask_record_dict({"card_type": "resident"}) == {"card_type": "resident"}


@pytest.mark.parametrize("card", [LI_XIUYING, WANG_JIANGUO, GONG_YAN], ids=lambda c: c.name)
def test_masked_dict_hides_what_identifies(card: IdCardRecord) -> None:
    record = card.as_dict()
    masked = str(mask_record_dict(record))
    assert record["id_number"] not in masked
    assert record["id_number"][6:14] not in masked
    assert record["name"] not in masked
    assert record["address"] not in masked


def test_redact_text() -> None:
    text = f"查询 {LI_ID} 与 {WANG_ID.lower()}，订单号 9{LI_ID}1 不变"
    assert redact_text(text) == (
        f"查询 1101**********1240 与 1101**********135x，订单号 9{LI_ID}1 不变"
    )
    assert redact_text(f"id={LI_ID};") == "id=1101**********1240;"
    assert redact_text(f"ID{LI_ID}") == "ID1101**********1240"
    assert redact_text("nothing here 2024-01-01 12345") == "nothing here 2024-01-01 12345"


def test_redact_text_masks_numbers_with_a_wrong_check_digit_too() -> None:
    mistyped = LI_ID[:17] + "7"
    assert redact_text(mistyped) == "1101**********1247"


def make_logger(name: str) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger(name)
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def test_filter_masks_messages_and_arguments() -> None:
    logger, stream = make_logger("test.privacy.args")
    logger.info("resident %s checked in", LI_ID)
    logger.info(f"inline {WANG_ID}")
    logger.info("count %d", 3)
    assert stream.getvalue().splitlines() == [
        "INFO resident 1101**********1240 checked in",
        "INFO inline 1101**********135X",
        "INFO count 3",
    ]


def test_filter_masks_tracebacks() -> None:
    logger, stream = make_logger("test.privacy.exc")
    try:
        raise ValueError(f"bad number {LI_ID}")
    except ValueError:
        logger.exception("lookup failed")
    output = stream.getvalue()
    assert "Traceback" in output and "1101**********1240" in output
    assert LI_ID not in output


@given(
    region=st.sampled_from(["110101", "440305", "640104"]),
    birth=st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
    sequence=st.integers(0, 999),
    before=st.text(alphabet="abc 号：,", max_size=5),
)
def test_any_id_number_in_text_is_masked(
    region: str, birth: date, sequence: int, before: str
) -> None:
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    number = first17 + gb11643_check_char(first17)
    redacted = redact_text(f"{before}{number} end")
    assert number not in redacted
    assert f"{before}{mask_id_number(number)} end" == redacted


def test_filter_leaves_malformed_calls_to_the_handler() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s %s", ("one",), None)
    assert RedactingFilter().filter(record) is True


def test_every_card_type_dict_is_masked_by_default():
    """Residence permits and foreigner's cards carry more personal keys than the resident card."""
    from drivers.idcard import sim_cards
    from kiosk.privacy import mask_record_dict

    for record in (sim_cards.HK_RESIDENCE_PERMIT, sim_cards.FOREIGN_2017, sim_cards.FOREIGN_2023):
        raw = record.as_dict()
        masked = mask_record_dict(raw)
        for key in (
            "name",
            "chinese_name",
            "english_name",
            "id_number",
            "pass_number",
            "previous_number",
        ):
            if raw.get(key):
                assert masked[key] != raw[key], (record.card_type, key)
