"""The published OpenAPI document: every endpoint, described, with the common error shape."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.central_auth import UNLIMITED
from tests.support.kiosk_keys import TEST_KIOSKS, signed

ENDPOINTS = {
    ("get", "/api/v1/health"),
    ("get", "/api/v1/catalogue"),
    ("get", "/api/v1/items/{code}"),
    ("post", "/api/v1/identity/verify"),
    ("post", "/api/v1/certificates"),
    ("get", "/api/v1/certificates/{certificate_no}/verification"),
    ("post", "/api/v1/ratings"),
    ("get", "/api/v1/ratings/reasons"),
    ("post", "/api/v1/identity/eid"),
    ("get", "/api/v1/cases/{receipt_no}"),
    ("get", "/api/v1/cases"),
    ("get", "/api/v1/records/{item_code}"),
    ("post", "/api/v1/tickets"),
    ("post", "/api/v1/appointments/check-in"),
    ("get", "/api/v1/certificates/{certificate_no}/pdf"),
    ("get", "/guides/{item_code}"),
    ("get", "/api/v1/items/{code}/form"),
    ("post", "/api/v1/applications"),
    ("get", "/api/v1/applications/{idempotency_key}"),
    ("post", "/api/v1/identity/face"),
}
# Development stand-ins: only in a service created with dev_endpoints=True (the reference one).
DEV_ENDPOINTS = {
    ("post", "/api/v1/dev/eid/mint"),
    ("post", "/api/v1/dev/appointments"),
    ("post", "/api/v1/dev/queues/{code}/call"),
}


@pytest.fixture(scope="module")
def openapi(server: Any) -> dict[str, Any]:
    response = httpx.get(f"{server.base_url}/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def test_lists_all_endpoints(openapi: dict[str, Any]) -> None:
    listed = {(method, path) for path, ops in openapi["paths"].items() for method in ops}
    assert listed == ENDPOINTS | DEV_ENDPOINTS


def test_a_production_service_has_no_dev_endpoints() -> None:
    from fastapi.testclient import TestClient

    from central.app import create_app

    with signed(
        TestClient(
            create_app(
                "sqlite://",
                dev_endpoints=False,
                kiosk_registry=TEST_KIOSKS.registry,
                auth_settings=UNLIMITED,
            )
        )
    ) as client:
        paths = client.get("/openapi.json").json()["paths"]
        listed = {(method, path) for path, ops in paths.items() for method in ops}
        assert listed == ENDPOINTS
        assert client.post("/api/v1/dev/eid/mint", json={"person": "1"}).status_code == 404


def test_has_title_version_and_descriptions(openapi: dict[str, Any]) -> None:
    assert "中心服务" in openapi["info"]["title"]
    assert openapi["info"]["version"] == "0.1.0"
    assert "Idempotency-Key" in openapi["info"]["description"]
    for path, ops in openapi["paths"].items():
        for method, op in ops.items():
            assert op.get("summary") and op.get("description"), (method, path)
            assert op.get("tags"), (method, path)


def test_errors_are_documented_with_the_common_shape(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    assert "ErrorResponse" in schemas
    assert "HTTPValidationError" not in schemas  # FastAPI's own 422 shape is not what we send
    item_404 = openapi["paths"]["/api/v1/items/{code}"]["get"]["responses"]["404"]
    assert item_404["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")
    certs = openapi["paths"]["/api/v1/certificates"]["post"]["responses"]
    assert {"200", "201", "400", "404", "409", "422"} <= set(certs)


def test_guide_fields_carry_their_chinese_labels(openapi: dict[str, Any]) -> None:
    guide = openapi["components"]["schemas"]["Guide"]["properties"]
    labels = {
        "conditions": "受理条件",
        "materials": "申报材料",
        "steps": "办理流程",
        "time_limit": "承诺时限",
        "fees": "收费标准",
        "legal_basis": "法定依据",
        "phone": "咨询电话",
        "location": "办理地点",
    }
    for key, label in labels.items():
        assert label in guide[key]["description"], key


def test_idempotency_key_header_is_documented(openapi: dict[str, Any]) -> None:
    params = openapi["paths"]["/api/v1/certificates"]["post"]["parameters"]
    assert any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in params)


IDEMPOTENT_POSTS = (
    "/api/v1/certificates",
    "/api/v1/ratings",
    "/api/v1/tickets",
    "/api/v1/appointments/check-in",
    "/api/v1/applications",
)


def test_idempotency_key_is_required_with_its_pattern(openapi: dict[str, Any]) -> None:
    for path in IDEMPOTENT_POSTS:
        params = openapi["paths"][path]["post"]["parameters"]
        (key,) = [p for p in params if p["in"] == "header" and p["name"] == "Idempotency-Key"]
        assert key["required"] is True, path
        assert key["schema"]["pattern"] == "^[!-~]{1,255}$", path


def test_the_application_body_is_documented(openapi: dict[str, Any]) -> None:
    body = openapi["paths"]["/api/v1/applications"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert body["required"] is True
    assert {"item_code", "kiosk_id", "applicant", "fields", "documents"} <= set(schema["required"])
    assert schema["properties"]["applicant"]["$ref"].endswith("/$defs/Party")
    assert "Party" in schema["$defs"]


def test_every_operation_that_takes_input_documents_a_json_422(openapi: dict[str, Any]) -> None:
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation or operation.get("parameters"):
                content = operation["responses"]["422"]["content"]
                assert "application/json" in content, (method, path)


def test_the_id_number_shape_depends_on_the_card_type(openapi: dict[str, Any]) -> None:
    verify = openapi["components"]["schemas"]["IdentityVerifyRequest"]
    branches = {b["properties"]["card_type"]["const"]: b for b in verify["anyOf"]}
    assert set(branches) == {
        "resident",
        "hk_mo_tw_residence",
        "foreign_permanent_2017",
        "foreign_permanent_2023",
    }
    assert branches["hk_mo_tw_residence"]["properties"]["id_number"]["pattern"].startswith(
        "^8[123]"
    )
    assert "required" not in branches["resident"]  # no card_type: a resident card (the default)
