"""Cases (办件): applications under way or done, their history, and their receipt numbers.

A receipt number (受理编号) is 16 digits, so a resident can type it on a digit pad: region (6),
department (2), serial (7) and a Luhn check digit, which catches a mistyped or swapped digit
before any lookup. The receipt's QR code holds ``CASE:`` + the number (`CASE_QR_PREFIX`).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from datetime import time as time_of_day
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import JSON, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from central.db import Base, PersonRow, UtcDateTime
from central.errors import ApiError
from central.lookup_models import Case, CaseStatus, CaseStep
from central.seed import SEED_DIR, SeedError
from rules.masking import mask_name
from rules.receipts import (  # noqa: F401  (re-exported: the service and its tests use them here)
    CASE_QR_PREFIX,
    luhn_check_digit,
    parse_case_qr,
    receipt_no_is_valid,
)

log = logging.getLogger(__name__)

CASES_FILE = SEED_DIR / "cases.json"
BEIJING = timezone(timedelta(hours=8), "CST")

STATUS_LABELS: dict[str, tuple[str, str]] = {
    "submitted": ("已提交", "Submitted"),
    "received": ("已受理", "Received"),
    "in_review": ("审核中", "Under review"),
    "needs_more": ("待补正", "Awaiting more documents"),
    "supplemented": ("已补正", "Documents supplied"),
    "completed": ("已办结", "Completed"),
    "rejected": ("不予受理", "Not accepted"),
}


# --- receipt numbers ---------------------------------------------------------------------------


def qr_payload(receipt_no: str) -> str:
    """What a receipt's QR code holds for this case."""
    return CASE_QR_PREFIX + receipt_no


def checked_receipt_no(receipt_no: str) -> str:
    """The number itself, or 422 `invalid_receipt_no` (wrong length, non-digits, check digit)."""
    if not receipt_no_is_valid(receipt_no):
        raise ApiError(
            422, "invalid_receipt_no", "a receipt number is 16 digits with a valid check digit"
        )
    return receipt_no


# --- storage ----------------------------------------------------------------------------------


class CaseRow(Base):
    """A case with its history (JSON, oldest step first)."""

    __tablename__ = "cases"

    receipt_no: Mapped[str] = mapped_column(String(16), primary_key=True)
    person_no: Mapped[str] = mapped_column(String(32), index=True)
    item_code: Mapped[str] = mapped_column(String(64))
    item_name: Mapped[str] = mapped_column(String(200))
    item_name_en: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16))
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


# --- seed -------------------------------------------------------------------------------------


class _Seed(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StepSeed(_Seed):
    """A step as written in cases.json: a day relative to the start of the service."""

    day: int = Field(le=0, ge=-3650, description="days from today; 0 is today")
    time: time_of_day
    status: CaseStatus
    department: str = Field(min_length=1)
    department_en: str = Field(min_length=1)
    note: str = Field(min_length=1)
    note_en: str = Field(min_length=1)


class CaseSeed(_Seed):
    """A case as written in cases.json."""

    receipt_no: str
    person_no: str = Field(min_length=1)
    item_code: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$")
    item_name: str = Field(min_length=1)
    item_name_en: str = Field(min_length=1)
    history: list[StepSeed] = Field(min_length=1)

    @model_validator(mode="after")
    def _valid(self) -> CaseSeed:
        if not receipt_no_is_valid(self.receipt_no):
            raise ValueError(f"receipt_no {self.receipt_no!r} fails its check digit")
        moments = [(step.day, step.time) for step in self.history]
        if moments != sorted(moments):
            raise ValueError(f"case {self.receipt_no}: history is not in time order")
        return self


class CasesSeed(_Seed):
    """The whole cases.json file."""

    comment: str | None = Field(default=None, alias="_comment")
    cases: list[CaseSeed]

    @model_validator(mode="after")
    def _unique(self) -> CasesSeed:
        numbers = [case.receipt_no for case in self.cases]
        if len(set(numbers)) != len(numbers):
            raise ValueError("receipt numbers repeat")
        return self


def read_cases(path: Path = CASES_FILE) -> CasesSeed:
    """Parse and validate a cases seed file."""
    try:
        return CasesSeed.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, ValidationError) as exc:
        raise SeedError(f"{path}: {exc}") from exc


