"""Wire models of applications (申请) and the face check (人证核验).

`ApplicationRequest` is exactly the body the kiosk's `kiosk.flows.apply.Application.payload()`
builds. Shapes are checked here; what the fields mean (form rules, registry) in
`central.applications`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import JsonDict

from central.idnumber import CardType
from central.lookup_models import CaseStatus
from central.models import ID_NUMBER_PATTERN, ITEM_CODE_PATTERN, KIOSK_ID_PATTERN
from central.wire_models import JsonBool, JsonFloat, JsonInt

FaceReason = Literal["no_face", "not_matched", "poor_quality", "not_live", "too_many_attempts"]
MAX_FACE_IMAGE_BYTES = 400_000
# base64 of the largest document (1.5 MB) is 2 MB; a little over is let through to be told
# `too_large` rather than a bare `invalid_request`.
_MAX_DOCUMENT_B64 = 2_100_000
_MAX_FACE_B64 = (MAX_FACE_IMAGE_BYTES + 2) // 3 * 4
# Standard base64 with its padding (RFC 4648 section 4), as the schema publishes it.
BASE64_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
# Documented, not enforced by the model: the service answers a bad encoding with its own codes
# (`invalid_image`, the problem `bad_encoding`) rather than a bare `invalid_request`.
_BASE64: JsonDict = {"pattern": BASE64_PATTERN}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Party(_Model):
    """Someone named in an application, as read from their card at the kiosk."""

    name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(pattern=ID_NUMBER_PATTERN)
    card_type: CardType = "resident"
    person_ref: str | None = Field(
        default=None,
        max_length=128,
        description="From the session's identity check; may have expired by delivery, so the "
        "service re-checks name and number and does not need it.",
    )

    @field_validator("id_number")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class AgentParty(Party):
    """代办人: who applies for the applicant, and how they are related."""

    relation: str = Field(max_length=32, description="spouse, parent, child, sibling, …")


class Document(_Model):
    """One photographed material: a JPEG, base64."""

    code: str = Field(min_length=1, max_length=40)
    content_type: Literal["image/jpeg"]
    data: str = Field(min_length=4, max_length=_MAX_DOCUMENT_B64, json_schema_extra=_BASE64)


class ApplicationRequest(_Model):
    """`POST /applications`: what the resident confirmed on the kiosk's review screen."""

    item_code: str = Field(pattern=ITEM_CODE_PATTERN)
    kiosk_id: str = Field(pattern=KIOSK_ID_PATTERN)
    applicant: Party
    agent: AgentParty | None = None
    assisted_by: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$",
        description="帮办: the staff number of the hall worker who helped.",
    )
    fields: dict[str, str] = Field(max_length=20)
    documents: list[Document] = Field(max_length=20)
    face_check_id: str | None = Field(default=None, min_length=1, max_length=64)


class ApplicationReceipt(_Model):
    """The service holds the application: its case's receipt number (受理编号)."""

    tracking_no: str = Field(description="16-digit receipt number; `GET /cases/{tracking_no}`.")
    status: CaseStatus
    item_code: str
    received_at: datetime = Field(description="When the service received it (its own clock).")


class FieldProblem(_Model):
    """One field (or `documents`, `agent`) that failed its check, with a stable problem code."""

    field: str
    problem: str


class ApplicationProblems(_Model):
    """422 `application_invalid`: the error shape plus every problem found."""

    code: Literal["application_invalid"]
    message: str
    problems: list[FieldProblem]


class ApplicationRejected(_Model):
    """The error body of a 422 `application_invalid`."""

    error: ApplicationProblems


class Presence(_Model):
    """What the kiosk saw while capturing: proof that a live person stood there (活体)."""

    frames: JsonInt = Field(ge=0, le=10_000, description="Frames with a usable face.")
    seconds: JsonFloat = Field(ge=0, le=600, description="How long the capture took.")
    moved: JsonBool = Field(description="Whether the face moved between frames (a photo does not).")


class FaceCheckRequest(_Model):
    """`POST /identity/face`: a capture to compare with the identified person's enrolled face."""

    person_ref: str = Field(min_length=1, max_length=128)
    kiosk_id: str = Field(pattern=KIOSK_ID_PATTERN)
    image: str = Field(
        min_length=4,
        max_length=_MAX_FACE_B64,
        description="base64 JPEG.",
        json_schema_extra=_BASE64,
    )
    presence: Presence


class FaceCheck(_Model):
    """The outcome; `check_id` goes into the application as `face_check_id`."""

    check_id: str
    passed: bool
    score: float = Field(ge=0, le=1)
    reason: FaceReason | None = Field(description="Why it failed; null when passed.")
