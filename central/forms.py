"""Application forms of the submit items, from `seed/forms.json`, checked against the catalogue.

Forms are read once per process (they are part of the service's release, like the catalogue
file) and checked on start against the items table: every `submit` item has exactly one form, a
form's `face_check` equals its item's `id_card_face` identity.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.db import ItemRow
from central.errors import ApiError
from central.form_models import ApplicationForm, FormSeed, FormsSeed
from central.seed import SEED_DIR, SeedError

FORMS_FILE = SEED_DIR / "forms.json"


def read_forms(path: Path = FORMS_FILE) -> FormsSeed:
    """Parse and validate a forms seed file."""
    try:
        return FormsSeed.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, ValidationError) as exc:
        raise SeedError(f"{path}: {exc}") from exc


@functools.cache
def _forms() -> FormsSeed:
    return read_forms()


def check_against_items(session: Session, forms: FormsSeed | None = None) -> None:
    """Raise SeedError unless each submit item has one form that agrees with the item."""
    forms = forms or _forms()
    by_code = {form.item_code: form for form in forms.forms}
    if len(by_code) != len(forms.forms):
        raise SeedError("forms.json: two forms for one item")
    submit = {row.code: row for row in session.scalars(select(ItemRow))}
    for code, form in by_code.items():
        row = submit.get(code)
        if row is None or row.flow != "submit":
            raise SeedError(f"forms.json: {code} is not a submit item of the catalogue")
        if form.face_check != (row.identity == "id_card_face"):
            raise SeedError(f"forms.json: {code} face_check disagrees with the item's identity")
    missing = sorted(code for code, row in submit.items() if row.flow == "submit") - by_code.keys()
    if missing:
        raise SeedError(f"forms.json: no form for {', '.join(sorted(missing))}")


def form_seed(session: Session, item_code: str) -> FormSeed:
    """The form of a submit item; 404 `item_not_found`, or 404 `no_form` for other items."""
    item = session.get(ItemRow, item_code)
    if item is None:
        raise ApiError(404, "item_not_found", f"no service item with code {item_code!r}")
    form = next((f for f in _forms().forms if f.item_code == item_code), None)
    if item.flow != "submit" or form is None:
        raise ApiError(404, "no_form", f"item {item_code!r} takes no applications")
    return form


def application_form(session: Session, item_code: str) -> ApplicationForm:
    """The form as the kiosk receives it, with the 代办 rules when an agent may apply."""
    form = form_seed(session, item_code)
    agent = _forms().agent if form.agent_allowed else None
    return ApplicationForm(**form.model_dump(), agent=agent)


def prepare(session: Session, *, seeded: bool) -> None:
    """Start-up check of the forms against a seeded catalogue."""
    if seeded:
        check_against_items(session)
