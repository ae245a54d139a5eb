"""人证核验: compare a kiosk's face capture with the identified person's enrolled face.

The capture is never stored, only the check: id, person, kiosk, time, passed, score, reason.
Enrolled faces (`face_enrolments`) are templates loaded from `seed/faces.json` on start; how the
comparison works, and its limits, is in `central.face_match`. A person who failed the
comparison or the liveness hint 3 times in 10 minutes is answered `too_many_attempts` until the
window has passed; a capture with no face or too small a face does not count towards that, as
it says nothing about who stood there.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from central import face_match
from central.application_models import (
    BASE64_PATTERN,
    MAX_FACE_IMAGE_BYTES,
    FaceCheck,
    FaceCheckRequest,
    FaceReason,
)
from central.db import Base, PersonRow, UtcDateTime
from central.errors import ApiError
from central.seed import SEED_DIR, SeedError
from central.service import Settings, person_for_ref

FACES_FILE = SEED_DIR / "faces.json"
MAX_FAILURES = 3
FAILURE_WINDOW = timedelta(minutes=10)
# Fewer frames, a shorter look or a face that never moved looks like a photo held up (活体).
MIN_FRAMES = 3
MIN_SECONDS = 1.0
_COUNTED_FAILURES = ("not_matched", "not_live")
_BASE64 = re.compile(BASE64_PATTERN)


class FaceEnrolmentRow(Base):
    """A person's enrolled face template (人脸底库), by registry person."""

    __tablename__ = "face_enrolments"

    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    template: Mapped[list[float]] = mapped_column(JSON)


class FaceCheckRow(Base):
    """One face check, for audit and for the application that names it. No image."""

    __tablename__ = "face_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    check_id: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    kiosk_id: Mapped[str] = mapped_column(String(64))
    checked_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    passed: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(String(32))


# --- seed -------------------------------------------------------------------------------------


class _Seed(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TemplateSeed(_Seed):
    source: str
    method: str
    vector: list[float] = Field(min_length=1)


class FacesSeed(_Seed):
    comment: str | None = Field(default=None, alias="_comment")
    templates: dict[str, TemplateSeed]
    enrolled: dict[str, str]


def read_faces(path: Path = FACES_FILE) -> FacesSeed:
    """Parse and validate the enrolled faces seed file."""
    try:
        seed = FacesSeed.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, ValidationError) as exc:
        raise SeedError(f"{path}: {exc}") from exc
    unknown = set(seed.enrolled.values()) - seed.templates.keys()
    if unknown:
        raise SeedError(f"{path}: unknown templates {', '.join(sorted(unknown))}")
    return seed


def sync_enrolments(session: Session, path: Path = FACES_FILE) -> int:
    """Upsert the seed persons' enrolled faces; returns how many persons have one."""
    seed = read_faces(path)
    persons = {p.person_no: p for p in session.scalars(select(PersonRow))}
    enrolled = 0
    for person_no, name in seed.enrolled.items():
        person = persons.get(person_no)
        if person is None:
            continue
        row = session.get(FaceEnrolmentRow, person.id) or FaceEnrolmentRow(person_id=person.id)
        row.source, row.template = name, list(seed.templates[name].vector)
        session.add(row)
        enrolled += 1
    session.commit()
    return enrolled


def prepare(session: Session, *, seeded: bool) -> None:
    """Start-up work: enrol the seed persons' faces on a seeded service."""
    if seeded:
        sync_enrolments(session)


# --- checks -----------------------------------------------------------------------------------


def _decoded_image(data: str) -> bytes:
    # The published pattern first: b64decode alone also takes excess padding ("AAAA=").
    try:
        if not _BASE64.fullmatch(data):
            raise ValueError("not base64")
        image = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, "invalid_image", "image is not base64") from None
    if len(image) > MAX_FACE_IMAGE_BYTES:
        raise ApiError(413, "image_too_large", f"image is over {MAX_FACE_IMAGE_BYTES} bytes")
    return image


def _recent_failures(session: Session, person_id: int, now: datetime) -> int:
    return (
        session.scalar(
            select(func.count(FaceCheckRow.id)).where(
                FaceCheckRow.person_id == person_id,
                FaceCheckRow.checked_at > now - FAILURE_WINDOW,
                FaceCheckRow.reason.in_(_COUNTED_FAILURES),
            )
        )
        or 0
    )


def _compare(
    request: FaceCheckRequest, image: bytes, template: Any
) -> tuple[float, FaceReason | None]:
    presence = request.presence
    if presence.frames < MIN_FRAMES or presence.seconds < MIN_SECONDS or not presence.moved:
        return 0.0, "not_live"
    grey = face_match.decode_jpeg(image)
    if grey is None:
        raise ApiError(422, "invalid_image", "image is not a decodable JPEG")
    box = face_match.largest_face(grey)
    if box is None:
        return 0.0, "no_face"
    if box[2] < face_match.MIN_FACE_PX:
        return 0.0, "poor_quality"
    captured = face_match.template_of_face(grey, box)
    score = face_match.score(np.asarray(template, dtype=np.float64), captured)
    return score, None if score >= face_match.MATCH_SCORE else "not_matched"


def check_face(session: Session, settings: Settings, request: FaceCheckRequest) -> FaceCheck:
    """Compare the capture with the person's enrolled face and record the check (not the image)."""
    image = _decoded_image(request.image)
    now = settings.clock()
    person = person_for_ref(session, request.person_ref, request.kiosk_id, now)
    enrolment = session.get(FaceEnrolmentRow, person.id)
    if enrolment is None:
        raise ApiError(404, "face_not_enrolled", "no enrolled face for this person")
    reason: FaceReason | None
    if _recent_failures(session, person.id, now) >= MAX_FAILURES:
        score, reason = 0.0, "too_many_attempts"
    else:
        score, reason = _compare(request, image, enrolment.template)
    row = FaceCheckRow(
        check_id=secrets.token_urlsafe(18),
        person_id=person.id,
        kiosk_id=request.kiosk_id,
        checked_at=now,
        passed=reason is None,
        score=score,
        reason=reason,
    )
    session.add(row)
    session.commit()
    return FaceCheck(check_id=row.check_id, passed=row.passed, score=score, reason=reason)


def passed_check_for(session: Session, check_id: str, person_id: int) -> bool:
    """True when `check_id` names a passed face check of this person."""
    row = session.scalars(select(FaceCheckRow).where(FaceCheckRow.check_id == check_id)).first()
    return row is not None and row.passed and row.person_id == person_id
