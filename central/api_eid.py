"""HTTP routes of the electronic ID (电子身份证), and the development-only minting route."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter

from central import eid, eid_dev
from central.api_common import SessionDep, StateDep, errors
from central.errors import ApiError
from central.lookup_models import (
    EidIdentityResult,
    EidMintRequest,
    EidMintResult,
    EidVerifyRequest,
)

router = APIRouter(prefix="/api/v1")
# Only in development and tests: `create_app(dev_endpoints=False)` (production) leaves it out.
dev_router = APIRouter(prefix="/api/v1")


@router.post(
    "/identity/eid",
    tags=["identity"],
    summary="Identify by electronic ID (电子身份证)",
    description=(
        "The text of the QR code a resident shows in a government app. A genuine, unexpired, "
        "unused code identifies its person like an ID card check: the answer has a `person_ref` "
        "plus the masked name and card type (the kiosk saw no card). Each code is accepted "
        "once. Failures are 200 with `verified: false` and `reason` `token_invalid`, "
        "`token_expired`, `token_used` or `not_found`."
    ),
    responses=errors(422),
)
def verify_eid(body: EidVerifyRequest, session: SessionDep, state: StateDep) -> EidIdentityResult:
    """Verify an e-ID token; the token itself is never stored or logged."""
    return eid.verify_eid(session, state.settings, body.token, body.kiosk_id)


@dev_router.post(
    "/dev/eid/mint",
    tags=["development"],
    summary="Mint an e-ID for a test person (development only)",
    description=(
        "Plays the government app for the kiosk simulator and tests: a token for a person of "
        "seed/persons.json. Absent from a production service (`create_app(dev_endpoints=False)`)."
    ),
    responses=errors(404, 422),
)
def mint_eid(body: EidMintRequest, session: SessionDep, state: StateDep) -> EidMintResult:
    """A fresh token for a test person, or 404 `person_not_found`."""
    try:
        token, expires_at, card_type = eid_dev.mint_for_test_person(
            session,
            state.settings.id_hash_key,
            body.person,
            state.settings.clock(),
            timedelta(seconds=body.ttl_seconds),
        )
    except eid_dev.UnknownTestPerson as exc:
        raise ApiError(404, "person_not_found", str(exc)) from None
    return EidMintResult(token=token, expires_at=expires_at, card_type=card_type)
