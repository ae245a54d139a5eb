"""ESC/POS decoder: known sequences, everything python-escpos emits, malformed input, round trips."""

from __future__ import annotations

import contextlib
import re
from datetime import datetime

import pytest
from escpos.printer import Dummy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from drivers.printer import Cut, Feed, Qr, Receipt, Text, render_escpos, selftest_receipt
from drivers.printer.escpos_decode import (
    EscPosDecodeError,
    EscPosStreamDecoder,
    FeedLines,
    PaperCut,
    QrCode,
    RasterImage,
    StatusRequest,
    TextLine,
    TextSpan,
    decode_escpos,
)

CN_ON, CN_OFF = b"\x1c&", b"\x1c."


def test_selftest_receipt_round_trips_exactly() -> None:
    receipt = selftest_receipt("KIOSK-0001", datetime(2025, 5, 1, 9, 30))
    assert decode_escpos(render_escpos(receipt)).to_receipt() == receipt


def test_chinese_mode_text_is_gb18030_and_styles_apply() -> None:
    data = (
        b"\x1b@\x1ba\x01\x1bE\x01\x1d!\x11" + CN_ON + "打印测试".encode("gb18030") + CN_OFF + b"\n"
    )
    (line,) = decode_escpos(data).items
    assert line == TextLine((TextSpan("打印测试", bold=True, width=2, height=2),), "center")


def test_without_chinese_mode_high_bytes_are_the_code_page() -> None:
    job = decode_escpos(b"caf\x82\n")  # cp437 0x82 is é
    assert job.text == "café"
    job = decode_escpos(b"\x1bt\x10caf\xe9\n")  # ESC t 16: cp1252
    assert job.text == "café"


def test_chinese_default_reads_gb18030_without_fs_ampersand() -> None:
    job = decode_escpos("时间\n".encode("gb18030"), chinese_default=True)
    assert job.text == "时间"


def test_esc_bang_sets_bold_double_and_underline() -> None:
    (line,) = decode_escpos(b"\x1b!\xb8X\n").items  # 0x08 bold, 0x10 tall, 0x20 wide, 0x80 ul
    assert line.spans == (TextSpan("X", bold=True, width=2, height=2, underline=True),)  # type: ignore[union-attr]


def test_gs_bang_magnification_up_to_eight() -> None:
    (line,) = decode_escpos(b"\x1d!\x72X\n").items
    assert line.spans[0].width == 8 and line.spans[0].height == 3  # type: ignore[union-attr]


def test_mixed_styles_in_one_line_become_spans() -> None:
    (line,) = decode_escpos(b"a\x1bE\x01b\x1bE\x00c\n").items
    assert line.spans == (TextSpan("a"), TextSpan("b", bold=True), TextSpan("c"))  # type: ignore[union-attr]


def test_alignment_takes_effect_only_at_the_start_of_a_line() -> None:
    job = decode_escpos(b"left\x1ba\x02 still left\nright\n")
    assert [(x.text, x.align) for x in job.lines] == [
        ("left still left", "left"),
        ("right", "right"),
    ]


def test_esc_d_after_text_prints_the_line_and_feeds_the_rest() -> None:
    assert decode_escpos(b"x\x1bd\x03").items == (TextLine((TextSpan("x"),)), FeedLines(2))
    assert decode_escpos(b"\x1bd\x03").items == (FeedLines(3),)


@pytest.mark.parametrize(
    ("data", "partial"),
    [
        (b"\x1dV\x00", False),
        (b"\x1dV\x01", True),
        (b"\x1dV0", False),
        (b"\x1dV1", True),
        (b"\x1dVA\x00", False),
        (b"\x1dVB\x10", True),
        (b"\x1dVa\x05", False),
        (b"\x1dVb\x05", True),
        (b"\x1dVg\x05", False),
        (b"\x1dVh\x05", True),
        (b"\x1bi", True),
        (b"\x1bm", True),
    ],
)
def test_every_cut_form(data: bytes, partial: bool) -> None:
    job = decode_escpos(data + b"after\n")
    assert job.items[0] == PaperCut(partial=partial)
    assert job.text == "after"  # the cut took exactly its own bytes


def test_text_before_a_cut_is_printed_first() -> None:
    assert decode_escpos(b"tail\x1dV\x00").items == (TextLine((TextSpan("tail"),)), PaperCut())


