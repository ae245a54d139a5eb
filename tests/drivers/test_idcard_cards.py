"""The non-resident layouts: HK/Macau/Taiwan residence permit (J), foreigner's permanent residence
card 2017 (I) and 2023 (Y). Vectors are laid out here by hand from the published offsets, so the
driver's layout tables are checked against the sources, not against themselves.

Published offsets (bytes): vendor SDK header structs t_idcardinfor / t_idforeigner /
t_idforeigner2023, a THPR210 reader's parser, a published 2017 data item table.
"""

from __future__ import annotations

import contextlib
import dataclasses
import string
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.idcard import (
    CardDataError,
    CardType,
    ForeignResident2017Record,
    ForeignResident2023Record,
    InvalidFieldError,
    InvalidIdNumberError,
    ResidencePermitRecord,
    Sex,
    build_text_block,
    detect_card_type,
    gb11643_check_char,
    parse_text_block,
)
from drivers.idcard.foreign import (
    FOREIGN_2017_LAYOUT,
    FOREIGN_2023_LAYOUT,
    encode_foreign_2017_fields,
    encode_foreign_2023_fields,
)
from drivers.idcard.numbers import (
    icao_check_digit,
    validate_foreign_2017_number,
    validate_foreign_2023_number,
)
from drivers.idcard.permit import PERMIT_LAYOUT, encode_permit_fields
from drivers.idcard.sim_cards import FOREIGN_2017, FOREIGN_2023, HK_RESIDENCE_PERMIT
from drivers.idcard.textblock import RESIDENT_LAYOUT

SPACE = " ".encode("utf-16-le")


