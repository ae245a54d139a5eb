"""Wire models of the e-ID, case-progress (办件进度) and record lookup endpoints.

Kept apart from `central.models` so these features can grow without touching the shared core.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from central.idnumber import CardType
from central.models import KIOSK_ID_PATTERN
from central.wire_models import JsonInt

EidReason = Literal["ok", "not_found", "token_invalid", "token_expired", "token_used"]
CaseStatus = Literal["submitted", "received", "in_review", "needs_more", "supplemented",
                     "completed", "rejected"]  # fmt: skip
# 16 digits, the last a Luhn check digit, so typos on a digit pad are caught before any lookup.
RECEIPT_NO_PATTERN = r"^[0-9]{16}$"
# Longest token accepted at all; real ones are about 260 characters.
EID_TOKEN_MAX = 2048


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class EidVerifyRequest(_Model):
    """An electronic ID (电子身份证) a kiosk scanned off a resident's phone."""

    token: str = Field(
        min_length=1,
        max_length=EID_TOKEN_MAX,
        description='The QR code\'s text: "CNEID1." + base64url(claims) + "." + base64url(Ed25519 '
        "signature). Anything unreadable is answered with `token_invalid`, not 422.",
    )
    kiosk_id: str = Field(pattern=KIOSK_ID_PATTERN, description="The asking kiosk.")


class EidIdentityResult(_Model):
    """`IdentityResult` plus what a kiosk that never saw a card needs to greet the resident."""

    verified: bool
    person_ref: str | None = Field(
        description="Opaque token for later calls; null unless verified."
    )
    reason: EidReason = Field(
        description="`ok`; `not_found` (signed, but the person is not in the registry); "
        "`token_invalid` (not an e-ID, or the signature does not hold); `token_expired`; "
        "`token_used` (each e-ID code is accepted once)."
    )
    expires_at: datetime | None = Field(description="When `person_ref` stops being accepted.")
    name_masked: str | None = Field(
        default=None, description="The holder's name, masked (李**); null unless verified."
    )
    card_type: CardType | None = Field(
        default=None, description="The card the e-ID stands for; null unless verified."
    )


class EidMintRequest(_Model):
    """Development only: mint an e-ID for a test person of seed/persons.json."""

    person: JsonInt | str = Field(
        description="1-based position in persons.json, or the person's registry number "
        "(person_no), or their ID number."
    )
    ttl_seconds: JsonInt = Field(default=120, ge=1, le=600, description="Lifetime of the token.")


class EidMintResult(_Model):
    """A freshly minted e-ID token (development only)."""

    token: str
    expires_at: datetime
    card_type: CardType


class CaseStep(_Model):
    """One step of a case's history (办理过程)."""

    at: datetime = Field(description="When, Beijing time.")
    status: CaseStatus
    status_label: str = Field(description="状态 in Chinese, e.g. 审核中.")
    status_label_en: str
    department: str = Field(description="办理部门 — who took the step.")
    department_en: str
    note: str = Field(description="办理意见 — what was done or is needed.")
    note_en: str | None = None


class Case(_Model):
    """A case (办件) as its holder or anyone with its receipt number may see it: masked only."""

    receipt_no: str = Field(description="受理编号 — 16 digits, the last a Luhn check digit.")
    qr_payload: str = Field(description='What the receipt\'s QR code holds: "CASE:" + receipt_no.')
    item_code: str
    item_name: str = Field(description="事项名称 the case was filed under.")
    item_name_en: str
    status: CaseStatus
    status_label: str
    status_label_en: str
    submitted_at: datetime
    updated_at: datetime
    holder_name_masked: str = Field(description="申请人, masked (李**).")
    history: list[CaseStep] = Field(description="Oldest first; the last step is the status.")


class CaseList(_Model):
    """The cases of an identified person, newest first."""

    cases: list[Case]


class RecordColumn(_Model):
    """One column of a record table."""

    key: str
    label: str = Field(description="Column heading in Chinese, with its unit, e.g. 缴费基数(元).")
    label_en: str


class RecordPage(_Model):
    """One page of a person's records for a lookup item, newest first."""

    item_code: str
    title: str
    title_en: str
    columns: list[RecordColumn]
    rows: list[list[str]] = Field(description="Each row has one string per column.")
    page: int = Field(ge=1)
    page_size: int = Field(ge=1)
    pages: int = Field(ge=1, description="At least 1: page 1 of no records is an empty page.")
    total: int = Field(ge=0, description="Rows over all pages.")
