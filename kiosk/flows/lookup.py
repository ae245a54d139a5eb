"""lookup: 办件进度 by receipt number, by the receipt's QR code or by identity; record lookups as
paged tables that can be printed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from drivers.printer import Cut, Feed, Receipt, Text
from kiosk.central import CentralClient, CentralError, CentralRejected
from kiosk.flows.identify import user_error
from kiosk.flows.receipts import print_or_explain
from kiosk.i18n import in_language, translator
from kiosk.tasks import UserFacingError
from rules.receipts import RECEIPT_NO_LENGTH, receipt_no_is_valid


def entry_problem(text: str) -> str | None:
    """Why typed digits are not a receipt number yet (a notice key), or None when they are."""
    if len(text) < RECEIPT_NO_LENGTH:
        return "receipt_no_incomplete"
    if not receipt_no_is_valid(text):
        return "receipt_no_mistyped"  # the check digit caught a typo: no lookup needed
    return None


@dataclass(frozen=True)
class LookupQuery:
    """One lookup: a case by number, the person's cases, or a page of the person's records."""

    kind: str  # case, cases, records, application (a queued application's code)
    item_code: str = ""
    receipt_no: str = ""
    application_key: str = ""
    person_ref: str = ""
    page: int = 1


@dataclass(frozen=True)
class LookupResult:
    """What a lookup found: `cases` (with their history) or a `page` of records."""

    query: LookupQuery
    cases: tuple[Any, ...] = ()
    page: Any = None


def run(central: CentralClient, query: LookupQuery) -> LookupResult:
    """Ask the central service; errors come out as messages a resident can be shown."""
    try:
        if query.kind == "case":
            return LookupResult(query, cases=(central.case(query.receipt_no),))
        if query.kind == "application":
            # The receipt of an application queued offline: once delivered, it has a number.
            number = central.application(query.application_key).tracking_no
            return LookupResult(query, cases=(central.case(number),))
        if query.kind == "cases":
            return LookupResult(query, cases=tuple(central.cases(query.person_ref)))
        return LookupResult(
            query, page=central.records(query.item_code, query.person_ref, query.page)
        )
    except CentralRejected as exc:
        # A number with a wrong check digit (422) is as unknown to the resident as a 404.
        if exc.status_code in (404, 422) and query.kind == "case":
            raise UserFacingError("case_not_found") from None
        if exc.status_code == 404 and query.kind == "application":
            raise UserFacingError("application_not_arrived") from None
        raise user_error(exc) from None
    except CentralError as exc:
        raise user_error(exc) from None


def build_receipt(
    result: LookupResult, site_name: str, kiosk_id: str, now: datetime, language: str = "zh_CN"
) -> Receipt:
    """The result as it was shown, on thermal paper (names already masked by the service)."""
    _ = translator(language)
    en = language == "en"

    def pick(obj: Any, field: str) -> str:
        return in_language(obj, field, en)

    elements: list[Any] = [Text(site_name, align="center")]
    if result.page is not None:
        page = result.page
        elements += [Text(pick(page, "title"), bold=True, double=True, align="center"), Feed(1)]
        elements.append(Text("  ".join(pick(c, "label") for c in page.columns), bold=True))
        elements += [Text("  ".join(row)) for row in page.rows]
        elements.append(
            Text(
                _("Page {page} of {pages}, {total} records").format(
                    page=page.page, pages=page.pages, total=page.total
                )
            )
        )
    for case in result.cases:
        elements += [
            Text(_("Application progress"), bold=True, double=True, align="center"),
            Text(_("Receipt no. {no}").format(no=case.receipt_no)),
            Text(_("Service: {name}").format(name=pick(case, "item_name"))),
            Text(_("Status: {status}").format(status=pick(case, "status_label")), bold=True),
        ]
        elements += [
            Text(f"{h.at:%Y-%m-%d %H:%M} {pick(h, 'status_label')} {pick(h, 'note')}".rstrip())
            for h in case.history
        ]
        elements.append(Feed(1))
    elements += [
        Text(
            _("Kiosk: {kiosk}  {time}").format(kiosk=kiosk_id, time=f"{now:%Y-%m-%d %H:%M}"),
            align="center",
        ),
        Feed(3),
        Cut(),
    ]
    return Receipt(tuple(elements))


def print_result(printer: Any, receipt: Receipt) -> None:
    print_or_explain(printer, receipt)
