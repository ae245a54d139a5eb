"""Typed client of the central service API (`/api/v1`, contract in central/README.md).

The kiosk reaches the central service over HTTP only: this module mirrors the contract in its own
models and never imports `central`. Every failure surfaces as one of three exceptions, so callers
(flows, the outbox) decide on the class alone, as with httpx's tree:

    CentralError
    ├── CentralUnavailable    connect errors, timeouts, 5xx, 429: try again later
    ├── CentralRejected       4xx: permanent for this request; carries the API error code
    └── CentralProtocolError  the answer does not match the contract (version skew, a proxy page)

GETs are retried with bounded exponential back-off; `issue_certificate` too, because it carries an
Idempotency-Key; `verify_identity` only when the request never left the kiosk. Request bodies,
ID numbers and names never appear in logs or exception messages.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    RootModel,
    ValidationError,
    field_validator,
    model_validator,
)
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)

from kiosk.central_apply import ApplicationForm, ApplicationReceipt, FaceCheck
from rules.receipts import (  # noqa: F401  (part of the client's interface)
    CASE_QR_PREFIX,
    parse_case_qr,
    receipt_no_is_valid,
)

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
USER_AGENT = "kiosk-central-client/1"

Flow = Literal["guide", "lookup", "print", "submit", "ticket"]
IdentityNeed = Literal["none", "id_card", "id_card_face"]
IdentityReason = Literal[
    "ok",
    "not_found",
    "name_mismatch",
    "invalid_check_digit",
    "card_expired",
    "token_invalid",
    "token_expired",
    "token_used",
    "other",
]
KNOWN_FLOWS: frozenset[str] = frozenset(("guide", "lookup", "print", "submit", "ticket"))
KNOWN_IDENTITIES: frozenset[str] = frozenset(("none", "id_card", "id_card_face"))
Prints = Literal["none", "receipt", "a4"]
LookupKind = Literal["records", "cases", "certificate"]
KNOWN_PRINTS: frozenset[str] = frozenset(("none", "receipt", "a4"))
KNOWN_LOOKUPS: frozenset[str] = frozenset(("records", "cases", "certificate"))
_KNOWN_REASONS = frozenset(
    (
        "ok",
        "not_found",
        "name_mismatch",
        "invalid_check_digit",
        "card_expired",  # valid_until before today
        "token_invalid",  # e-ID: not a code, or its signature does not hold
        "token_expired",  # e-ID: older than its lifetime (about two minutes)
        "token_used",  # e-ID: each code is accepted once
    )
)


# --- errors -----------------------------------------------------------------------------------


class CentralError(Exception):
    """Base of every failure talking to the central service."""

    retryable: ClassVar[bool] = False


class CentralUnavailable(CentralError):
    """The service could not be reached or is overloaded; the same request may succeed later."""

    retryable: ClassVar[bool] = True

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        retry_after: float | None = None,
        request_sent: bool = True,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.retry_after = retry_after
        # False only when the connection never opened, so the server cannot have acted on it.
        self.request_sent = request_sent


class CentralRejected(CentralError):
    """The service refused the request (4xx); repeating it unchanged will not help."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(f"HTTP {status_code} {code}: {message}")
        self.status_code = status_code
        self.code = code
        self.message = message


class CentralProtocolError(CentralError):
    """The service answered, but not in the shape the contract promises."""


# --- models (mirror of the contract) ----------------------------------------------------------


class _Wire(BaseModel):
    # Strict: "yes" is not a bool and 1 is not a string; the contract says what types to expect.
    # Unknown fields are ignored so a newer central service can add fields without breaking us.
    model_config = ConfigDict(frozen=True, extra="ignore", strict=True)


class Health(_Wire):
    """`GET /health`."""

    status: Literal["ok"]
    version: str


class Queue(_Wire):
    """The window queue a ticket item draws its number in (e.g. `A`, 户政业务)."""

    code: str
    name: str
    name_en: str


class ItemSummary(_Wire):
    """A service item (事项) as listed in the catalogue.

    Fields added after the first contract have defaults, so an older service's items still parse.
    """

    code: str
    name: str
    name_en: str
    flow: Flow
    identity: IdentityNeed
    department: str
    department_en: str = ""
    prints: Prints = "none"
    lookup: LookupKind | None = None
    queue: Queue | None = None

    @model_validator(mode="before")
    @classmethod
    def _older_print_items_print_receipts(cls, value: Any) -> Any:
        # Before `prints` existed every print item printed on the receipt printer.
        if isinstance(value, Mapping) and "prints" not in value and value.get("flow") == "print":
            return {**value, "prints": "receipt"}
        return value


