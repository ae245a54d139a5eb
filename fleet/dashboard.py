"""The operators' dashboard: login, fleet summary, kiosk table, kiosk page, remote commands.

Server-rendered Jinja2 pages under /dashboard (Chinese first, English on a switch), a little
vanilla JS that follows a command's state, and JSON reads under /api/v1 for the same data.
Nothing is loaded from the internet. `install(app, sessions, settings)` adds it to a FastAPI app.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from fleet import dashboard_queries as q
from fleet.db import CommandRow, KioskRow, now
from fleet.i18n import HTML_LANG, LANGUAGE_NAMES, LANGUAGES, N_, pick_language, translations
from fleet.operators import (
    OPERATOR,
    LockoutPolicy,
    OperatorSession,
    SessionSigner,
    audit,
    authenticate,
    role_of,
    same_text,
)
from fleet.status import FAULT_DEVICE_STATES, FAULT_PAPER, STATUSES

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
SESSION_COOKIE = "fleet_session"
LOGIN_CSRF_COOKIE = "fleet_login_csrf"
LANG_COOKIE = "fleet_lang"
MAX_FORM_BYTES = 8 * 1024
COMMAND_ACTIONS = ("out_of_service", "back_in_service", "reload_config", "restart")
CommandAction = Literal["out_of_service", "back_in_service", "reload_config", "restart"]
# The page may load only its own scripts, styles and images; the chart is inline SVG markup.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

# Labels shown for values that arrive as codes; translated where they are shown.
STATUS_LABELS = {
    "ok": N_("OK"),
    "warning": N_("Warning"),
    "fault": N_("Fault"),
    "offline": N_("Offline"),
}
DEVICE_LABELS = {
    "receipt_printer": N_("Receipt printer"),
    "document_printer": N_("A4 printer"),
    "idcard": N_("ID card reader"),
    "smartcard": N_("Social security card reader"),
    "qr_scanner": N_("QR scanner"),
    "camera": N_("Camera"),
}
DEVICE_STATE_LABELS = {
    "online": N_("online"),
    "offline": N_("offline"),
    "busy": N_("busy"),
    "hardware_error": N_("hardware error"),
    "user_error": N_("needs attention"),
}
PAPER_LABELS = {"full": N_("full"), "low": N_("low"), "out": N_("out"), "jammed": N_("jammed")}
ALERT_LABELS = {
    "offline": N_("Offline"),
    "device_fault": N_("Device fault"),
    "paper_low": N_("Paper low"),
    "paper_out": N_("Paper out"),
    "backlog_growing": N_("Backlog growing"),
}
SEVERITY_LABELS = {"warning": N_("Warning"), "critical": N_("Critical")}
EVENT_LABELS = {
    "fault": N_("Fault"),
    "recovery": N_("Recovery"),
    "maintenance": N_("Maintenance"),
    "service_state": N_("Service state"),
}
ACTION_LABELS = {
    "out_of_service": N_("Out of service"),
    "back_in_service": N_("Back in service"),
    "reload_config": N_("Reload configuration"),
    "restart": N_("Restart"),
}
COMMAND_STATE_LABELS = {
    "queued": N_("queued"),
    "sent": N_("sent"),
    "done": N_("done"),
    "failed": N_("failed"),
}
ROLE_LABELS = {"viewer": N_("Viewer"), "operator": N_("Operator")}


def alert_detail(alert: Any, gettext: Callable[[str], str]) -> str:
    """An alert's detail in the page's language. The stored message is English for webhook
    receivers; its parts are codes (fleet.alerts writes them), read back here."""
    message = str(alert.message or "")
    tail = message.rsplit(" ", 1)[-1]  # "idcard: hardware_error", "receipt_printer: paper low"
    if alert.kind == "device_fault" and tail in DEVICE_STATE_LABELS:
        return gettext(DEVICE_STATE_LABELS[tail])
    if alert.kind in ("paper_out", "paper_low") and tail in PAPER_LABELS:
        return gettext("Paper: %(level)s") % {"level": gettext(PAPER_LABELS[tail])}
    if alert.kind == "offline":
        minutes = [word for word in message.split() if word.isdigit()]
        if minutes:
            return gettext("No heartbeat for %(n)s min") % {"n": minutes[0]}
    if alert.kind == "backlog_growing":
        return gettext("The outbox backlog keeps growing")
    return message


@dataclass
class DashboardSettings:
    """What the dashboard reads from the fleet settings (`getattr`, with these defaults)."""

    secret: bytes
    timezone: ZoneInfo
    session_s: float = 8 * 3600
    page_size: int = 50
    events_page_size: int = 20
    summary_cache_s: float = 15.0
    cookie_secure: bool = False
    lockout: LockoutPolicy = LockoutPolicy()
    clock: Callable[[], datetime] = now

    @classmethod
    def from_settings(cls, settings: Any) -> DashboardSettings:
        secret = getattr(settings, "dashboard_secret", "") or os.environ.get(
            "FLEET_DASHBOARD_SECRET", ""
        )
        if not secret:
            log.warning(
                "no dashboard_secret / FLEET_DASHBOARD_SECRET: operators' sessions end when this "
                "server restarts and are not shared between replicas"
            )
            secret = secrets.token_hex(32)
        return cls(
            secret=secret.encode() if isinstance(secret, str) else bytes(secret),
            timezone=ZoneInfo(getattr(settings, "dashboard_timezone", "Asia/Shanghai")),
            session_s=float(getattr(settings, "dashboard_session_s", 8 * 3600)),
            page_size=int(getattr(settings, "dashboard_page_size", 50)),
            summary_cache_s=float(getattr(settings, "dashboard_summary_cache_s", 15.0)),
            cookie_secure=bool(getattr(settings, "dashboard_cookie_secure", False)),
            clock=getattr(settings, "clock", now),
        )


class CommandRequest(BaseModel):
    action: CommandAction
    reason: str = Field("", max_length=200)


class CommandOut(BaseModel):
    id: int
    action: str
    state: str
    reason: str
    issued_by: str
    issued_at: datetime
    result: str


class ErrorOut(BaseModel):
    error: str


@dataclass(frozen=True)
class Viewer:
    """The operator behind a request: who, with which role, and the session (for CSRF)."""

    session: OperatorSession
    role: str

    @property
    def username(self) -> str:
        return self.session.username

    @property
    def may_command(self) -> bool:
        return self.role == OPERATOR


def install(app: FastAPI, sessions: sessionmaker[Session], settings: Any) -> None:
    """Add the dashboard's pages, static files and JSON reads to `app`."""
    dashboard = Dashboard(sessions, DashboardSettings.from_settings(settings))
    app.mount("/dashboard/static", StaticFiles(directory=HERE / "static"), name="dashboard-static")
    app.include_router(dashboard.router)


