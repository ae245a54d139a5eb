"""What the endpoints do, apart from HTTP: catalogue, identity checks, certificates.

Functions take an open session and raise `ApiError` for anything the client must be told.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central import certificates
from central.db import (
    CategoryRow,
    CertificateRow,
    IdentityCheckRow,
    ItemRow,
    PersonRow,
    find_person_by_hash,
)
from central.errors import ApiError
from central.idnumber import keyed_hash, normalize_name, registry_key
from central.models import (
    Catalogue,
    Category,
    Certificate,
    CertificateLine,
    CertificateRequest,
    CertificateVerification,
    Guide,
    IdentityResult,
    IdentityVerifyRequest,
    ItemDetail,
    ItemSummary,
    SampleForm,
    VerifyReason,
)
from central.person_cards import card_type_of
from central.records import PersonRecords
from rules.idnumbers import has_valid_check_digit_for
from rules.masking import mask_name

BEIJING = timezone(timedelta(hours=8), "CST")
# No 0/O or 1/I: verify codes are read off paper and typed in by people.
_VERIFY_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


@dataclass(frozen=True)
class Settings:
    """Per-app settings the service functions need."""

    id_hash_key: bytes
    person_ref_ttl: timedelta
    clock: Callable[[], datetime]


def content_hash(value: Any) -> str:
    """A short stable hash of JSON-able content (catalogue version, ETags, request bodies)."""
    canonical = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _summary(row: ItemRow) -> ItemSummary:
    return ItemSummary.model_validate(
        {
            "code": row.code,
            "name": row.name,
            "name_en": row.name_en,
            "flow": row.flow,
            "identity": row.identity,
            "department": row.department,
            "department_en": row.department_en,
            "prints": row.prints,
            "lookup": row.lookup,
            "queue": row.queue,
        }
    )


def catalogue(session: Session) -> Catalogue:
    """The whole catalogue, in seed order, with its content hash as version."""
    items_by_category: dict[str, list[ItemSummary]] = {}
    for row in session.scalars(select(ItemRow).order_by(ItemRow.position, ItemRow.code)):
        items_by_category.setdefault(row.category_code, []).append(_summary(row))
    categories = [
        Category(
            code=row.code,
            name=row.name,
            name_en=row.name_en,
            icon=row.icon,
            items=items_by_category.get(row.code, []),
        )
        for row in session.scalars(select(CategoryRow).order_by(CategoryRow.position))
    ]
    version = content_hash([category.model_dump(mode="json") for category in categories])[:16]
    return Catalogue(version=version, categories=categories)


def item_detail(session: Session, code: str) -> ItemDetail:
    """One item with its guide, or 404 `item_not_found`."""
    row = session.get(ItemRow, code)
    if row is None:
        raise ApiError(404, "item_not_found", f"no service item with code {code!r}")
    return ItemDetail(
        **_summary(row).model_dump(),
        category=row.category_code,
        guide=Guide.model_validate(row.guide),
        guide_en=Guide.model_validate(row.guide_en),
        sample_form=SampleForm.model_validate(row.sample_form) if row.sample_form else None,
        certificate_title=row.certificate_title,
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def verify_identity(
    session: Session, settings: Settings, request: IdentityVerifyRequest
) -> IdentityResult:
    """Check a card's number and name against the registry; record the check without the number.

    Persons are found by card type and number together (both are in the hash), so a number
    presented as another card type is not found.
    """
    now = settings.clock()
    id_hash = keyed_hash(settings.id_hash_key, registry_key(request.card_type, request.id_number))
    person: PersonRow | None = None
    reason: VerifyReason
    if not has_valid_check_digit_for(request.card_type, request.id_number):
        reason = "invalid_check_digit"
    elif request.valid_until is not None and request.valid_until < now.astimezone(BEIJING).date():
        # The card's 有效期限 ended before today (Beijing date): an expired card proves nothing.
        reason = "card_expired"
    else:
        person = find_person_by_hash(session, id_hash)
        if person is None:
            reason = "not_found"
        elif normalize_name(person.name) != normalize_name(request.name):
            reason = "name_mismatch"
        else:
            reason = "ok"
    ref, expires_at = record_identity_check(
        session,
        settings,
        kiosk_id=request.kiosk_id,
        method=STORED_METHODS[request.method],
        id_hash=id_hash,
        person=person,
        reason=reason,
    )
    # The audit keeps "name_mismatch"; the caller is told "not_found" either way, so a typed
    # number with a guessed name does not tell a registered number from an unregistered one.
    answered: VerifyReason = "not_found" if reason == "name_mismatch" else reason
    return IdentityResult(
        verified=ref is not None, person_ref=ref, reason=answered, expires_at=expires_at
    )


# How each identification method is recorded (the audit column holds 16 characters).
STORED_METHODS: dict[str, str] = {
    "id_card": "id_card",
    "social_security_card": "social_security",
    "eid": "eid",
}


def record_identity_check(
    session: Session,
    settings: Settings,
    *,
    kiosk_id: str,
    method: str,
    id_hash: str,
    person: PersonRow | None,
    reason: str,
) -> tuple[str | None, datetime | None]:
    """Record one identity check of any method; a successful one (`ok`) gets a `person_ref`.

    Returns the new `person_ref` and its expiry, both None unless the check succeeded.
    """
    now = settings.clock()
    verified = reason == "ok" and person is not None
    ref = secrets.token_urlsafe(24) if verified else None
    expires_at = now + settings.person_ref_ttl if verified else None
    session.add(
        IdentityCheckRow(
            checked_at=now,
            kiosk_id=kiosk_id,
            method=method,
            id_hash=id_hash,
            verified=verified,
            reason=reason,
            person_id=person.id if person is not None and verified else None,
            ref_hash=_token_hash(ref) if ref else None,
            ref_expires_at=expires_at,
        )
    )
    session.commit()
    return ref, expires_at


def check_same_request(stored_hash: str, request_hash: str) -> None:
    """A replayed Idempotency-Key must carry the same body; otherwise 409."""
    if not hmac.compare_digest(stored_hash, request_hash):
        raise ApiError(
            409,
            "idempotency_conflict",
            "this Idempotency-Key was already used with a different request body",
        )


def _replay(row: CertificateRow, request_hash: str) -> Certificate:
    check_same_request(row.request_hash, request_hash)
    return Certificate.model_validate(row.body)


def _find_by_key(session: Session, key: str) -> CertificateRow | None:
    return session.scalars(
        select(CertificateRow).where(CertificateRow.idempotency_key == key)
    ).one_or_none()


def _verified_person(session: Session, request: CertificateRequest, now: datetime) -> PersonRow:
    return person_for_ref(session, request.person_ref, request.kiosk_id, now)


def person_for_ref(session: Session, person_ref: str, kiosk_id: str, now: datetime) -> PersonRow:
    """The person a live `person_ref` of this kiosk names; 404 `person_not_found`/`_ref_expired`."""
    check = session.scalars(
        select(IdentityCheckRow).where(IdentityCheckRow.ref_hash == _token_hash(person_ref))
    ).one_or_none()
    # A token issued to another kiosk is treated as unknown: tokens do not travel.
    if check is None or check.person_id is None or check.kiosk_id != kiosk_id:
        raise ApiError(404, "person_not_found", "person_ref is unknown to this service")
    if check.ref_expires_at is None or check.ref_expires_at <= now:
        raise ApiError(404, "person_ref_expired", "person_ref has expired; verify identity again")
    person = session.get(PersonRow, check.person_id)
    if person is None:
        raise ApiError(404, "person_not_found", "person_ref is unknown to this service")
    return person


def issue_certificate(
    session: Session,
    settings: Settings,
    request: CertificateRequest,
    idempotency_key: str,
    verify_base_url: str,
) -> tuple[Certificate, bool]:
    """Issue a certificate once per Idempotency-Key; returns it and whether it was new."""
    request_hash = content_hash(request.model_dump(mode="json"))
    existing = _find_by_key(session, idempotency_key)
    if existing is not None:
        return _replay(existing, request_hash), False
    item = session.get(ItemRow, request.item_code)
    if item is None:
        raise ApiError(404, "item_not_found", f"no service item with code {request.item_code!r}")
    if item.certificate_kind is None or item.certificate_title is None:
        raise ApiError(422, "item_not_printable", f"item {item.code!r} does not issue certificates")
    now = settings.clock()
    person = _verified_person(session, request, now)
    name_masked = mask_name(person.name)
    try:
        lines = certificates.build_lines(
            item.certificate_kind,
            name_masked,
            person.id_masked,
            PersonRecords.model_validate(person.records),
            card_type=card_type_of(session, person),
        )
    except certificates.NoRecordError as exc:
        raise ApiError(422, "no_record", f"cannot issue {item.code!r}: {exc}") from None
    issued_at = now.astimezone(BEIJING).replace(microsecond=0)
    number = (
        certificates.PREFIXES[item.certificate_kind]
        + issued_at.strftime("%Y%m%d")
        + f"{secrets.randbelow(10**8):08d}"
    )
    verify_code = "".join(secrets.choice(_VERIFY_ALPHABET) for _ in range(8))
    certificate = Certificate(
        certificate_no=number,
        item_code=item.code,
        title=item.certificate_title,
        issuer=item.department,
        holder_name_masked=name_masked,
        issued_at=issued_at,
        lines=[CertificateLine(label=label, value=value) for label, value in lines],
        verify_code=verify_code,
        verify_url=(
            f"{verify_base_url.rstrip('/')}/api/v1/certificates/{number}/verification"
            f"?code={verify_code}"
        ),
    )
    session.add(
        CertificateRow(
            certificate_no=number,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            item_code=item.code,
            person_id=person.id,
            kiosk_id=request.kiosk_id,
            issued_at=now,
            verify_code=verify_code,
            body=certificate.model_dump(mode="json"),
        )
    )
    try:
        session.commit()
    except IntegrityError:
        # Two requests with one key raced; the other one won, so answer as its replay.
        session.rollback()
        winner = _find_by_key(session, idempotency_key)
        if winner is None:
            raise
        return _replay(winner, request_hash), False
    return certificate, True


def verify_certificate(session: Session, certificate_no: str, code: str) -> CertificateVerification:
    """The public facts of a certificate, for a third party holding its verify code."""
    row = session.scalars(
        select(CertificateRow).where(CertificateRow.certificate_no == certificate_no)
    ).one_or_none()
    # Unknown number and wrong code look the same, so numbers cannot be probed.
    if row is None or not hmac.compare_digest(row.verify_code.encode(), code.upper().encode()):
        raise ApiError(404, "certificate_not_found", "no certificate with that number and code")
    body = Certificate.model_validate(row.body)
    return CertificateVerification(
        certificate_no=body.certificate_no,
        title=body.title,
        issuer=body.issuer,
        holder_name_masked=body.holder_name_masked,
        issued_at=body.issued_at,
    )
