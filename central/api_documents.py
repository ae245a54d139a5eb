"""HTTP routes of documents for people: certificate PDFs, the phone guide page, rating reasons."""

from __future__ import annotations

import hmac
from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from central import guide_page, pdf, ratings, service
from central.api_common import SessionDep, errors
from central.catalogue_extras import read_extras
from central.db import CertificateRow
from central.errors import ApiError
from central.models import Certificate, RatingReason

api = APIRouter(prefix="/api/v1")
pages = APIRouter()


@lru_cache(maxsize=64)
def _render_pdf(body_json: str) -> bytes:
    # Certificates never change once issued, so their bytes can be kept.
    return pdf.certificate_pdf(Certificate.model_validate_json(body_json))


@api.get(
    "/certificates/{certificate_no}/pdf",
    tags=["certificates"],
    summary="A certificate as an A4 PDF (证明打印)",
    description=(
        "The issued certificate laid out on A4 with its verification QR code, for the kiosk's "
        "document printer. Needs the verify code like the verification endpoint; the same "
        "certificate always gives the same bytes."
    ),
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The PDF."},
        **errors(404, 422, 503),
    },
)
def certificate_pdf(
    certificate_no: str,
    session: SessionDep,
    code: Annotated[str, Query(min_length=1, max_length=16, description="验证码")],
) -> Response:
    """The PDF, or 404 `certificate_not_found` (unknown number and wrong code look the same)."""
    row = session.scalars(
        select(CertificateRow).where(CertificateRow.certificate_no == certificate_no)
    ).one_or_none()
    if row is None or not hmac.compare_digest(row.verify_code.encode(), code.upper().encode()):
        raise ApiError(404, "certificate_not_found", "no certificate with that number and code")
    body = Certificate.model_validate(row.body)
    try:
        content = _render_pdf(body.model_dump_json())
    except pdf.PdfUnavailable as exc:
        raise ApiError(503, "pdf_unavailable", str(exc)) from None
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{body.certificate_no}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


@api.get(
    "/ratings/reasons",
    tags=["ratings"],
    summary="差评 reasons (好差评评价原因)",
    description="What a resident may pick when rating 2 不满意 or 1 非常不满意.",
)
def rating_reasons() -> list[RatingReason]:
    """The national reason list, in display order."""
    return ratings.reasons()


@pages.get(
    "/guides/{item_code}",
    tags=["catalogue"],
    summary="Phone-readable 办事指南 page (HTML)",
    description="For the QR code a kiosk prints or shows; `?lang=en` for English.",
    response_class=HTMLResponse,
    responses={
        404: {"content": {"text/html": {}}, "description": "Unknown item."},
        # The page itself is HTML, but a malformed request gets the common JSON error.
        422: {
            "description": "`invalid_request`",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}
            },
        },
    },
)
def guide(
    item_code: str,
    session: SessionDep,
    lang: Annotated[str, Query(max_length=8, description="`zh` (default) or `en`.")] = "zh",
) -> HTMLResponse:
    """The guide page; unknown languages fall back to Chinese."""
    chosen: guide_page.Lang = "en" if lang.lower().startswith("en") else "zh"
    try:
        detail = service.item_detail(session, item_code)
    except ApiError:
        return HTMLResponse(guide_page.not_found(chosen), status_code=404)
    extras = read_extras().get(item_code)
    html = guide_page.render(detail, chosen, extras.guide_en if extras else None)
    return HTMLResponse(html, headers={"Cache-Control": "public, max-age=300"})


router = APIRouter()
router.include_router(api)
router.include_router(pages)
