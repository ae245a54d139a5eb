"""Pydantic models of the central service API: what goes over the wire, with OpenAPI texts.

JSON keys are English; the Chinese label each one stands for (办事指南 fields) is in its description.
The kiosk keeps its own mirror of these models in `kiosk/central.py`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import JsonDict

from central.card_number_models import fits_card_type, number_by_card_type
from central.idnumber import CardType
from central.rating_reasons import LEVELS_WITH_REASONS, REASON_CODES
from central.wire_models import JsonDate, JsonDateTimeMaybeLocal, JsonInt
from rules.idnumbers import has_shape_of

Flow = Literal["guide", "lookup", "print", "submit", "ticket"]
IdentityNeed = Literal["none", "id_card", "id_card_face"]
# "name_mismatch" is kept in the audit table only; answers say "not_found" (service.verify_identity).
VerifyReason = Literal["ok", "not_found", "name_mismatch", "invalid_check_digit", "card_expired"]
Prints = Literal["none", "receipt", "a4"]
LookupKind = Literal["records", "cases", "certificate"]

ITEM_CODE_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,63}$"
KIOSK_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
# Any card's number; the shape its card type calls for is checked after (see `card_type`).
ID_NUMBER_PATTERN = r"^(?:[0-9]{17}[0-9Xx]|[A-Za-z]{3}[0-9]{12})$"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class ErrorBody(_Model):
    """What went wrong, for a program (`code`) and for a developer reading logs (`message`)."""

    code: str = Field(description="Stable machine-readable code, e.g. `item_not_found`.")
    message: str = Field(description="Human-readable explanation (developer-facing).")


class ErrorResponse(_Model):
    """Every error response has this shape, whatever the status code."""

    error: ErrorBody


class Health(_Model):
    """Liveness and version of the service."""

    status: Literal["ok"] = Field(
        description="Always `ok` when the service and its database answer."
    )
    version: str = Field(description="Version of the central service.")


class Queue(_Model):
    """The window queue (排队队列) a ticket item's number is drawn in, shared per kind of business."""

    code: str = Field(pattern=r"^[A-H]$", description="Letter the ticket numbers start with.")
    name: str = Field(min_length=1, description="队列名称 — queue name in Chinese, e.g. 户政业务.")
    name_en: str = Field(min_length=1, description="Queue name in English.")


class ItemSummary(_Model):
    """A service item (事项) as listed in the catalogue."""

    code: str = Field(description="Stable item code (事项编码), e.g. `shebao.insured-cert`.")
    name: str = Field(description="事项名称 — item name in Chinese.")
    name_en: str = Field(description="Item name in English.")
    flow: Flow = Field(description="Which kiosk flow handles the item.")
    identity: IdentityNeed = Field(
        description="Identity the resident must prove first: none, ID card, or ID card plus face."
    )
    department: str = Field(description="实施主体 — the department responsible.")
    department_en: str = Field(description="The department responsible, in English.")
    prints: Prints = Field(
        description="What the kiosk prints: `a4` (PDF on the document printer), `receipt` "
        "(certificate, table, ticket or 申报材料 checklist on the receipt printer) or `none`."
    )
    lookup: LookupKind | None = Field(
        default=None,
        description="What a `lookup` item looks up: `records` (the person's own, needs identity), "
        "`cases` (办件进度, by receipt number) or `certificate` (authenticity); null otherwise.",
    )
    queue: Queue | None = Field(
        default=None, description="The window queue of a `ticket` item; null otherwise."
    )


class Category(_Model):
    """A group of items shown together on the kiosk's home screen."""

    code: str = Field(description="Stable category code, e.g. `shebao`.")
    name: str = Field(description="类别名称 — category name in Chinese.")
    name_en: str = Field(description="Category name in English.")
    icon: str = Field(description="Key into the kiosk's icon set.")
    items: list[ItemSummary]


class Catalogue(_Model):
    """The whole service catalogue (服务目录). `version` is also the ETag, in quotes."""

    version: str = Field(description="Hash of the content; changes whenever anything in it does.")
    categories: list[Category]


class Material(_Model):
    """One document the resident must bring (申报材料)."""

    name: str = Field(min_length=1, description="材料名称 — name of the document.")
    copies: int = Field(ge=0, description="份数 — number of copies (0: shown, not kept).")
    note: str = Field(description="备注 — original or copy, format, who issues it.")


