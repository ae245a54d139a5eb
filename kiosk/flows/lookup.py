"""lookup: 办件进度 by receipt number, by the receipt's QR code or by identity; record lookups as
paged tables that can be printed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from drivers.printer import Cut, Feed, Receipt, Text
from kiosk.central import CentralError, CentralRejected
from kiosk.flows.identify import user_error
from kiosk.flows.receipts import print_or_explain
from kiosk.tasks import UserFacingError

RECEIPT_NO_LENGTH = 16
_RECEIPT_NO = re.compile(r"^\d{16}$")


def is_receipt_no(text: str) -> bool:
    return bool(_RECEIPT_NO.match(text))


@dataclass(frozen=True)
class LookupQuery:
    """One lookup: a case by number, the person's cases, or a page of the person's records."""

    kind: str  # case, cases, records
    item_code: str = ""
    receipt_no: str = ""
    person_ref: str = ""
    page: int = 1


@dataclass(frozen=True)
class LookupResult:
    """What a lookup found: `cases` (with their history) or a `page` of records."""

    query: LookupQuery
    cases: tuple[Any, ...] = ()
    page: Any = None


def run(central: Any, query: LookupQuery) -> LookupResult:
    """Ask the central service; errors come out as messages a resident can be shown."""
    try:
        if query.kind == "case":
            return LookupResult(query, cases=(central.case(query.receipt_no),))
        if query.kind == "cases":
            return LookupResult(query, cases=tuple(central.cases(query.person_ref)))
        return LookupResult(
            query, page=central.records(query.item_code, query.person_ref, query.page)
        )
    except CentralRejected as exc:
        # A number with a wrong check digit (422) is as unknown to the resident as a 404.
        if exc.status_code in (404, 422) and query.kind == "case":
            raise UserFacingError("case_not_found") from None
        raise user_error(exc) from None
    except CentralError as exc:
        raise user_error(exc) from None


def build_receipt(result: LookupResult, site_name: str, kiosk_id: str, now: datetime) -> Receipt:
    """The result as it was shown, on thermal paper (names already masked by the service)."""
    elements: list[Any] = [Text(site_name, align="center")]
    if result.page is not None:
        page = result.page
        elements += [Text(page.title, bold=True, double=True, align="center"), Feed(1)]
        elements.append(Text("  ".join(c.label for c in page.columns), bold=True))
        elements += [Text("  ".join(row)) for row in page.rows]
        elements.append(Text(f"第 {page.page}/{page.pages} 页，共 {page.total} 条"))
    for case in result.cases:
        elements += [
            Text("办件进度", bold=True, double=True, align="center"),
            Text(f"受理编号: {case.receipt_no}"),
            Text(f"事项: {case.item_name}"),
            Text(f"当前状态: {case.status_label}", bold=True),
        ]
        elements += [Text(f"{h.at:%Y-%m-%d %H:%M} {h.status_label} {h.note}") for h in case.history]
        elements.append(Feed(1))
    elements += [
        Text(f"终端: {kiosk_id}  {now:%Y-%m-%d %H:%M}", align="center"),
        Feed(3),
        Cut(),
    ]
    return Receipt(tuple(elements))


def print_result(printer: Any, receipt: Receipt) -> None:
    print_or_explain(printer, receipt)
