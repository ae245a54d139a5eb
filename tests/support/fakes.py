"""Stand-ins for the central service and printer where a journey test wants no I/O at all.

Integration tests use the real reference service and the real printer simulator instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace as NS


def _item(code, name, flow, department="市人力资源和社会保障局"):
    return NS(
        code=code, name=name, name_en=name, flow=flow, identity="id_card", department=department
    )


CATALOGUE = NS(
    version="test",
    categories=[
        NS(
            code="shebao",
            name="社会保障",
            name_en="Social security",
            items=[
                _item("SB001", "社会保险个人参保证明打印", "print"),
                _item("SB002", "养老保险待遇资格认证", "guide"),
            ],
        ),
        NS(
            code="hukou",
            name="户籍",
            name_en="Household registration",
            items=[
                _item("HJ001", "户籍证明", "print", "市公安局"),
            ],
        ),
    ],
)


def item_detail(code: str) -> NS:
    summary = next(i for c in CATALOGUE.categories for i in c.items if i.code == code)
    return NS(
        **vars(summary),
        conditions="在本市参加社会保险的人员",
        materials=[NS(name="居民身份证", copies=1, note="原件")],
        steps=["刷身份证", "选择证明类型", "打印"],
        time_limit="即办",
        fees="不收费",
        legal_basis=["《中华人民共和国社会保险法》"],
        phone="12333",
        location="自助办理区",
        certificate_title="社会保险个人参保证明",
    )


@dataclass
class FakeCentral:
    """Answers like the reference service, counts calls, and can be told to fail."""

    known: dict[str, str] = field(default_factory=lambda: {"110101195603121240": "李秀英"})
    fail_with: Exception | None = None
    calls: list[str] = field(default_factory=list)
    card_types: list[str] = field(default_factory=list)  # of each verify_identity call

    def _maybe_fail(self, what: str) -> None:
        self.calls.append(what)
        if self.fail_with is not None:
            raise self.fail_with

    def catalogue(self):
        self._maybe_fail("catalogue")
        return CATALOGUE

    def item(self, code):
        self._maybe_fail("item")
        return item_detail(code)

    def verify_identity(self, id_number, name, card_type="resident"):
        self._maybe_fail("verify")
        self.card_types.append(card_type)
        ok = self.known.get(id_number) == name
        return NS(
            verified=ok, person_ref="P-0001" if ok else None, reason=None if ok else "not_found"
        )

    def issue_certificate(self, item_code, person_ref, idempotency_key):
        self._maybe_fail("certificate")
        return NS(
            certificate_no=f"CERT-{idempotency_key[:8]}",
            title="社会保险个人参保证明",
            holder_name_masked="李**",
            issued_at="2026-11-23T09:30:00+08:00",
            lines=[NS(label="参保状态", value="正常参保"), NS(label="累计缴费月数", value="386")],
            verify_code="A1B2C3",
            verify_url="https://zwfw.example.gov.cn/verify/A1B2C3",
        )


@dataclass
class FakePrinter:
    """Records receipts instead of printing them."""

    receipts: list = field(default_factory=list)
    fail_with: Exception | None = None

    def print_receipt(self, receipt):
        if self.fail_with is not None:
            raise self.fail_with
        self.receipts.append(receipt)


def card(name="李秀英", id_number="110101195603121240"):
    """A card read as the driver returns it (only the fields the core uses)."""
    return NS(name=name, id_number=id_number, sex="女", birth_date=date(1956, 3, 12))
