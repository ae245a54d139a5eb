"""The 256-byte text block: layout, validation, masking and round trips.

Full ID numbers appear only in drivers/idcard/sim_cards.py; tests derive variants from those.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.idcard.errors import (
    CardDataError,
    InvalidFieldError,
    InvalidIdNumberError,
)
from drivers.idcard.sim_cards import (
    GONG_YAN,
    HK_RESIDENCE_PERMIT,
    LI_XIUYING,
    WANG_JIANGUO,
)
from drivers.idcard.textblock import (
    NATION_CODES,
    NATIONS,
    CardType,
    IdCardRecord,
    Sex,
    build_text_block,
    detect_card_type,
    encode_text_fields,
    gb11643_check_char,
    parse_text_block,
    validate_id_number,
)

LI_ID = LI_XIUYING.id_number
WANG_ID = WANG_JIANGUO.id_number


def fields_of(record: IdCardRecord, **overrides: str) -> dict[str, str]:
    """The raw strings `encode_text_fields` takes for a record, with some replaced."""
    values = {
        "name": record.name,
        "sex_code": record.sex.code,
        "nation_code": NATION_CODES[record.nation],
        "birth": record.birth_date.strftime("%Y%m%d"),
        "address": record.address,
        "id_number": record.id_number,
        "issuer": record.issuer,
        "valid_from": record.valid_from.strftime("%Y%m%d"),
        "valid_to": record.valid_to.strftime("%Y%m%d") if record.valid_to else "长期",
    }
    values.update(overrides)
    return values


@pytest.mark.parametrize("card", [LI_XIUYING, WANG_JIANGUO, GONG_YAN], ids=lambda c: c.name)
def test_sim_cards_round_trip(card: IdCardRecord) -> None:
    block = build_text_block(card)
    assert len(block) == 256
    assert parse_text_block(block, card.photo_wlt) == card


def test_layout_offsets_follow_ga_t_490() -> None:
    block = build_text_block(LI_XIUYING)
    assert block[0:30] == "李秀英".encode("utf-16-le") + " ".encode("utf-16-le") * 12
    assert block[30:32] == b"2\x00"
    assert block[32:36] == "01".encode("utf-16-le")
    assert block[36:52] == "19560312".encode("utf-16-le")
    assert block[52:122].decode("utf-16-le").rstrip() == LI_XIUYING.address
    assert block[122:158] == LI_ID.encode("utf-16-le")
    assert block[158:188].decode("utf-16-le").rstrip() == "北京市公安局东城分局"
    assert block[188:204] == "20160510".encode("utf-16-le")
    assert block[204:220] == "长期".encode("utf-16-le") + " ".encode("utf-16-le") * 6
    assert block[248:250] == b" \x00"  # resident card: blank flag
    assert set(block[220:256]) == {0x20, 0x00}


def test_rare_character_survives() -> None:
    block = build_text_block(GONG_YAN)
    assert block[2:4] == bytes.fromhex("ae4d")  # U+4DAE, little-endian
    assert parse_text_block(block).name == "龚䶮"


def test_as_dict_keys_and_values() -> None:
    assert LI_XIUYING.as_dict() == {
        "name": "李秀英",
        "sex": "女",
        "nation": "汉",
        "birth_date": "1956-03-12",
        "address": "北京市东城区景山前街4号",
        "id_number": LI_ID,
        "issuer": "北京市公安局东城分局",
        "valid_from": "2016-05-10",
        "valid_to": "长期",
        "card_type": "resident",
        "photo_wlt_size": 1024,
    }
    assert WANG_JIANGUO.as_dict()["valid_to"] == "2035-08-01"
    assert WANG_JIANGUO.as_dict()["sex"] == "男"
    assert GONG_YAN.as_dict()["nation"] == "回"


@pytest.mark.parametrize("card", [LI_XIUYING, WANG_JIANGUO, GONG_YAN], ids=lambda c: c.name)
def test_repr_and_str_reveal_no_personal_data(card: IdCardRecord) -> None:
    for text in (repr(card), str(card), repr([card]), f"{card}"):
        assert card.name not in text
        assert card.id_number not in text
        assert card.id_number[4:14] not in text
        assert card.address not in text
        assert card.birth_date.isoformat() not in text
    assert repr(LI_XIUYING) == (
        "IdCardRecord(card_type='resident', name='李**', id_number='1101**********1240', "
        "photo_wlt=<1024 bytes>)"
    )


def test_validate_id_number_accepts_and_normalises() -> None:
    assert validate_id_number(LI_ID) == LI_ID
    assert validate_id_number(WANG_ID.lower()) == WANG_ID
    assert gb11643_check_char(LI_ID[:17]) == LI_ID[17]
    assert gb11643_check_char(WANG_ID[:17]) == "X"


@pytest.mark.parametrize(
    ("number", "match"),
    [
        (LI_ID[:17] + "1", "check character is 1, GB 11643 gives 0"),
        (LI_ID[:17], "17 characters, not 18"),
        (LI_ID + "0", "19 characters"),
        (LI_ID[:10] + "A" + LI_ID[11:], "17 digits then a digit or X"),
        ("00" + LI_ID[2:], "not a province code"),
        (LI_ID[:10] + "0230" + LI_ID[14:], "not a real calendar date"),
        ("", "0 characters"),
    ],
)
def test_validate_id_number_rejects(number: str, match: str) -> None:
    with pytest.raises(InvalidIdNumberError, match=match) as info:
        validate_id_number(number)
    assert isinstance(info.value, ValueError)
    if len(number) == 18:
        assert number not in str(info.value)  # messages are masked


def test_validate_id_number_rejects_non_strings() -> None:
    with pytest.raises(InvalidIdNumberError):
        validate_id_number(110101)  # type: ignore[arg-type]


def test_parse_rejects_bad_sex_code() -> None:
    block = encode_text_fields(**fields_of(LI_XIUYING, sex_code="5"))
    with pytest.raises(InvalidFieldError, match="sex code '5'"):
        parse_text_block(block)


@pytest.mark.parametrize("code", ["99", "00", "57", "", "x1"])
def test_parse_rejects_bad_nation_code(code: str) -> None:
    block = encode_text_fields(**fields_of(LI_XIUYING, nation_code=code))
    with pytest.raises(InvalidFieldError, match="GB 3304"):
        parse_text_block(block)


@pytest.mark.parametrize(
    ("field", "value", "error", "match"),
    [
        ("birth", "19561312", InvalidFieldError, "birth is not a real calendar date"),
        ("birth", "1956031", InvalidFieldError, "birth is not an 8-digit"),
        ("birth", "19560313", InvalidIdNumberError, "different from the birth field"),
        ("valid_from", "2016-5-1", InvalidFieldError, "valid_from is not an 8-digit"),
        ("valid_to", "20150101", InvalidFieldError, "valid_to is before valid_from"),
        ("valid_to", "永久", InvalidFieldError, "valid_to is not an 8-digit"),
        ("valid_from", "19500101", InvalidFieldError, "before the birth date"),
        ("name", "", InvalidFieldError, "name is empty"),
        ("address", "", InvalidFieldError, "address is empty"),
        ("issuer", " 北京", InvalidFieldError, "issuer has padding"),
    ],
)
def test_parse_rejects_bad_fields(field: str, value: str, error: type, match: str) -> None:
    block = encode_text_fields(**fields_of(LI_XIUYING, **{field: value}))
    with pytest.raises(error, match=match) as info:
        parse_text_block(block)
    assert isinstance(info.value, CardDataError) and isinstance(info.value, ValueError)


def test_parse_rejects_bad_check_digit_with_masked_message() -> None:
    bad = LI_ID[:17] + "9"
    with pytest.raises(InvalidIdNumberError) as info:
        parse_text_block(encode_text_fields(**fields_of(LI_XIUYING, id_number=bad)))
    assert bad not in str(info.value) and "1101**********1249" in str(info.value)


def test_sex_must_match_the_sequence_digit() -> None:
    block = encode_text_fields(**fields_of(LI_XIUYING, sex_code="1"))
    with pytest.raises(InvalidIdNumberError, match="does not match sex 男"):
        parse_text_block(block)
    for code in ("0", "9"):  # unknown and unstated carry no parity rule
        record = parse_text_block(encode_text_fields(**fields_of(LI_XIUYING, sex_code=code)))
        assert record.sex in (Sex.UNKNOWN, Sex.UNSTATED)


def test_parse_rejects_wrong_sizes_and_broken_ucs2() -> None:
    with pytest.raises(CardDataError, match="255 bytes"):
        parse_text_block(build_text_block(LI_XIUYING)[:255])
    block = bytearray(build_text_block(LI_XIUYING))
    block[0:2] = b"\x00\xd8"  # a lone high surrogate
    with pytest.raises(CardDataError, match="not valid UCS-2"):
        parse_text_block(bytes(block))


@pytest.mark.parametrize(
    ("flag", "card_type"),
    [
        ("J", CardType.HK_MO_TW_RESIDENCE),
        ("I", CardType.FOREIGN_PERMANENT_2017),
        ("Y", CardType.FOREIGN_PERMANENT_2023),
    ],
)
def test_a_resident_block_with_another_flag_is_decoded_as_that_layout_and_refused(
    flag: str, card_type: CardType
) -> None:
    """GIVEN a resident card's fields under another type's flag THEN that type's layout is used,
    and the fields, which do not fit it, fail validation with a card data error."""
    block = encode_text_fields(**fields_of(LI_XIUYING), flag=flag)
    assert detect_card_type(block) is card_type
    with pytest.raises(CardDataError):
        parse_text_block(block)


def test_hk_permit_demo_card_is_flagged_j() -> None:
    block = build_text_block(HK_RESIDENCE_PERMIT)
    assert block[248:250] == b"J\x00"
    assert parse_text_block(block, HK_RESIDENCE_PERMIT.photo_wlt) == HK_RESIDENCE_PERMIT


def test_unknown_flags_and_nul_are_read_as_resident() -> None:
    block = bytearray(build_text_block(WANG_JIANGUO))
    for flag in (b"\x00\x00", b"Q\x00", b"J\x01"):
        block[248:250] = flag
        assert detect_card_type(bytes(block)) is CardType.RESIDENT
        assert parse_text_block(bytes(block)) == dataclasses.replace(WANG_JIANGUO, photo_wlt=b"")


def test_record_validates_on_construction() -> None:
    with pytest.raises(InvalidFieldError, match="nation '火星'"):
        dataclasses.replace(LI_XIUYING, nation="火星")
    with pytest.raises(InvalidFieldError, match="sex must be"):
        dataclasses.replace(LI_XIUYING, sex="F")  # type: ignore[arg-type]
    with pytest.raises(InvalidFieldError, match="name has 16 UCS-2 characters"):
        dataclasses.replace(LI_XIUYING, name="李" * 16)
    with pytest.raises(InvalidFieldError, match="address has 36"):
        dataclasses.replace(LI_XIUYING, address="北" * 36)
    assert dataclasses.replace(LI_XIUYING, sex="女").sex is Sex.FEMALE  # type: ignore[arg-type]


def test_encode_text_fields_refuses_values_that_do_not_fit() -> None:
    with pytest.raises(ValueError, match="name needs 32 bytes"):
        encode_text_fields(**fields_of(LI_XIUYING, name="李" * 16))
    with pytest.raises(ValueError, match="one character"):
        encode_text_fields(**fields_of(LI_XIUYING), flag="JJ")


def test_nation_table_is_gb_3304() -> None:
    assert len(NATIONS) == 58
    assert (
        NATIONS["01"] == "汉" and NATIONS["56"] == "基诺" and NATIONS["98"] == "外国血统中国籍人士"
    )
    assert {f"{n:02d}" for n in range(1, 57)} <= NATIONS.keys()
    assert NATION_CODES["回"] == "03"


def test_sex_codes() -> None:
    assert [Sex.from_code(c) for c in "0129"] == [Sex.UNKNOWN, Sex.MALE, Sex.FEMALE, Sex.UNSTATED]
    assert Sex.FEMALE.code == "2" and Sex.FEMALE == "女"


# -- properties ------------------------------------------------------------------------------

REGIONS = ["110101", "310104", "440305", "640104", "650102", "540102"]
cjk = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
text_field = st.text(alphabet=cjk | st.sampled_from("0123456789号-·"), min_size=1)


@st.composite
def records(draw: st.DrawFn) -> IdCardRecord:
    birth = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)))
    sex = draw(st.sampled_from(list(Sex)))
    sequence = draw(st.integers(0, 999))
    if (sex is Sex.MALE and sequence % 2 == 0) or (sex is Sex.FEMALE and sequence % 2 == 1):
        sequence = (sequence + 1) % 1000
    first17 = f"{draw(st.sampled_from(REGIONS))}{birth:%Y%m%d}{sequence:03d}"
    valid_from = draw(st.dates(min_value=birth, max_value=date(2099, 1, 1)))
    valid_to = draw(st.none() | st.dates(min_value=valid_from, max_value=date(2099, 12, 31)))
    return IdCardRecord(
        name=draw(text_field.filter(lambda t: len(t) <= 15 and t == t.strip())),
        sex=sex,
        nation=draw(st.sampled_from(list(NATION_CODES))),
        birth_date=birth,
        address=draw(text_field.filter(lambda t: len(t) <= 35)),
        id_number=first17 + gb11643_check_char(first17),
        issuer=draw(text_field.filter(lambda t: len(t) <= 15)),
        valid_from=valid_from,
        valid_to=valid_to,
        photo_wlt=draw(st.binary(max_size=1024)),
    )


@given(record=records())
def test_any_valid_record_round_trips(record: IdCardRecord) -> None:
    assert parse_text_block(build_text_block(record), record.photo_wlt) == record


@given(block=st.binary(min_size=256, max_size=256))
def test_parse_raises_only_card_data_errors_on_arbitrary_bytes(block: bytes) -> None:
    try:
        record = parse_text_block(block)
    except CardDataError:
        return
    assert parse_text_block(build_text_block(record)) == record


@given(
    first17=st.from_regex(
        r"\A(11|31|44|64)[0-9]{4}(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|1[0-9])[0-9]{3}\Z"
    )
)
def test_every_wrong_check_character_is_refused(first17: str) -> None:
    good = gb11643_check_char(first17)
    assert validate_id_number(first17 + good) == first17 + good
    for wrong in set("0123456789X") - {good}:
        with pytest.raises(InvalidIdNumberError):
            validate_id_number(first17 + wrong)