def published(flag: str, fields: list[tuple[int, int, str]]) -> bytes:
    """A 256-byte block from (offset, size, text) triples, padded with spaces, flag at 248."""
    block = bytearray(SPACE * 128)
    for offset, size, text in fields:
        raw = text.encode("utf-16-le")
        assert len(raw) <= size
        block[offset : offset + size] = raw + SPACE * ((size - len(raw)) // 2)
    block[248:250] = flag.encode("utf-16-le")
    return bytes(block)


# -- HK/Macau/Taiwan residence permit (J) ------------------------------------------------------

PERMIT_VECTOR = published(
    "J",
    [
        (0, 30, "陈大文"),
        (30, 2, "1"),
        (36, 16, "19990101"),
        (52, 70, "广东省深圳市福田区福华一路1号"),
        (122, 36, HK_RESIDENCE_PERMIT.id_number),
        (158, 30, "深圳市公安局"),
        (188, 16, "20190901"),
        (204, 16, "20240901"),
        (220, 18, "H12345678"),
        (238, 4, "01"),
    ],
)


def test_permit_vector_decodes_field_by_field() -> None:
    record = parse_text_block(PERMIT_VECTOR, HK_RESIDENCE_PERMIT.photo_wlt)
    assert isinstance(record, ResidencePermitRecord)
    assert record == HK_RESIDENCE_PERMIT
    assert (record.pass_number, record.issue_count, record.region) == ("H12345678", 1, "HK")
    assert record.card_type is CardType.HK_MO_TW_RESIDENCE


def test_permit_build_is_byte_exact() -> None:
    assert build_text_block(HK_RESIDENCE_PERMIT) == PERMIT_VECTOR
    assert PERMIT_VECTOR[32:36] == SPACE * 2  # the nation field stays blank


def test_permit_as_dict_and_repr() -> None:
    assert HK_RESIDENCE_PERMIT.as_dict() == {
        "name": "陈大文",
        "sex": "男",
        "birth_date": "1999-01-01",
        "address": "广东省深圳市福田区福华一路1号",
        "id_number": HK_RESIDENCE_PERMIT.id_number,
        "issuer": "深圳市公安局",
        "valid_from": "2019-09-01",
        "valid_to": "2024-09-01",
        "pass_number": "H12345678",
        "issue_count": 1,
        "card_type": "hk_mo_tw_residence",
        "photo_wlt_size": 1024,
    }
    assert repr(HK_RESIDENCE_PERMIT) == (
        "ResidencePermitRecord(card_type='hk_mo_tw_residence', name='陈**', "
        "id_number='8100**********1236', photo_wlt=<1024 bytes>)"
    )


@pytest.mark.parametrize(
    ("field", "value", "error", "match"),
    [
        ("id_number", "110101195603121240", InvalidIdNumberError, "starts with 81, 82 or 83"),
        ("id_number", "810000199901011237", InvalidIdNumberError, "check character"),
        ("pass_number", "", InvalidFieldError, "pass_number"),
        ("pass_number", "h1234567", InvalidFieldError, "pass_number"),
        ("issue_count", "1", InvalidFieldError, "two-digit"),
        ("issue_count", "x1", InvalidFieldError, "two-digit"),
        ("sex", "2", InvalidIdNumberError, "does not match sex 女"),
        ("birth", "19990102", InvalidIdNumberError, "different from the birth field"),
        ("valid_to", "20100101", InvalidFieldError, "before valid_from"),
    ],
)
def test_permit_fields_are_validated(field: str, value: str, error: type, match: str) -> None:
    values = PERMIT_LAYOUT.decode(PERMIT_VECTOR)
    values.pop("flag")
    values[field] = value
    with pytest.raises(error, match=match):
        parse_text_block(encode_permit_fields(**values))


def test_permit_regions() -> None:
    for prefix, region in (("81", "HK"), ("82", "MO"), ("83", "TW")):
        first17 = prefix + HK_RESIDENCE_PERMIT.id_number[2:17]
        number = first17 + gb11643_check_char(first17)
        assert dataclasses.replace(HK_RESIDENCE_PERMIT, id_number=number).region == region


# -- foreigner's permanent residence card, 2017 (I) -------------------------------------------

FOREIGN_2017_VECTOR = published(
    "I",
    [
        (0, 120, "MUELLER-LUDENSCHEIDT, ANNA MARIA THERESIA"),
        (120, 2, "2"),
        (122, 30, FOREIGN_2017.id_number),
        (152, 6, "DEU"),
        (158, 30, "穆安娜"),
        (188, 16, "20180601"),
        (204, 16, "20280601"),
        (220, 16, "19850412"),
        (236, 4, "01"),
        (240, 8, "3100"),
    ],
)


def test_foreign_2017_vector_decodes_field_by_field() -> None:
    record = parse_text_block(FOREIGN_2017_VECTOR, FOREIGN_2017.photo_wlt)
    assert isinstance(record, ForeignResident2017Record)
    assert record == FOREIGN_2017
    assert record.name == "穆安娜"  # the Chinese name when there is one
    assert record.nationality == "DEU" and record.sex is Sex.FEMALE


def test_foreign_2017_build_is_byte_exact() -> None:
    assert build_text_block(FOREIGN_2017) == FOREIGN_2017_VECTOR


def test_foreign_2017_without_a_chinese_name_is_named_in_english() -> None:
    values = FOREIGN_2017_LAYOUT.decode(FOREIGN_2017_VECTOR)
    values.pop("flag")
    values["chinese_name"] = ""
    record = parse_text_block(encode_foreign_2017_fields(**values))
    assert record.name == "MUELLER-LUDENSCHEIDT, ANNA MARIA THERESIA"


def test_foreign_2017_as_dict_and_repr() -> None:
    assert FOREIGN_2017.as_dict() == {
        "english_name": "MUELLER-LUDENSCHEIDT, ANNA MARIA THERESIA",
        "chinese_name": "穆安娜",
        "sex": "女",
        "nationality": "DEU",
        "birth_date": "1985-04-12",
        "id_number": FOREIGN_2017.id_number,
        "valid_from": "2018-06-01",
        "valid_to": "2028-06-01",
        "card_version": "01",
        "authority_code": "3100",
        "card_type": "foreign_permanent_2017",
        "photo_wlt_size": 1024,
    }
    assert repr(FOREIGN_2017) == (
        "ForeignResident2017Record(card_type='foreign_permanent_2017', name='穆**', "
        "id_number='DEU3*******1226', photo_wlt=<1024 bytes>)"
    )


@pytest.mark.parametrize(
    ("field", "value", "error", "match"),
    [
        ("id_number", "DEU310185041227", InvalidIdNumberError, "ICAO 7-3-1 gives 6"),
        ("id_number", "DE1310185041226", InvalidIdNumberError, "three letters then 12 digits"),
        ("id_number", "DEU31018513122", InvalidIdNumberError, "three letters then 12 digits"),
        ("birth", "19850413", InvalidIdNumberError, "different from the birth field"),
        ("nationality", "DE", InvalidFieldError, "nationality"),
        ("nationality", "deu", InvalidFieldError, "nationality"),
        ("english_name", "", InvalidFieldError, "english_name is empty"),
        ("english_name", "MÜLLER, ANNA", InvalidFieldError, "printable ASCII"),
        ("sex", "3", InvalidFieldError, "sex code"),
        ("valid_from", "2018061", InvalidFieldError, "valid_from"),
    ],
)
def test_foreign_2017_fields_are_validated(field: str, value: str, error: type, match: str) -> None:
    values = FOREIGN_2017_LAYOUT.decode(FOREIGN_2017_VECTOR)
    values.pop("flag")
    values[field] = value
    with pytest.raises(error, match=match) as info:
        parse_text_block(encode_foreign_2017_fields(**values))
    assert FOREIGN_2017.id_number not in str(info.value)


def test_icao_check_digit_published_example() -> None:
    # ICAO Doc 9303 part 3 worked example: document number L898902C3 has check digit 6.
    assert icao_check_digit("L898902C3") == "6"
    assert icao_check_digit("AB2134<<<") == "5"  # Doc 9303 example with filler characters
    assert validate_foreign_2017_number(FOREIGN_2017.id_number.lower()) == FOREIGN_2017.id_number


# -- foreigner's permanent residence card, 2023 (Y) -------------------------------------------

FOREIGN_2023_VECTOR = published(
    "Y",
    [
        (0, 30, "穆安娜"),
        (30, 2, "2"),
        (32, 4, "01"),
        (36, 16, "19850412"),
        (52, 70, "MUELLER-LUDENSCHEIDT, ANNA MARIA TH"),  # characters 1-35
        (122, 36, FOREIGN_2023.id_number),
        (188, 16, "20240115"),
        (204, 16, "20340115"),
        (220, 22, "ERESIA"),  # characters 36-46
        (242, 6, "DEU"),
        (250, 6, "012"),
    ],
)


def test_foreign_2023_vector_decodes_field_by_field() -> None:
    record = parse_text_block(FOREIGN_2023_VECTOR, FOREIGN_2023.photo_wlt)
    assert isinstance(record, ForeignResident2023Record)
    assert record == FOREIGN_2023
    assert record.english_name == "MUELLER-LUDENSCHEIDT, ANNA MARIA THERESIA"
    assert record.renewal_count == 1


def test_foreign_2023_build_is_byte_exact() -> None:
    assert build_text_block(FOREIGN_2023) == FOREIGN_2023_VECTOR


def test_foreign_2023_links_back_to_the_2017_number() -> None:
    """The same person renewed: the link (city 01, sequence 2) rebuilds the 2017 number."""
    assert FOREIGN_2023.previous_number == FOREIGN_2017.id_number
    assert dataclasses.replace(FOREIGN_2023, previous_number_link="").previous_number is None
    assert dataclasses.replace(FOREIGN_2023, previous_number_link="000").previous_number is None


def test_foreign_2023_english_name_with_a_space_at_the_split() -> None:
    """A space as the 35th character belongs to the name, not to the field's padding."""
    name = "A" * 34 + " " + "BCDEFGHIJK"
    record = dataclasses.replace(FOREIGN_2023, english_name=name)
    block = build_text_block(record)
    assert block[52:122].decode("utf-16-le") == "A" * 34 + " "
    assert parse_text_block(block, record.photo_wlt) == record


def test_foreign_2023_as_dict_and_repr() -> None:
    assert FOREIGN_2023.as_dict() == {
        "chinese_name": "穆安娜",
        "english_name": "MUELLER-LUDENSCHEIDT, ANNA MARIA THERESIA",
        "sex": "女",
        "nationality": "DEU",
        "birth_date": "1985-04-12",
        "id_number": FOREIGN_2023.id_number,
        "valid_from": "2024-01-15",
        "valid_to": "2034-01-15",
        "renewal_count": 1,
        "previous_number": FOREIGN_2017.id_number,
        "card_type": "foreign_permanent_2023",
        "photo_wlt_size": 1024,
    }
    assert repr(FOREIGN_2023) == (
        "ForeignResident2023Record(card_type='foreign_permanent_2023', name='穆**', "
        "id_number='9312**********0043', photo_wlt=<1024 bytes>)"
    )


@pytest.mark.parametrize(
    ("field", "value", "error", "match"),
    [
        ("id_number", "831276198504120043", InvalidIdNumberError, "9, 16 digits"),
        ("id_number", "931276198504120044", InvalidIdNumberError, "check character"),
        ("id_number", "901276198504120048", InvalidIdNumberError, "not a province code"),
        ("id_number", "DEU310185041226", InvalidIdNumberError, "9, 16 digits"),
        ("sex", "1", InvalidIdNumberError, "does not match sex 男"),
        ("birth", "19850411", InvalidIdNumberError, "different from the birth field"),
        ("renewal_count", "", InvalidFieldError, "renewal_count"),
        ("previous_number_link", "12", InvalidFieldError, "previous_number_link"),
        ("previous_number_link", "A12", InvalidFieldError, "previous_number_link"),
        ("nationality", "D3U", InvalidFieldError, "nationality"),
    ],
)
def test_foreign_2023_fields_are_validated(field: str, value: str, error: type, match: str) -> None:
    values = FOREIGN_2023_LAYOUT.decode(FOREIGN_2023_VECTOR)
    values.pop("flag")
    values["english_name"] = FOREIGN_2023.english_name
    values.pop("english_name_more")
    values[field] = value
    with pytest.raises(error, match=match):
        parse_text_block(encode_foreign_2023_fields(**values))


# -- all layouts -------------------------------------------------------------------------------

LAYOUTS = [RESIDENT_LAYOUT, PERMIT_LAYOUT, FOREIGN_2017_LAYOUT, FOREIGN_2023_LAYOUT]


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.card_type.value)
def test_every_layout_tiles_256_bytes_with_the_flag_at_248(layout: object) -> None:
    spans = layout.spans  # type: ignore[attr-defined]
    offset = 0
    for _name, (start, size) in spans.items():
        assert start == offset
        offset += size
    assert offset == 256 and spans["flag"] == (248, 2)


