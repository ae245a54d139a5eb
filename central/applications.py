"""申请: applications from kiosks, applied exactly once per Idempotency-Key, each a new case.

A kiosk delivers an application from its outbox at least once, possibly hours after the
resident left, when the session's `person_ref` has long expired: so the applicant (and an agent)
are re-checked by card type, number and name against the registry, as `/identity/verify` does,
and `person_ref` is not needed. Fields are checked with `rules.forms` against the item's form;
documents must be JPEGs (magic bytes), at most `MAX_DOCUMENT_BYTES` each and `MAX_DOCUMENTS` in
all. Documents are stored whole in the database (bytes, size and SHA-256), as a reference service
may; a production one hands them to the department's document store. Nothing of a request's
content is logged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from central import face_checks, forms
from central.application_models import (
    AgentParty,
    ApplicationReceipt,
    ApplicationRequest,
    FieldProblem,
    Party,
)
from central.cases import BEIJING, CaseRow
from central.db import Base, ItemRow, PersonRow, UtcDateTime, find_person_by_hash
from central.errors import ApiError
from central.form_models import (
    AUTHORISATION,
    MAX_DOCUMENT_BYTES,
    MAX_DOCUMENTS,
    RELATIONS,
    FormSeed,
)
from central.idnumber import keyed_hash, normalize_name, registry_key
from central.service import Settings, content_hash
from rules.forms import check_all
from rules.idnumbers import has_valid_check_digit_for
from rules.receipts import luhn_check_digit

JPEG_MAGIC = b"\xff\xd8\xff"
REGION = "110101"  # the reference service stands for one district's hall (东城区)
# Receipt numbers carry the department: the codes the seed cases use, by category.
DEPARTMENT_CODES = {"shebao": "01", "huji": "02", "gjj": "03", "yibao": "04", "mz": "05"}
RELATION_LABELS = {
    "spouse": "配偶",
    "parent": "父母",
    "child": "子女",
    "sibling": "兄弟姐妹",
    "other_relative": "其他亲属",
    "entrusted": "受托人",
}
SUBMITTED_NOTE = ("在自助终端提交申请", "Submitted at a self-service kiosk")


class ApplicationRow(Base):
    """An application as received, with the request hash that makes replays safe."""

    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    receipt_no: Mapped[str] = mapped_column(ForeignKey("cases.receipt_no"), unique=True)
    item_code: Mapped[str] = mapped_column(String(64), index=True)
    kiosk_id: Mapped[str] = mapped_column(String(64), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    # 代办: the agent as a registry person and the relation; never the agent's ID number.
    agent_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    agent_relation: Mapped[str | None] = mapped_column(String(32))
    assisted_by: Mapped[str | None] = mapped_column(String(32))
    face_check_id: Mapped[str | None] = mapped_column(String(64))
    fields: Mapped[dict[str, str]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApplicationDocumentRow(Base):
    """One photographed document of an application: the JPEG, its size and digest."""

    __tablename__ = "application_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ApplicationInvalid(ApiError):
    """422 `application_invalid`, with every problem found (field or document and a code)."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__(422, "application_invalid", f"{len(problems)} problem(s) in the form")
        self.problems = problems

    def body(self) -> dict[str, Any]:
        problems = [problem.model_dump() for problem in self.problems]
        return {"error": {"code": self.code, "message": self.message, "problems": problems}}


@dataclass(frozen=True)
class _Document:
    code: str
    data: bytes


# --- checks -----------------------------------------------------------------------------------


def _registry_person(session: Session, settings: Settings, party: Party) -> PersonRow | None:
    """The registry person whose card number and name these are; None when they do not agree."""
    if not has_valid_check_digit_for(party.card_type, party.id_number):
        return None
    id_hash = keyed_hash(settings.id_hash_key, registry_key(party.card_type, party.id_number))
    person = find_person_by_hash(session, id_hash)
    if person is None or normalize_name(person.name) != normalize_name(party.name):
        return None
    return person


