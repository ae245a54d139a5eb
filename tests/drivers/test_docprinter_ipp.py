"""The IPP codec, byte for byte: RFC 8010 appendix A's examples, every value syntax, damaged
input (always an IppDecodeError, never a hang), and hypothesis round trips and fuzzing."""

from __future__ import annotations

import contextlib
import struct
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.docprinter.ipp import (
    DPCM,
    MAX_COLLECTION_DEPTH,
    Attribute,
    IppDecodeError,
    IppEncodeError,
    Message,
    Range,
    Resolution,
    Tag,
    WithLanguage,
    attr,
    decode_message,
    encode_message,
    status_name,
)


def tlv(tag: int, name: str, value: bytes) -> bytes:
    """One attribute value as on the wire: tag, name-length, name, value-length, value."""
    raw = name.encode()
    return bytes([tag]) + struct.pack(">H", len(raw)) + raw + struct.pack(">H", len(value)) + value


def header(code: int, request_id: int = 1, version: bytes = b"\x01\x01") -> bytes:
    return version + struct.pack(">HI", code, request_id)


def i32(value: int) -> bytes:
    return struct.pack(">i", value)


CHARSET = tlv(0x47, "attributes-charset", b"utf-8")
LANGUAGE = tlv(0x48, "attributes-natural-language", b"en-us")
PINETREE = "ipp://printer.example.com/ipp/print/pinetree"

# RFC 8010 A.1: Print-Job with job-name, ipp-attribute-fidelity, copies and sides, then a PDF.
RFC_A1_PRINT_JOB = (
    header(0x0002)
    + b"\x01"
    + CHARSET
    + LANGUAGE
    + tlv(0x45, "printer-uri", PINETREE.encode())
    + tlv(0x42, "job-name", b"foobar")
    + tlv(0x22, "ipp-attribute-fidelity", b"\x01")
    + b"\x02"
    + tlv(0x21, "copies", i32(20))
    + tlv(0x44, "sides", b"two-sided-long-edge")
    + b"\x03"
    + b"%!PDF..."
)
# RFC 8010 A.2: its successful answer.
RFC_A2_PRINT_JOB_OK = (
    header(0x0000)
    + b"\x01"
    + CHARSET
    + LANGUAGE
    + tlv(0x41, "status-message", b"successful-ok")
    + b"\x02"
    + tlv(0x21, "job-id", i32(147))
    + tlv(0x45, "job-uri", PINETREE.encode() + b"/147")
    + tlv(0x23, "job-state", i32(3))
    + b"\x03"
)
# RFC 8010 A.3: the failure, with an Unsupported Attributes group and an out-of-band value.
RFC_A3_PRINT_JOB_FAILED = (
    header(0x040B)
    + b"\x01"
    + CHARSET
    + LANGUAGE
    + tlv(0x41, "status-message", b"client-error-attributes-or-values-not-supported")
    + b"\x05"
    + tlv(0x21, "copies", i32(20))
    + tlv(0x10, "sides", b"")
    + b"\x03"
)
# RFC 8010 A.4: success with attributes ignored: both groups.
RFC_A4_PRINT_JOB_IGNORED = (
    header(0x0001)
    + b"\x01"
    + CHARSET
    + LANGUAGE
    + tlv(0x41, "status-message", b"successful-ok-ignored-or-substituted-attributes")
    + b"\x05"
    + tlv(0x21, "copies", i32(20))
    + tlv(0x10, "sides", b"")
    + b"\x02"
    + tlv(0x21, "job-id", i32(147))
    + tlv(0x45, "job-uri", PINETREE.encode() + b"/147")
    + tlv(0x23, "job-state", i32(3))
    + b"\x03"
)
# RFC 8010 A.7: Create-Job with media-col. The RFC's table leaves out the job-attributes tag
# (a known erratum); it is in here, where it belongs.
RFC_A7_MEDIA_COL = (
    header(0x0005)
    + b"\x01"
    + CHARSET
    + LANGUAGE
    + tlv(0x45, "printer-uri", PINETREE.encode())
    + b"\x02"
    + tlv(0x34, "media-col", b"")
    + tlv(0x4A, "", b"media-size")
    + tlv(0x34, "", b"")
    + tlv(0x4A, "", b"x-dimension")
    + tlv(0x21, "", i32(21000))
    + tlv(0x4A, "", b"y-dimension")
    + tlv(0x21, "", i32(29700))
    + tlv(0x37, "", b"")
    + tlv(0x4A, "", b"media-type")
    + tlv(0x44, "", b"stationery")
    + tlv(0x37, "", b"")
    + b"\x03"
)
# RFC 8010 A.8: Get-Jobs with a 1setOf keyword (additional values have an empty name).
RFC_A8_GET_JOBS = (
    header(0x000A, 123)
    + b"\x01"
    + CHARSET
    + LANGUAGE
    + tlv(0x45, "printer-uri", PINETREE.encode())
    + tlv(0x21, "limit", i32(50))
    + tlv(0x44, "requested-attributes", b"job-id")
    + tlv(0x44, "", b"job-name")
    + tlv(0x44, "", b"document-format")
    + b"\x03"
)
# RFC 8010 A.9: three job groups, the second empty; names with a natural language.
RFC_A9_GET_JOBS_OK = (
    header(0x0000, 123)
    + b"\x01"
    + CHARSET
    + LANGUAGE
    + tlv(0x41, "status-message", b"successful-ok")
    + b"\x02"
    + tlv(0x21, "job-id", i32(147))
    + tlv(0x36, "job-name", b"\x00\x05fr-ca\x00\x03fou")
    + b"\x02"
    + b"\x02"
    + tlv(0x21, "job-id", i32(149))
    + tlv(0x36, "job-name", b"\x00\x05de-CH\x00\x09isch guet")
    + b"\x03"
)