def _step_json(step: StepSeed, today: datetime) -> dict[str, Any]:
    at = datetime.combine(today.date() + timedelta(days=step.day), step.time, BEIJING)
    return {**step.model_dump(mode="json", exclude={"day", "time"}), "at": at.isoformat()}


def sync_cases(session: Session, now: datetime, path: Path = CASES_FILE) -> int:
    """Upsert the seed cases, dated relative to `now`; returns how many were loaded."""
    seed = read_cases(path)
    known = set(session.scalars(select(PersonRow.person_no)))
    today = now.astimezone(BEIJING)
    loaded = 0
    for case in seed.cases:
        if case.person_no not in known:
            log.warning("cases seed: case for unknown person %s skipped", case.person_no)
            continue
        history = [_step_json(step, today) for step in case.history]
        if datetime.fromisoformat(history[-1]["at"]) > now:
            # Today's steps lie ahead of a service started early in the day: a day earlier.
            history = [_step_json(step, today - timedelta(days=1)) for step in case.history]
        row = session.get(CaseRow, case.receipt_no) or CaseRow(receipt_no=case.receipt_no)
        row.person_no = case.person_no
        row.item_code, row.item_name, row.item_name_en = (
            case.item_code,
            case.item_name,
            case.item_name_en,
        )
        row.status = case.history[-1].status
        row.submitted_at = datetime.fromisoformat(history[0]["at"])
        row.updated_at = datetime.fromisoformat(history[-1]["at"])
        row.history = history
        session.add(row)
        loaded += 1
    session.commit()
    return loaded


def prepare(session: Session, now: datetime, *, seeded: bool) -> None:
    """Start-up work of the case feature: load the seed cases on a seeded service."""
    if seeded:
        sync_cases(session, now)


# --- answers ----------------------------------------------------------------------------------


def _case(row: CaseRow, holder_name: str) -> Case:
    steps = []
    for step in row.history:
        zh, en = STATUS_LABELS[step["status"]]
        steps.append(CaseStep.model_validate({**step, "status_label": zh, "status_label_en": en}))
    zh, en = STATUS_LABELS[row.status]
    return Case.model_validate(
        {
            "receipt_no": row.receipt_no,
            "qr_payload": qr_payload(row.receipt_no),
            "item_code": row.item_code,
            "item_name": row.item_name,
            "item_name_en": row.item_name_en,
            "status": row.status,
            "status_label": zh,
            "status_label_en": en,
            "submitted_at": row.submitted_at.astimezone(BEIJING),
            "updated_at": row.updated_at.astimezone(BEIJING),
            "holder_name_masked": mask_name(holder_name) if holder_name else "*",
            "history": steps,
        }
    )


def case_by_receipt_no(session: Session, receipt_no: str) -> Case:
    """A case for whoever holds its number (masked only), or 404 `case_not_found`."""
    row = session.get(CaseRow, checked_receipt_no(receipt_no))
    if row is None:
        raise ApiError(404, "case_not_found", "no case with that receipt number")
    holder = session.scalars(
        select(PersonRow.name).where(PersonRow.person_no == row.person_no)
    ).one_or_none()
    return _case(row, holder or "")


def cases_of(session: Session, person: PersonRow, item_prefix: str = "") -> list[Case]:
    """A person's cases, most recently updated first (optionally of items starting so)."""
    rows = session.scalars(
        select(CaseRow)
        .where(CaseRow.person_no == person.person_no)
        .order_by(CaseRow.updated_at.desc(), CaseRow.receipt_no)
    )
    return [_case(row, person.name) for row in rows if row.item_code.startswith(item_prefix)]