@pytest.mark.parametrize(
    ("record", "flag"),
    [(HK_RESIDENCE_PERMIT, b"J\x00"), (FOREIGN_2017, b"I\x00"), (FOREIGN_2023, b"Y\x00")],
    ids=["J", "I", "Y"],
)
def test_flags_and_detection(record: object, flag: bytes) -> None:
    block = build_text_block(record)  # type: ignore[arg-type]
    assert block[248:250] == flag
    assert detect_card_type(block) is record.card_type  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "record", [HK_RESIDENCE_PERMIT, FOREIGN_2017, FOREIGN_2023], ids=["J", "I", "Y"]
)
def test_reprs_reveal_no_personal_data(record: object) -> None:
    text = repr(record) + str(record) + repr([record])
    for secret in ("陈大文", "穆安娜", "MUELLER", "H12345678", "1985-04-12"):
        assert secret not in text
    assert record.id_number not in text  # type: ignore[attr-defined]
    assert record.id_number[4:12] not in text  # type: ignore[attr-defined]


def test_fingerprint_is_kept_and_shown_only_as_a_size() -> None:
    finger = bytes(range(256)) * 4
    record = dataclasses.replace(FOREIGN_2023, fingerprint=finger)
    assert parse_text_block(build_text_block(record), record.photo_wlt, finger) == record
    assert "fingerprint=<1024 bytes>" in repr(record)
    assert "fingerprint" not in record.as_dict()


