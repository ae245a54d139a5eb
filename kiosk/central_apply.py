"""Wire models of applications (申请), their forms and the face check (人证核验), kiosk side.

Mirrors of the central service's contract (central/README.md), used by `kiosk.central`. Like the
other wire models they are strict and ignore fields a newer service adds.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, field_validator, model_validator

from rules.receipts import receipt_no_is_valid

FaceReason = Literal[
    "no_face", "not_matched", "poor_quality", "not_live", "too_many_attempts", "other"
]
_FACE_REASONS = frozenset(
    ("no_face", "not_matched", "poor_quality", "not_live", "too_many_attempts")
)


class _Wire(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", strict=True)


class FormChoice(_Wire):
    """One option of a choice field: `value` is sent, the labels are shown."""

    value: str
    label: str
    label_en: str = ""


class FormField(_Wire):
    """One field; `rules.forms.check(field, value)` checks a value as it is typed."""

    name: str
    label: str
    label_en: str = ""
    type: str
    required: bool = True
    prefill: str | None = None  # name, id_number, sex, birth_date: filled in from the card
    choices: list[FormChoice] | None = None
    max_length: int | None = None
    min: str | None = None
    max: str | None = None


class FormDocument(_Wire):
    """A document to photograph: an A4 page or a card."""

    code: str
    name: str
    name_en: str = ""
    paper: Literal["A4", "card"]
    required: bool = True


class AgentRules(_Wire):
    """代办: the document an agent brings (授权委托书) and the relations they may have."""

    document: FormDocument
    relations: list[FormChoice]


class ApplicationForm(_Wire):
    """`GET /items/{code}/form`."""

    item_code: str
    title: str
    title_en: str = ""
    face_check: bool
    agent_allowed: bool
    fields: list[FormField]
    documents: list[FormDocument]
    agent: AgentRules | None = None
    max_documents: int = 8
    max_document_bytes: int = 1_500_000

    @model_validator(mode="after")
    def _agent_rules_when_allowed(self) -> ApplicationForm:
        if self.agent_allowed and self.agent is None:
            raise ValueError("an agent_allowed form carries its agent rules")
        return self


class ApplicationReceipt(_Wire):
    """`POST /applications`, `GET /applications/{key}`: the case's receipt number."""

    tracking_no: str
    status: str
    item_code: str
    received_at: AwareDatetime

    @model_validator(mode="after")
    def _valid_number(self) -> ApplicationReceipt:
        if not receipt_no_is_valid(self.tracking_no):
            raise ValueError("tracking_no is not 16 digits with a valid check digit")
        return self


class FaceCheck(_Wire):
    """`POST /identity/face`: `check_id` goes into the application as `face_check_id`."""

    check_id: str
    passed: bool
    score: float
    reason: FaceReason | None = None

    @field_validator("score", mode="before")
    @classmethod
    def _int_scores_are_floats(cls, value: object) -> object:
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("reason", mode="before")
    @classmethod
    def _unknown_reason(cls, value: object) -> object:
        return "other" if isinstance(value, str) and value not in _FACE_REASONS else value

    @model_validator(mode="after")
    def _reason_iff_failed(self) -> FaceCheck:
        if self.passed != (self.reason is None):
            raise ValueError("a reason is given exactly when the check failed")
        return self