def test_qr_store_and_print_with_settings() -> None:
    data = (
        b"\x1ba\x02"
        + b"\x1d(k\x04\x001A2\x00"
        + b"\x1d(k\x03\x001C\x08"
        + b"\x1d(k\x03\x001E3"
        + b"\x1d(k\x07\x001P0\xe4\xbd\xa0\xe5"  # UTF-8 of 你 then a stray byte
        + b"\x1d(k\x03\x001Q0"
    )
    (qr,) = decode_escpos(data).items
    assert qr == QrCode(
        b"\xe4\xbd\xa0\xe5", module_size=8, error_correction="H", model=2, align="right"
    )
    assert qr.text  # not UTF-8, so read as GB18030 with replacement, never an exception


def test_other_2d_codes_and_gs_paren_functions_are_skipped_by_length() -> None:
    pdf417 = b"\x1d(k\x05\x000P0AB"  # cn=48: PDF417 store
    qr_size_query = b"\x1d(k\x03\x001R0"  # fn 82: transmit size information
    graphics = b"\x1d(L\x02\x0002"  # GS ( L print graphics
    assert decode_escpos(pdf417 + qr_size_query + graphics + b"ok\n").text == "ok"


def test_status_queries_are_reported_not_printed() -> None:
    job = decode_escpos(b"\x10\x04\x01\x10\x04\x04x\n\x10\x04\x02")
    assert job.status_queries == (1, 4, 2)
    assert job.text == "x"


def test_raster_image_is_read_with_its_exact_length() -> None:
    rows = bytes([0b10000001, 0xFF]) + bytes([0x00, 0x01])  # 16 x 2 dots
    quad = b"\x1dv0\x03\x01\x00\x01\x00\xff"  # m=3: double width and height, 8 x 1 dots
    job = decode_escpos(b"\x1dv0\x00\x02\x00\x02\x00" + rows + quad + b"ok\n")
    first, second, line = job.items
    assert isinstance(first, RasterImage) and (first.width, first.height) == (16, 2)
    assert first.is_black(0, 0) and not first.is_black(1, 0) and first.is_black(15, 1)
    assert isinstance(second, RasterImage) and (second.scale_x, second.scale_y) == (2, 2)
    assert line == TextLine((TextSpan("ok"),))


def _dummy_output(build: object) -> bytes:
    printer = Dummy()
    build(printer)  # type: ignore[operator]
    return printer.output


@pytest.mark.parametrize(
    "build",
    [
        lambda p: p.barcode("123456789012", "EAN13"),
        lambda p: p.barcode("{BKIOSK01", "CODE128", function_type="B"),
        lambda p: p.image(Image.new("RGB", (20, 5), "white"), impl="bitImageRaster"),
        lambda p: p.image(Image.new("RGB", (20, 5), "white"), impl="graphics"),
        lambda p: p.image(Image.new("RGB", (20, 5), "white"), impl="bitImageColumn"),
        lambda p: p.qr("KIOSK", native=False),
        lambda p: p.cashdraw(2),
        lambda p: p.buzzer(),
        lambda p: p.panel_buttons(False),
        lambda p: p.line_spacing(40),
        lambda p: p.control("HT"),
        lambda p: p.set(underline=2, invert=True, flip=True, smooth=True, double_width=True),
        lambda p: p.charcode("CP437"),
        lambda p: p.hw("SELECT"),
        lambda p: p.target("ROLL"),
    ],
)
def test_everything_python_escpos_emits_is_skipped_by_its_exact_length(build: object) -> None:
    data = _dummy_output(build) + b"\x1b@" + b"END\n"
    job = decode_escpos(data)
    assert job.lines[-1].text == "END"


# -- malformed input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"\x1d(k\x11\x001P0KIOSK", "truncated GS ( k"),
        (b"\x1d(k\x01\x001", "no room for cn and fn"),
        (b"\x1d(k\x03\x001Q0", "no data stored"),
        (b"\x1d(k\x03\x001C\x00", "module size"),
        (b"\x1dv0\x00\x00\x00\x05\x00", "bad raster header"),
        (b"\x1dv0\x00\x01\x00\x05\x00\xff", "truncated GS v 0"),
        (b"\x1dV\x07", "no such cut mode"),
        (b"\x10\x04\x09", "no such status query"),
        (CN_ON + b"\x81\n", "invalid gb18030"),
        (b"\x1b*\x05\x01\x00", "bad bit image"),
        (b"\x1b", "truncated ESC"),
    ],
)
def test_malformed_input_is_a_clear_error_in_strict_mode_and_skipped_otherwise(
    data: bytes, words: str
) -> None:
    with pytest.raises(EscPosDecodeError, match=re.escape(words)) as caught:
        decode_escpos(data)
    assert "at byte" in str(caught.value)

    job = decode_escpos(data, strict=False)
    assert job.problems


