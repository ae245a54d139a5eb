"""Run the central service: blocking (`serve`, `python -m central.server`) or in a thread.

`start_background` is what tests, demos and the kiosk's embedded default use: it binds the socket
itself (so port 0 picks a free port and the real one is known), runs uvicorn in a daemon thread,
and returns only once the service answers its health endpoint.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field

import httpx
import uvicorn
from fastapi import FastAPI

from central.app import API_PREFIX, create_app
from central.auth import AuthSettings
from central.db import DEFAULT_DB_URL
from central.http_protocol import guarded_protocol
from central.limits import ServiceLimits
from trust.keys import KioskRegistry

log = logging.getLogger(__name__)


class ServerStartError(RuntimeError):
    """The background server did not come up in time; the message says what was seen."""


@dataclass
class RunningServer:
    """A central service running in a background thread of this process."""

    base_url: str
    app: FastAPI
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the server to finish and wait for its thread; safe to call twice."""
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            # Open keep-alive connections can hold a graceful shutdown; stop waiting for them.
            self._server.force_exit = True
            self._thread.join(timeout)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP, not 0: asyncio only disables Nagle on sockets that say so, and
    # without TCP_NODELAY every keep-alive response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)  # bursts of kiosks connecting at once queue here rather than retry SYNs
    sock.setblocking(False)
    return sock


def _wait_until_healthy(
    base_url: str, thread: threading.Thread, server: uvicorn.Server, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    last_error = "no answer yet"
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() < deadline:
            if not thread.is_alive():
                raise ServerStartError("central server thread exited during start-up")
            if server.started:
                try:
                    if client.get(f"{base_url}{API_PREFIX}/health").status_code == 200:
                        return
                except httpx.HTTPError as exc:
                    last_error = repr(exc)
            time.sleep(0.01)
    raise ServerStartError(f"central server not healthy after {timeout:.1f}s: {last_error}")


def start_background(
    host: str = "127.0.0.1",
    port: int = 0,
    db_url: str = DEFAULT_DB_URL,
    *,
    app: FastAPI | None = None,
    startup_timeout: float = 10.0,
    limits: ServiceLimits | None = None,
    kiosk_registry: KioskRegistry | None = None,
    auth_settings: AuthSettings | None = None,
) -> RunningServer:
    """Serve the central API in a daemon thread; return once it answers `GET /api/v1/health`.

    `port=0` picks a free port (see `.base_url`). Pass `app` to serve a prebuilt app (tests use
    this to inject a clock); otherwise one is created on `db_url`, with its own address as the
    public base URL of the links it prints, admitting the kiosks in `kiosk_registry`.
    """
    sock = _bind(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    url_host = f"[{bound_host}]" if ":" in bound_host else bound_host
    base_url = f"http://{url_host}:{bound_port}"
    application = (
        app
        if app is not None
        else create_app(
            db_url,
            public_base_url=base_url,
            kiosk_registry=kiosk_registry,
            auth_settings=auth_settings,
        )
    )
    server = uvicorn.Server(server_config(application, limits, log_level="warning"))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="central-server", daemon=True
    )
    thread.start()
    running = RunningServer(base_url=base_url, app=application, _server=server, _thread=thread)
    try:
        _wait_until_healthy(base_url, thread, server, startup_timeout)
    except BaseException:
        running.stop(timeout=1.0)
        sock.close()
        raise
    log.info("central service listening on %s", base_url)
    return running


def server_config(
    app: FastAPI, limits: ServiceLimits | None = None, **options: object
) -> uvicorn.Config:
    """uvicorn settings that hold against slow and greedy clients (see central.limits).

    `limits` default to the app's own (`create_app(limits=...)`); `options` go to uvicorn.
    """
    limits = limits or getattr(app.state, "limits", None) or ServiceLimits()
    settings: dict[str, object] = {
        "access_log": False,
        "lifespan": "on",
        "timeout_graceful_shutdown": 2,
        "http": guarded_protocol(limits),
        "timeout_keep_alive": limits.keep_alive_s,
        **options,
    }
    return uvicorn.Config(app, **settings)  # type: ignore[arg-type]


def serve(
    host: str = "127.0.0.1",
    port: int = 8800,
    db_url: str = DEFAULT_DB_URL,
    public_url: str | None = None,
    kiosks: str | None = None,
) -> None:
    """Serve the central API in the foreground until interrupted.

    `public_url` starts the links printed on certificates and guide QR codes; by default the
    address served on. It is never taken from a request's Host header. `kiosks` is the kiosk
    registry file (public keys, docs/trust.md); it is re-read when it changes.
    """
    registry = KioskRegistry.load(kiosks) if kiosks else None
    app = create_app(
        db_url, public_base_url=public_url or f"http://{host}:{port}", kiosk_registry=registry
    )
    uvicorn.Server(server_config(app, host=host, port=port, log_level="info")).run()


def main(argv: list[str] | None = None) -> None:
    """`python -m central.server [--host H] [--port P] [--db URL]`."""
    parser = argparse.ArgumentParser(description="Reference central service for the kiosks.")
    parser.add_argument("--host", default=os.environ.get("CENTRAL_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("CENTRAL_PORT", "8800")))
    parser.add_argument("--db", default=os.environ.get("CENTRAL_DB_URL", DEFAULT_DB_URL))
    parser.add_argument("--public-url", default=os.environ.get("CENTRAL_PUBLIC_URL"))
    parser.add_argument(
        "--kiosks",
        default=os.environ.get("CENTRAL_KIOSKS"),
        help="kiosk registry YAML (public keys); without it no kiosk is admitted",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    serve(args.host, args.port, args.db, args.public_url, args.kiosks)


if __name__ == "__main__":
    main()
