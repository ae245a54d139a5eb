"""Field types of request bodies that take exactly the JSON types the OpenAPI schema names.

FastAPI validates a parsed body in pydantic's lax Python mode, which also reads `"12"` and `true`
as the integer 12 and 1, `"yes"` as true, and a number as a Unix time where a date is due. The
published schema says `integer`, `boolean`, `string` (format date); a client must be able to trust
that what the schema refuses, the service refuses too. Python values (a `date`, an `int`) still
pass, so the service's own code can build these models.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from pydantic import BeforeValidator, Strict, WithJsonSchema

from central.card_number_models import LEAP_YEAR, MONTH_DAY, YEAR


def _number_not_text(value: object) -> object:
    if isinstance(value, (str, bool)):
        raise ValueError("must be a JSON number")
    return value


# RFC 3339 full-date and date-time (JSON Schema's `date` and `date-time` formats). Pydantic also
# reads "0" as 1970-01-01, a date-time as a date, and a time without an offset.
_FULL_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)


# A local date-time (no offset) that exists on the calendar: the pattern the schema publishes.
_MONTH_DASH_DAY = MONTH_DAY.replace(")(?:", ")-(?:").replace("02(?:", "02-(?:")
LOCAL_DATE_TIME = (
    f"^(?:{YEAR}-{_MONTH_DASH_DAY}|{LEAP_YEAR}-02-29)"
    "[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]+)?$"
)
_LOCAL_DATE_TIME = re.compile(LOCAL_DATE_TIME)


def _rfc3339(*shapes: re.Pattern[str], what: str) -> BeforeValidator:
    def check(value: object) -> object:
        if isinstance(value, str) and not any(shape.fullmatch(value) for shape in shapes):
            raise ValueError(f"must be an RFC 3339 {what}")
        if isinstance(value, (int, float)):  # bool too: it is an int
            raise ValueError(f"must be an RFC 3339 {what} string")
        return value

    return BeforeValidator(check)


JsonInt = Annotated[int, BeforeValidator(_number_not_text)]
JsonFloat = Annotated[float, BeforeValidator(_number_not_text)]
JsonBool = Annotated[bool, Strict()]
JsonDate = Annotated[date, _rfc3339(_FULL_DATE, what="full-date")]
JsonDateTime = Annotated[datetime, _rfc3339(_DATE_TIME, what="date-time")]
# A date-time with or without its offset (a caller decides what a local time is worth).
JsonDateTimeMaybeLocal = Annotated[
    datetime,
    _rfc3339(_DATE_TIME, _LOCAL_DATE_TIME, what="date-time"),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "string", "pattern": LOCAL_DATE_TIME},
            ]
        }
    ),
]