OPERATION_PREAMBLE = [
    attr("attributes-charset", Tag.CHARSET, "utf-8"),
    attr("attributes-natural-language", Tag.NATURAL_LANGUAGE, "en-us"),
]


def values(message: Message, tag: int) -> dict[str, tuple[Any, ...]]:
    group = message.group(tag)
    assert group is not None
    return {name: attribute.values for name, attribute in group.items()}


# -- RFC 8010 appendix A -----------------------------------------------------------------------


def test_rfc_a1_print_job_request_is_encoded_octet_for_octet() -> None:
    encoded = encode_message(
        0x0002,
        1,
        [
            (
                Tag.OPERATION,
                [
                    *OPERATION_PREAMBLE,
                    attr("printer-uri", Tag.URI, PINETREE),
                    attr("job-name", Tag.NAME, "foobar"),
                    attr("ipp-attribute-fidelity", Tag.BOOLEAN, True),
                ],
            ),
            (Tag.JOB, [attr("copies", Tag.INTEGER, 20), attr("sides", Tag.KEYWORD, "two-sided-long-edge")]),
        ],
        data=b"%!PDF...",
        version=(1, 1),
    )  # fmt: skip
    assert encoded == RFC_A1_PRINT_JOB


def test_rfc_a1_decodes_back_with_its_document() -> None:
    message = decode_message(RFC_A1_PRINT_JOB)
    assert (message.version, message.code, message.request_id) == ((1, 1), 2, 1)
    assert values(message, Tag.OPERATION)["ipp-attribute-fidelity"] == (True,)
    assert values(message, Tag.JOB) == {"copies": (20,), "sides": ("two-sided-long-edge",)}
    assert message.data == b"%!PDF..."


def test_rfc_a2_successful_print_job_response() -> None:
    message = decode_message(RFC_A2_PRINT_JOB_OK)
    assert message.code == 0 and message.status_message == "successful-ok"
    assert values(message, Tag.JOB) == {
        "job-id": (147,),
        "job-uri": (PINETREE + "/147",),
        "job-state": (3,),
    }
    assert message.group(Tag.PRINTER) is None and message.data == b""


