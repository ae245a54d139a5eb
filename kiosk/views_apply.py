"""View models of the apply flow: who applies, face check, form, keyboard, materials, review.

Kept apart from `kiosk.views` (which dispatches here) so that each file reads as one screen
family. What the resident typed is shown back to them in full while they edit and review it;
what came from the card (name, number) is masked as everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kiosk.capture_prompts import KIND_PROMPTS
from kiosk.events import Intent
from kiosk.flows import form
from kiosk.i18n import N_, in_language
from kiosk.ids import StateId
from kiosk.privacy import mask_id_number, mask_name
from kiosk.view_parts import Option, Section, back_home


@dataclass(frozen=True)
class FieldView:
    """One form field on the form or review screen."""

    name: str
    label: str
    value: str
    problem: str = ""
    required: bool = True
    kind: str = "text"  # the field type: the screen picks the keyboard's look from it


@dataclass(frozen=True)
class KeyboardView:
    """The on-screen keyboard of the field being edited."""

    layout: str  # digits, letters, pinyin, handwriting
    text: str
    composition: str = ""
    candidates: tuple[str, ...] = ()
    has_more: bool = False
    has_previous: bool = False
    layouts: tuple[str, ...] = ()  # the layouts this field may switch between
    extra_keys: tuple[str, ...] = ()  # e.g. "X" for an ID number on the digit layout
    strokes: int = 0  # ink on the handwriting pad


@dataclass(frozen=True, repr=False)
class Thumbnail:
    """A captured material: its name and a small JPEG for the screen."""

    label: str
    jpeg: bytes = b""
    required: bool = True
    current: bool = False

    def __repr__(self) -> str:
        return f"Thumbnail({self.label!r}, {len(self.jpeg)} bytes)"


NOTICES = {
    **{
        f"{kind}_{code}": text
        for kind, prompts in KIND_PROMPTS.items()
        for code, text in prompts.items()
    },
    "principal_is_agent": N_("This is your own card. Please place the applicant's ID card."),
    "face_check_unavailable": N_("The face check is not possible now. Please go to a window."),
    "face_not_matched": N_("Your face did not match the ID card. Please try again."),
    "face_poor_quality": N_("The picture was not clear enough. Please face the light and retry."),
    "face_too_many_attempts": N_("Too many tries. Please go to a service window."),
    "face_go_to_window": N_(
        "The face check did not succeed. Please go to a service window; staff will help you."
    ),
    "camera_unavailable": N_("The camera is not available. Please go to a service window."),
    "camera_out_of_service": N_(
        "The camera is out of service, so applications with documents are not possible here now."
    ),
    "face_check_needs_service": N_(
        "This application needs an online face check, and the service cannot be reached now."
    ),
    "material_needed": N_("Please photograph this document first."),
    "form_has_problems": N_("Some answers need checking. Please look at the marked fields."),
    "input_not_understood": N_("That did not work. Please try again."),
    "application_not_saved": N_(
        "Your application could NOT be saved. Nothing was sent. Please try again or ask staff."
    ),
    "application_rejected": N_(
        "The service could not accept this application. Please check it, or ask at a window."
    ),
    "application_fields_rejected": N_(
        "The service found a problem with your answers. Please check them and submit again."
    ),
    "application_documents_rejected": N_(
        "The service could not use a document photo. Please retake it and submit again."
    ),
    "applicant_not_verified": N_(
        "The applicant's name and ID number do not match the records. Please check them."
    ),
    "agent_not_allowed": N_("This service cannot be applied for on someone else's behalf."),
    "face_other": N_("The face check could not be done here. Please go to a service window."),
    "face_check_required": N_("This application needs a face check. Please start again."),
    "staff_card_not_accepted": N_("This staff card was not accepted."),
    **{f"field_{code}": text for code, text in form.PROBLEMS.items()},
}

_LAYOUTS = {
    "chinese_name": ("handwriting", "pinyin"),
    "address": ("pinyin", "handwriting", "digits", "letters"),
    "text": ("pinyin", "handwriting", "digits", "letters"),
    "phone": ("digits",),
    "id_number": ("digits",),
    "date": ("digits",),
}


def _label(spec: form.FieldSpec, en: bool) -> str:
    return (spec.label_en or spec.label) if en else spec.label


def _shown(spec: form.FieldSpec, value: str, en: bool) -> str:
    if spec.type == "choice":
        choice = next((c for c in spec.choices if c.value == value), None)
        return ((choice.label_en or choice.label) if en else choice.label) if choice else value
    return value


def _field_views(draft: form.Draft, en: bool, _: Any, *, masked: bool) -> tuple[FieldView, ...]:
    card = {"name", "id_number"}
    views = []
    for spec in draft.fields:
        value = draft.values.get(spec.name, "")
        shown = _shown(spec, value, en)
        if masked and spec.prefill in card and value:
            shown = mask_name(value) if spec.prefill == "name" else mask_id_number(value)
        problem = draft.problems.get(spec.name)
        views.append(
            FieldView(
                spec.name,
                _label(spec, en),
                shown,
                _(form.PROBLEMS[problem]) if problem in form.PROBLEMS else "",
                spec.required,
                spec.type,
            )
        )
    return tuple(views)


def _thumbnails(draft: form.Draft, en: bool) -> tuple[Thumbnail, ...]:
    return tuple(
        Thumbnail(
            (m.name_en or m.name) if en else m.name,
            getattr(draft.shots.get(m.code), "thumbnail", b""),
            m.required,
            i == draft.material_index,
        )
        for i, m in enumerate(draft.materials)
    )


def apply_start(ctx: Any, _: Any) -> dict[str, Any]:

    return {
        "title": _("Who is this application for?"),
        "options": (
            Option(Intent.FOR_SELF, _("For myself"), primary=True),
            Option(
                Intent.FOR_OTHER,
                _("For someone else (代办)"),
                sublabel=_("You will need their ID card or details and a signed authorisation"),
            ),
        ),
        "actions": back_home(_),
    }


def principal(ctx: Any, _: Any) -> dict[str, Any]:

    return {
        "title": _("The applicant's ID"),
        "hint": _("Place the applicant's ID card on the reader"),
        "sections": (
            Section(
                _("No card at hand?"),
                (
                    _(
                        "Enter their name and ID number instead; you will photograph the signed "
                        "letter of authorisation."
                    ),
                ),
            ),
        ),
        "options": (Option(Intent.ENTER_PRINCIPAL, _("Enter their details instead")),),
        "actions": back_home(_),
    }


def face_check(ctx: Any, _: Any) -> dict[str, Any]:

    draft: form.Draft = ctx.session.draft
    checking = "face" in ctx.session.pending
    exhausted = draft.face_attempts >= form.MAX_FACE_ATTEMPTS and not checking
    options: tuple[Any, ...] = ()
    if exhausted:
        options = (Option(Intent.DONE, _("Done"), primary=True),)
    elif not checking:
        options = (Option(Intent.RETRY, _("Try again"), primary=True),)
    return {
        "title": _("Face check"),
        "subtitle": _("Please look at the camera and keep still"),
        "hint": _("Checking…") if checking else "",
        "busy": checking,
        "camera": "face",
        "options": options,
        "actions": back_home(_),
    }


def form_view(ctx: Any, _: Any) -> dict[str, Any]:

    draft: form.Draft = ctx.session.draft
    en = ctx.session.prefs.language == "en"
    per_page = form.fields_per_page(ctx.session.prefs.elder)
    fields = _field_views(draft, en, _, masked=True)
    pages = max(1, -(-len(fields) // per_page))
    page = min(draft.field_page, pages - 1)
    shown = fields[page * per_page : (page + 1) * per_page]
    options = tuple(
        Option(
            Intent.EDIT_FIELD,
            f.label + ("" if f.required else _(" (optional)")),
            arg=f.name,
            sublabel=f.problem or f.value or _("Tap to fill in"),
            selected=bool(f.value) and not f.problem,
        )
        for f in shown
    )
    actions = []
    if page > 0:
        actions.append(Option(Intent.PAGE, _("Previous"), arg="previous"))
    if page < pages - 1:
        actions.append(Option(Intent.PAGE, _("Next question"), arg="next", primary=True))
    else:
        actions.append(Option(Intent.NEXT, _("Continue"), primary=True))
    agent = _("Applying for someone else") if draft.agent else ""
    return {
        "title": _("Application form"),
        "subtitle": agent,
        "hint": _("Page {page} of {pages}").format(page=page + 1, pages=pages) if pages > 1 else "",
        "fields": shown,
        "options": options,
        "actions": [*actions, *back_home(_)],
    }


def editing(ctx: Any, _: Any) -> dict[str, Any]:

    draft: form.Draft = ctx.session.draft
    en = ctx.session.prefs.language == "en"
    spec = draft.spec(draft.editing)
    if spec is None:
        return {"title": _("Application form"), "actions": back_home(_)}
    title = _label(spec, en)
    if spec.type == "choice":
        current = draft.values.get(spec.name)
        return {
            "title": title,
            "options": tuple(
                Option(
                    Intent.CHOOSE,
                    (c.label_en or c.label) if en else c.label,
                    arg=c.value,
                    selected=c.value == current,
                )
                for c in spec.choices
            ),
            "actions": back_home(_),
        }
    kb = draft.keyboard
    keyboard = KeyboardView(
        layout=kb.layout,
        text=kb.text,
        composition=getattr(kb, "composition", ""),
        candidates=tuple(getattr(kb, "candidates", ())),
        has_more=bool(getattr(kb, "has_more", False)),
        has_previous=bool(getattr(kb, "has_previous", False)),
        layouts=_LAYOUTS.get(spec.type, ("pinyin", "letters", "digits")),
        extra_keys=("X",) if spec.type == "id_number" else (),
        strokes=len(getattr(kb, "ink", ())),
    )
    hints = {
        "date": _("Year, month, day: 8 digits, e.g. 19580317"),
        "phone": _("An 11-digit mobile number, or a landline with its area code"),
        "id_number": _("18 characters; the last may be X"),
        "chinese_name": _("Write one character at a time, or type its pinyin"),
    }
    return {
        "title": title,
        "hint": hints.get(spec.type, ""),
        "keyboard": keyboard,
        "entry": kb.text,
        "actions": [
            Option(Intent.FIELD_DONE, _("OK"), primary=True),
            Option(Intent.BACK, _("Cancel")),
            Option(Intent.HOME, _("Home")),
        ],
    }


def documents(ctx: Any, _: Any) -> dict[str, Any]:

    draft: form.Draft = ctx.session.draft
    en = ctx.session.prefs.language == "en"
    material = draft.current_material
    capturing = "capture" in ctx.session.pending
    if material is None:
        return {"title": _("Documents"), "actions": back_home(_)}
    shot = draft.shots.get(material.code)
    options: list[Any] = []
    if shot is None:
        options.append(
            Option(Intent.CAPTURE, _("Take the photo"), primary=True, enabled=not capturing)
        )
    else:
        options += [
            Option(Intent.NEXT, _("Use this photo"), primary=True),
            Option(Intent.RETAKE, _("Retake")),
        ]
    if not material.required and shot is None:
        options.append(Option(Intent.NEXT, _("Skip (optional)")))
    total = len(draft.materials)
    return {
        "title": (material.name_en or material.name) if en else material.name,
        "subtitle": _("Document {i} of {n}").format(i=draft.material_index + 1, n=total),
        "hint": _("Taking the photo…")
        if capturing
        else _("Lay the page flat in the lit area under the camera, text facing up"),
        "busy": capturing,
        "camera": "document" if shot is None else "",
        "thumbnails": _thumbnails(draft, en),
        "options": tuple(options),
        "actions": back_home(_),
    }


def review(ctx: Any, _: Any) -> dict[str, Any]:

    draft: form.Draft = ctx.session.draft
    en = ctx.session.prefs.language == "en"
    session = ctx.session
    who = []
    if session.identity is not None:
        who.append(_("Applicant present: {name}").format(name=mask_name(session.identity.name)))
    if draft.agent:
        who.append(_("Applying for someone else (代办)"))
    if session.assisted_by:
        who.append(_("Helped by staff member {no}").format(no=session.assisted_by))
    if draft.face_check_id:
        who.append(_("Face check passed"))
    offline = not ctx.central_up
    return {
        "title": _("Please check your application"),
        "subtitle": in_language(ctx.session.item, "name", en) if ctx.session.item else "",
        "hint": _("The service is offline: your application will be saved and sent later.")
        if offline
        else "",
        "sections": (Section(_("Who"), tuple(who)),) if who else (),
        "fields": _field_views(draft, en, _, masked=True),
        "thumbnails": _thumbnails(draft, en),
        "options": (Option(Intent.SUBMIT_APPLICATION, _("Submit"), primary=True),),
        "actions": [Option(Intent.EDIT_APPLICATION, _("Change answers")), *back_home(_)],
    }


def submitted(ctx: Any, _: Any) -> dict[str, Any]:

    draft: form.Draft = ctx.session.draft
    receipt = draft.receipt
    if receipt is not None:
        return {
            "title": _("Application received"),
            "subtitle": _("Tracking number {no}").format(no=receipt.tracking_no),
            "sections": (
                Section(
                    _("What happens next"),
                    (
                        _("Please take your receipt."),
                        _("Scan its code at any kiosk, or enter the number, to follow progress."),
                    ),
                ),
            ),
            "qr": f"CASE:{receipt.tracking_no}",
            "qr_caption": _("Your tracking number"),
            "options": (Option(Intent.DONE, _("Done"), primary=True),),
            "actions": (Option(Intent.HOME, _("Home")),),
        }
    return {
        "title": _("Application saved"),
        "subtitle": _("The service is offline; your application will be sent automatically."),
        "sections": (
            Section(
                _("What happens next"),
                (
                    _("Please take your receipt: it says your application is queued."),
                    _("Later, scan its code at a kiosk to get your tracking number."),
                ),
            ),
        ),
        "qr": f"APP:{draft.idempotency_key}",
        "qr_caption": _("Your application code"),
        "options": (Option(Intent.DONE, _("Done"), primary=True),),
        "actions": (Option(Intent.HOME, _("Home")),),
    }


def busy(ctx: Any, _: Any) -> dict[str, Any]:
    titles = {
        StateId.LOADING_FORM: _("Preparing the application form…"),
        StateId.SUBMITTING: _("Saving and sending your application…"),
    }
    return {"title": titles.get(StateId(ctx.state), _("Please wait…")), "busy": True}


BUILDERS = {
    StateId.LOADING_FORM: busy,
    StateId.APPLY_START: apply_start,
    StateId.PRINCIPAL: principal,
    StateId.FACE_CHECK: face_check,
    StateId.FORM: form_view,
    StateId.EDITING: editing,
    StateId.DOCUMENTS: documents,
    StateId.REVIEW: review,
    StateId.SUBMITTING: busy,
    StateId.SUBMITTED: submitted,
}