# -- properties --------------------------------------------------------------------------------

cjk = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
cjk_text = st.text(alphabet=cjk, min_size=1, max_size=15)
latin = st.text(alphabet=string.ascii_uppercase + " ,-'", min_size=1, max_size=46).filter(
    lambda t: t == t.strip()
)
birth_dates = st.dates(min_value=date(1920, 1, 1), max_value=date(2020, 12, 31))
letters3 = st.text(alphabet=string.ascii_uppercase, min_size=3, max_size=3)


def _sequence_for(sex: Sex, seq: int) -> int:
    if (sex is Sex.MALE and seq % 2 == 0) or (sex is Sex.FEMALE and seq % 2 == 1):
        return (seq + 1) % 1000
    return seq


def _validity(draw: st.DrawFn, birth: date) -> tuple[date, date | None]:
    valid_from = draw(st.dates(min_value=birth, max_value=date(2099, 1, 1)))
    valid_to = draw(st.none() | st.dates(min_value=valid_from, max_value=date(2099, 12, 31)))
    return valid_from, valid_to


@st.composite
def permits(draw: st.DrawFn) -> ResidencePermitRecord:
    birth = draw(birth_dates)
    sex = draw(st.sampled_from(list(Sex)))
    seq = _sequence_for(sex, draw(st.integers(0, 999)))
    first17 = f"{draw(st.sampled_from(['81', '82', '83']))}0000{birth:%Y%m%d}{seq:03d}"
    valid_from, valid_to = _validity(draw, birth)
    return ResidencePermitRecord(
        name=draw(cjk_text),
        sex=sex,
        birth_date=birth,
        address=draw(st.text(alphabet=cjk, min_size=1, max_size=35)),
        id_number=first17 + gb11643_check_char(first17),
        issuer=draw(cjk_text),
        valid_from=valid_from,
        valid_to=valid_to,
        pass_number=draw(st.from_regex(r"\A(H|M)?[0-9]{8}\Z")),
        issue_count=draw(st.integers(0, 99)),
        photo_wlt=draw(st.binary(max_size=64)),
    )


