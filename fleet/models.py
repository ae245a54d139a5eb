"""The fleet wire protocol (docs/contracts.md section 2) as pydantic models.

Every field is bounded (lengths, counts, ranges), so a malformed or hostile body is a 422 and
never reaches the database. Kiosk times are informative only; the server stamps `received_at`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
)

KioskId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=32)]
DeviceState = Literal["online", "offline", "busy", "hardware_error", "user_error"]
PaperLevel = Literal["full", "low", "out", "jammed"]


def _number_not_text(value: object) -> object:
    # FastAPI validates in pydantic's lax mode, which reads "12" and true as 12 and 1; the
    # published schema says integer, and the server must refuse what the schema refuses.
    if isinstance(value, (str, bool)):
        raise ValueError("must be a JSON number")
    return value


Count = Annotated[int, Field(ge=0, le=2**31 - 1), BeforeValidator(_number_not_text)]


# The years the server takes (see _utc), as the schema publishes them: the start of the text.
_YEARS_TAKEN = "^(?:[2-8][0-9]{3}|9000)-"
# RFC 3339 date-time, the schema's `format`: pydantic alone also takes "2026-01-01T00:00Z".
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_YEARS_TAKEN_RE = re.compile(_YEARS_TAKEN)


def _iso_text(value: object) -> object:
    # Lax pydantic also reads a number, or a string of digits, as a Unix time.
    if isinstance(value, str) and not (
        _YEARS_TAKEN_RE.match(value) and _DATE_TIME.fullmatch(value)
    ):
        raise ValueError("time must be RFC 3339 with a UTC offset and a year from 2000 to 9000")
    if not isinstance(value, (str, datetime)):
        raise ValueError("time must be an ISO 8601 string")
    return value


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("time must carry a UTC offset")
    # Years 1 and 9999 overflow once shifted to UTC; refuse them as the validation error they are.
    if not 2000 <= value.year <= 9000:
        raise ValueError("time out of range")
    return value


UtcTime = Annotated[
    datetime,
    BeforeValidator(_iso_text),
    AfterValidator(_utc),
    Field(json_schema_extra={"pattern": _YEARS_TAKEN}),
]


class Heartbeat(BaseModel):
    """A kiosk's periodic report: identity, devices, paper, backlog, usage since the last beat."""

    model_config = ConfigDict(extra="forbid")

    kiosk_id: KioskId
    site: Annotated[str, StringConstraints(max_length=64)] = ""
    version: Annotated[str, StringConstraints(max_length=32)] = ""
    # At most 2**53 - 1: every JSON reader holds it exactly (RFC 7493), doubles included.
    seq: Annotated[int, Field(ge=0, le=2**53 - 1), BeforeValidator(_number_not_text)]
    sent_at: UtcTime
    uptime_s: Count
    in_service: Annotated[bool, Strict()]
    devices: Annotated[dict[Name, DeviceState], Field(max_length=32)] = {}
    paper: Annotated[dict[Name, PaperLevel], Field(max_length=8)] = {}
    outbox_backlog: Count = 0
    sessions: Count = 0
    completions: Count = 0
    last_error: Annotated[str, StringConstraints(max_length=500)] = ""


class CommandOut(BaseModel):
    """A remote command handed to a kiosk with its heartbeat answer."""

    id: int
    action: Literal["out_of_service", "back_in_service", "reload_config", "restart"]
    reason: str


class HeartbeatAnswer(BaseModel):
    commands: list[CommandOut]
    server_time: datetime


# Strict members: a lax union would read a too-long string of digits as an int.
DetailValue = (
    Annotated[str, StringConstraints(max_length=500)]
    | Annotated[int, Strict()]
    | Annotated[float, Strict()]
    | Annotated[bool, Strict()]
)


class Event(BaseModel):
    """A fault, recovery, maintenance action or service state change, as it happened."""

    model_config = ConfigDict(extra="forbid")

    event_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    kind: Literal["fault", "recovery", "maintenance", "service_state"]
    occurred_at: UtcTime
    device: Annotated[str, StringConstraints(max_length=32)] = ""
    detail: Annotated[dict[Name, DetailValue], Field(max_length=32)] = {}


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: Annotated[list[Event], Field(max_length=100)]


class EventsStored(BaseModel):
    stored: int
    duplicates: int


class CommandAck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    result: Literal["done", "failed"]
    detail: Annotated[str, StringConstraints(max_length=500)] = ""


class Health(BaseModel):
    status: Literal["ok"]
    database: str
