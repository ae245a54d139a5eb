"""The central service as a FastAPI app: `create_app(db_url)` builds it, seeded and ready."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from central import (
    __version__,
    api_applications,
    api_common,
    api_documents,
    api_eid,
    api_lookup,
    api_refusals,
    api_tickets,
    auth,
    cases,
    db,
    face_checks,
    features,
    forms,
    guide_page,
    ratings,
    service,
)
from central.api_common import IDEMPOTENCY_KEY_HEADER, RequiredIdempotencyKey
from central.db_slots import DbSlots
from central.errors import ApiError, install_error_handlers
from central.limits import BodyLimits, ServiceLimits
from central.models import (
    Catalogue,
    Certificate,
    CertificateRequest,
    CertificateVerification,
    ErrorResponse,
    Health,
    IdentityResult,
    IdentityVerifyRequest,
    ItemDetail,
    RatingReceipt,
    RatingRequest,
)
from central.seed import load_seed
from trust.keys import KioskRegistry

API_PREFIX = "/api/v1"
# Links printed on paper and shown as QR codes start with this unless create_app is told the
# service's public address (`kiosk central --public-url`); never with a request's Host header.
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8800/"

DESCRIPTION = """
Reference central service for the government service hall kiosks (政务服务自助终端).

* JSON keys are English; each field's description gives the Chinese label it stands for.
* Every error has the shape `{"error": {"code": "...", "message": "..."}}`; kiosks show their own
  wording chosen by `code`, never `message`.
* `GET /catalogue` and `GET /items/{code}` send an `ETag`; send it back in `If-None-Match` to get
  `304 Not Modified`. The catalogue's ETag is its `version` in double quotes.
* `POST /certificates` needs an `Idempotency-Key` header: the same key returns the same
  certificate, so a kiosk may retry safely.
"""


@dataclass(frozen=True)
class AppState:
    """What the request handlers share: the database and the service settings."""

    engine: Engine
    sessions: sessionmaker[Session]
    settings: service.Settings
    public_base_url: str
    db_slots: DbSlots


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.central
    return state


SessionDep = api_common.SessionDep  # gated by the pool's size, closed before serialising
StateDep = Annotated[AppState, Depends(_state)]


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorResponse} for status in statuses}


def _etag_matches(header: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match: `*` or any listed tag equal under weak comparison."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def _cached(request: Request, response: Response, etag: str) -> Response | None:
    """Set the validator headers; a 304 to send instead of the body when the client has it."""
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if _etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return None


router = APIRouter(prefix=API_PREFIX)


@router.get(
    "/health",
    tags=["service"],
    summary="Service health",
    description="`ok` when the service and its database answer; 503 otherwise.",
    responses=_errors(503),
)
def health(session: SessionDep) -> Health:
    """Liveness probe that also touches the database."""
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise ApiError(503, "database_unavailable", "the database does not answer") from exc
    return Health(status="ok", version=__version__)


@router.get(
    "/catalogue",
    tags=["catalogue"],
    summary="Service catalogue (服务目录)",
    description="All categories and their items. Supports `If-None-Match` (304).",
    response_model=Catalogue,
    responses={304: {"description": "Not modified: the kiosk's cached copy is current."}},
)
def get_catalogue(request: Request, response: Response, session: SessionDep) -> Any:
    """The catalogue, or 304 when the kiosk's copy is current."""
    result = service.catalogue(session)
    not_modified = _cached(request, response, f'"{result.version}"')
    return result if not_modified is None else not_modified


@router.get(
    "/items/{code}",
    tags=["catalogue"],
    summary="Service item with its guide (事项与办事指南)",
    description="One item with the full 办事指南. Supports `If-None-Match` (304).",
    response_model=ItemDetail,
    responses={
        304: {"description": "Not modified."},
        **_errors(404, 422),
    },
)
def get_item(
    code: str, request: Request, response: Response, session: SessionDep, state: StateDep
) -> Any:
    """One item's detail, or 404 `item_not_found`."""
    result = service.item_detail(session, code)
    result = guide_page.with_guide_url(result, state.public_base_url)
    etag = f'"{service.content_hash(result.model_dump(mode="json"))[:16]}"'
    not_modified = _cached(request, response, etag)
    return result if not_modified is None else not_modified


@router.post(
    "/identity/verify",
    tags=["identity"],
    summary="Verify a resident's identity (身份核验)",
    description=(
        "Checks the GB 11643 check digit and the reference registry. A verified person gets an "
        "opaque `person_ref` for later calls from the same kiosk. Malformed input is 422."
    ),
    responses=_errors(422),
)
def verify_identity(
    body: IdentityVerifyRequest, session: SessionDep, state: StateDep
) -> IdentityResult:
    """Verify an ID number and name; never stores the number in clear."""
    return service.verify_identity(session, state.settings, body)


@router.post(
    "/certificates",
    tags=["certificates"],
    summary="Issue a certificate (出具证明)",
    description=(
        "Issues the certificate of a `print` item for a verified person. Requires "
        "`Idempotency-Key`: a replay with the same key and body returns the same certificate "
        "(200); the same key with another body is 409."
    ),
    status_code=201,
    responses={
        200: {"model": Certificate, "description": "Replay of an already issued certificate."},
        **_errors(400, 404, 409, 422),
    },
    openapi_extra=IDEMPOTENCY_KEY_HEADER,
)
def issue_certificate(
    body: CertificateRequest,
    request: Request,
    response: Response,
    session: SessionDep,
    state: StateDep,
    idempotency_key: RequiredIdempotencyKey,
) -> Certificate:
    """Issue (or replay) a certificate."""
    base = state.public_base_url
    certificate, created = service.issue_certificate(
        session, state.settings, body, idempotency_key, base
    )
    if not created:
        response.status_code = 200
    return certificate