def _decode_documents(request: ApplicationRequest) -> tuple[list[_Document], list[FieldProblem]]:
    documents, problems = [], []
    seen: set[str] = set()
    for document in request.documents:
        where = f"documents.{document.code}"
        if document.code in seen:
            problems.append(FieldProblem(field=where, problem="duplicate"))
            continue
        seen.add(document.code)
        try:
            data = base64.b64decode(document.data, validate=True)
        except (binascii.Error, ValueError):
            problems.append(FieldProblem(field=where, problem="bad_encoding"))
            continue
        if len(data) > MAX_DOCUMENT_BYTES:
            problems.append(FieldProblem(field=where, problem="too_large"))
        elif not data.startswith(JPEG_MAGIC):
            problems.append(FieldProblem(field=where, problem="not_jpeg"))
        else:
            documents.append(_Document(document.code, data))
    return documents, problems


def _form_problems(
    form: FormSeed, request: ApplicationRequest, today: Any
) -> tuple[list[_Document], list[FieldProblem]]:
    problems = [
        FieldProblem(field=name, problem=problem)
        for name, problem in check_all(form.fields, request.fields, today=today)
    ]
    known_fields = {field.name for field in form.fields}
    problems += [
        FieldProblem(field=name, problem="unknown_field")
        for name in request.fields
        if name not in known_fields
    ]
    if len(request.documents) > MAX_DOCUMENTS:
        problems.append(FieldProblem(field="documents", problem="too_many"))
    documents, document_problems = _decode_documents(request)
    problems += document_problems
    allowed = {document.code for document in form.documents}
    required = {document.code for document in form.documents if document.required}
    if request.agent is not None:
        allowed.add(AUTHORISATION)
        required.add(AUTHORISATION)
        if request.agent.relation not in RELATIONS:
            problems.append(FieldProblem(field="agent.relation", problem="not_a_choice"))
    sent = {document.code for document in request.documents}
    problems += [
        FieldProblem(field=f"documents.{code}", problem="unknown_document")
        for code in sorted(sent - allowed)
    ]
    problems += [
        FieldProblem(field=f"documents.{code}", problem="required")
        for code in sorted(required - sent)
    ]
    return documents, problems


def _agent_person(
    session: Session, settings: Settings, form: FormSeed, agent: AgentParty, applicant: PersonRow
) -> PersonRow:
    if not form.agent_allowed:
        raise ApiError(422, "agent_not_allowed", f"{form.item_code} must be applied for in person")
    person = _registry_person(session, settings, agent)
    if person is None:
        raise ApiError(422, "agent_not_verified", "the agent's card and name do not check out")
    if person.id == applicant.id:
        raise ApiError(422, "agent_not_allowed", "the agent and the applicant are one person")
    return person


def _check_face(
    session: Session, form: FormSeed, request: ApplicationRequest, at_kiosk: PersonRow
) -> None:
    if not form.face_check:
        return
    if request.face_check_id is None:
        raise ApiError(422, "face_check_required", f"{form.item_code} needs a face check")
    # The face checked is of whoever stood at the kiosk: the agent when there is one.
    if not face_checks.passed_check_for(session, request.face_check_id, at_kiosk.id):
        raise ApiError(422, "face_check_failed", "face_check_id names no passed check of them")


# --- the case ---------------------------------------------------------------------------------


def _new_receipt_no(session: Session, item: ItemRow) -> str:
    department = DEPARTMENT_CODES.get(item.category_code, "99")
    while True:
        body = f"{REGION}{department}{secrets.randbelow(10**7):07d}"
        number = body + luhn_check_digit(body)
        if session.get(CaseRow, number) is None:
            return number


def _note(request: ApplicationRequest) -> tuple[str, str]:
    zh, en = SUBMITTED_NOTE
    extra_zh, extra_en = [], []
    if request.agent is not None:
        extra_zh.append(f"代办人：{RELATION_LABELS[request.agent.relation]}")
        extra_en.append(f"applied for by an agent ({request.agent.relation.replace('_', ' ')})")
    if request.assisted_by is not None:
        extra_zh.append("工作人员帮办")
        extra_en.append("assisted by hall staff")
    if extra_zh:
        zh += "（" + "；".join(extra_zh) + "）"
        en += " (" + "; ".join(extra_en) + ")"
    return zh, en


