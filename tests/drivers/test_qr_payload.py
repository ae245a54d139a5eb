"""QR payload validation: untrusted bytes in, text or a typed `PayloadError` out."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.qr import PayloadError, ScannedCode, admission, split_aim_prefix, validate_payload
from drivers.qr.admission import (
    FORMATS,
    Admitted,
    AppointmentCode,
    CaseNumber,
    CertificateUrl,
    EidToken,
    GenericText,
    Refused,
    admit,
    admit_each,
    certificate_url_format,
    text_format,
)
from drivers.qr.payload import check_text, decode_text, scanned_code

# Text a QR code may legitimately carry: no controls except TAB, no bidi overrides.
SAFE_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cs"),
        blacklist_characters="\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
    )
    | st.just("\t"),
    min_size=1,
    max_size=200,
)


def test_utf8_url() -> None:
    assert validate_payload(b"https://zwfw.gd.gov.cn/qr?c=1") == "https://zwfw.gd.gov.cn/qr?c=1"


def test_utf8_chinese() -> None:
    assert validate_payload("预约号:A20240518-0037".encode()) == "预约号:A20240518-0037"


def test_gbk_falls_back_to_gb18030() -> None:
    raw = "预约号:A1 地点:广州市政务服务中心".encode("gbk")
    assert decode_text(raw) == ("预约号:A1 地点:广州市政务服务中心", "gb18030")
    assert validate_payload(raw) == "预约号:A1 地点:广州市政务服务中心"


def test_gb18030_four_byte_rare_characters() -> None:
    # 𠮷 is outside GBK and takes four bytes in GB18030: on ID cards, so also in QR texts.
    assert validate_payload("姓名:𠮷䶮".encode("gb18030")) == "姓名:𠮷䶮"


def test_utf8_bom_is_dropped() -> None:
    assert validate_payload(b"\xef\xbb\xbfabc") == "abc"


def test_tab_is_allowed() -> None:
    assert validate_payload(b"a\tb") == "a\tb"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (b"\xef\xbb\xbf", "empty"),
        (b"a\x00b", "control"),
        (b"line\r", "control"),
        (b"line\nnext", "control"),
        (b"\x1b[2Jclear", "control"),
        (b"del\x7f", "control"),
        ("c1\u0085".encode(), "control"),
        ("evil\u202eexe.txt".encode(), "control"),
        (b"\xff\xfe\xfd", "encoding"),
        (b"\x80", "encoding"),
        (b"x" * 4097, "size"),
    ],
)
def test_refused(raw: bytes, reason: str) -> None:
    with pytest.raises(PayloadError) as info:
        validate_payload(raw)
    assert info.value.reason == reason
    assert isinstance(info.value, ValueError)


def test_size_limit_is_checked_before_decoding() -> None:
    validate_payload(b"x" * 10, max_bytes=10)
    with pytest.raises(PayloadError, match="11 bytes, more than the 10 allowed"):
        validate_payload(b"x" * 11, max_bytes=10)


def test_message_never_quotes_the_payload() -> None:
    with pytest.raises(PayloadError) as info:
        validate_payload(b"SECRET-TOKEN\x00")
    assert "SECRET" not in str(info.value)
    assert "U+0000 at position 12" in str(info.value)


def test_not_bytes() -> None:
    with pytest.raises(PayloadError) as info:
        validate_payload("text")  # type: ignore[arg-type]
    assert info.value.reason == "type"


def test_scanned_code_is_frozen() -> None:
    code = scanned_code(b"abc", symbology="QRCODE", source="serial:/dev/ttyACM0")
    assert code == ScannedCode("abc", "QRCODE", "serial:/dev/ttyACM0", b"abc")
    with pytest.raises(dataclasses.FrozenInstanceError):
        code.text = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"]Q1https://x", ("QRCODE", b"https://x")),
        (b"]d2ABC", ("DATAMATRIX", b"ABC")),
        (b"]X9abc", ("AIM:]X9", b"abc")),
        (b"no prefix", ("unknown", b"no prefix")),
        (b"]Q", ("unknown", b"]Q")),
    ],
)
def test_aim_prefix(raw: bytes, expected: tuple[str, bytes]) -> None:
    assert split_aim_prefix(raw) == expected


@given(SAFE_TEXT)
def test_utf8_round_trip(text: str) -> None:
    assert validate_payload(text.encode("utf-8"), max_bytes=10_000) == text.removeprefix("\ufeff")


def test_short_gbk_that_is_also_valid_utf8_reads_as_utf8() -> None:
    """GIVEN 一 in GBK (D2 BB), which is also UTF-8 for Cyrillic һ, THEN UTF-8 wins.

    The rule is UTF-8 first, with no guessing by script: Uyghur (Arabic script), Kazakh
    (Cyrillic) and pinyin with tone marks are real UTF-8 payloads that a guess would break.
    About one Chinese character in ten is ambiguous alone; three together almost never are.
    """
    assert validate_payload("一".encode("gbk")) == "һ"


@given(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1))
def test_gbk_chinese_round_trip(text: str) -> None:
    raw = text.encode("gb18030")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        assert validate_payload(raw, max_bytes=len(raw)) == text
    else:
        assert validate_payload(raw, max_bytes=len(raw)) == raw.decode("utf-8")


@given(st.binary(max_size=600))
def test_any_bytes_give_text_or_payload_error(raw: bytes) -> None:
    try:
        text = validate_payload(raw, max_bytes=500)
    except PayloadError as exc:
        assert exc.reason in {"empty", "size", "encoding", "control"}
    else:
        assert text
        assert check_text(text) == text
        assert len(raw) <= 500


# -- admission: per-flow payload formats ------------------------------------------------------

EID = "CNEID1.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLWJ5dGVzLTAxMjM0NTY3"
CERT = "https://zwfw.gd.gov.cn/api/v1/certificates/ZM2024051812345678/verification?code=AB3D5F7H"


@pytest.mark.parametrize(
    ("kind", "payload", "expected"),
    [
        ("eid_token", EID, EidToken(EID, EID.split(".")[1], EID.split(".")[2])),
        ("eid_token", EID + "\r\n", EidToken(EID, EID.split(".")[1], EID.split(".")[2])),
        ("appointment", "APPT:abcdefgh2345", AppointmentCode("ABCDEFGH2345")),
        ("appointment", b"APPT:ABCDEFGH23\n", AppointmentCode("ABCDEFGH23")),
        ("case_number", "CASE:1234567890123452", CaseNumber("1234567890123452")),
        ("case_number", "1234567890123452\r", CaseNumber("1234567890123452")),
        (
            "certificate_url",
            CERT,
            CertificateUrl(CERT, "zwfw.gd.gov.cn", "ZM2024051812345678", "AB3D5F7H"),
        ),
        ("text", "事项:换领\r\n地点:广州\r\n", GenericText("事项:换领\r\n地点:广州")),
        ("text", "预约号:居民身份证换领".encode("gb18030"), GenericText("预约号:居民身份证换领")),
        ("text", "a\tb", GenericText("a\tb")),
    ],
)
def test_admission_admits(kind: str, payload: str | bytes, expected: object) -> None:
    result = admit(payload, [kind])
    assert result == Admitted(kind, expected)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "payload", "reason"),
    [
        ("eid_token", "CNEID1.short.sig", "not_an_eid_token"),
        (
            "eid_token",
            "CNEID2.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLWJ5dGVz",
            "unsupported_eid_version",
        ),
        ("eid_token", EID[:20] + "\n" + EID[20:], "control_characters"),
        ("eid_token", "x" * 3000, "too_long"),
        ("appointment", "APPT:ABC", "not_an_appointment_code"),
        ("appointment", "APPT:ABCDEFGH2345\nAPPT:X", "control_characters"),
        ("case_number", "CASE:12345", "not_a_case_number"),
        ("case_number", "١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦", "not_a_case_number"),  # Arabic-Indic digits
        ("certificate_url", CERT.replace("https", "http", 1), "not_https"),
        ("certificate_url", "https://zwfw.gd.gov.cn/api/v1/items/1", "not_a_certificate_url"),
        (
            "certificate_url",
            "https://user:pw@zwfw.gd.gov.cn/certificates/1/verification",
            "not_a_certificate_url",
        ),
        (
            "certificate_url",
            "https://x:99999999/certificates/1/verification",
            "not_a_certificate_url",
        ),
        ("text", "", "empty"),
        ("text", "\r\n", "empty"),
        ("text", "evil\u202eexe.txt", "control_characters"),
        ("text", "clear\x1b[2J", "control_characters"),
        ("text", b"\x00\x01\x02\xff", "not_text"),
        ("text", None, "not_text"),
        ("text", 42, "not_text"),
        ("text", "x" * 4097, "too_long"),
        ("no_such_format", "x", "unknown_format"),
    ],
)
def test_admission_refuses(kind: str, payload: object, reason: str) -> None:
    result = admit(payload, [kind])
    assert isinstance(result, Refused) and not result.admitted
    assert (result.kind, result.reason) == (kind, reason)
    assert result.message


def test_refusal_message_never_quotes_the_payload() -> None:
    result = admit("SECRET-TOKEN\x00", ["text"])
    assert isinstance(result, Refused) and "SECRET" not in result.message
    assert "U+0000 at position 12" in result.message


def test_first_admitting_kind_wins_else_first_refusal() -> None:
    assert admit("APPT:ABCDEFGH2345", ["eid_token", "appointment", "text"]).kind == "appointment"
    refused = admit("hello", ["eid_token", "appointment"])
    assert isinstance(refused, Refused) and refused.reason == "not_an_eid_token"
    assert admit("hello", []).reason == "unknown_format"  # type: ignore[union-attr]


def test_certificate_hosts_can_be_limited() -> None:
    formats = {**FORMATS, "certificate_url": certificate_url_format({"gd.gov.cn"})}
    assert admit(CERT, ["certificate_url"], formats=formats).admitted
    other = CERT.replace("zwfw.gd.gov.cn", "gd.gov.cn.evil.example")
    result = admit(other, ["certificate_url"], formats=formats)
    assert isinstance(result, Refused) and result.reason == "host_not_allowed"


def test_text_length_is_a_parameter() -> None:
    assert admit("12345", ["text"], formats={"text": text_format(5)}).admitted
    assert admit("123456", ["text"], formats={"text": text_format(5)}).reason == "too_long"  # type: ignore[union-attr]


def test_admit_each_runs_every_format() -> None:
    verdicts = admit_each("CASE:1234567890123452")
    assert set(verdicts) == set(FORMATS)
    assert [k for k, v in verdicts.items() if v.admitted] == ["case_number", "text"]


def test_a_failing_admitter_refuses_instead_of_raising() -> None:
    def broken(payload: object) -> admission.Admission:
        raise RuntimeError("bug")

    result = admit("x", ["broken"], formats={"broken": broken})
    assert isinstance(result, Refused) and result.reason == "not_text"


ANY_PAYLOAD = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=300),
    st.none(),
    st.integers(),
    st.builds(lambda t: "CNEID1." + t, st.text(max_size=80)),
    st.builds(lambda t: "APPT:" + t, st.text(max_size=20)),
    st.builds(lambda t: "https://a.b/certificates/" + t, st.text(max_size=80)),
)


@given(ANY_PAYLOAD)
def test_every_format_answers_any_input(payload: object) -> None:
    for kind, verdict in admit_each(payload).items():
        assert verdict.kind == kind
        if isinstance(verdict, Refused):
            assert verdict.reason and verdict.message
        else:
            assert isinstance(verdict, Admitted)
            if kind != "text":  # only generic text may hold line breaks
                assert not any(c in str(verdict.payload) for c in "\r\n\x00")


@given(st.text(min_size=1, max_size=200))
def test_generic_text_keeps_everything_but_the_trailing_line_break(text: str) -> None:
    result = admit(text, ["text"])
    if result.admitted:
        assert isinstance(result, Admitted) and isinstance(result.payload, GenericText)
        assert result.payload.text == text.rstrip("\r\n")