class Guide(_Model):
    """The service guide (办事指南) of an item. Every field is filled for every item."""

    conditions: list[str] = Field(min_length=1, description="受理条件 — who may apply, and when.")
    materials: list[Material] = Field(min_length=1, description="申报材料 — documents to bring.")
    steps: list[str] = Field(min_length=1, description="办理流程 — the steps, in order.")
    time_limit: str = Field(min_length=1, description="承诺时限 — e.g. 即办, 5个工作日.")
    fees: str = Field(min_length=1, description="收费标准 — e.g. 不收费.")
    legal_basis: list[str] = Field(min_length=1, description="法定依据 — laws and regulations.")
    phone: str = Field(min_length=1, description="咨询电话 — enquiry line, e.g. 12333.")
    location: str = Field(min_length=1, description="办理地点 — where the item is handled.")

    @field_validator("conditions", "steps", "legal_basis")
    @classmethod
    def _no_blank_entries(cls, value: list[str]) -> list[str]:
        if any(not entry.strip() for entry in value):
            raise ValueError("entries must not be blank")
        return value


class SampleField(_Model):
    """One filled-in field of a sample form, in both languages."""

    label: str = Field(min_length=1, description="栏目 — field label in Chinese.")
    label_en: str = Field(min_length=1, description="Field label in English.")
    value: str = Field(min_length=1, description="示例填写内容 — an obviously sample value.")
    value_en: str = Field(min_length=1, description="The sample value in English.")


class SampleForm(_Model):
    """申请书示范文本 — an application form filled in with sample values, to show how."""

    title: str = Field(min_length=1, description="表格名称 — form title in Chinese.")
    title_en: str = Field(min_length=1, description="Form title in English.")
    fields: list[SampleField] = Field(min_length=1)


class ItemDetail(ItemSummary):
    """One item with its full guide."""

    category: str = Field(description="Code of the category the item belongs to.")
    guide: Guide
    guide_en: Guide = Field(
        description="The same guide in English; Chinese titles without an official English "
        "name are kept in parentheses."
    )
    sample_form: SampleForm | None = Field(
        default=None, description="申请书示范文本 — a filled-in sample form; null when none."
    )
    certificate_title: str | None = Field(
        default=None, description="Title of the certificate a `print` item issues; null otherwise."
    )
    guide_url: str | None = Field(
        default=None,
        description="Absolute URL of the phone-readable guide page (for a QR code); `?lang=en` "
        "gives English.",
    )


class IdentityVerifyRequest(_Model):
    """An identity check (身份核验) from a kiosk. The ID number is never stored in clear."""

    # The schema says which number each card type takes (`anyOf`, one branch per card type).
    model_config = ConfigDict(frozen=True, json_schema_extra=number_by_card_type())

    id_number: str = Field(
        pattern=ID_NUMBER_PATTERN,
        description="The number on the card: 18 characters (GB 11643) for the resident card, the "
        "HK/Macau/Taiwan residence permit (81, 82, 83…) and the 2023 foreigner's permanent "
        "residence card (9…); 3 letters and 12 digits for the 2017 one. Read in upper case.",
    )
    name: str = Field(
        min_length=1,
        max_length=50,
        description="Name as printed on the card (a foreigner's Chinese name when the card has "
        "one, else the English name).",
    )
    kiosk_id: str = Field(pattern=KIOSK_ID_PATTERN, description="The asking kiosk.")
    method: Literal["id_card", "social_security_card"] = Field(
        description="How the ID was obtained: `id_card` (the ID card reader) or "
        "`social_security_card` (PC/SC; its 社会保障号码 is the holder's ID number)."
    )
    valid_until: JsonDate | None = Field(
        default=None,
        description="有效期限 end printed on the card (ISO date); a card that ended before today "
        "(Beijing date) is refused with `card_expired`. Omit for 长期 (no end).",
    )
    card_type: CardType = Field(
        default="resident",
        description="Which card was read: `resident` (居民身份证), `hk_mo_tw_residence` "
        "(港澳台居民居住证), `foreign_permanent_2017`, `foreign_permanent_2023` (外国人永久居留身份证).",
    )

    @field_validator("id_number")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @model_validator(mode="after")
    def _number_fits_card_type(self) -> IdentityVerifyRequest:
        # A number not laid out as its card type's, or whose birth date cannot exist, is
        # malformed input, not a failed check. The message never echoes the number.
        if not has_shape_of(self.card_type, self.id_number):
            raise ValueError(f"id_number is not shaped like a {self.card_type} card number")
        if not fits_card_type(self.card_type, self.id_number):  # = the published pattern
            raise ValueError("birth date inside id_number is not a calendar date")
        return self

    @field_validator("name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name must not be blank")
        return value


class IdentityResult(_Model):
    """Outcome of an identity check. `person_ref` is an opaque, short-lived token."""

    verified: bool
    person_ref: str | None = Field(
        description="Opaque token naming the person in later calls; null unless verified."
    )
    reason: VerifyReason = Field(
        description="`ok`, `not_found` (no registry person has this number and name: an unknown "
        "number and a known one with another name answer alike), `invalid_check_digit` (the check character of the card type's number is wrong), "
        "`card_expired` (`valid_until` is before today)."
    )
    expires_at: datetime | None = Field(description="When `person_ref` stops being accepted.")


