"""A FastAPI dependency that admits only requests signed by an enrolled kiosk.

Central and the fleet server both use it; each passes its own error type through `on_error` so
refusals keep the app's error shape.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request

from trust.signing import AuthError, SignatureVerifier


def request_url(request: Request) -> str:
    """The URL as the client sent it: the raw (still percent-encoded) path and query."""
    raw_path = request.scope.get("raw_path")
    path = raw_path.decode("latin-1") if isinstance(raw_path, bytes) else request.url.path
    path = path.split("?", 1)[0]  # some servers put the query in raw_path too
    query = request.scope.get("query_string", b"").decode("latin-1")
    origin = f"{request.url.scheme}://{request.url.netloc}"
    return f"{origin}{path}?{query}" if query else f"{origin}{path}"


def _http_exception(error: AuthError) -> Exception:
    headers = {"WWW-Authenticate": "Signature"} if error.status == 401 else None
    return HTTPException(error.status, detail=error.message, headers=headers)


def kiosk_auth(
    verifier_of: Callable[[Request], SignatureVerifier],
    on_error: Callable[[AuthError], Exception] = _http_exception,
) -> Callable[[Request], Awaitable[str]]:
    """A dependency returning the authenticated kiosk id (also put in `request.state.kiosk_id`).

    `verifier_of(request)` finds the app's verifier (usually on `request.app.state`); a refused
    request raises `on_error(error)`, by default `HTTPException(401)` with `WWW-Authenticate`.
    """

    async def authenticated_kiosk(request: Request) -> str:
        body = await request.body()  # cached by Starlette; the endpoint still gets it
        try:
            kiosk = verifier_of(request).verify(
                request.method, request_url(request), request.headers, body
            )
        except AuthError as error:
            raise on_error(error) from None
        request.state.kiosk_id = kiosk.kiosk_id
        return kiosk.kiosk_id

    return authenticated_kiosk
