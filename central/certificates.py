"""Certificate contents (证明): one builder per kind, from a person's registry records.

Builders are pure: records in, labelled lines out. Personal identifiers in the lines are masked,
because the lines travel to the kiosk, its logs and its printer queue.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from central.person_cards import number_label
from central.records import PersonRecords
from rules.masking import mask_name

Lines = list[tuple[str, str]]


class NoRecordError(Exception):
    """The department holds no record of the kind this certificate needs."""


def _money(amount: float) -> str:
    return f"{amount:,.2f}元"


def _month(value: str) -> str:
    year, month = value.split("-")
    return f"{year}年{month}月"


def _day(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def _months_back(last: str, count: int, first: str) -> list[str]:
    """Up to `count` months ending at `last` (newest first), none before `first`."""
    year, month = (int(part) for part in last.split("-"))
    months: list[str] = []
    while len(months) < count:
        label = f"{year:04d}-{month:02d}"
        if label < first:
            break
        months.append(label)
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months


def social_insurance(records: PersonRecords) -> Lines:
    """社会保险个人参保证明: where and how long the person has been insured."""
    si = records.social_insurance
    if si is None:
        raise NoRecordError("no social insurance record in this city")
    lines = [
        ("参保地", si.insured_place),
        ("参保单位", si.unit),
        ("人员类别", si.person_type),
        ("参保状态", si.status),
        ("养老保险首次参保年月", _month(si.pension_first_month)),
        ("养老保险累计缴费月数", f"{si.pension_months}个月"),
    ]
    if si.deemed_months:
        lines.append(("养老保险视同缴费月数", f"{si.deemed_months}个月"))
    lines += [
        ("失业保险累计缴费月数", f"{si.unemployment_months}个月"),
        ("工伤保险", "参保" if si.injury_insured else "未参保"),
    ]
    mi = records.medical_insurance
    lines.append(("医疗保险", f"{mi.scheme}（{mi.status}）" if mi else "无参保记录"))
    lines.append(("缴费截至", _month(si.last_paid_month)))
    if si.monthly_pension is not None:
        lines.append(("月基本养老金", _money(si.monthly_pension)))
    return lines


def pension_statement(records: PersonRecords) -> Lines:
    """基本养老保险个人缴费明细: the last twelve months paid, unit 16 % and personal 8 %."""
    si = records.social_insurance
    if si is None:
        raise NoRecordError("no social insurance record in this city")
    lines = [("参保单位", si.unit), ("缴费基数", _money(si.monthly_base))]
    months = _months_back(si.last_paid_month, 12, si.pension_first_month)
    personal = round(si.monthly_base * 0.08, 2)
    unit = round(si.monthly_base * 0.16, 2)
    for month in months:
        lines.append((_month(month), f"单位缴纳{_money(unit)}，个人缴纳{_money(personal)}"))
    lines.append(("个人缴纳合计", _money(personal * len(months))))
    return lines


def medical_insurance(records: PersonRecords) -> Lines:
    """基本医疗保险参保凭证: scheme, status and designated hospitals."""
    mi = records.medical_insurance
    if mi is None:
        raise NoRecordError("no medical insurance record in this city")
    lines = [
        ("险种", mi.scheme),
        ("参保地", mi.insured_place),
        ("参保单位", mi.unit or "个人参保"),
        ("参保状态", mi.status),
        ("参保起始年月", _month(mi.since)),
    ]
    if mi.designated_hospitals:
        lines.append(("定点医疗机构", "、".join(mi.designated_hospitals)))
    return lines


def household(records: PersonRecords) -> Lines:
    """户籍证明: the household registration held by the local police station."""
    hh = records.household
    if hh is None:
        raise NoRecordError("household is not registered in this city")
    return [
        ("性别", records.sex),
        ("民族", records.nation),
        ("出生日期", _day(records.birth_date)),
        ("户籍地址", hh.address),
        ("户别", hh.household_type),
        ("与户主关系", hh.relation),
        ("籍贯", hh.native_place),
        ("户籍登记机关", hh.police_station),
        ("入户时间", _day(hh.registered_since)),
        ("证明事项", "兹证明上述人员户籍登记在本辖区"),
    ]


def housing_fund(records: PersonRecords) -> Lines:
    """住房公积金缴存证明: account, contribution and balance."""
    hf = records.housing_fund
    if hf is None:
        raise NoRecordError("no housing provident fund account")
    monthly = round(hf.monthly_base * hf.rate_percent / 100, 2) * 2
    return [
        ("管理中心", hf.center),
        ("个人账号", "*" * 8 + hf.account_no[-4:]),
        ("缴存单位", hf.unit),
        ("开户年月", _month(hf.opened)),
        ("账户状态", hf.status),
        ("缴存基数", _money(hf.monthly_base)),
        ("缴存比例", f"单位{hf.rate_percent}%，个人{hf.rate_percent}%"),
        ("月缴存额", _money(monthly)),
        ("缴存至", _month(hf.last_paid_month)),
        ("账户余额", _money(hf.balance)),
    ]


def housing_fund_statement(records: PersonRecords) -> Lines:
    """住房公积金个人缴存明细: the last six months deposited."""
    hf = records.housing_fund
    if hf is None:
        raise NoRecordError("no housing provident fund account")
    share = round(hf.monthly_base * hf.rate_percent / 100, 2)
    lines = [("缴存单位", hf.unit), ("账户状态", hf.status)]
    for month in _months_back(hf.last_paid_month, 6, hf.opened):
        lines.append(
            (_month(month), f"汇缴{_money(share * 2)}（单位{_money(share)}，个人{_money(share)}）")
        )
    lines.append(("账户余额", _money(hf.balance)))
    return lines


def real_estate(records: PersonRecords) -> Lines:
    """不动产登记信息查询结果: properties registered to the person, or that there are none."""
    if not records.real_estate:
        return [("查询结果", "经查询，未发现该权利人名下有不动产登记记录")]
    lines = [("查询结果", f"该权利人名下共有不动产{len(records.real_estate)}处")]
    for number, prop in enumerate(records.real_estate, start=1):
        state = "；".join(
            ["已抵押" if prop.mortgaged else "无抵押", "已查封" if prop.seized else "无查封"]
        )
        lines += [
            (f"第{number}处 不动产权证号", prop.cert_no),
            (f"第{number}处 坐落", prop.location),
            (f"第{number}处 用途/面积", f"{prop.usage}，{prop.area_m2:.2f}平方米"),
            (f"第{number}处 共有情况", prop.ownership),
            (f"第{number}处 登记日期", _day(prop.registered_on)),
            (f"第{number}处 权利状态", state),
        ]
    return lines


def marriage(records: PersonRecords) -> Lines:
    """婚姻登记记录证明: every marriage registration on record, or that there is none."""
    if not records.marriage:
        return [("查询结果", "经查询，未发现当事人的婚姻登记记录")]
    events = sorted(records.marriage, key=lambda event: event.registered_on)
    lines = [
        (
            _day(event.registered_on),
            f"{event.kind}，对方：{mask_name(event.spouse_name)}，登记机关：{event.office}",
        )
        for event in events
    ]
    latest = "已婚" if events[-1].kind == "结婚登记" else "离婚"
    lines.append(("最近一次登记后状态", latest))
    return lines


def tax_record(records: PersonRecords) -> Lines:
    """个人所得税纳税记录: tax paid per month, or that none was paid in the period."""
    if not records.tax:
        return [("查询结果", "查询期间内无个人所得税纳税记录")]
    entries = sorted(records.tax, key=lambda entry: entry.period, reverse=True)
    lines = [("查询期间", f"{_month(entries[-1].period)}至{_month(entries[0].period)}")]
    for entry in entries:
        lines.append(
            (
                _month(entry.period),
                f"{entry.income_item}，收入{_money(entry.income)}，实缴税额{_money(entry.tax)}，"
                f"扣缴义务人：{entry.withholder}",
            )
        )
    lines.append(("实缴税额合计", _money(sum(entry.tax for entry in entries))))
    lines.append(("入库税务机关", entries[0].tax_office))
    return lines


BUILDERS: dict[str, Callable[[PersonRecords], Lines]] = {
    "social_insurance": social_insurance,
    "pension_statement": pension_statement,
    "medical_insurance": medical_insurance,
    "household": household,
    "housing_fund": housing_fund,
    "housing_fund_statement": housing_fund_statement,
    "real_estate": real_estate,
    "marriage": marriage,
    "tax_record": tax_record,
}

# Certificate numbers start with the kind, so a clerk can tell them apart at a glance.
PREFIXES: dict[str, str] = {
    "social_insurance": "SBCB",
    "pension_statement": "SBJF",
    "medical_insurance": "YBCB",
    "household": "HJZM",
    "housing_fund": "GJJC",
    "housing_fund_statement": "GJJM",
    "real_estate": "BDCX",
    "marriage": "HYJL",
    "tax_record": "NSJL",
}


def build_lines(
    kind: str,
    name_masked: str,
    id_masked: str,
    records: PersonRecords,
    card_type: str = "resident",
) -> Lines:
    """All lines of a certificate of `kind`: who it is about, then what the department holds.

    The number is labelled as its card calls it (公民身份号码, 港澳台居民居住证号码, ...).
    """
    return [
        ("姓名", name_masked),
        (number_label(card_type), id_masked),
        *BUILDERS[kind](records),
    ]
