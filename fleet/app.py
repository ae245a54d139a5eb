"""The fleet server as a FastAPI app: `create_app(db_url, kiosk_registry=...)`.

Kiosk endpoints (docs/contracts.md section 2) are signed per request (trust/); the kiosk id in a
body must be the signing kiosk's. Heartbeats go through group commit (fleet.ingest) and are
answered only once committed. The dashboard (fleet.dashboard, when installed) adds operator pages.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, make_url, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from fleet import commands, db
from fleet.ingest import (
    BatchWriter,
    CommitFailed,
    GroupCommit,
    PgWriter,
    ReceivedBeat,
    SqliteWriter,
)
from fleet.limits import BodySizeLimit
from fleet.metrics import CONTENT_TYPE_LATEST, FleetMetrics
from fleet.models import (
    CommandAck,
    EventBatch,
    EventsStored,
    Health,
    Heartbeat,
    HeartbeatAnswer,
)
from fleet.settings import FleetSettings
from fleet.status import beat_status
from fleet.sweeper import Sweeper
from trust.asgi import kiosk_auth
from trust.keys import KioskRegistry
from trust.signing import AuthError, SignatureVerifier

API_PREFIX = "/api/v1"
BENCH_PREFIX = f"{API_PREFIX}/bench"


class FleetError(Exception):
    """An error answer of the shape `{"error": {"code": ..., "message": ...}}`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class FleetState:
    """What the handlers share."""

    settings: FleetSettings
    engine: Engine
    sessions: sessionmaker[Session]
    backend: str
    verifier: SignatureVerifier
    metrics: FleetMetrics
    sweeper: Sweeper
    ingest: GroupCommit | None = None


def _state(request: Request) -> FleetState:
    state: FleetState = request.app.state.fleet
    return state


def _auth_error(error: AuthError) -> Exception:
    return FleetError(error.status, error.code, error.message)


KioskDep = Annotated[
    str, Depends(kiosk_auth(lambda request: _state(request).verifier, on_error=_auth_error))
]
# What every signed route may answer besides its own statuses (the OpenAPI document lists them).
_SIGNED_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {
        "description": "not signed by an enrolled kiosk (unauthenticated, bad_signature, "
        "stale_signature, replayed, unknown_kiosk, revoked)"
    },
    413: {"description": "body_too_large: the body is over the server's limit"},
}


def _sync_url(db_url: str) -> str:
    url = make_url(db_url)
    if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")  # psycopg 3 is the project's sync driver
    return url.render_as_string(hide_password=False)


def _writer(state: FleetState, db_url: str) -> tuple[BatchWriter, int]:
    if state.backend == "postgresql":
        url = make_url(db_url).set(drivername="postgresql+asyncpg")
        engine = create_async_engine(
            url,
            pool_size=max(2, state.settings.commit_workers),
            # Explicit: a beat is answered only after its commit is durable.
            connect_args={"server_settings": {"synchronous_commit": "on"}},
        )
        return PgWriter(engine, insert_mode=state.settings.pg_insert), state.settings.commit_workers
    return SqliteWriter(state.sessions), 1  # SQLite has a single writer


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(body).encode(), status, media_type="application/json")


def _answer(commands_out: list[dict[str, Any]], state: FleetState) -> Response:
    at = state.settings.clock()
    return _json({"commands": commands_out, "server_time": at.isoformat()})


def _build_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)

    @router.get("/health", response_model=Health, tags=["health"])
    def health(request: Request) -> dict[str, str]:
        state = _state(request)
        with state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "database": state.backend}

    @router.post(
        "/heartbeats",
        response_model=HeartbeatAnswer,
        tags=["kiosk"],
        responses={
            403: {"description": "the body names another kiosk"},
            503: {"description": "not_stored: the beat was not committed; send it again"},
            **_SIGNED_REFUSALS,
        },
    )
    async def heartbeat(beat: Heartbeat, kiosk_id: KioskDep, request: Request) -> Response:
        """Store a heartbeat; the answer (after commit) carries this kiosk's queued commands."""
        state = _state(request)
        _same_kiosk(beat.kiosk_id, kiosk_id)
        received_at = state.settings.clock()
        status = beat_status(
            beat.devices,
            beat.paper,
            in_service=beat.in_service,
            outbox_backlog=beat.outbox_backlog,
            settings=state.settings,
        )
        assert state.ingest is not None, "the app's lifespan has not run"
        try:
            handed_out = await state.ingest.submit(ReceivedBeat(beat, received_at, status))
        except CommitFailed as exc:
            raise FleetError(503, "not_stored", "heartbeat not stored; send it again") from exc
        return _answer(handed_out, state)

    @router.post("/events", response_model=EventsStored, tags=["kiosk"], responses=_SIGNED_REFUSALS)
    def events(batch: EventBatch, kiosk_id: KioskDep, request: Request) -> EventsStored:
        """Store events; one the kiosk sends again (same event_id) is counted as a duplicate."""
        state = _state(request)
        stored = _store_events(state, kiosk_id, batch)
        state.metrics.events_stored.inc(stored)
        return EventsStored(stored=stored, duplicates=len(batch.events) - stored)

    @router.post(
        "/commands/{command_id}/ack",
        tags=["kiosk"],
        responses={404: {"description": "unknown_command: not this kiosk's"}, **_SIGNED_REFUSALS},
    )
    def ack(
        command_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
        body: CommandAck,
        kiosk_id: KioskDep,
        request: Request,
    ) -> dict[str, Any]:
        """Record the kiosk's answer to one of its commands (404 for any other command)."""
        state = _state(request)
        try:
            with state.sessions.begin() as session:
                commands.record_ack(
                    session, kiosk_id, command_id, body.result, body.detail, state.settings.clock()
                )
        except commands.UnknownCommand:
            raise FleetError(404, "unknown_command", "no such command for this kiosk") from None
        return {}

    return router