def test_unknown_commands_are_skipped_and_noted_even_in_strict_mode() -> None:
    job = decode_escpos(b"\x1b\x7f\x1d\x7f\x1c\x7fok\n")
    assert job.text == "ok"
    assert len(job.problems) == 3 and "unknown command ESC 0x7F" in job.problems[0]


def test_unterminated_text_still_prints_with_a_note() -> None:
    job = decode_escpos(b"no newline")
    assert job.text == "no newline"
    assert "never terminated" in job.problems[0]


def test_esc_at_discards_unprinted_text_like_the_printer() -> None:
    job = decode_escpos(b"lost\x1b@kept\n")
    assert job.text == "kept"
    assert "discarded" in job.problems[0]


def test_gb18030_encoded_control_characters_never_reach_the_text() -> None:
    job = decode_escpos(CN_ON + b"\x81\x30\x81\x30" + CN_OFF + b"\n")  # U+0080, a C1 control
    assert job.text == "\ufffd"
    job.to_receipt()


# -- property-based --------------------------------------------------------------------------

line_text = st.text(
    alphabet=st.one_of(
        st.sampled_from("打印测试政务服务自助办理证明编号䶮𠮷 ，。：ABCxyz0189-/"),
        st.characters(exclude_categories=("Cc", "Cs")),
    ),
    max_size=30,
)
aligns = st.sampled_from(["left", "center", "right"])
elements = st.one_of(
    st.builds(Text, line_text, bold=st.booleans(), double=st.booleans(), align=aligns),
    st.builds(
        Qr,
        st.text(alphabet=st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40),
        size=st.integers(1, 10),
        align=aligns,
    ),
    st.builds(Feed, st.integers(1, 255)),
    st.builds(Cut, partial=st.booleans()),
)
receipts = st.lists(elements, max_size=12).map(lambda e: Receipt(tuple(e)))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(receipts)
def test_print_then_decode_gives_the_same_receipt(receipt: Receipt) -> None:
    assert decode_escpos(render_escpos(receipt)).to_receipt() == receipt


@settings(max_examples=150)
@given(receipts, st.lists(st.integers(1, 64), min_size=1, max_size=20))
def test_chunked_stream_decodes_the_same_as_one_piece(receipt: Receipt, sizes: list[int]) -> None:
    data = b"\x10\x04\x04" + render_escpos(receipt) + b"\x10\x04\x01"
    decoder = EscPosStreamDecoder(strict=True)
    events, pos = [], 0
    for size in sizes * (len(data) // sum(sizes) + 1):
        events += decoder.feed(data[pos : pos + size])
        pos += size
    events += decoder.finish()
    whole = decode_escpos(data)
    assert tuple(e for e in events if not isinstance(e, StatusRequest)) == whole.items
    assert [e.end for e in events][-1] == len(data)


command_soup = st.lists(
    st.one_of(
        st.binary(max_size=12),
        st.sampled_from(
            [
                b"\x1b",
                b"\x1d",
                b"\x1c",
                b"\x10",
                b"\x1d(k",
                b"\x1dv0",
                b"\x1dV",
                b"\x1c&",
                b"\x1c.",
                b"\x1b!",
                b"\x1d!",
                b"\x1bd",
                b"\x10\x04",
                b"\x1d(k\x03\x001Q0",
                b"\x1b&",
                b"\x1cq",
                b"\x1d8L",
                b"\x1dk",
                b"\x1bD",
                b"\x1b*",
                b"\x1d*",
                b"\n",
                "打印".encode("gb18030"),
            ]
        ),
    ),
    max_size=40,
).map(b"".join)


@settings(max_examples=500)
@given(st.one_of(st.binary(max_size=300), command_soup))
def test_arbitrary_bytes_never_crash_the_decoder(data: bytes) -> None:
    with contextlib.suppress(EscPosDecodeError):  # the only exception strict mode may raise
        decode_escpos(data).to_receipt()
    job = decode_escpos(data, strict=False)  # lenient mode never raises on bytes
    # to_receipt may still refuse clearly, e.g. a QR payload too long for a Receipt's Qr.
    with contextlib.suppress(EscPosDecodeError):
        job.to_receipt()
