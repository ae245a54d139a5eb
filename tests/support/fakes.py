"""A recording receipt printer, for journey tests that check what would be printed.

The central service is never faked: tests use the real client against the reference service
(tests/support/inprocess.py). Integration tests use the real printer simulator.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FakePrinter:
    """Records receipts instead of printing them."""

    receipts: list = field(default_factory=list)
    fail_with: Exception | None = None

    def print_receipt(self, receipt):
        if self.fail_with is not None:
            raise self.fail_with
        self.receipts.append(receipt)
