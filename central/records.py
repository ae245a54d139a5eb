"""Typed records of the reference registry (persons.json): what certificates are made from.

These stand in for the databases of the departments behind the service hall (社保, 医保, 公安户籍,
公积金, 不动产, 民政, 税务). A `None` or empty record means that department holds nothing on the person.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from central.idnumber import CardType

Month = str  # "YYYY-MM"
_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Household(_Record):
    """户籍 — the person's household registration in this city."""

    address: str = Field(description="户籍地址")
    household_type: str = Field(description="户别, e.g. 家庭户")
    relation: str = Field(description="与户主关系")
    police_station: str = Field(description="户籍所在派出所")
    registered_since: date
    native_place: str = Field(description="籍贯")


class SocialInsurance(_Record):
    """社会保险 — pension, unemployment and injury insurance with the city's 社保 agency."""

    insured_place: str
    unit: str = Field(description="参保单位")
    person_type: str = Field(description="人员类别, e.g. 企业职工, 退休人员, 灵活就业人员")
    status: str = Field(description="参保状态, e.g. 正常参保, 退休, 暂停缴费")
    pension_first_month: Month = Field(pattern=_MONTH)
    pension_months: int = Field(ge=0, description="实际缴费月数")
    deemed_months: int = Field(default=0, ge=0, description="视同缴费月数")
    unemployment_months: int = Field(ge=0)
    injury_insured: bool
    monthly_base: float = Field(ge=0, description="缴费基数 (元)")
    last_paid_month: Month = Field(pattern=_MONTH)
    monthly_pension: float | None = Field(default=None, description="退休人员月养老金 (元)")


class MedicalInsurance(_Record):
    """医疗保险 — basic medical insurance."""

    scheme: str = Field(description="险种, e.g. 城镇职工基本医疗保险")
    insured_place: str
    unit: str | None = None
    status: str
    since: Month = Field(pattern=_MONTH)
    designated_hospitals: list[str] = Field(default_factory=list)


class HousingFund(_Record):
    """住房公积金 — the person's provident fund account."""

    center: str
    account_no: str
    unit: str
    opened: Month = Field(pattern=_MONTH)
    status: str = Field(description="账户状态, e.g. 正常缴存, 封存")
    monthly_base: float = Field(ge=0)
    rate_percent: int = Field(ge=5, le=12, description="单位和个人缴存比例 (each)")
    balance: float
    last_paid_month: Month = Field(pattern=_MONTH)


class Property(_Record):
    """不动产 — one registered property right."""

    cert_no: str = Field(description="不动产权证书号")
    location: str = Field(description="坐落")
    usage: str = Field(description="用途")
    area_m2: float = Field(gt=0)
    ownership: str = Field(description="共有情况")
    registered_on: date
    mortgaged: bool
    seized: bool = Field(description="查封")


class MarriageEvent(_Record):
    """One marriage registration (婚姻登记) on record."""

    kind: Literal["结婚登记", "离婚登记"]
    registered_on: date
    office: str
    spouse_name: str


class TaxRecord(_Record):
    """One month of individual income tax paid (个人所得税)."""

    period: Month = Field(pattern=_MONTH)
    withholder: str = Field(description="扣缴义务人")
    income_item: str = Field(description="所得项目")
    income: float = Field(ge=0)
    tax: float = Field(ge=0)
    tax_office: str = Field(description="入库税务机关")


class PersonRecords(_Record):
    """Everything the registry holds on one person, apart from their ID number."""

    sex: Literal["男", "女"]
    nation: str
    birth_date: date
    address: str
    household: Household | None = None
    social_insurance: SocialInsurance | None = None
    medical_insurance: MedicalInsurance | None = None
    housing_fund: HousingFund | None = None
    real_estate: list[Property] = Field(default_factory=list)
    marriage: list[MarriageEvent] = Field(default_factory=list)
    tax: list[TaxRecord] = Field(default_factory=list)


class PersonSeed(PersonRecords):
    """A person as written in persons.json (the only place raw ID numbers exist)."""

    person_no: str = Field(pattern=r"^[A-Z0-9]{6,32}$", description="个人编号 in the registry")
    card_type: CardType = Field(default="resident", description="The card the number is on")
    id_number: str = Field(pattern=r"^(?:[0-9]{17}[0-9X]|[A-Z]{3}[0-9]{12})$")
    name: str = Field(min_length=1, description="As the card reader gives it (see the README)")

    def records(self) -> PersonRecords:
        """The part kept in the database: everything but the identifiers."""
        return PersonRecords.model_validate(
            self.model_dump(exclude={"person_no", "card_type", "id_number", "name"})
        )
