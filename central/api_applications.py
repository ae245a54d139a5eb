"""HTTP routes of application forms (申请表), applications (申请) and the face check (人证核验)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from central import applications, face_checks, forms, service
from central.api_common import (
    IDEMPOTENCY_KEY_HEADER,
    RequiredIdempotencyKey,
    SessionDep,
    StateDep,
    errors,
)
from central.application_models import (
    ApplicationReceipt,
    ApplicationRejected,
    ApplicationRequest,
    FaceCheck,
    FaceCheckRequest,
)
from central.errors import ApiError
from central.form_models import ApplicationForm
from central.models import ErrorResponse

router = APIRouter(prefix="/api/v1")

# Eight documents of 1.5 MB are 16 MB of base64; the kiosk shrinks pages to well under that.
MAX_APPLICATION_BODY = 12 * 1024 * 1024


async def _limited_body(request: Request) -> bytes:
    """The request body, refused with 413 as soon as it passes `MAX_APPLICATION_BODY`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_APPLICATION_BODY:
        raise ApiError(413, "body_too_large", f"an application is at most {MAX_APPLICATION_BODY} B")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_APPLICATION_BODY:
            raise ApiError(
                413, "body_too_large", f"an application is at most {MAX_APPLICATION_BODY} B"
            )
        chunks.append(chunk)
    return b"".join(chunks)


# The body is read by hand (to stop at MAX_APPLICATION_BODY), so FastAPI cannot document it:
# `ApplicationRequest`'s schema goes in here, its nested models under `$defs` found by pointer.
_BODY_SCHEMA_POINTER = (
    "#/paths/~1api~1v1~1applications/post/requestBody/content/application~1json/schema/$defs"
)
_REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": ApplicationRequest.model_json_schema(
                ref_template=_BODY_SCHEMA_POINTER + "/{model}"
            )
        }
    },
}


def _parsed(body: bytes) -> ApplicationRequest:
    try:
        return ApplicationRequest.model_validate_json(body)
    except ValidationError as exc:
        # Locations and messages only: the input holds names, ID numbers and photos.
        parts = []
        for error in exc.errors(include_url=False, include_input=False)[:5]:
            location = ".".join(str(part) for part in error["loc"]) or "(body)"
            parts.append(f"{location}: {error['msg']}")
        raise ApiError(422, "invalid_request", "; ".join(parts)) from None


@router.get(
    "/items/{code}/form",
    tags=["applications"],
    summary="Application form of a submit item (申请表)",
    description=(
        "Fields (checked with the field types of `rules.forms`), documents to photograph, "
        "whether a face check (人证核验) is needed, and the 代办 rules when an agent may apply. "
        "404 `item_not_found`, or `no_form` for items that take no applications. ETag / 304."
    ),
    response_model=ApplicationForm,
    responses={304: {"description": "Not modified."}, **errors(404, 422)},
)
def get_form(code: str, request: Request, response: Response, session: SessionDep) -> Any:
    """The form, or 304 when the kiosk's copy is current."""
    form = forms.application_form(session, code)
    etag = f'"{service.content_hash(form.model_dump(mode="json"))[:16]}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if etag in (
        tag.strip().removeprefix("W/")
        for tag in request.headers.get("if-none-match", "").split(",")
    ):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return form


@router.post(
    "/applications",
    tags=["applications"],
    summary="Submit an application (提交申请)",
    description=(
        "Body: `ApplicationRequest` (the kiosk's outbox payload; at most 12 MB, else 413 "
        "`body_too_large`). Requires `Idempotency-Key`: 201 new, 200 replay of the same body, "
        "409 `idempotency_conflict` for another body. The applicant (and an agent) are "
        "re-checked by card number and name, so a `person_ref` that expired while the kiosk "
        "was offline does not matter. 422 `application_invalid` lists every `{field, problem}`; "
        "other 422 codes: `applicant_not_verified`, `agent_not_allowed`, `agent_not_verified`, "
        "`face_check_required`, `face_check_failed`, `invalid_request`; 404 `item_not_found`, "
        "`no_form`. Creates a case (status `submitted`) found by `GET /cases/{tracking_no}`."
    ),
    status_code=201,
    responses={
        200: {"model": ApplicationReceipt, "description": "Replay."},
        422: {
            "model": ApplicationRejected | ErrorResponse,
            "description": "The application does not check out: `application_invalid` with "
            "its problems, or another code in the common error shape.",
        },
        **errors(400, 404, 409, 413),
    },
    openapi_extra={**IDEMPOTENCY_KEY_HEADER, "requestBody": _REQUEST_BODY},
)
def submit_application(
    body: Annotated[bytes, Depends(_limited_body)],
    response: Response,
    session: SessionDep,
    state: StateDep,
    key: RequiredIdempotencyKey,
) -> Any:
    """Apply (or replay) an application."""
    try:
        receipt, created = applications.submit(session, state.settings, _parsed(body), key)
    except applications.ApplicationInvalid as exc:
        return JSONResponse(status_code=exc.status, content=exc.body())
    if not created:
        response.status_code = 200
    return receipt


@router.get(
    "/applications/{idempotency_key}",
    tags=["applications"],
    summary="An application's receipt by its Idempotency-Key",
    description=(
        "For a kiosk's offline receipt, which carries the key: the tracking number once the "
        "application has arrived. 404 `application_not_found`."
    ),
    responses=errors(404, 422),
)
def get_application(idempotency_key: str, session: SessionDep) -> ApplicationReceipt:
    """The receipt of a delivered application."""
    return applications.receipt_for_key(session, idempotency_key)


@router.post(
    "/identity/face",
    tags=["identity"],
    summary="Face check (人证核验)",
    description=(
        "Compares a capture (base64 JPEG, at most 400 KB) with the enrolled face of the person "
        "a live `person_ref` of this kiosk names. `presence` says what the kiosk saw (frames, "
        "seconds, movement): too little is `not_live`. Three `not_matched`/`not_live` in ten "
        "minutes give `too_many_attempts`. The capture is never stored. The reference service "
        "compares LBP histograms of the face (see central/README.md): a stand-in, not the "
        "province's 人证比对 platform. 404 `person_not_found`, `person_ref_expired`, "
        "`face_not_enrolled`; 413 `image_too_large`; 422 `invalid_image`."
    ),
    responses=errors(404, 413, 422),
)
def check_face(body: FaceCheckRequest, session: SessionDep, state: StateDep) -> FaceCheck:
    """Compare and record the check."""
    return face_checks.check_face(session, state.settings, body)
