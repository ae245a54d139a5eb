"""Wire models of 取号 (queue tickets) and 预约签到 (appointment check-in)."""

from __future__ import annotations

import datetime as dt
import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import JsonDict

from central.models import ITEM_CODE_PATTERN, KIOSK_ID_PATTERN
from central.wire_models import JsonDate

APPOINTMENT_QR_PREFIX = "APPT:"
# Codes avoid 0/O and 1/I; they are printed under the QR code and may be typed in.
APPOINTMENT_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
APPOINTMENT_CODE = re.compile(r"^[0-9A-Z]{10,12}$")
# What `code` may be on the wire: the code in any case, after `APPT:` or not, with blanks around.
APPOINTMENT_CODE_INPUT = r"^[ \t\r\n]*(?:[Aa][Pp][Pp][Tt]:)?[ \t\r\n]*[0-9A-Za-z]{10,12}[ \t\r\n]*$"
# Exactly one of `code` and `person_ref`, as the schema says and `_one_way` checks.
_CODE_OR_PERSON_REF: JsonDict = {
    "anyOf": [
        {
            "required": ["code"],
            "properties": {"code": {"type": "string"}, "person_ref": {"type": "null"}},
        },
        {
            "required": ["person_ref"],
            "properties": {"person_ref": {"type": "string"}, "code": {"type": "null"}},
        },
    ]
}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


def normalize_appointment_code(value: str) -> str:
    """The bare code from a scanned `APPT:<code>` payload or a typed code (any case)."""
    text = value.strip()
    if text[: len(APPOINTMENT_QR_PREFIX)].upper() == APPOINTMENT_QR_PREFIX:
        text = text[len(APPOINTMENT_QR_PREFIX) :]
    return text.strip().upper()


class TicketRequest(_Model):
    """取号: a number in the queue of a `ticket` item."""

    item_code: str = Field(pattern=ITEM_CODE_PATTERN)
    kiosk_id: str = Field(pattern=KIOSK_ID_PATTERN)
    person_ref: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Optional: the identified resident (their ticket is then linked to them).",
    )


class CheckInRequest(_Model):
    """预约签到: check in to an appointment, by its QR code or by the identified resident."""

    model_config = ConfigDict(frozen=True, json_schema_extra=_CODE_OR_PERSON_REF)

    kiosk_id: str = Field(pattern=KIOSK_ID_PATTERN)
    code: str | None = Field(
        default=None,
        max_length=64,
        pattern=APPOINTMENT_CODE_INPUT,
        description="The appointment code, or the whole QR payload `APPT:<code>`.",
    )
    person_ref: str | None = Field(default=None, min_length=1, max_length=128)
    item_code: str | None = Field(
        default=None,
        pattern=ITEM_CODE_PATTERN,
        description="With `person_ref`: which of the person's appointments (default: today's "
        "earliest).",
    )

    @field_validator("code")
    @classmethod
    def _code_shape(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = normalize_appointment_code(value)
        if not APPOINTMENT_CODE.match(code):
            raise ValueError("code must be 10-12 letters and digits, optionally after 'APPT:'")
        return code

    @model_validator(mode="after")
    def _one_way(self) -> CheckInRequest:
        if (self.code is None) == (self.person_ref is None):
            raise ValueError("give exactly one of code and person_ref")
        return self


class Ticket(_Model):
    """A queue ticket (排队号), ready to print."""

    ticket_no: str = Field(description="排队号: queue letter and three digits, e.g. A023.")
    queue_code: str = Field(description="Queue letter.")
    queue_name: str = Field(description="队列名称, e.g. 户政业务.")
    queue_name_en: str
    item_code: str
    people_ahead: int = Field(ge=0, description="前面还有几人 when the ticket was issued.")
    estimated_wait_min: int = Field(ge=0, description="预计等候分钟: people_ahead × average.")
    issued_at: dt.datetime = Field(description="Issue time (server clock, Beijing time).")
    priority: bool = Field(
        description="An appointment holder's ticket: called before waiting walk-in tickets."
    )


class CalledTicket(_Model):
    """叫号 (development): the ticket just called."""

    ticket_no: str
    queue_code: str
    priority: bool


class MintAppointmentRequest(_Model):
    """Development: make an appointment for a seed test person."""

    person: str = Field(
        min_length=1, max_length=50, description="Registry number (person_no) or unique name."
    )
    item_code: str = Field(pattern=ITEM_CODE_PATTERN)
    date: JsonDate | None = Field(default=None, description="Default: today (Beijing time).")


class Appointment(_Model):
    """An appointment (预约) and the QR payload that checks in to it."""

    code: str
    qr_payload: str = Field(description="What the appointment QR code carries: `APPT:<code>`.")
    item_code: str
    item_name: str
    holder_name_masked: str
    date: dt.date
    slot: str = Field(description="Time of day booked, HH:MM (Beijing time).")
