"""An application being filled in: the item's form, the values, the materials, who applies.

The form schema comes from the central service (`GET /items/{code}/form`). The kiosk adds what 代办
needs (the relation, the principal's details when their card is not at hand, and the signed
authorisation), pre-fills what the card says, and checks each value with the same rules the
service applies again (`rules.forms`). Personal data: lives in the session only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kiosk.i18n import N_
from rules import forms

# 代办 relations (the service's list); labels in both languages.
RELATIONS = (
    ("spouse", "配偶", "Spouse"),
    ("parent", "父母", "Parent"),
    ("child", "子女", "Child"),
    ("sibling", "兄弟姐妹", "Sibling"),
    ("other_relative", "其他亲属", "Other relative"),
    ("entrusted", "受托人", "Entrusted person"),
)
AUTHORISATION = "authorisation"
MAX_FACE_ATTEMPTS = 3  # then the resident is sent to a window


def fields_per_page(elder: bool) -> int:
    """Form questions on one screen: one at a time in 长辈模式."""
    return 1 if elder else 6


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    label_en: str = ""


@dataclass(frozen=True)
class FieldSpec:
    """One field as the kiosk shows it (from the service's form, or added for 代办)."""

    name: str
    label: str
    label_en: str
    type: str  # chinese_name, phone, id_number, date, choice, address, text
    required: bool = True
    prefill: str | None = None  # name, id_number, sex, birth_date: from the card
    choices: tuple[Choice, ...] = ()
    max_length: int | None = None
    min_date: str | None = None
    max_date: str | None = None


@dataclass(frozen=True)
class Material:
    """A material to photograph."""

    code: str
    name: str
    name_en: str
    paper: str = "A4"
    required: bool = True


def _spec(raw: Any) -> FieldSpec:
    return FieldSpec(
        name=raw.name,
        label=raw.label,
        label_en=getattr(raw, "label_en", "") or "",
        type=str(raw.type),
        required=bool(getattr(raw, "required", True)),
        prefill=getattr(raw, "prefill", None),
        choices=tuple(
            Choice(c.value, c.label, getattr(c, "label_en", "") or "")
            for c in (getattr(raw, "choices", None) or ())
        ),
        max_length=getattr(raw, "max_length", None),
        min_date=_iso(getattr(raw, "min", None)),
        max_date=_iso(getattr(raw, "max", None)),
    )


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def _material(raw: Any) -> Material:
    return Material(
        code=raw.code,
        name=raw.name,
        name_en=getattr(raw, "name_en", "") or "",
        paper=getattr(raw, "paper", "A4") or "A4",
        required=bool(getattr(raw, "required", True)),
    )


RELATION_FIELD = FieldSpec(
    "agent_relation",
    "与申请人关系",
    "Relation to the applicant",
    "choice",
    choices=tuple(Choice(v, zh, en) for v, zh, en in RELATIONS),
)
PRINCIPAL_FIELDS = (
    FieldSpec("principal_name", "申请人姓名", "Applicant's name", "chinese_name"),
    FieldSpec("principal_id_number", "申请人公民身份号码", "Applicant's ID number", "id_number"),
)
AUTHORISATION_MATERIAL = Material(AUTHORISATION, "授权委托书", "Signed letter of authorisation")

# What a problem code from `rules.forms` says to the resident.
PROBLEMS = {
    "required": N_("Please fill this in."),
    "too_long": N_("This is too long."),
    "too_short": N_("This is too short."),
    "not_a_name": N_("Please enter a name in Chinese characters."),
    "bad_phone": N_("Please enter an 11-digit mobile number or a landline with its area code."),
    "bad_id_number": N_("This ID number is not valid. Please check it."),
    "bad_date": N_("Please enter a date as year, month and day."),
    "date_out_of_range": N_("This date is not possible here."),
    "not_a_choice": N_("Please choose one of the options."),
    "bad_characters": N_("Please remove the unusual characters."),
}


@dataclass(repr=False)
class Draft:
    """The application in progress. Personal data: never logged, wiped with the session."""

    item_code: str
    fields: list[FieldSpec]
    materials: list[Material]
    face_check: bool = False
    agent_allowed: bool = False
    values: dict[str, str] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    editing: str | None = None
    keyboard: Any = None  # kiosk.keyboard.Keyboard while a text field is being edited
    shots: dict[str, Any] = field(default_factory=dict)  # material code -> kiosk.capture.PageShot
    material_index: int = 0
    agent: bool = False
    principal: Any = None  # kiosk.session.Identity read from the principal's card
    principal_typed: bool = False
    face_check_id: str | None = None
    face_attempts: int = 0
    attempt: int = 0  # submissions tried; a changed application gets a new idempotency key
    idempotency_key: str | None = None
    receipt: Any = None  # the service's answer once delivered
    queued: bool = False  # durable but not yet delivered (the service was unreachable)
    field_page: int = 0

    def __repr__(self) -> str:
        return f"Draft({self.item_code}, fields={len(self.fields)}, shots={len(self.shots)})"

    # ---- building ----------------------------------------------------------------------------

    @classmethod
    def from_form(cls, form: Any) -> Draft:
        return cls(
            item_code=form.item_code,
            fields=[_spec(f) for f in form.fields],
            materials=[_material(m) for m in form.documents],
            face_check=bool(getattr(form, "face_check", False)),
            agent_allowed=bool(getattr(form, "agent_allowed", False)),
        )

    def prefill(self, identity: Any) -> None:
        """Fill what the card says into empty fields (the resident can still change them)."""
        if identity is None:
            return
        known = {
            "name": identity.name,
            "id_number": identity.id_number,
            "sex": identity.sex,
            "birth_date": identity.birth_date.isoformat() if identity.birth_date else "",
        }
        for spec in self.fields:
            value = known.get(spec.prefill or "")
            if value and not self.values.get(spec.name):
                self.values[spec.name] = value

    def apply_for_other(self, principal: Any | None) -> None:
        """代办: the relation and the authorisation; the principal's details unless their card
        was read. Pre-filled fields then describe the principal, not the agent present."""
        self.agent = True
        self.principal = principal
        self.principal_typed = principal is None
        names = {f.name for f in self.fields}
        extra = [RELATION_FIELD] + ([] if principal is not None else list(PRINCIPAL_FIELDS))
        self.fields = [f for f in extra if f.name not in names] + self.fields
        for spec in self.fields:
            if spec.prefill:
                self.values.pop(spec.name, None)
        if principal is not None:
            self.prefill(principal)
        if all(m.code != AUTHORISATION for m in self.materials):
            self.materials = [*self.materials, AUTHORISATION_MATERIAL]

    # ---- values ------------------------------------------------------------------------------

    def spec(self, name: str | None) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)

    def set_value(self, name: str, value: str, today: date | None = None) -> str | None:
        """Store a value; returns the problem code (and keeps it to show) or None."""
        spec = self.spec(name)
        if spec is None:
            return "unknown_field"
        value = value.strip()
        problem = check_value(spec, value, today)
        self.values[name] = value
        if problem is None:
            self.problems.pop(name, None)
        else:
            self.problems[name] = problem
        self.idempotency_key = None  # a changed application is a new request
        return problem

    def check_all(self, today: date | None = None) -> dict[str, str]:
        """Every field's problem (what stops the form from going on)."""
        self.problems = {}
        for spec in self.fields:
            problem = check_value(spec, self.values.get(spec.name, ""), today)
            if problem is not None:
                self.problems[spec.name] = problem
        return self.problems

    # ---- materials ---------------------------------------------------------------------------

    @property
    def current_material(self) -> Material | None:
        if 0 <= self.material_index < len(self.materials):
            return self.materials[self.material_index]
        return None

    def missing_materials(self) -> list[Material]:
        return [m for m in self.materials if m.required and m.code not in self.shots]


def check_value(spec: FieldSpec, value: str, today: date | None = None) -> str | None:
    """The problem code of `value` for `spec`, by the rules the service applies too.

    `today` is the kiosk's local date (its configured time zone, as the service's): bounds such
    as "today" must not move with the PC's own clock zone.
    """
    return forms.check(
        {
            "type": spec.type,
            "required": spec.required,
            "max_length": spec.max_length,
            "choices": [{"value": c.value} for c in spec.choices],
            "min": spec.min_date,
            "max": spec.max_date,
        },
        value,
        today=today,
    )