class CertificateRequest(_Model):
    """Issue a certificate (证明) of a `print` item for a verified person."""

    item_code: str = Field(pattern=ITEM_CODE_PATTERN)
    person_ref: str = Field(min_length=1, max_length=128)
    kiosk_id: str = Field(pattern=KIOSK_ID_PATTERN)


class CertificateLine(_Model):
    """One labelled line of a certificate's body."""

    label: str
    value: str


class Certificate(_Model):
    """An issued certificate, ready to print. Personal identifiers in it are masked."""

    certificate_no: str = Field(description="证明编号 — unique certificate number.")
    item_code: str
    title: str = Field(description="证明标题, e.g. 社会保险个人参保证明.")
    issuer: str = Field(description="出具单位 — the issuing department.")
    holder_name_masked: str = Field(description="Holder's name, its first character only (李**).")
    issued_at: datetime = Field(description="Issue time, Beijing time (UTC+08:00).")
    lines: list[CertificateLine]
    verify_code: str = Field(description="验证码 — lets a third party check the certificate.")
    verify_url: str = Field(description="Where the certificate can be checked (for a QR code).")


class CertificateVerification(_Model):
    """What a third party learns when checking a certificate with its verify code."""

    certificate_no: str
    title: str
    issuer: str
    holder_name_masked: str
    issued_at: datetime


_REASON_CODE_SCHEMA: JsonDict = {"type": "string", "enum": [*sorted(REASON_CODES)]}
_REASONS_ONLY_WITH_LOW_LEVELS: JsonDict = {
    "anyOf": [
        {"properties": {"level": {"enum": [*sorted(LEVELS_WITH_REASONS)]}}},
        {"properties": {"reasons": {"maxItems": 0}}},
    ]
}


class RatingRequest(_Model):
    """A resident's rating of the service (好差评), five levels from 非常满意 (5) to 非常不满意 (1)."""

    # Reasons come only with levels 1 and 2 (`_reasons_fit_level`), as the schema says too.
    model_config = ConfigDict(frozen=True, json_schema_extra=_REASONS_ONLY_WITH_LOW_LEVELS)

    kiosk_id: str = Field(pattern=KIOSK_ID_PATTERN)
    item_code: str | None = Field(default=None, pattern=ITEM_CODE_PATTERN)
    level: JsonInt = Field(ge=1, le=5)
    rated_at: JsonDateTimeMaybeLocal | None = Field(
        default=None,
        description="The kiosk's clock when rated; kept as `client_rated_at` only, never trusted "
        "(the service times ratings itself). RFC 3339; without an offset, or implausible: ignored.",
    )
    reasons: list[str] = Field(
        default_factory=list,
        max_length=len(REASON_CODES),
        description="差评 reasons (codes of `GET /ratings/reasons`), only for levels 1 and 2.",
        json_schema_extra={"items": _REASON_CODE_SCHEMA, "uniqueItems": True},
    )
    case_no: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{3,39}$",
        description="办件编号: the receipt or certificate number the rated journey produced.",
    )
    flow: Flow | None = Field(default=None, description="Which kiosk flow was rated.")

    @field_validator("rated_at")
    @classmethod
    def _plausible_or_none(cls, value: datetime | None) -> datetime | None:
        if value is None or value.utcoffset() is None:
            return None
        try:
            utc = value.astimezone(UTC)
        except OverflowError:  # year 1 or 9999 pushed past the calendar by its offset
            return None
        return utc if 2000 <= utc.year <= 2100 else None

    @model_validator(mode="after")
    def _reasons_fit_level(self) -> RatingRequest:
        unknown = sorted(set(self.reasons) - REASON_CODES)
        if unknown:
            raise ValueError(f"unknown reason codes: {', '.join(unknown)[:200]}")
        if self.reasons and self.level not in LEVELS_WITH_REASONS:
            raise ValueError("reasons are given only with levels 1 and 2")
        if len(set(self.reasons)) != len(self.reasons):
            raise ValueError("reasons must not repeat")
        return self


class RatingReason(_Model):
    """A 差评 reason a resident may pick (levels 1 and 2)."""

    code: str = Field(description="Stable code the kiosk sends in `reasons`.")
    label: str = Field(description="Chinese label, e.g. 等候时间长.")
    label_en: str = Field(description="English label.")


class RatingReceipt(_Model):
    """The service has the rating (a replay of the same key answers the same)."""

    rating_id: int
    received_at: datetime