class Category(_Wire):
    """A catalogue category with its items."""

    code: str
    name: str
    name_en: str
    icon: str
    items: list[ItemSummary]

    @field_validator("items", mode="before")
    @classmethod
    def _skip_unknown_kinds(cls, value: Any) -> Any:
        # A newer service may add flow or identity kinds this kiosk cannot run: hide those items
        # rather than reject the whole catalogue and leave the kiosk on a stale one.
        if not isinstance(value, list):
            return value
        kept = [item for item in value if not isinstance(item, Mapping) or _runnable(item)]
        if len(kept) < len(value):
            log.warning("catalogue: skipped %d item(s) of unknown kind", len(value) - len(kept))
        return kept


def _runnable(item: Mapping[str, Any]) -> bool:
    # False only for a kind given as a string this kiosk does not know; wrong types stay errors.
    known = {
        "flow": KNOWN_FLOWS,
        "identity": KNOWN_IDENTITIES,
        "prints": KNOWN_PRINTS,
        "lookup": KNOWN_LOOKUPS,
    }
    return not any(
        isinstance(item.get(key), str) and item[key] not in kinds for key, kinds in known.items()
    )


class Catalogue(_Wire):
    """`GET /catalogue`. `version` doubles as the ETag."""

    version: str
    categories: list[Category]

    def items(self) -> list[ItemSummary]:
        """Every item, in catalogue order."""
        return [item for category in self.categories for item in category.items]


class Material(_Wire):
    """申报材料 — one document to bring."""

    name: str
    copies: int
    note: str


class Guide(_Wire):
    """办事指南 — the service guide of an item."""

    conditions: list[str]  # 受理条件
    materials: list[Material]  # 申报材料
    steps: list[str]  # 办理流程
    time_limit: str  # 承诺时限
    fees: str  # 收费标准
    legal_basis: list[str]  # 法定依据
    phone: str  # 咨询电话
    location: str  # 办理地点


class SampleField(_Wire):
    """One filled-in field of a sample form."""

    label: str
    label_en: str
    value: str
    value_en: str


class SampleForm(_Wire):
    """申请书示范文本 — an application form filled in with sample values."""

    title: str
    title_en: str
    fields: list[SampleField]


class ItemDetail(ItemSummary):
    """`GET /items/{code}`: an item with its guide (and, from newer services, in English)."""

    category: str
    guide: Guide
    guide_en: Guide | None = None
    sample_form: SampleForm | None = None
    certificate_title: str | None = None
    guide_url: str | None = None  # the phone-readable guide page, for a QR code

    # The guide's fields, readable straight off the item as well (views list them by name).
    @property
    def conditions(self) -> list[str]:
        """受理条件."""
        return self.guide.conditions

    @property
    def materials(self) -> list[Material]:
        """申报材料."""
        return self.guide.materials

    @property
    def steps(self) -> list[str]:
        """办理流程."""
        return self.guide.steps

    @property
    def time_limit(self) -> str:
        """承诺时限."""
        return self.guide.time_limit

    @property
    def fees(self) -> str:
        """收费标准."""
        return self.guide.fees

    @property
    def legal_basis(self) -> list[str]:
        """法定依据."""
        return self.guide.legal_basis

    @property
    def phone(self) -> str:
        """咨询电话."""
        return self.guide.phone

    @property
    def location(self) -> str:
        """办理地点."""
        return self.guide.location


class IdentityResult(_Wire):
    """`POST /identity/verify`. `person_ref` is opaque and short-lived."""

    verified: bool
    person_ref: str | None
    reason: IdentityReason
    expires_at: AwareDatetime | None = None
    # Only from `POST /identity/eid`: the kiosk saw no card, so the service says whose it is.
    name_masked: str | None = None
    card_type: str | None = None

    @field_validator("reason", mode="before")
    @classmethod
    def _unknown_reason(cls, value: Any) -> Any:
        return "other" if isinstance(value, str) and value not in _KNOWN_REASONS else value

    @model_validator(mode="after")
    def _ref_iff_verified(self) -> IdentityResult:
        if self.verified != bool(self.person_ref):
            raise ValueError("person_ref must be present exactly when verified")
        return self


class CertificateLine(_Wire):
    """One labelled line of a certificate."""

    label: str
    value: str


