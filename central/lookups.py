"""Record lookups (查询): a person's records of a lookup item as one page of a table.

Each lookup item has a builder that turns the person's registry records into columns and rows,
newest first. Monthly tables are computed a page at a time, so a record going back decades costs
no more than one page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from central.cases import BEIJING, cases_of
from central.db import ItemRow, PersonRow
from central.errors import ApiError
from central.lookup_models import RecordColumn, RecordPage
from central.records import PersonRecords

MAX_PAGE_SIZE = 50
# Beijing pays retirees under 70 a fixed sum into the medical personal account each month.
RETIREE_MEDICAL_CREDIT = 100.0
EMPLOYEE_MEDICAL_RATE = 0.02  # the employee's own 2 % goes to the personal account
PENSION_UNIT_RATE, PENSION_PERSONAL_RATE = 0.16, 0.08


@dataclass(frozen=True)
class Table:
    """A whole record table, its rows produced on demand (`row(i)`, newest first)."""

    title: str
    title_en: str
    columns: Sequence[tuple[str, str, str]]  # key, label, label_en
    total: int
    row: Callable[[int], list[str]]


Builder = Callable[[Session, PersonRow, PersonRecords, datetime], Table]


def _money(amount: float) -> str:
    return f"{amount:,.2f}"


def _month_index(month: str) -> int:
    year, number = (int(part) for part in month.split("-"))
    return year * 12 + number - 1


def _month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _months(first: str, last: str) -> tuple[int, int]:
    """Index of `last` and how many months run from `first` to `last` (0 if none)."""
    end = _month_index(last)
    return end, max(0, end - _month_index(first) + 1)


def _empty(title: str, title_en: str, columns: Sequence[tuple[str, str, str]]) -> Table:
    return Table(title, title_en, columns, 0, lambda _i: [])


_PENSION_COLUMNS = (
    ("month", "缴费年月", "Month"),
    ("base", "缴费基数(元)", "Contribution base (CNY)"),
    ("personal", "个人缴纳(元)", "Personal share (CNY)"),
    ("unit", "单位缴纳(元)", "Employer share (CNY)"),
    ("status", "缴费状态", "Status"),
)


def pension_months(_s: Session, _p: PersonRow, records: PersonRecords, _now: datetime) -> Table:
    """社保缴费记录: one row per month paid into the basic pension insurance."""
    title, title_en = "社会保险缴费记录（基本养老保险）", "Social insurance contributions (pension)"
    si = records.social_insurance
    if si is None:
        return _empty(title, title_en, _PENSION_COLUMNS)
    end, total = _months(si.pension_first_month, si.last_paid_month)
    base = si.monthly_base
    personal, unit = _money(base * PENSION_PERSONAL_RATE), _money(base * PENSION_UNIT_RATE)
    return Table(
        title,
        title_en,
        _PENSION_COLUMNS,
        total,
        lambda i: [_month_label(end - i), _money(base), personal, unit, "已实缴"],
    )


_MEDICAL_COLUMNS = (
    ("month", "划入年月", "Month"),
    ("amount", "划入金额(元)", "Amount credited (CNY)"),
    ("source", "划入方式", "Source"),
    ("status", "状态", "Status"),
)


def medical_account(_s: Session, _p: PersonRow, records: PersonRecords, now: datetime) -> Table:
    """医保个人账户: monthly credits to the personal account of employee medical insurance."""
    title, title_en = "医保个人账户划入记录", "Medical insurance personal account credits"
    mi, si = records.medical_insurance, records.social_insurance
    # Only employee insurance has a personal account; residents' insurance has none.
    if mi is None or "职工" not in mi.scheme:
        return _empty(title, title_en, _MEDICAL_COLUMNS)
    retired = si is not None and si.person_type == "退休人员"
    if retired:
        current = now.astimezone(BEIJING)
        last = _month_label(current.year * 12 + current.month - 2)  # last month, credited
        amount, source = RETIREE_MEDICAL_CREDIT, "退休人员定额划入"
    elif si is not None:
        last = si.last_paid_month
        amount, source = si.monthly_base * EMPLOYEE_MEDICAL_RATE, "个人缴费划入"
    else:
        return _empty(title, title_en, _MEDICAL_COLUMNS)
    end, total = _months(mi.since, last)
    return Table(
        title,
        title_en,
        _MEDICAL_COLUMNS,
        total,
        lambda i: [_month_label(end - i), _money(amount), source, "已划入"],
    )


_FUND_COLUMNS = (
    ("month", "缴存年月", "Month"),
    ("base", "缴存基数(元)", "Deposit base (CNY)"),
    ("unit", "单位缴存(元)", "Employer deposit (CNY)"),
    ("personal", "个人缴存(元)", "Personal deposit (CNY)"),
    ("total", "月缴存额(元)", "Monthly total (CNY)"),
    ("status", "状态", "Status"),
)


def fund_months(_s: Session, _p: PersonRow, records: PersonRecords, _now: datetime) -> Table:
    """公积金: one row per month deposited into the housing provident fund account."""
    title, title_en = "住房公积金缴存记录", "Housing provident fund deposits"
    hf = records.housing_fund
    if hf is None:
        return _empty(title, title_en, _FUND_COLUMNS)
    end, total = _months(hf.opened, hf.last_paid_month)
    share = round(hf.monthly_base * hf.rate_percent / 100, 2)
    row = [_money(hf.monthly_base), _money(share), _money(share), _money(share * 2), "已汇缴"]
    return Table(title, title_en, _FUND_COLUMNS, total, lambda i: [_month_label(end - i), *row])


_CASE_COLUMNS = (
    ("receipt_no", "受理编号", "Receipt number"),
    ("item", "办理事项", "Service item"),
    ("status", "办理状态", "Status"),
    ("submitted", "申请时间", "Submitted"),
    ("updated", "更新时间", "Updated"),
)


def _case_table(title: str, title_en: str, prefix: str) -> Builder:
    def build(session: Session, person: PersonRow, _r: PersonRecords, _now: datetime) -> Table:
        cases = cases_of(session, person, prefix)
        return Table(
            title,
            title_en,
            _CASE_COLUMNS,
            len(cases),
            lambda i: [
                cases[i].receipt_no,
                cases[i].item_name,
                cases[i].status_label,
                f"{cases[i].submitted_at:%Y-%m-%d %H:%M}",
                f"{cases[i].updated_at:%Y-%m-%d %H:%M}",
            ],
        )

    return build


BUILDERS: dict[str, Builder] = {
    "shebao.rights-record": pension_months,
    "yibao.account-query": medical_account,
    "gjj.account-query": fund_months,
    "crj.progress": _case_table("出入境证件办理进度", "Exit and entry document progress", "crj."),
    "zonghe.case-progress": _case_table("我的办件", "My cases", ""),
}


def record_page(
    session: Session,
    item_code: str,
    person: PersonRow,
    page: int,
    page_size: int,
    now: datetime,
) -> RecordPage:
    """One page of a person's records for `item_code`.

    404 `item_not_found` (no such item), 404 `records_not_available` (the item looks nothing up
    in person records), 422 `page_out_of_range`.
    """
    builder = BUILDERS.get(item_code)
    if builder is None:
        if session.get(ItemRow, item_code) is None:
            raise ApiError(404, "item_not_found", f"no service item with code {item_code!r}")
        raise ApiError(404, "records_not_available", f"item {item_code!r} has no record lookup")
    table = builder(session, person, PersonRecords.model_validate(person.records), now)
    pages = max(1, -(-table.total // page_size))
    if page > pages:
        raise ApiError(422, "page_out_of_range", f"page {page} of {pages}")
    start = (page - 1) * page_size
    return RecordPage(
        item_code=item_code,
        title=table.title,
        title_en=table.title_en,
        columns=[RecordColumn(key=k, label=zh, label_en=en) for k, zh, en in table.columns],
        rows=[table.row(i) for i in range(start, min(start + page_size, table.total))],
        page=page,
        page_size=page_size,
        pages=pages,
        total=table.total,
    )