def _same_kiosk(in_body: str, signer: str) -> None:
    if in_body != signer:
        raise FleetError(403, "wrong_kiosk", "kiosk_id in the body is not the signing kiosk")


def _store_events(state: FleetState, kiosk_id: str, batch: EventBatch) -> int:
    if not batch.events:
        return 0
    at = state.settings.clock()
    unique: dict[str, Any] = {}
    for e in batch.events:  # in the kiosk's order; the first of repeats wins
        unique.setdefault(e.event_id, e)
    rows = [
        {
            "kiosk_id": kiosk_id,
            "event_id": e.event_id,
            "kind": e.kind,
            "occurred_at": e.occurred_at,
            "received_at": at,
            "device": e.device,
            "detail": dict(e.detail),
        }
        for e in unique.values()
    ]
    insert = pg_insert if state.backend == "postgresql" else sqlite_insert
    statement = (
        insert(db.EventRow)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["kiosk_id", "event_id"])
        .returning(db.EventRow.event_id)
    )
    with state.sessions.begin() as session:
        return len(session.execute(statement).all())


def _bench_router() -> APIRouter:
    """No-op twins of POST /heartbeats: the same validation (and signature), no database."""
    router = APIRouter(prefix=BENCH_PREFIX, tags=["bench"], include_in_schema=False)

    @router.post("/noop-heartbeats", response_model=HeartbeatAnswer)
    async def noop_signed(beat: Heartbeat, kiosk_id: KioskDep, request: Request) -> Response:
        _same_kiosk(beat.kiosk_id, kiosk_id)
        return _answer([], _state(request))

    @router.post("/noop-heartbeats-unsigned", response_model=HeartbeatAnswer)
    async def noop_unsigned(beat: Heartbeat, request: Request) -> Response:
        return _answer([], _state(request))

    return router


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(FleetError)
    async def fleet_error(_request: Request, exc: FleetError) -> Response:
        headers = {"WWW-Authenticate": "Signature"} if exc.status == 401 else None
        return JSONResponse(
            {"error": {"code": exc.code, "message": exc.message}}, exc.status, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> Response:
        fields = [".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()][:20]
        return JSONResponse(
            {"error": {"code": "invalid_request", "message": "; ".join(fields) or "invalid body"}},
            422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400:  # FastAPI's "error parsing the body": a malformed body, 422
            return JSONResponse(
                {"error": {"code": "invalid_request", "message": str(exc.detail)}}, 422
            )
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            {"error": {"code": code, "message": str(exc.detail)}},
            exc.status_code,
            headers=getattr(exc, "headers", None),
        )


def _install_dashboard(app: FastAPI, sessions: sessionmaker[Session], settings: Any) -> None:
    try:
        dashboard = importlib.import_module("fleet.dashboard")
    except ModuleNotFoundError as exc:
        if exc.name != "fleet.dashboard":
            raise
        return
    dashboard.install(app, sessions, settings)


def create_app(
    db_url: str, *, kiosk_registry: KioskRegistry, settings: FleetSettings | None = None
) -> FastAPI:
    """The fleet server on `db_url` (SQLite or PostgreSQL), admitting the registry's kiosks."""
    settings = settings or FleetSettings()
    if settings.pg_insert not in PgWriter.MODES:
        raise ValueError(f"pg_insert must be one of {PgWriter.MODES}, not {settings.pg_insert!r}")
    engine = db.make_engine(_sync_url(db_url))
    db.create_schema(engine)
    sessions = db.make_sessionmaker(engine)
    metrics = FleetMetrics()
    state = FleetState(
        settings=settings,
        engine=engine,
        sessions=sessions,
        backend=engine.dialect.name,
        verifier=SignatureVerifier(kiosk_registry),
        metrics=metrics,
        sweeper=Sweeper(sessions, settings, metrics),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        writer, workers = _writer(state, db_url)
        state.ingest = GroupCommit(
            writer,
            metrics,
            batch_max=settings.batch_max,
            workers=workers,
            resend_after_s=settings.command_resend_s,
        )
        state.ingest.start()
        sweeper = (
            asyncio.create_task(state.sweeper.run_forever(), name="fleet-sweeper")
            if settings.run_sweeper
            else None
        )
        try:
            yield
        finally:
            if sweeper is not None:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper
            await state.ingest.close()
            state.ingest = None

    app = FastAPI(
        title="Kiosk fleet server",
        version="1.0",
        description="Heartbeats, events and remote commands of the kiosks (signed requests).",
        lifespan=lifespan,
    )
    app.state.fleet = state
    _install_errors(app)
    app.include_router(_build_router())
    if settings.bench_routes:
        app.include_router(_bench_router())

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    _install_dashboard(app, sessions, settings)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app