def test_rfc_a3_failure_keeps_the_unsupported_group_and_its_out_of_band_value() -> None:
    message = decode_message(RFC_A3_PRINT_JOB_FAILED)
    assert message.code == 0x040B
    assert message.status_message == "client-error-attributes-or-values-not-supported"
    unsupported = message.group(Tag.UNSUPPORTED_GROUP)
    assert unsupported is not None
    assert unsupported["copies"] == Attribute("copies", Tag.INTEGER, (20,))
    assert unsupported["sides"] == Attribute("sides", Tag.UNSUPPORTED, (None,))


def test_rfc_a4_success_with_ignored_attributes_has_both_groups_in_order() -> None:
    message = decode_message(RFC_A4_PRINT_JOB_IGNORED)
    assert message.code == 1
    assert [g.tag for g in message.groups] == [Tag.OPERATION, Tag.UNSUPPORTED_GROUP, Tag.JOB]
    assert values(message, Tag.JOB)["job-id"] == (147,)


def test_rfc_a7_collections_are_encoded_and_decoded() -> None:
    media_col = (
        attr(
            "media-size",
            Tag.BEGIN_COLLECTION,
            (attr("x-dimension", Tag.INTEGER, 21000), attr("y-dimension", Tag.INTEGER, 29700)),
        ),
        attr("media-type", Tag.KEYWORD, "stationery"),
    )
    encoded = encode_message(
        0x0005,
        1,
        [
            (Tag.OPERATION, [*OPERATION_PREAMBLE, attr("printer-uri", Tag.URI, PINETREE)]),
            (Tag.JOB, [attr("media-col", Tag.BEGIN_COLLECTION, media_col)]),
        ],
        version=(1, 1),
    )
    assert encoded == RFC_A7_MEDIA_COL
    assert values(decode_message(RFC_A7_MEDIA_COL), Tag.JOB)["media-col"] == (
        {
            "media-size": [{"x-dimension": [21000], "y-dimension": [29700]}],
            "media-type": ["stationery"],
        },
    )


def test_rfc_a8_a_1setof_value_is_one_name_then_additional_values() -> None:
    encoded = encode_message(
        0x000A,
        123,
        [
            (
                Tag.OPERATION,
                [
                    *OPERATION_PREAMBLE,
                    attr("printer-uri", Tag.URI, PINETREE),
                    attr("limit", Tag.INTEGER, 50),
                    attr("requested-attributes", Tag.KEYWORD, "job-id", "job-name", "document-format"),
                ],
            )
        ],
        version=(1, 1),
    )  # fmt: skip
    assert encoded == RFC_A8_GET_JOBS
    assert values(decode_message(RFC_A8_GET_JOBS), Tag.OPERATION)["requested-attributes"] == (
        "job-id",
        "job-name",
        "document-format",
    )


def test_rfc_a9_empty_groups_count_and_names_with_language_keep_their_text() -> None:
    message = decode_message(RFC_A9_GET_JOBS_OK)
    jobs = [g for g in message.groups if g.tag == Tag.JOB]
    assert [dict(g.attributes) == {} for g in jobs] == [False, True, False]
    assert jobs[0].attributes["job-name"].values == ("fou",)
    assert jobs[2].attributes["job-name"] == Attribute(
        "job-name", Tag.NAME_WITH_LANGUAGE, ("isch guet",)
    )


# -- each value syntax -------------------------------------------------------------------------

DATE_OCTETS = b"\x07\xea\x0b\x17\x0f\x21\x34\x05-\x05\x1e"  # 2026-11-23 15:33:52.5 -05:30
DATE_VALUE = datetime(2026, 11, 23, 15, 33, 52, 500_000, tzinfo=timezone(-timedelta(hours=5, minutes=30)))  # fmt: skip


