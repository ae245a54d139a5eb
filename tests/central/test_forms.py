"""GET /items/{code}/form: a form for each submit item, agreeing with the catalogue."""

from __future__ import annotations

import json

import pytest

from central.form_models import FormsSeed
from central.forms import FORMS_FILE, check_against_items, read_forms
from central.seed import SeedError, read_catalogue
from rules.forms import check
from tests.central.helpers import assert_error
from tests.support.central_auth import UNLIMITED
from tests.support.kiosk_keys import TEST_KIOSKS

SUBMIT = {
    item.code: item
    for category in read_catalogue().categories
    for item in category.items
    if item.flow == "submit"
}


def test_every_submit_item_has_a_form_that_agrees_with_it():
    forms = {form.item_code: form for form in read_forms().forms}
    assert forms.keys() == SUBMIT.keys() and len(forms) == 9
    for code, form in forms.items():
        assert form.face_check == (SUBMIT[code].identity == "id_card_face"), code
        assert 3 <= len(form.fields) <= 6, code
    # Face items need the person themselves, except the elderly allowance (a child may apply).
    assert {code for code, form in forms.items() if form.face_check and form.agent_allowed} == {
        "mz.elderly-allowance"
    }


def test_form_answer_with_etag_and_304(http):
    response = http.get("/items/shebao.unemployment-registration/form")
    assert response.status_code == 200
    form = response.json()
    assert [f["label"] for f in form["fields"]] == [
        "联系电话",
        "失业原因",
        "原工作单位",
        "解除劳动关系日期",
    ]
    assert form["documents"][0]["name"] == "解除或终止劳动关系证明"
    assert form["agent"]["document"]["code"] == "authorisation"
    assert [r["value"] for r in form["agent"]["relations"]] == [
        "spouse",
        "parent",
        "child",
        "sibling",
        "other_relative",
        "entrusted",
    ]
    etag = response.headers["etag"]
    again = http.get(
        "/items/shebao.unemployment-registration/form", headers={"If-None-Match": etag}
    )
    assert again.status_code == 304


def test_face_items_without_agents_have_no_agent_rules(http):
    form = http.get("/items/huji.residence-permit/form").json()
    assert form["face_check"] is True and form["agent_allowed"] is False and form["agent"] is None
    purpose = next(f for f in form["fields"] if f["name"] == "purpose")
    assert [c["label"] for c in purpose["choices"]] == ["就业", "就读", "居住"]


def test_unknown_and_non_submit_items(http):
    assert_error(http.get("/items/nope.nothing/form"), 404, "item_not_found")
    assert_error(http.get("/items/shebao.insured-cert/form"), 404, "no_form")


def test_every_seed_field_accepts_a_sensible_value_type():
    for form in read_forms().forms:
        for field in form.fields:
            if field.type == "choice":
                assert check(field, field.choices[0].value) is None


def test_a_form_for_a_non_submit_item_is_refused_at_start(server):
    raw = json.loads(FORMS_FILE.read_text("utf-8"))
    raw["forms"][0]["item_code"] = "shebao.insured-cert"
    from central.app import create_app

    app = create_app("sqlite://", kiosk_registry=TEST_KIOSKS.registry, auth_settings=UNLIMITED)
    with app.state.central.sessions() as session, pytest.raises(SeedError):
        check_against_items(session, FormsSeed.model_validate(raw))