class Certificate(_Wire):
    """`POST /certificates`: a certificate ready to print (identifiers already masked)."""

    certificate_no: str
    item_code: str
    title: str
    issuer: str
    holder_name_masked: str
    issued_at: AwareDatetime
    lines: list[CertificateLine]
    verify_code: str
    verify_url: str


class RatingReceipt(_Wire):
    """The service's acknowledgement of a rating."""

    rating_id: int
    received_at: AwareDatetime


class RatingReason(_Wire):
    """`GET /ratings/reasons`: a 差评 reason a resident may pick (levels 1 and 2)."""

    code: str
    label: str
    label_en: str


class _RatingReasons(RootModel[list[RatingReason]]):
    model_config = ConfigDict(frozen=True, strict=True)


class Ticket(_Wire):
    """`POST /tickets`, `POST /appointments/check-in`: a queue ticket (排队号) to print."""

    ticket_no: str
    queue_code: str
    queue_name: str
    queue_name_en: str
    item_code: str
    people_ahead: int
    estimated_wait_min: int
    issued_at: AwareDatetime
    priority: bool = False  # an appointment holder's ticket, called before walk-ins

    @model_validator(mode="after")
    def _sane(self) -> Ticket:
        if self.people_ahead < 0 or self.estimated_wait_min < 0:
            raise ValueError("people_ahead and estimated_wait_min must not be negative")
        if not self.ticket_no:
            raise ValueError("ticket_no must not be empty")
        return self


# A receipt number (受理编号): 16 digits, the last a Luhn check digit; its QR code "CASE:<no>".


class CaseStep(_Wire):
    """One step of a case's history (办理过程). Unknown statuses are kept: labels come along."""

    at: AwareDatetime
    status: str
    status_label: str
    status_label_en: str = ""
    department: str = ""
    department_en: str = ""
    note: str = ""
    note_en: str | None = None


class Case(_Wire):
    """`GET /cases/{receipt_no}`: a case (办件) and its progress; the holder's name is masked."""

    receipt_no: str
    item_code: str
    item_name: str
    item_name_en: str = ""
    status: str
    status_label: str
    status_label_en: str = ""
    submitted_at: AwareDatetime
    updated_at: AwareDatetime
    holder_name_masked: str
    history: list[CaseStep]
    qr_payload: str | None = None

    @model_validator(mode="after")
    def _sane(self) -> Case:
        if not receipt_no_is_valid(self.receipt_no):
            raise ValueError("receipt_no is not 16 digits with a valid check digit")
        if not self.history:
            raise ValueError("a case has at least one step")
        return self


class _CaseList(_Wire):
    cases: list[Case]


class RecordColumn(_Wire):
    """One column of a record table, with its heading in both languages."""

    key: str
    label: str
    label_en: str = ""


class RecordPage(_Wire):
    """`GET /records/{item_code}`: one page of the person's records, newest first."""

    item_code: str = ""
    title: str
    title_en: str = ""
    columns: list[RecordColumn]
    rows: list[list[str]]
    page: int
    pages: int
    total: int
    page_size: int | None = None

    @model_validator(mode="after")
    def _consistent(self) -> RecordPage:
        if not 1 <= self.page <= self.pages or self.total < 0 or len(self.rows) > self.total:
            raise ValueError("page, pages, total and rows do not agree")
        if any(len(row) != len(self.columns) for row in self.rows):
            raise ValueError("every row needs one cell per column")
        return self


class _ErrorBody(_Wire):
    code: str
    message: str


class _ErrorResponse(_Wire):
    error: _ErrorBody


M = TypeVar("M", bound=BaseModel)


# --- retry policy -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential back-off: at most `attempts` tries, none started after `total` s."""

    attempts: int = 4
    initial: float = 0.25
    maximum: float = 2.0
    total: float = 8.0


DEFAULT_RETRY = RetryPolicy()
NO_RETRY = RetryPolicy(attempts=1)


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _describe(exc: ValidationError) -> str:
    # Locations and messages only: the offending values may be personal data.
    parts = []
    for error in exc.errors(include_url=False, include_input=False)[:3]:
        location = ".".join(str(part) for part in error["loc"]) or "(root)"
        parts.append(f"{location}: {error['msg']}")
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


# --- the client -------------------------------------------------------------------------------