@pytest.mark.parametrize(
    ("tag", "octets", "value"),
    [
        (Tag.INTEGER, i32(-7), -7),
        (Tag.ENUM, i32(9), 9),
        (Tag.BOOLEAN, b"\x00", False),
        (Tag.BOOLEAN, b"\x01", True),
        (Tag.DATE_TIME, DATE_OCTETS, DATE_VALUE),
        (Tag.RESOLUTION, struct.pack(">iiB", 600, 300, 3), Resolution(600, 300, 3)),
        (Tag.RANGE_OF_INTEGER, struct.pack(">ii", 1, 5), Range(1, 5)),
        (Tag.TEXT, "打印机缺纸".encode(), "打印机缺纸"),
        (Tag.NAME, b"kioskpdf", "kioskpdf"),
        (Tag.KEYWORD, b"media-empty-error", "media-empty-error"),
        (Tag.URI, b"ipp://localhost/printers/q", "ipp://localhost/printers/q"),
        (Tag.URI_SCHEME, b"ipp", "ipp"),
        (Tag.CHARSET, b"utf-8", "utf-8"),
        (Tag.NATURAL_LANGUAGE, b"zh-cn", "zh-cn"),
        (Tag.MIME_MEDIA_TYPE, b"application/pdf", "application/pdf"),
        (Tag.OCTET_STRING, b"\x00\xff", b"\x00\xff"),
        (Tag.NO_VALUE, b"", None),
        (Tag.UNKNOWN, b"", None),
        (Tag.NOT_SETTABLE, b"", None),
    ],
)
def test_each_value_syntax_round_trips(tag: int, octets: bytes, value: Any) -> None:
    wire = header(0) + b"\x04" + tlv(tag, "x", octets) + b"\x03"
    assert encode_message(0, 1, [(Tag.PRINTER, [attr("x", tag, value)])], version=(1, 1)) == wire
    assert values(decode_message(wire), Tag.PRINTER)["x"] == (value,)


def test_text_and_name_with_language_encode_from_with_language() -> None:
    wire = tlv(0x35, "printer-state-message", b"\x00\x05zh-cn\x00\x06" + "缺纸".encode())
    encoded = encode_message(
        0, 1, [(Tag.PRINTER, [attr("printer-state-message", Tag.TEXT_WITH_LANGUAGE, WithLanguage("zh-cn", "缺纸"))])]
    )  # fmt: skip
    assert encoded == header(0, version=b"\x02\x00") + b"\x04" + wire + b"\x03"
    assert values(decode_message(encoded), Tag.PRINTER)["printer-state-message"] == ("缺纸",)


def test_tags_this_codec_does_not_know_come_back_as_bytes() -> None:
    wire = (
        header(0)
        + b"\x04"
        + tlv(0x7F, "vendor", b"\x40\x00\x00\x01abc")
        + tlv(0x2F, "y", b"?")
        + b"\x03"
    )
    assert values(decode_message(wire), Tag.PRINTER) == {"vendor": (b"\x40\x00\x00\x01abc",), "y": (b"?",)}  # fmt: skip


def test_an_unknown_delimiter_starts_a_group_and_a_repeated_name_replaces() -> None:
    wire = header(0) + b"\x0f" + tlv(0x21, "a", i32(1)) + tlv(0x21, "a", i32(2)) + b"\x03"
    message = decode_message(wire)
    assert [g.tag for g in message.groups] == [0x0F]
    assert values(message, 0x0F) == {"a": (2,)}


def test_a_leap_second_and_an_undecodable_status_text_do_not_fail_the_answer() -> None:
    leap = DATE_OCTETS[:6] + b"\x3c" + DATE_OCTETS[7:]
    wire = (
        header(0)
        + b"\x01"
        + tlv(0x41, "status-message", b"bad \xff")
        + tlv(0x31, "t", leap)
        + b"\x03"
    )
    message = decode_message(wire)
    assert message.status_message == "bad \ufffd"
    assert values(message, Tag.OPERATION)["t"][0].second == 59


