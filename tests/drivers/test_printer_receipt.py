"""The receipt document model: validation, the builder and the self-test receipt."""

from __future__ import annotations

from datetime import datetime

import pytest

from drivers.printer import Cut, Feed, Qr, Receipt, ReceiptBuilder, Text, selftest_receipt


def test_selftest_receipt_has_chinese_title_kiosk_id_time_qr_and_ends_with_a_cut() -> None:
    receipt = selftest_receipt("KIOSK-0042", datetime(2025, 5, 1, 9, 30, 5))

    assert receipt.elements[0] == Text(
        "打印测试 / PRINT TEST", bold=True, double=True, align="center"
    )
    assert "打印测试" in receipt.text
    assert "KIOSK-0042" in receipt.text
    assert "2025-05-01 09:30:05" in receipt.text
    assert receipt.qr_payloads == ("KIOSK-SELFTEST",)
    assert receipt.elements[-1] == Cut()


def test_selftest_receipt_needs_a_kiosk_id() -> None:
    with pytest.raises(ValueError, match="kiosk id"):
        selftest_receipt("", datetime(2025, 5, 1))


@pytest.mark.parametrize(
    "bad", ["two\nlines", "tab\there", "esc\x1b@", "nul\x00", "del\x7f", "c1\x85"]
)
def test_text_rejects_control_characters_the_printer_would_run_as_commands(bad: str) -> None:
    with pytest.raises(ValueError, match="control"):
        Text(bad)


def test_text_rejects_lone_surrogates_gb18030_cannot_encode() -> None:
    with pytest.raises(ValueError):
        Text("bad \ud800")


def test_text_rejects_unknown_alignment() -> None:
    with pytest.raises(ValueError, match="align"):
        Text("x", align="middle")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "make",
    [
        lambda: Qr(""),
        lambda: Qr("x", size=0),
        lambda: Qr("x", size=17),
        lambda: Qr("x" * 3000),
        lambda: Feed(0),
        lambda: Feed(256),
    ],
)
def test_elements_reject_what_escpos_cannot_print(make: object) -> None:
    with pytest.raises(ValueError):
        make()  # type: ignore[operator]


def test_receipt_is_frozen_and_takes_a_list_as_a_tuple() -> None:
    receipt = Receipt([Text("a"), Cut()])  # type: ignore[arg-type]
    assert receipt.elements == (Text("a"), Cut())
    with pytest.raises(AttributeError):
        receipt.elements = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        Receipt(("not an element",))  # type: ignore[arg-type]


def test_builder_builds_elements_in_order() -> None:
    receipt = (
        ReceiptBuilder()
        .title("标题")
        .line("左")
        .lines("一\n二", bold=True)
        .qr("DATA", size=4, align="left")
        .feed(2)
        .cut(partial=True)
        .build()
    )
    assert receipt.elements == (
        Text("标题", bold=True, double=True, align="center"),
        Text("左"),
        Text("一", bold=True),
        Text("二", bold=True),
        Qr("DATA", size=4, align="left"),
        Feed(2),
        Cut(partial=True),
    )
