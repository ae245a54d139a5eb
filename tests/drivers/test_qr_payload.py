"""QR payload validation: untrusted bytes in, text or a typed `PayloadError` out."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.qr import PayloadError, ScannedCode, split_aim_prefix, validate_payload
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