def test_status_names() -> None:
    assert status_name(0x0406) == "client-error-not-found"
    assert status_name(0x0502) == "server-error-service-unavailable"
    assert status_name(0x0BAD) == "status-0x0bad"


# -- damaged input -----------------------------------------------------------------------------

OK_HEAD = header(0) + b"\x01"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "too short"),
        (header(0), "too short"),
        (b"<!DOCTYPE html><html>", "not an IPP message"),
        (b"\x00\x00" + header(0)[2:] + b"\x03", "version 0.0"),
        (OK_HEAD, "truncated"),  # no end-of-attributes tag
        (OK_HEAD + b"\x21\x00\x05job", "truncated"),
        (OK_HEAD + tlv(0x21, "job-id", i32(1))[:-2], "truncated"),
        # A length of 0xfffa is 65530 octets, never -6: no step backwards, so no endless loop.
        (OK_HEAD + b"\x44\x00\x01a\xff\xfa\x03", "truncated"),
        (header(0) + tlv(0x21, "job-id", i32(1)) + b"\x03", "before any attribute group"),
        (OK_HEAD + tlv(0x21, "", i32(1)) + b"\x03", "additional value comes before"),
        (header(0) + b"\x00\x03", "reserved delimiter"),
        (OK_HEAD + tlv(0x21, "job-id", b"\x00\x01\x02") + b"\x03", "INTEGER value is 4 octets, not 3"),
        (OK_HEAD + tlv(0x22, "b", b"\x00\x01") + b"\x03", "BOOLEAN value is 1 octets, not 2"),
        (OK_HEAD + tlv(0x33, "r", i32(1)) + b"\x03", "RANGE_OF_INTEGER value is 8 octets"),
        (OK_HEAD + tlv(0x32, "r", i32(1)) + b"\x03", "RESOLUTION value is 9 octets"),
        (OK_HEAD + tlv(0x31, "d", DATE_OCTETS[:7] + b"?" + DATE_OCTETS[8:]) + b"\x03", "dateTime"),
        (OK_HEAD + tlv(0x31, "d", b"\x07\xea\x0d" + DATE_OCTETS[3:]) + b"\x03", "dateTime"),
        (OK_HEAD + tlv(0x35, "t", b"\x00\x02en\x00\x01ab") + b"\x03", "stray octet"),
        (OK_HEAD + tlv(0x35, "t", b"\x00\x09en") + b"\x03", "truncated"),
        (OK_HEAD + tlv(0x37, "c", b"") + b"\x03", "endCollection without"),
        (OK_HEAD + tlv(0x34, "c", b"") + b"\x03", "not closed"),
        (OK_HEAD + tlv(0x34, "c", b"") + tlv(0x44, "", b"x") + tlv(0x37, "", b"") + b"\x03", "before its member name"),
        (OK_HEAD + tlv(0x34, "c", b"") + tlv(0x4A, "named", b"x") + b"\x03", "has an attribute name"),
        (OK_HEAD + tlv(0x34, "c", b"") + tlv(0x4A, "", b"") + b"\x03", "empty name"),
    ],
)  # fmt: skip
def test_damaged_messages_are_an_ipp_decode_error(data: bytes, words: str) -> None:
    with pytest.raises(IppDecodeError, match=words):
        decode_message(data)


def tlv_raw(tag: int, name: bytes, value: bytes) -> bytes:
    return (
        bytes([tag]) + struct.pack(">H", len(name)) + name + struct.pack(">H", len(value)) + value
    )


def test_a_name_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(IppDecodeError, match="not UTF-8"):
        decode_message(OK_HEAD + tlv_raw(0x44, b"\xff\xfe", b"x") + b"\x03")