class Dashboard:
    def __init__(self, sessions: sessionmaker[Session], settings: DashboardSettings) -> None:
        self.sessions = sessions
        self.settings = settings
        self.signer = SessionSigner(settings.secret, lifetime_s=settings.session_s)
        self._envs = {lang: self._environment(lang) for lang in LANGUAGES}
        self._today_cache: tuple[float, datetime, q.SessionsToday] | None = None
        self._today_lock = threading.Lock()
        self._today_refreshing = False
        self.router = self._routes()

    # -- rendering ---------------------------------------------------------------------------

    def _environment(self, language: str) -> Environment:
        env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(["html"]),
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        catalogue = translations(language)
        env.install_gettext_translations(catalogue, newstyle=True)  # type: ignore[attr-defined]
        gettext = catalogue.gettext
        tz = self.settings.timezone
        env.filters["local"] = lambda dt, fmt="%Y-%m-%d %H:%M": (
            dt.astimezone(tz).strftime(fmt) if dt else ""
        )
        env.filters["ago"] = lambda dt: self._ago(dt, gettext)
        env.filters["label"] = lambda code, labels: (
            gettext(labels[code]) if code in labels else code
        )
        env.filters["alert_detail"] = lambda alert: alert_detail(alert, gettext)
        env.globals.update(
            STATUS_LABELS=STATUS_LABELS,
            DEVICE_LABELS=DEVICE_LABELS,
            DEVICE_STATE_LABELS=DEVICE_STATE_LABELS,
            PAPER_LABELS=PAPER_LABELS,
            ALERT_LABELS=ALERT_LABELS,
            SEVERITY_LABELS=SEVERITY_LABELS,
            EVENT_LABELS=EVENT_LABELS,
            ACTION_LABELS=ACTION_LABELS,
            COMMAND_STATE_LABELS=COMMAND_STATE_LABELS,
            ROLE_LABELS=ROLE_LABELS,
            STATUSES=STATUSES,
            COMMAND_ACTIONS=COMMAND_ACTIONS,
            LANGUAGE_NAMES=LANGUAGE_NAMES,
            lang=language,
            html_lang=HTML_LANG[language],
            device_faults=device_faults,
        )
        return env

    def _ago(self, dt: datetime | None, gettext: Callable[[str], str]) -> str:
        if dt is None:
            return ""
        seconds = max(0, int((self.settings.clock() - dt).total_seconds()))
        if seconds < 60:
            return gettext("%(n)s s ago") % {"n": seconds}
        if seconds < 3600:
            return gettext("%(n)s min ago") % {"n": seconds // 60}
        if seconds < 86400:
            return gettext("%(n)s h ago") % {"n": seconds // 3600}
        return gettext("%(n)s d ago") % {"n": seconds // 86400}

    def render(
        self,
        request: Request,
        template: str,
        status_code: int = 200,
        viewer: Viewer | None = None,
        **context: Any,
    ) -> HTMLResponse:
        language = pick_language(request.cookies.get(LANG_COOKIE))
        html = (
            self._envs[language]
            .get_template(template)
            .render(
                viewer=viewer,
                csrf=self.signer.csrf_token(viewer.session) if viewer else "",
                here=_here(request),
                **context,
            )
        )
        return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)

    # -- who is asking ---------------------------------------------------------------------

    def viewer_of(self, request: Request) -> Viewer | None:
        operator_session = self.signer.read(request.cookies.get(SESSION_COOKIE))
        if operator_session is None:
            return None
        with self.sessions() as session:
            role = role_of(session, operator_session.username)
        return Viewer(operator_session, role) if role else None

    def _to_login(self, request: Request) -> RedirectResponse:
        return RedirectResponse(
            "/dashboard/login?" + urlencode({"next": _here(request)}), status_code=303
        )

    # -- data ------------------------------------------------------------------------------

    def sessions_today(self, session: Session) -> q.SessionsToday:
        """The fleet's sessions since local midnight. The sum reads every beat of the day, so it
        is cached for `summary_cache_s`; a stale figure of the same day is served at once while
        one background thread computes the next (no operator waits for the sum twice)."""
        midnight = (
            self.settings.clock()
            .astimezone(self.settings.timezone)
            .replace(hour=0, minute=0, second=0, microsecond=0)
        )
        with self._today_lock:
            cached = self._today_cache
            if cached is not None and cached[1] == midnight:
                if time.monotonic() - cached[0] >= self.settings.summary_cache_s > 0:
                    self._refresh_today_in_background(midnight)
                if self.settings.summary_cache_s > 0:
                    return cached[2]
        today = q.sessions_since(session, midnight)
        with self._today_lock:
            self._today_cache = (time.monotonic(), midnight, today)
        return today

    def _refresh_today_in_background(self, midnight: datetime) -> None:
        """Called with `_today_lock` held; at most one refresh runs at a time."""
        if self._today_refreshing:
            return
        self._today_refreshing = True

        def refresh() -> None:
            try:
                with self.sessions() as session:
                    today = q.sessions_since(session, midnight)
                with self._today_lock:
                    self._today_cache = (time.monotonic(), midnight, today)
            except Exception:
                log.exception("could not refresh today's session count")
            finally:
                with self._today_lock:
                    self._today_refreshing = False

        threading.Thread(target=refresh, name="dashboard-today", daemon=True).start()

    def queue_command(self, viewer: Viewer, kiosk_id: str, action: str, reason: str) -> int | None:
        """Queue a command for the kiosk and audit it; None when there is no such kiosk."""
        with self.sessions.begin() as session:
            if session.get(KioskRow, kiosk_id) is None:
                return None
            row = CommandRow(
                kiosk_id=kiosk_id,
                action=action,
                reason=reason,
                issued_by=viewer.username,
                issued_at=self.settings.clock(),
                state="queued",
            )
            session.add(row)
            session.flush()
            audit(session, viewer.username, f"command:{action}", kiosk_id, self.settings.clock)
            command_id = row.id
        log.info("operator %s queued %s for %s", viewer.username, action, kiosk_id)
        return command_id

    # -- routes ----------------------------------------------------------------------------

    def _routes(self) -> APIRouter:
        router = APIRouter()

        @router.get("/dashboard/login", response_class=HTMLResponse, include_in_schema=False)
        def login_form(request: Request, next: str = "/dashboard") -> Response:
            return self._login_page(request, _safe_next(next))

        @router.post("/dashboard/login", response_class=HTMLResponse, include_in_schema=False)
        async def login(request: Request) -> Response:
            form = await _form(request)
            if form is None:
                return self.render(request, "error.html", 413, message=N_("Request too large."))
            next_url = _safe_next(form.get("next", ""))
            token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
            if not token or not same_text(token, form.get("csrf_token", "")):
                return self._login_page(
                    request, next_url, N_("The form expired. Please try again."), 403
                )
            result = await run_in_threadpool(
                authenticate,
                self.sessions,
                form.get("username", "").strip(),
                form.get("password", ""),
                policy=self.settings.lockout,
                clock=self.settings.clock,
            )
            if result.outcome == "locked":
                refused = self._login_page(
                    request,
                    next_url,
                    N_("Too many failed attempts. Try again in %(n)s seconds."),
                    429,
                    retry_after=int(result.retry_after_s + 0.999),
                )
                refused.headers["Retry-After"] = str(int(result.retry_after_s + 0.999))
                return refused
            if not result.ok:
                return self._login_page(request, next_url, N_("Wrong name or password."), 401)
            response = RedirectResponse(next_url, status_code=303)
            response.set_cookie(
                SESSION_COOKIE,
                self.signer.issue(result.username),
                max_age=int(self.settings.session_s),
                httponly=True,
                samesite="strict",
                secure=self._secure(request),
                path="/",
            )
            response.delete_cookie(LOGIN_CSRF_COOKIE, path="/dashboard/login")
            return response

        @router.post("/dashboard/logout", response_class=HTMLResponse, include_in_schema=False)
        async def logout(request: Request) -> Response:
            viewer = await run_in_threadpool(self.viewer_of, request)
            form = await _form(request) or {}
            if viewer is not None and self.signer.csrf_ok(viewer.session, form.get("csrf_token")):
                await run_in_threadpool(self._audit, viewer.username, "logout")
            response = RedirectResponse("/dashboard/login", status_code=303)
            response.delete_cookie(SESSION_COOKIE, path="/")
            return response

        @router.get(
            "/dashboard/lang/{language}", response_class=HTMLResponse, include_in_schema=False
        )
        def switch_language(language: str, next: str = "/dashboard") -> Response:
            response = RedirectResponse(_safe_next(next), status_code=303)
            response.set_cookie(
                LANG_COOKIE,
                pick_language(language),
                max_age=365 * 86400,
                samesite="strict",
                path="/",
            )
            return response

        @router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
        def summary_page(request: Request) -> Response:
            viewer = self.viewer_of(request)
            if viewer is None:
                return self._to_login(request)
            with self.sessions() as session:
                summary = q.fleet_summary(session)
                today = self.sessions_today(session)
                alerts = q.open_alerts(session, limit=50)
            return self.render(
                request, "summary.html", viewer=viewer, summary=summary, today=today, alerts=alerts
            )

        @router.get("/dashboard/kiosks", response_class=HTMLResponse, include_in_schema=False)
        def kiosks_page(
            request: Request, site: str = "", status: str = "", kiosk: str = "", page: int = 1
        ) -> Response:
            viewer = self.viewer_of(request)
            if viewer is None:
                return self._to_login(request)
            where = _filter(site, status, kiosk)
            with self.sessions() as session:
                table = q.kiosk_page(session, where, page, self.settings.page_size)
                all_sites = q.sites(session)
            return self.render(
                request,
                "kiosks.html",
                viewer=viewer,
                table=table,
                where=where,
                sites=all_sites,
                page_link=lambda n: (
                    "/dashboard/kiosks?"
                    + urlencode(
                        {
                            "site": where.site,
                            "status": where.status,
                            "kiosk": where.kiosk_prefix,
                            "page": n,
                        }
                    )
                ),
            )

        @router.get(
            "/dashboard/kiosks/{kiosk_id}", response_class=HTMLResponse, include_in_schema=False
        )
        def kiosk_detail(request: Request, kiosk_id: str, events_page: int = 1) -> Response:
            viewer = self.viewer_of(request)
            if viewer is None:
                return self._to_login(request)
            events_page = max(1, events_page)
            with self.sessions() as session:
                kiosk = session.get(KioskRow, kiosk_id)
                if kiosk is None:
                    return self.render(
                        request, "error.html", 404, viewer, message=N_("No such kiosk.")
                    )
                events, older = q.kiosk_events(
                    session, kiosk_id, events_page, self.settings.events_page_size
                )
                hours = q.sessions_per_hour(
                    session, kiosk_id, self.settings.clock(), self.settings.timezone
                )
                alerts = q.open_alerts(session, kiosk_id)
                commands = q.recent_commands(session, kiosk_id)
            return self.render(
                request,
                "kiosk.html",
                viewer=viewer,
                kiosk=kiosk,
                events=events,
                events_page=events_page,
                older=older,
                chart=hourly_chart(hours),
                alerts=alerts,
                commands=commands,
            )

        @router.post(
            "/dashboard/kiosks/{kiosk_id}/commands",
            response_class=HTMLResponse,
            include_in_schema=False,
        )
        async def command_form(request: Request, kiosk_id: str) -> Response:
            viewer = await run_in_threadpool(self.viewer_of, request)
            if viewer is None:
                return self.render(request, "error.html", 401, message=N_("Please log in."))
            form = await _form(request)
            if form is None:
                return self.render(
                    request, "error.html", 413, viewer, message=N_("Request too large.")
                )
            if not self.signer.csrf_ok(viewer.session, form.get("csrf_token")):
                return self.render(
                    request,
                    "error.html",
                    403,
                    viewer,
                    message=N_("The form expired. Please reload the page."),
                )
            if not viewer.may_command:
                await run_in_threadpool(self._audit, viewer.username, "command_refused", kiosk_id)
                return self.render(
                    request,
                    "error.html",
                    403,
                    viewer,
                    message=N_("Your role may not send commands."),
                )
            action = form.get("action", "")
            if action not in COMMAND_ACTIONS:
                return self.render(
                    request, "error.html", 400, viewer, message=N_("Unknown command.")
                )
            command_id = await run_in_threadpool(
                self.queue_command, viewer, kiosk_id, action, form.get("reason", "")[:200]
            )
            if command_id is None:
                return self.render(request, "error.html", 404, viewer, message=N_("No such kiosk."))
            return RedirectResponse(f"/dashboard/kiosks/{kiosk_id}#commands", status_code=303)

        # JSON reads and the command call, for the page's script and for other tools.
        unauthorized: dict[int | str, dict[str, Any]] = {
            401: {"model": ErrorOut},
            403: {"model": ErrorOut},
        }

        @router.get(
            "/api/v1/kiosks/{kiosk_id}/commands", responses=unauthorized, tags=["dashboard"]
        )
        def list_commands(request: Request, kiosk_id: str) -> list[CommandOut]:
            if self.viewer_of(request) is None:
                return _json_error(401, "unauthenticated")  # type: ignore[return-value]
            with self.sessions() as session:
                rows = q.recent_commands(session, kiosk_id)
            return [_command_out(row) for row in rows]

        @router.post(
            "/api/v1/kiosks/{kiosk_id}/commands",
            status_code=201,
            responses={**unauthorized, 404: {"model": ErrorOut}},
            tags=["dashboard"],
        )
        def post_command(request: Request, kiosk_id: str, body: CommandRequest) -> CommandOut:
            viewer = self.viewer_of(request)
            if viewer is None:
                return _json_error(401, "unauthenticated")  # type: ignore[return-value]
            if not self.signer.csrf_ok(viewer.session, request.headers.get("x-csrf-token")):
                return _json_error(403, "csrf")  # type: ignore[return-value]
            if not viewer.may_command:
                self._audit(viewer.username, "command_refused", kiosk_id)
                return _json_error(403, "forbidden")  # type: ignore[return-value]
            command_id = self.queue_command(viewer, kiosk_id, body.action, body.reason)
            if command_id is None:
                return _json_error(404, "unknown_kiosk")  # type: ignore[return-value]
            with self.sessions() as session:
                row = session.get(CommandRow, command_id)
                assert row is not None
                return _command_out(row)

        return router

    def _login_page(
        self,
        request: Request,
        next_url: str,
        error: str = "",
        status_code: int = 200,
        retry_after: int = 0,
    ) -> HTMLResponse:
        token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
        response = self.render(
            request,
            "login.html",
            status_code,
            next_url=next_url,
            login_csrf=token,
            error=error,
            retry_after=retry_after,
        )
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            token,
            max_age=3600,
            httponly=True,
            samesite="strict",
            secure=self._secure(request),
            path="/dashboard/login",
        )
        return response

    def _secure(self, request: Request) -> bool:
        return self.settings.cookie_secure or request.url.scheme == "https"

    def _audit(self, username: str, action: str, target: str = "") -> None:
        with self.sessions.begin() as session:
            audit(session, username, action, target, self.settings.clock)


def device_faults(kiosk: KioskRow) -> list[tuple[str, str]]:
    """(device, state) for devices that cannot serve, and (printer, level) for paper out/jammed."""
    faults = [(d, s) for d, s in sorted((kiosk.devices or {}).items()) if s in FAULT_DEVICE_STATES]
    faults += [(p, lvl) for p, lvl in sorted((kiosk.paper or {}).items()) if lvl in FAULT_PAPER]
    return faults


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    hour: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    max_value: int
    baseline: float
    ticks: list[tuple[float, str]]  # x position and hour label, every 3 hours


def hourly_chart(buckets: list[q.HourBucket], width: int = 720, height: int = 200) -> Chart:
    """Bar geometry for the sessions-per-hour chart, drawn as inline SVG by the template."""
    left, bottom, top = 36.0, 24.0, 12.0
    plot_h = height - bottom - top
    max_value = max((b.sessions for b in buckets), default=0)
    scale_max = max(max_value, 1)
    slot = (width - left) / max(len(buckets), 1)
    bars, ticks = [], []
    for i, bucket in enumerate(buckets):
        bar_h = plot_h * bucket.sessions / scale_max
        x = left + i * slot
        bars.append(
            Bar(
                x + 2,
                top + plot_h - bar_h,
                slot - 4,
                bar_h,
                bucket.sessions,
                bucket.start.strftime("%H:00"),
            )
        )
        if bucket.start.hour % 3 == 0:
            ticks.append((x + slot / 2, bucket.start.strftime("%H")))
    return Chart(width, height, bars, max_value, top + plot_h, ticks)


def _command_out(row: CommandRow) -> CommandOut:
    return CommandOut(
        id=row.id,
        action=row.action,
        state=row.state,
        reason=row.reason,
        issued_by=row.issued_by,
        issued_at=row.issued_at,
        result=row.result,
    )


def _filter(site: str, status: str, kiosk: str) -> q.KioskFilter:
    return q.KioskFilter(
        site=site[:64], status=status if status in STATUSES else "", kiosk_prefix=kiosk.strip()[:64]
    )


def _json_error(status_code: int, code: str) -> JSONResponse:
    return JSONResponse({"error": code}, status_code=status_code, headers=SECURITY_HEADERS)


async def _form(request: Request) -> dict[str, str] | None:
    """A url-encoded form's fields (first value each); None when the body is too large."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _safe_next(next_url: str) -> str:
    """Only a dashboard path: never another host (`//evil`, `/\\evil`) after login."""
    if next_url.startswith("/dashboard") and "//" not in next_url and "\\" not in next_url:
        return next_url
    return "/dashboard"