class CentralClient:
    """Synchronous client of the central service; safe to share between worker threads."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 5.0,
        kiosk_id: str,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        auth: httpx.Auth | None = None,
    ) -> None:
        if not kiosk_id:
            raise ValueError("kiosk_id must not be empty")
        root = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=root if root.endswith(API_PREFIX) else root + API_PREFIX,
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            auth=auth,  # trust.signing.KioskSigner: every request signed as this kiosk
        )
        self.kiosk_id = kiosk_id
        self.retry = retry
        self._catalogue: Catalogue | None = None
        self._outage = False

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> CentralClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- API methods ---

    def health(self) -> Health:
        """The service's status and version."""
        return self._parse(self._request("GET", "/health"), Health, "health")

    def catalogue(self, known: Catalogue | None = None) -> Catalogue:
        """The catalogue, revalidated with its ETag against `known` or the last one fetched."""
        cached = known or self._catalogue
        headers = {"If-None-Match": f'"{cached.version}"'} if cached else None
        response = self._request("GET", "/catalogue", headers=headers)
        if response.status_code == 304:
            if cached is None:
                raise CentralProtocolError("catalogue: 304 Not Modified to an unconditional GET")
            result = cached
        else:
            result = self._parse(response, Catalogue, "catalogue")
        self._catalogue = result
        return result

    def item(self, code: str) -> ItemDetail:
        """One item with its full guide (办事指南)."""
        path = f"/items/{quote(code, safe='')}"
        return self._parse(self._request("GET", path), ItemDetail, "item")

    def verify_identity(
        self,
        id_number: str,
        name: str,
        card_type: str = "resident",
        *,
        method: str = "id_card",
        valid_until: date | None = None,
    ) -> IdentityResult:
        """Check a card's number and name; a verified result carries the `person_ref` to use next.

        `card_type` names the card read (`resident`, `hk_mo_tw_residence`,
        `foreign_permanent_2017`, `foreign_permanent_2023`); the registry is searched for it.
        `method` is `id_card` or `social_security_card` (its 社会保障号码 is the ID number);
        `valid_until`, the card's 有效期限 end, lets the service refuse it as `card_expired`.
        """
        body: dict[str, Any] = {
            "id_number": id_number,
            "name": name,
            "kiosk_id": self.kiosk_id,
            "method": method,
            "card_type": card_type,
        }
        if valid_until is not None:
            body["valid_until"] = valid_until.isoformat()
        # No Idempotency-Key here, so only retry what the server cannot have seen, or was told
        # to come back for (429 means the request was not processed).
        response = self._request(
            "POST",
            "/identity/verify",
            json_body=body,
            retry_when=lambda exc: not exc.request_sent or exc.status_code == 429,
        )
        return self._parse(response, IdentityResult, "identity/verify")

    def issue_certificate(
        self, item_code: str, person_ref: str, idempotency_key: str
    ) -> Certificate:
        """Issue the certificate of a print item; retries are safe thanks to the key."""
        if not idempotency_key:
            raise ValueError("idempotency_key must not be empty")
        body = {"item_code": item_code, "person_ref": person_ref, "kiosk_id": self.kiosk_id}
        response = self._request(
            "POST",
            "/certificates",
            json_body=body,
            headers={"Idempotency-Key": idempotency_key},
        )
        if response.status_code not in (200, 201):
            raise CentralProtocolError(f"certificates: unexpected HTTP {response.status_code}")
        return self._parse(response, Certificate, "certificates")

    def submit_rating(self, payload: dict[str, Any], idempotency_key: str) -> RatingReceipt:
        """Deliver a 好差评 rating; safe to repeat with the same key (applied once)."""
        if not idempotency_key:
            raise ValueError("idempotency_key must not be empty")
        body = {k: payload.get(k) for k in ("item_code", "level", "rated_at")}
        # Newer fields only when set, so an older service is not sent what it does not know.
        body.update({k: payload[k] for k in ("reasons", "case_no", "flow") if payload.get(k)})
        body["kiosk_id"] = self.kiosk_id
        response = self._request(
            "POST", "/ratings", json_body=body, headers={"Idempotency-Key": idempotency_key}
        )
        if response.status_code not in (200, 201):
            raise CentralProtocolError(f"ratings: unexpected HTTP {response.status_code}")
        return self._parse(response, RatingReceipt, "ratings")

    def rating_reasons(self) -> list[RatingReason]:
        """The 差评 reasons to offer for levels 1 and 2, in display order."""
        response = self._request("GET", "/ratings/reasons")
        return self._parse(response, _RatingReasons, "ratings/reasons").root

    def take_ticket(
        self, item_code: str, idempotency_key: str, person_ref: str | None = None
    ) -> Ticket:
        """取号 in the item's queue; retries are safe thanks to the key."""
        body: dict[str, Any] = {"item_code": item_code, "kiosk_id": self.kiosk_id}
        if person_ref is not None:
            body["person_ref"] = person_ref
        return self._post_ticket("/tickets", body, idempotency_key)

    def check_in(
        self,
        idempotency_key: str,
        code: str | None = None,
        person_ref: str | None = None,
    ) -> Ticket:
        """预约签到 by the appointment QR code (`APPT:<code>` or the code) or by the person."""
        if (code is None) == (person_ref is None):
            raise ValueError("give exactly one of code and person_ref")
        body: dict[str, Any] = {"kiosk_id": self.kiosk_id}
        body.update({"code": code} if code is not None else {"person_ref": person_ref})
        return self._post_ticket("/appointments/check-in", body, idempotency_key)

    def certificate_pdf(self, certificate_no: str, verify_code: str) -> bytes:
        """The issued certificate as an A4 PDF, for the document printer."""
        path = f"/certificates/{quote(certificate_no, safe='')}/pdf?code={quote(verify_code)}"
        response = self._request("GET", path, headers={"Accept": "application/pdf"})
        content_type = response.headers.get("content-type", "")
        if response.status_code != 200 or not content_type.startswith("application/pdf"):
            raise CentralProtocolError(
                f"certificate pdf: HTTP {response.status_code} ({content_type or 'no type'})"
            )
        if not response.content.startswith(b"%PDF-"):
            raise CentralProtocolError("certificate pdf: body is not a PDF")
        return response.content

    def verify_eid(self, token: str) -> IdentityResult:
        """Identify by an electronic ID (电子身份证) QR code; the result names the card's holder.

        Each code is accepted once, so the request is retried only when it never left the kiosk.
        """
        response = self._request(
            "POST",
            "/identity/eid",
            json_body={"token": token, "kiosk_id": self.kiosk_id},
            retry_when=lambda exc: not exc.request_sent or exc.status_code == 429,
        )
        return self._parse(response, IdentityResult, "identity/eid")

    def case(self, receipt_no: str) -> Case:
        """A case's progress by its receipt number (anyone holding the number may ask)."""
        path = f"/cases/{quote(receipt_no, safe='')}"
        return self._parse(self._request("GET", path), Case, "case")

    def cases(self, person_ref: str) -> list[Case]:
        """The identified person's cases, most recently updated first."""
        params = {"person_ref": person_ref, "kiosk_id": self.kiosk_id}
        response = self._request("GET", "/cases", params=params)
        return self._parse(response, _CaseList, "cases").cases

    def records(
        self, item_code: str, person_ref: str, page: int = 1, page_size: int = 12
    ) -> RecordPage:
        """One page of the identified person's records for a lookup item."""
        params = {
            "person_ref": person_ref,
            "kiosk_id": self.kiosk_id,
            "page": str(page),
            "page_size": str(page_size),
        }
        path = f"/records/{quote(item_code, safe='')}"
        return self._parse(self._request("GET", path, params=params), RecordPage, "records")

    def application_form(self, item_code: str) -> ApplicationForm:
        """The form of a submit item: fields, documents, face check, 代办 rules."""
        path = f"/items/{quote(item_code, safe='')}/form"
        return self._parse(self._request("GET", path), ApplicationForm, "form")

    def submit_application(
        self, payload: dict[str, Any], idempotency_key: str
    ) -> ApplicationReceipt:
        """Deliver an application (`kiosk.flows.apply.Application.payload()`); applied once.

        A 422 (`application_invalid` and the like) is a CentralRejected: permanent.
        """
        if not idempotency_key:
            raise ValueError("idempotency_key must not be empty")
        response = self._request(
            "POST", "/applications", json_body=payload, headers={"Idempotency-Key": idempotency_key}
        )
        if response.status_code not in (200, 201):
            raise CentralProtocolError(f"applications: unexpected HTTP {response.status_code}")
        return self._parse(response, ApplicationReceipt, "applications")

    def application(self, idempotency_key: str) -> ApplicationReceipt:
        """The receipt of an application delivered with this key (404: not arrived yet)."""
        path = f"/applications/{quote(idempotency_key, safe='')}"
        return self._parse(self._request("GET", path), ApplicationReceipt, "application")

    def check_face(
        self, person_ref: str, jpeg: bytes, frames: int, seconds: float, moved: bool
    ) -> FaceCheck:
        """人证核验: compare a capture with the person's enrolled face (never retried once sent)."""
        body = {
            "person_ref": person_ref,
            "kiosk_id": self.kiosk_id,
            "image": base64.b64encode(jpeg).decode("ascii"),
            "presence": {"frames": frames, "seconds": seconds, "moved": moved},
        }
        # Each failed check counts towards the lockout, so only retry what was never sent.
        response = self._request(
            "POST",
            "/identity/face",
            json_body=body,
            retry_when=lambda exc: not exc.request_sent or exc.status_code == 429,
        )
        return self._parse(response, FaceCheck, "identity/face")

    def _post_ticket(self, path: str, body: dict[str, Any], idempotency_key: str) -> Ticket:
        if not idempotency_key:
            raise ValueError("idempotency_key must not be empty")
        response = self._request(
            "POST", path, json_body=body, headers={"Idempotency-Key": idempotency_key}
        )
        what = path.strip("/")
        if response.status_code not in (200, 201):
            raise CentralProtocolError(f"{what}: unexpected HTTP {response.status_code}")
        return self._parse(response, Ticket, what)

    # --- plumbing ---

    def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        retry_when: Callable[[CentralUnavailable], bool] = lambda _exc: True,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        policy = self.retry

        def should_retry(exc: BaseException) -> bool:
            if not isinstance(exc, CentralUnavailable) or not retry_when(exc):
                return False
            # A server asking for a longer pause than we would wait is honoured by giving up.
            return exc.retry_after is None or exc.retry_after <= policy.maximum

        backoff = wait_exponential_jitter(
            multiplier=policy.initial, max=policy.maximum, jitter=policy.initial
        )

        def wait(state: RetryCallState) -> float:
            delay = backoff(state)
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, CentralUnavailable) and exc.retry_after is not None:
                delay = max(delay, exc.retry_after)
            return delay

        retrying = Retrying(
            stop=stop_after_attempt(policy.attempts) | stop_before_delay(policy.total),
            wait=wait,
            retry=retry_if_exception(should_retry),
            before_sleep=lambda state: log.debug(
                "%s %s failed (attempt %d), retrying", method, path, state.attempt_number
            ),
            reraise=True,
        )
        try:
            # Query parameters (person_ref) stay out of `path`, which is what gets logged.
            response = retrying(self._attempt, method, path, json_body, headers, params)
        except CentralUnavailable as exc:
            if not self._outage:
                self._outage = True
                log.warning("central service unavailable (%s %s): %s", method, path, exc)
            raise
        if self._outage:
            self._outage = False
            log.info("central service reachable again")
        return response

    def _attempt(
        self,
        method: str,
        path: str,
        json_body: dict[str, Any] | None,
        headers: dict[str, str] | None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        try:
            response = self._http.request(
                method, path, json=json_body, headers=headers, params=params
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise CentralUnavailable(
                f"cannot connect: {type(exc).__name__}", request_sent=False
            ) from exc
        except httpx.TransportError as exc:
            raise CentralUnavailable(f"transport failed: {type(exc).__name__}") from exc
        except httpx.RequestError as exc:
            raise CentralProtocolError(
                f"{method} {path}: unreadable response: {type(exc).__name__}"
            ) from exc
        status = response.status_code
        if 200 <= status < 300 or status == 304:
            return response
        if status == 429 or 500 <= status < 600:
            raise CentralUnavailable(
                f"HTTP {status}",
                status_code=status,
                retry_after=_parse_retry_after(response.headers.get("Retry-After")),
            )
        if 400 <= status < 500:
            raise self._rejection(response)
        raise CentralProtocolError(f"{method} {path}: unexpected HTTP {status}")

    @staticmethod
    def _rejection(response: httpx.Response) -> CentralRejected:
        try:
            error = _ErrorResponse.model_validate_json(response.content).error
        except ValidationError:
            # A 4xx from something in between (proxy, wrong base URL) is still a refusal.
            reason = response.reason_phrase or "client error"
            return CentralRejected(response.status_code, f"http_{response.status_code}", reason)
        return CentralRejected(response.status_code, error.code, error.message)

    @staticmethod
    def _parse(response: httpx.Response, model: type[M], what: str) -> M:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            if any(error["type"] == "json_invalid" for error in exc.errors()):
                content_type = response.headers.get("content-type", "none")
                message = f"HTTP {response.status_code} body is not JSON ({content_type})"
            else:
                message = f"response does not match the contract: {_describe(exc)}"
            raise CentralProtocolError(f"{what}: {message}") from None