def test_collections_nest_only_so_deep() -> None:
    def nested(depth: int) -> bytes:
        inner = tlv(0x4A, "", b"m") + tlv(0x21, "", i32(1))
        for _ in range(depth - 1):
            inner = tlv(0x4A, "", b"m") + tlv(0x34, "", b"") + inner + tlv(0x37, "", b"")
        return OK_HEAD + tlv(0x34, "c", b"") + inner + tlv(0x37, "", b"") + b"\x03"

    decode_message(nested(MAX_COLLECTION_DEPTH))
    with pytest.raises(IppDecodeError, match="nested more than"):
        decode_message(nested(MAX_COLLECTION_DEPTH + 1))


def test_decode_refuses_what_is_not_bytes() -> None:
    with pytest.raises(IppDecodeError, match="bytes expected"):
        decode_message(bytearray(RFC_A2_PRINT_JOB_OK))  # type: ignore[arg-type]


# -- what cannot be encoded ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attribute", "words"),
    [
        (attr("copies", Tag.INTEGER, True), "integer expected"),
        (attr("copies", Tag.INTEGER, "2"), "integer expected"),
        (attr("copies", Tag.INTEGER, 2**31), "signed 32-bit"),
        (attr("fit", Tag.BOOLEAN, 1), "boolean expected"),
        (attr("media", Tag.KEYWORD, "A4纸"), "US-ASCII"),
        (attr("media", Tag.KEYWORD, b"A4"), "string expected"),
        (attr("job-name", Tag.NAME, "x" * 40000), "longer than IPP allows"),
        (attr("pages", Tag.RANGE_OF_INTEGER, Range(5, 2)), "runs backwards"),
        (attr("pages", Tag.RANGE_OF_INTEGER, (1, 2)), "Range expected"),
        (attr("pages", Tag.RANGE_OF_INTEGER, Range("1", "2")), "integer expected"),  # type: ignore[arg-type]
        (attr("res", Tag.RESOLUTION, Resolution(600.0, 600)), "integer expected"),  # type: ignore[arg-type]
        (attr("job-name", Tag.NAME, "bad \udcff name"), "not valid Unicode"),
        (attr("t", Tag.TEXT_WITH_LANGUAGE, WithLanguage("en", "\ud800")), "not valid Unicode"),
        (attr("res", Tag.RESOLUTION, Resolution(600, 600, 300)), "Resolution expected"),
        (attr("t", Tag.DATE_TIME, datetime(2026, 1, 1)), "time zone"),
        (attr("t", Tag.TEXT_WITH_LANGUAGE, "x"), "WithLanguage expected"),
        (attr("n", Tag.NO_VALUE, 0), "out-of-band"),
        (attr("o", Tag.OCTET_STRING, "text"), "bytes expected"),
        (attr("c", Tag.BEGIN_COLLECTION, {"a": 1}), "collection value"),
        (attr("c", Tag.BEGIN_COLLECTION, (Attribute("a", Tag.INTEGER, ()),)), "needs a name and a value"),
        (attr("none", Tag.KEYWORD), "at least one value"),
        (attr("", Tag.KEYWORD, "x"), "needs a name"),
        (attr("bad", 0x05, "x"), "not a value tag"),
        (attr("名字", Tag.KEYWORD, "x"), "US-ASCII"),
    ],
)  # fmt: skip
def test_values_that_do_not_suit_their_tag_are_an_encode_error(
    attribute: Attribute, words: str
) -> None:
    with pytest.raises(IppEncodeError, match=words):
        encode_message(0x000B, 1, [(Tag.OPERATION, [attribute])])


@pytest.mark.parametrize(
    ("code", "request_id", "group", "words"),
    [
        (0x10000, 1, Tag.OPERATION, "16 bits"),
        (2, 0, Tag.OPERATION, "request-id"),
        (2, 2**31, Tag.OPERATION, "request-id"),
        (2, 1, Tag.END, "not a group delimiter"),
        (2, 1, 0x21, "not a group delimiter"),
    ],
)
def test_bad_headers_and_groups_are_an_encode_error(code: int, request_id: int, group: int, words: str) -> None:  # fmt: skip
    with pytest.raises(IppEncodeError, match=words):
        encode_message(code, request_id, [(group, [])])