def _case_row(
    item: ItemRow, receipt_no: str, applicant: PersonRow, request: ApplicationRequest, now: datetime
) -> CaseRow:
    note, note_en = _note(request)
    step = {
        "at": now.astimezone(BEIJING).isoformat(),
        "status": "submitted",
        "department": "政务服务中心自助终端",
        "department_en": "Government service centre kiosk",
        "note": note,
        "note_en": note_en,
    }
    return CaseRow(
        receipt_no=receipt_no,
        person_no=applicant.person_no,
        item_code=item.code,
        item_name=item.name,
        item_name_en=item.name_en,
        status="submitted",
        submitted_at=now,
        updated_at=now,
        history=[step],
    )


def _receipt(session: Session, row: ApplicationRow) -> ApplicationReceipt:
    case = session.get(CaseRow, row.receipt_no)
    return ApplicationReceipt.model_validate(
        {
            "tracking_no": row.receipt_no,
            "status": case.status if case is not None else "submitted",
            "item_code": row.item_code,
            "received_at": row.received_at.astimezone(BEIJING),
        }
    )


def _find(session: Session, key: str) -> ApplicationRow | None:
    return session.scalars(
        select(ApplicationRow).where(ApplicationRow.idempotency_key == key)
    ).one_or_none()


def _replay(session: Session, row: ApplicationRow, request_hash: str) -> ApplicationReceipt:
    if not secrets.compare_digest(row.request_hash, request_hash):
        raise ApiError(
            409, "idempotency_conflict", "this Idempotency-Key came with another application"
        )
    return _receipt(session, row)


def _document_rows(application_id: int, documents: list[_Document]) -> list[ApplicationDocumentRow]:
    return [
        ApplicationDocumentRow(
            application_id=application_id,
            code=document.code,
            size=len(document.data),
            sha256=hashlib.sha256(document.data).hexdigest(),
            data=document.data,
        )
        for document in documents
    ]


def submit(
    session: Session, settings: Settings, request: ApplicationRequest, idempotency_key: str
) -> tuple[ApplicationReceipt, bool]:
    """Apply an application once per key; returns its receipt and whether it was new."""
    request_hash = content_hash(request.model_dump(mode="json"))
    existing = _find(session, idempotency_key)
    if existing is not None:
        return _replay(session, existing, request_hash), False
    form = forms.form_seed(session, request.item_code)
    item = session.get(ItemRow, request.item_code)
    assert item is not None  # form_seed found it
    applicant = _registry_person(session, settings, request.applicant)
    if applicant is None:
        raise ApiError(
            422, "applicant_not_verified", "the applicant's card and name do not check out"
        )
    agent = None
    if request.agent is not None:
        agent = _agent_person(session, settings, form, request.agent, applicant)
    now = settings.clock()
    documents, problems = _form_problems(form, request, now.astimezone(BEIJING).date())
    if problems:
        raise ApplicationInvalid(problems)
    _check_face(session, form, request, agent or applicant)
    receipt_no = _new_receipt_no(session, item)
    row = ApplicationRow(
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        receipt_no=receipt_no,
        item_code=item.code,
        kiosk_id=request.kiosk_id,
        person_id=applicant.id,
        agent_person_id=agent.id if agent is not None else None,
        agent_relation=request.agent.relation if request.agent is not None else None,
        assisted_by=request.assisted_by,
        face_check_id=request.face_check_id,
        fields=dict(request.fields),
        received_at=now,
    )
    try:
        session.add(_case_row(item, receipt_no, applicant, request, now))
        session.flush()  # the case first: the application refers to it
        session.add(row)
        session.flush()
        session.add_all(_document_rows(row.id, documents))
        session.commit()
    except IntegrityError:
        session.rollback()  # a concurrent delivery of the same key won: answer as its replay
        winner = _find(session, idempotency_key)
        if winner is None:
            raise
        return _replay(session, winner, request_hash), False
    return _receipt(session, row), True


def receipt_for_key(session: Session, idempotency_key: str) -> ApplicationReceipt:
    """The receipt of the application sent with this key; 404 `application_not_found`."""
    row = _find(session, idempotency_key)
    if row is None:
        raise ApiError(404, "application_not_found", "no application with that key")
    return _receipt(session, row)
