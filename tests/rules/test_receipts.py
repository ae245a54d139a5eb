"""Receipt numbers: 16 digits with a Luhn check digit, and the receipt's CASE: QR code."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from drivers.qr.admission import NOT_A_CASE_NUMBER, admit
from rules.receipts import luhn_check_digit, parse_case_qr, receipt_no_is_valid

digits = st.text(alphabet="0123456789", min_size=15, max_size=15)


@given(digits)
def test_every_body_with_its_check_digit_is_valid(body: str) -> None:
    assert receipt_no_is_valid(body + luhn_check_digit(body))


@given(digits, st.integers(0, 15), st.integers(1, 9))
def test_any_single_changed_digit_is_caught(body: str, position: int, delta: int) -> None:
    number = body + luhn_check_digit(body)
    changed = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    assert not receipt_no_is_valid(changed)


def test_shapes_that_are_not_receipt_numbers() -> None:
    for text in (
        "",
        "123",
        "１２３４５６７８９０１２３４５２",
        "12345678901234520",
        "abcdefghijklmnop",
    ):
        assert not receipt_no_is_valid(text)
    assert parse_case_qr("CASE:1234567890123452\r\n") == "1234567890123452"
    assert parse_case_qr("CASE:1234567890123453") is None
    assert parse_case_qr("1234567890123452") is None


def test_scanned_receipts_with_a_wrong_check_digit_are_refused() -> None:
    refused = admit("CASE:1234567890123453", ["case_number"])
    assert not refused.admitted and refused.reason == NOT_A_CASE_NUMBER
    assert admit("1234567890123452", ["case_number"]).admitted