def test_a_bad_version_is_an_encode_error() -> None:
    with pytest.raises(IppEncodeError, match="version"):
        encode_message(0, 1, [], version=(256, 0))


# -- hypothesis --------------------------------------------------------------------------------

NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20)
INT32 = st.integers(min_value=-(2**31), max_value=2**31 - 1)
DATES = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=d.microsecond // 100_000 * 100_000))
ASCII = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
# (tag, strategy of values that decode to themselves)
SYNTAXES = [
    (Tag.INTEGER, INT32),
    (Tag.ENUM, INT32),
    (Tag.BOOLEAN, st.booleans()),
    (Tag.DATE_TIME, DATES),
    (Tag.RESOLUTION, st.builds(Resolution, INT32, INT32, st.sampled_from([3, DPCM]))),
    (Tag.RANGE_OF_INTEGER, st.tuples(INT32, INT32).map(lambda p: Range(min(p), max(p)))),
    (Tag.TEXT, st.text(max_size=40)),
    (Tag.NAME, st.text(max_size=40)),
    (Tag.KEYWORD, ASCII),
    (Tag.URI, ASCII),
    (Tag.MIME_MEDIA_TYPE, ASCII),
    (Tag.OCTET_STRING, st.binary(max_size=40)),
    (Tag.NO_VALUE, st.none()),
]
ATTRIBUTES = st.one_of(
    [
        st.builds(lambda n, vs, t=tag: Attribute(n, t, tuple(vs)), NAMES, st.lists(values, min_size=1, max_size=4))
        for tag, values in SYNTAXES
    ]
)  # fmt: skip
GROUPS = st.lists(
    st.tuples(
        st.sampled_from([Tag.OPERATION, Tag.JOB, Tag.PRINTER, Tag.UNSUPPORTED_GROUP]),
        st.lists(ATTRIBUTES, max_size=5, unique_by=lambda a: a.name),
    ),
    max_size=4,
)
MESSAGES = st.builds(
    lambda code, rid, groups, data: encode_message(code, rid, groups, data=data),
    st.integers(0, 0xFFFF),
    st.integers(1, 2**31 - 1),
    GROUPS,
    st.binary(max_size=20),
)


@settings(max_examples=300, deadline=None)
@given(code=st.integers(0, 0xFFFF), request_id=st.integers(1, 2**31 - 1), groups=GROUPS, data=st.binary(max_size=20))  # fmt: skip
def test_whatever_is_encoded_decodes_to_the_same(
    code: int, request_id: int, groups: list[tuple[int, list[Attribute]]], data: bytes
) -> None:
    message = decode_message(encode_message(code, request_id, groups, data=data))
    assert (message.code, message.request_id, message.data) == (code, request_id, data)
    assert [(g.tag, list(g.attributes.values())) for g in message.groups] == groups


def _decodes_or_refuses(data: bytes) -> None:
    with contextlib.suppress(IppDecodeError):
        decode_message(data)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_decode_or_raise_an_ipp_decode_error(data: bytes) -> None:
    _decodes_or_refuses(data)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_attributes_after_a_valid_header(tail: bytes) -> None:
    _decodes_or_refuses(OK_HEAD + tail)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=MESSAGES, data=st.data())
def test_damaged_valid_messages_decode_or_raise_an_ipp_decode_error(message: bytes, data: st.DataObject) -> None:  # fmt: skip
    damaged = bytearray(message)
    for _ in range(data.draw(st.integers(1, 4))):
        where = data.draw(st.integers(0, max(0, len(damaged) - 1)))
        action = data.draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        if action == "flip" and damaged:
            damaged[where] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del damaged[where:]
        elif action == "insert":
            damaged[where:where] = data.draw(st.binary(min_size=1, max_size=4))
        elif damaged:
            del damaged[where]
    _decodes_or_refuses(bytes(damaged))
