"""好差评 with reasons: the national list, reasons only for 差评, server-set times."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from central.rating_reasons import RATING_REASONS
from tests.central.helpers import assert_error

BODY = {"kiosk_id": "KIOSK-T-1", "item_code": "tax.invoice", "level": 2}


def rate(http, **change):
    return http.post(
        "/ratings", json={**BODY, **change}, headers={"Idempotency-Key": str(uuid.uuid4())}
    )


def test_reason_list_is_served(http):
    response = http.get("/ratings/reasons")
    assert response.status_code == 200
    reasons = response.json()
    assert [r["code"] for r in reasons] == [r.code for r in RATING_REASONS]
    labels = {r["label"] for r in reasons}
    assert {"等候时间长", "服务态度差", "多次跑动", "其他"} <= labels
    assert all(r["label_en"] for r in reasons)


def test_low_rating_with_reasons_case_and_flow(http):
    response = rate(
        http,
        reasons=["long_wait", "attitude"],
        case_no="HJZM2026030212345678",
        flow="print",
        rated_at="2026-03-02T09:30:00+08:00",
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"reasons": ["not_a_reason"]}, "unknown code"),
        ({"level": 4, "reasons": ["long_wait"]}, "reasons with a good rating"),
        ({"reasons": ["long_wait", "long_wait"]}, "repeated"),
        ({"reasons": "long_wait"}, "not a list"),
        ({"flow": "dance"}, "unknown flow"),
        ({"case_no": "../../etc"}, "bad case number"),
        ({"rated_at": "yesterday"}, "not a time"),
    ],
)
def test_bad_reasons_and_fields_are_422(http, change, why):
    assert_error(rate(http, **change), 422, "invalid_request")


@pytest.mark.parametrize(
    "rated_at",
    [
        "2026-03-02T09:30:00",  # no offset
        "0001-01-01T00:00:00+08:00",
        "9999-12-31T23:59:59-08:00",
        "1970-01-01T00:00:00Z",
        None,
    ],
)
def test_untrusted_client_time_never_breaks_a_rating(http, rated_at):
    response = rate(http, rated_at=rated_at)
    assert response.status_code == 201, response.text


def test_received_at_is_the_server_time_whatever_the_client_says(server, http):
    response = rate(http, rated_at="2001-01-01T00:00:00+00:00")
    assert response.json()["received_at"][:4] != "2001"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.datetimes(timezones=st.none() | st.timezones()))
def test_any_datetime_is_accepted_or_refused_but_never_fails(http, value):
    response = rate(http, rated_at=value.isoformat())
    assert response.status_code in (201, 422), response.text
