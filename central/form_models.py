"""Wire models of application forms (申请表): fields, documents to capture, the 代办 rules.

The same models read `seed/forms.json` and answer `GET /items/{code}/form`.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from central.models import ITEM_CODE_PATTERN
from rules.forms import FIELD_TYPES, resolve_bound

FieldType = Literal["chinese_name", "phone", "id_number", "date", "choice", "address", "text"]
Prefill = Literal["name", "id_number", "sex", "birth_date"]
Paper = Literal["A4", "card"]
Relation = Literal["spouse", "parent", "child", "sibling", "other_relative", "entrusted"]
RELATIONS: tuple[str, ...] = ("spouse", "parent", "child", "sibling", "other_relative", "entrusted")
AUTHORISATION = "authorisation"  # 授权委托书: the document every agent must bring
MAX_DOCUMENTS = 8
MAX_DOCUMENT_BYTES = 1_500_000  # one photographed page, decoded
_NAME = r"^[a-z][a-z0-9_]{0,39}$"
assert set(FIELD_TYPES) == set(get_args(FieldType))  # one list of types for both sides


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Choice(_Model):
    """One option of a `choice` field: `value` is what is sent, the labels what is shown."""

    value: str = Field(pattern=_NAME)
    label: str = Field(min_length=1)
    label_en: str = Field(min_length=1)


class FormField(_Model):
    """One field of a form; `rules.forms.check` applies its `type` and limits."""

    name: str = Field(pattern=_NAME, description="Key of the value in `fields`.")
    label: str = Field(min_length=1, description="栏目名称, e.g. 联系电话.")
    label_en: str = Field(min_length=1)
    type: FieldType
    required: bool = True
    prefill: Prefill | None = Field(
        default=None, description="Filled in from the card read: name, id_number, sex, birth_date."
    )
    choices: list[Choice] | None = Field(default=None, description="Options of a `choice` field.")
    max_length: int | None = Field(default=None, ge=1, le=200)
    min: str | None = Field(default=None, description="Earliest date: ISO, today, today-5y.")
    max: str | None = Field(default=None, description="Latest date: ISO, today, today+1y.")

    @model_validator(mode="after")
    def _consistent(self) -> FormField:
        if (self.type == "choice") != bool(self.choices):
            raise ValueError(f"{self.name}: choice fields, and only they, have choices")
        if self.type != "date" and (self.min or self.max):
            raise ValueError(f"{self.name}: only date fields have min and max")
        for bound in (self.min, self.max):
            if bound is not None:
                resolve_bound(bound, date(2000, 1, 1))  # raises for a malformed bound
        return self


class FormDocument(_Model):
    """A document (材料) the kiosk photographs: an A4 page or a card."""

    code: str = Field(pattern=_NAME)
    name: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    paper: Paper
    required: bool = True


class AgentRules(_Model):
    """代办: what an agent (someone applying for the applicant) must bring and may be."""

    document: FormDocument = Field(description="授权委托书, required whenever an agent applies.")
    relations: list[Choice] = Field(description="关系: spouse, parent, child, sibling, …")

    @model_validator(mode="after")
    def _known(self) -> AgentRules:
        if self.document.code != AUTHORISATION:
            raise ValueError(f"the agent's document is coded {AUTHORISATION!r}")
        if tuple(choice.value for choice in self.relations) != RELATIONS:
            raise ValueError(f"agent relations are {', '.join(RELATIONS)}")
        return self


class FormSeed(_Model):
    """A form as written in forms.json."""

    item_code: str = Field(pattern=ITEM_CODE_PATTERN)
    title: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    face_check: bool
    agent_allowed: bool
    fields: list[FormField] = Field(min_length=1, max_length=6)
    documents: list[FormDocument] = Field(max_length=MAX_DOCUMENTS - 1)

    @model_validator(mode="after")
    def _unique(self) -> FormSeed:
        names = [field.name for field in self.fields]
        codes = [document.code for document in self.documents]
        if len(set(names)) != len(names) or len(set(codes)) != len(codes):
            raise ValueError(f"{self.item_code}: field names and document codes must not repeat")
        if AUTHORISATION in codes:
            raise ValueError(f"{self.item_code}: {AUTHORISATION} belongs to the agent rules")
        return self


class FormsSeed(_Model):
    """The whole forms.json file."""

    comment: str | None = Field(default=None, alias="_comment")
    agent: AgentRules
    forms: list[FormSeed]


class ApplicationForm(FormSeed):
    """`GET /items/{code}/form`: what the kiosk asks, photographs and checks for a submit item."""

    agent: AgentRules | None = Field(
        description="The 代办 rules when `agent_allowed`; null when the applicant must come."
    )
    max_documents: int = Field(default=MAX_DOCUMENTS, description="Documents per application.")
    max_document_bytes: int = Field(
        default=MAX_DOCUMENT_BYTES, description="Largest JPEG accepted, in bytes."
    )
