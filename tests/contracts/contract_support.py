"""What the contract tests share: schemathesis set up to sign as a kiosk, bounded and repeatable.

Schemathesis (a property-based API tester nobody here wrote) reads a service's published OpenAPI
document, generates requests from it, valid ones and invalid ones, and checks every answer against
the same document. The services must find nothing: no 5xx, no status or body the document does
not list, no valid request refused and no invalid one taken.

`CONTRACT_MAX_EXAMPLES` (environment) sets the generated examples per operation and phase; the
default keeps `make test` short, a local run may ask for 1000.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from trust.signing import KioskSigner

SEED = 20261205
DEFAULT_MAX_EXAMPLES = 20
_KIOSK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


def max_examples() -> int:
    """Examples per operation and phase: `CONTRACT_MAX_EXAMPLES`, else a bound for `make test`."""
    raw = os.environ.get("CONTRACT_MAX_EXAMPLES", "")
    return int(raw) if raw.strip() else DEFAULT_MAX_EXAMPLES


def schemathesis_config() -> SchemathesisConfig:
    """Positive and negative data, all three generating phases, one seed, no example database."""
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {
                "mode": "all",
                "max-examples": max_examples(),
                "deterministic": True,
                "database": "none",
            },
            # The services answer over loopback; a stateful run is not needed for these checks.
            "phases": {"stateful": {"enabled": False}},
            # 413 (body over the limit) refuses invalid data as surely as 400 or 422.
            "checks": {
                "negative_data_rejection": {
                    "expected-statuses": [
                        *("400", "401", "403", "404", "405", "406", "409", "413", "415"),
                        *("422", "428", "429", "5xx"),
                    ]
                }
            },
        }
    )


# The Hypothesis side of the same bounds: the test functions are decorated with this.
bounded = settings(
    max_examples=max_examples(),
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


class KioskSignature(requests.auth.AuthBase):
    """Signs each request as it goes out, over the exact bytes sent (RFC 9421 via trust/)."""

    def __init__(self, signer: KioskSigner) -> None:
        self.signer = signer

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        assert request.method is not None and request.url is not None
        headers = self.signer.headers_for(request.method, request.url, body, request.headers)
        request.headers.update(headers)
        return request


def signed_session(signer: KioskSigner) -> requests.Session:
    """A requests session whose every request carries the kiosk's signature."""
    session = requests.Session()
    session.auth = KioskSignature(signer)
    return session


def act_as(case: Any, kiosk_id: str) -> None:
    """Make a generated `kiosk_id` (body or query) the signing kiosk's.

    The services refuse a body that names another kiosk than the signer (403), so without this
    almost no generated request would get past the door. Only a well-formed id is replaced: a
    malformed one is what a negative case tests, and stays.
    """
    for container in (case.body, case.query):
        if isinstance(container, dict):
            value = container.get("kiosk_id")
            if isinstance(value, str) and _KIOSK_ID.fullmatch(value):
                container["kiosk_id"] = kiosk_id


def tolerating(
    business_refusals: Mapping[str, frozenset[str]],
) -> Callable[[CheckContext, Any, Any], bool | None]:
    """`positive_data_acceptance`, except for 422s that need data the schema cannot describe.

    `business_refusals` maps an operation label (`POST /api/v1/applications`) to the error codes
    its 422 may carry for well-formed input: a receipt number's Luhn digit, an applicant who must
    be in the registry. Each is listed, with its reason, next to the test that uses it.
    """

    def positive_data_acceptance_with_business_rules(
        ctx: CheckContext, response: Any, case: Any
    ) -> bool | None:
        try:
            return positive_data_acceptance(ctx, response, case)
        except Failure:
            allowed = business_refusals.get(case.operation.label, frozenset())
            if response.status_code == 422 and _error_code(response) in allowed:
                return None
            raise

    return positive_data_acceptance_with_business_rules


def _error_code(response: Any) -> str | None:
    try:
        code = json.loads(response.content)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return code if isinstance(code, str) else None


def checks(business_refusals: Mapping[str, frozenset[str]]) -> list[Any]:
    """The checks every generated case is held to."""
    return [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
        tolerating(business_refusals),
        negative_data_rejection,
    ]


def load_schema(document: dict[str, Any]) -> Any:
    """Schemathesis's view of a service's published OpenAPI document."""
    return schemathesis.openapi.from_dict(document, config=schemathesis_config())