@st.composite
def foreign_2017(draw: st.DrawFn) -> ForeignResident2017Record:
    birth = draw(birth_dates)
    nationality = draw(letters3)
    first14 = f"{nationality}{draw(st.integers(1100, 6599))}{birth:%y%m%d}{draw(st.integers(0, 9))}"
    valid_from, valid_to = _validity(draw, birth)
    return ForeignResident2017Record(
        english_name=draw(latin.filter(lambda t: len(t) <= 60)),
        chinese_name=draw(st.just("") | cjk_text),
        sex=draw(st.sampled_from(list(Sex))),
        id_number=first14 + icao_check_digit(first14),
        nationality=nationality,
        birth_date=birth,
        valid_from=valid_from,
        valid_to=valid_to,
        card_version=draw(st.from_regex(r"\A[0-9]{0,2}\Z")),
        authority_code=draw(st.from_regex(r"\A[0-9]{0,4}\Z")),
    )


@st.composite
def foreign_2023(draw: st.DrawFn) -> ForeignResident2023Record:
    birth = draw(birth_dates)
    sex = draw(st.sampled_from(list(Sex)))
    seq = _sequence_for(sex, draw(st.integers(0, 999)))
    province = draw(st.sampled_from(["11", "31", "44", "65"]))
    first17 = f"9{province}{draw(st.integers(4, 894)):03d}{birth:%Y%m%d}{seq:03d}"
    valid_from, valid_to = _validity(draw, birth)
    return ForeignResident2023Record(
        chinese_name=draw(st.just("") | cjk_text),
        english_name=draw(latin),
        sex=sex,
        id_number=first17 + gb11643_check_char(first17),
        nationality=draw(letters3),
        birth_date=birth,
        valid_from=valid_from,
        valid_to=valid_to,
        renewal_count=draw(st.integers(0, 99)),
        previous_number_link=draw(st.from_regex(r"\A([0-9]{3})?\Z")),
        fingerprint=draw(st.sampled_from([b"", bytes(1024)])),
    )


@given(record=st.one_of(permits(), foreign_2017(), foreign_2023()))
def test_any_valid_record_round_trips(record: object) -> None:
    block = build_text_block(record)  # type: ignore[arg-type]
    photo, finger = record.photo_wlt, record.fingerprint  # type: ignore[attr-defined]
    assert parse_text_block(block, photo, finger) == record


@given(record=foreign_2023())
def test_any_2023_link_rebuilds_a_valid_2017_number(record: ForeignResident2023Record) -> None:
    previous = record.previous_number
    if previous is not None:
        assert validate_foreign_2017_number(previous) == previous
        assert (
            previous[:3] == record.nationality and previous[7:13] == f"{record.birth_date:%y%m%d}"
        )


@given(body=st.binary(min_size=256, max_size=256), flag=st.sampled_from("JIY"))
def test_parse_raises_only_card_data_errors_on_arbitrary_blocks(body: bytes, flag: str) -> None:
    block = body[:248] + flag.encode("utf-16-le") + body[250:]
    try:
        record = parse_text_block(block)
    except CardDataError:
        return
    assert parse_text_block(build_text_block(record)) == record


@given(
    base=st.sampled_from([PERMIT_VECTOR, FOREIGN_2017_VECTOR, FOREIGN_2023_VECTOR]),
    position=st.integers(0, 255),
    value=st.integers(0, 255),
)
def test_any_single_byte_change_decodes_or_fails_typed(
    base: bytes, position: int, value: int
) -> None:
    block = bytearray(base)
    block[position] = value
    with contextlib.suppress(CardDataError):
        parse_text_block(bytes(block))


@given(value=st.text(max_size=20) | st.from_regex(r"\A(9[0-9]{17}|[A-Z]{3}[0-9]{12})\Z"))
def test_number_validators_return_or_raise_invalid_id_number(value: str) -> None:
    for validate in (validate_foreign_2017_number, validate_foreign_2023_number):
        try:
            assert validate(value) == value.strip().upper()
        except InvalidIdNumberError as exc:
            assert value.strip() not in str(exc) or len(value.strip()) <= 8