@router.post(
    "/ratings",
    tags=["ratings"],
    summary="Rate the service (好差评)",
    description=(
        "An anonymous rating from a kiosk, five levels: 5 非常满意, 4 满意, 3 基本满意, 2 不满意, "
        "1 非常不满意. Kiosks deliver ratings from their outbox at least once; the "
        "`Idempotency-Key` makes the service apply each exactly once (201 new, 200 replay)."
    ),
    status_code=201,
    responses={
        200: {"model": RatingReceipt, "description": "Replay."},
        **_errors(400, 404, 409, 422),
    },
    openapi_extra=IDEMPOTENCY_KEY_HEADER,
)
def submit_rating(
    body: RatingRequest,
    response: Response,
    session: SessionDep,
    state: StateDep,
    idempotency_key: RequiredIdempotencyKey,
) -> RatingReceipt:
    """Record (or replay) a rating."""
    receipt, created = ratings.record_rating(session, body, idempotency_key, state.settings.clock)
    if not created:
        response.status_code = 200
    return receipt


@router.get(
    "/certificates/{certificate_no}/verification",
    tags=["certificates"],
    summary="Check a certificate (证明核验)",
    description="For a third party holding a printed certificate: number plus verify code.",
    responses=_errors(404, 422),
)
def verify_certificate(
    certificate_no: str,
    session: SessionDep,
    code: Annotated[str, Query(min_length=1, max_length=16, description="验证码")],
) -> CertificateVerification:
    """The public facts of a certificate, or 404 `certificate_not_found`."""
    return service.verify_certificate(session, certificate_no, code)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(
    db_url: str = db.DEFAULT_DB_URL,
    *,
    seed: bool = True,
    id_hash_key: bytes | None = None,
    person_ref_ttl: timedelta = timedelta(minutes=30),
    public_base_url: str | None = None,
    clock: Callable[[], datetime] = _utc_now,
    dev_endpoints: bool = True,
    limits: ServiceLimits | None = None,
    kiosk_registry: KioskRegistry | None = None,
    auth_settings: auth.AuthSettings | None = None,
) -> FastAPI:
    """Build the central service app on `db_url`, with tables created and the seed loaded.

    `id_hash_key` defaults to a key generated once and kept in the database; `public_base_url`
    starts the verify URLs of certificates and guide QR codes (default `DEFAULT_PUBLIC_BASE_URL`,
    never the request's Host header); `limits` are request sizes and timeouts (central.limits);
    `clock` must return aware datetimes (tests move time with it); `dev_endpoints` adds
    `POST /dev/eid/mint` (e-IDs for test persons), which a production service must not have.
    `kiosk_registry` says which kiosks may call (central.auth; None admits no kiosk) and
    `auth_settings` the signature window and per-kiosk rate limits.
    """
    limits = limits or ServiceLimits()
    engine = db.make_engine(db_url, pool_timeout=limits.db_wait_s)
    db.create_schema(engine)
    sessions = db.make_sessionmaker(engine)
    with sessions() as session:
        key = id_hash_key if id_hash_key is not None else db.id_hash_key(session)
        if seed:
            load_seed(session, key=key)
        features.prepare(session, clock(), seeded=seed)
        cases.prepare(session, clock(), seeded=seed)
        forms.prepare(session, seeded=seed)
        face_checks.prepare(session, seeded=seed)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        # No 307 to the slash-less path: kiosks call exact paths, and a probe gets a plain 404.
        redirect_slashes=False,
        title="政务服务自助终端 中心服务 API (Kiosk central service)",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "service", "description": "Health and version."},
            {"name": "catalogue", "description": "服务目录与办事指南 — catalogue and guides."},
            {"name": "identity", "description": "身份核验 — identity verification."},
            {"name": "certificates", "description": "证明打印与核验 — certificates."},
        ],
    )
    app.state.central = AppState(
        engine=engine,
        sessions=sessions,
        settings=service.Settings(id_hash_key=key, person_ref_ttl=person_ref_ttl, clock=clock),
        public_base_url=public_base_url or DEFAULT_PUBLIC_BASE_URL,
        db_slots=DbSlots(db.pool_capacity(engine), limits.db_wait_s),
    )
    app.state.limits = limits
    app.add_middleware(BodyLimits, limits=limits)
    install_error_handlers(app)
    auth.install(app, kiosk_registry, auth_settings)  # before the routers: it guards them
    app.include_router(router)
    app.include_router(api_tickets.router)
    app.include_router(api_documents.router)
    app.include_router(api_eid.router)
    app.include_router(api_lookup.router)
    app.include_router(api_applications.router)
    if dev_endpoints:  # minting e-IDs and appointments, calling numbers; production has none
        app.include_router(api_eid.dev_router)
        app.include_router(api_tickets.dev_router)
    api_refusals.document_refusals(app)  # guard, limits, parser: their answers in the schema
    return app
