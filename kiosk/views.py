"""View models: what each screen shows, already translated, built from the core's state.

Screens render these and nothing else, so every word a resident reads is decided (and tested) here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kiosk.availability import Function
from kiosk.config import KioskConfig
from kiosk.events import Intent
from kiosk.i18n import N_, translator
from kiosk.privacy import mask_name
from kiosk.session import Session

RATING_LEVELS = (
    ("5", N_("Very satisfied")),
    ("4", N_("Satisfied")),
    ("3", N_("Fair")),
    ("2", N_("Dissatisfied")),
    ("1", N_("Very dissatisfied")),
)

# Notices are keys so that the core never deals in language; translated here.
NOTICES = {
    "card_read_failed": N_("The card could not be read. Please take it off and place it again."),
    "identity_not_found": N_("We could not verify your identity. Please go to a service window."),
    "service_unavailable": N_("The service is busy right now. Please try again shortly."),
    "service_rejected": N_("The service could not accept this request. Please ask at a window."),
    "service_error": N_("Something went wrong. Please try again or ask at a window."),
    "printer_paper_out": N_("The printer is out of paper. Please ask staff for help."),
    "printer_unavailable": N_("The printer is not available. Please try again or ask staff."),
    "internal_error": N_("Something went wrong. Please try again or ask at a window."),
}

GUIDE_SECTIONS = (
    ("conditions", N_("Eligibility")),
    ("materials", N_("Documents required")),
    ("steps", N_("Procedure")),
    ("time_limit", N_("Time limit")),
    ("fees", N_("Fees")),
    ("legal_basis", N_("Legal basis")),
    ("location", N_("Where")),
    ("phone", N_("Enquiries")),
)


@dataclass(frozen=True)
class Option:
    """A touch target: what it says and which intent it sends."""

    intent: Intent
    label: str
    arg: str | None = None
    sublabel: str = ""
    primary: bool = False
    enabled: bool = True  # False: shown greyed, with the reason in the view's notice or hint


@dataclass(frozen=True)
class Section:
    """A heading with its lines of text (a guide field)."""

    heading: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class ViewModel:
    """Everything one screen shows."""

    state: str
    title: str
    subtitle: str = ""
    hint: str = ""
    notice: str = ""
    busy: bool = False
    options: tuple[Option, ...] = ()
    sections: tuple[Section, ...] = ()
    actions: tuple[Option, ...] = ()
    seconds_left: int | None = None
    countdown_text: str = ""
    countdown_action: Option | None = None
    large_text: bool = False
    language: str = "zh_CN"
    status_line: str = ""


@dataclass(frozen=True)
class ViewContext:
    """The inputs of `build_view`."""

    state: str
    session: Session
    catalogue: Any
    config: KioskConfig
    seconds_left: float | None = None
    available: frozenset[Function] = frozenset(Function)


def _name(obj: Any, language: str) -> str:
    return (getattr(obj, "name_en", "") or obj.name) if language == "en" else obj.name


def _as_lines(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (value,)
    lines = []
    for i, entry in enumerate(value, 1):
        if isinstance(entry, str):
            lines.append(f"{i}. {entry}")
        else:  # a material: name, copies, note
            copies = getattr(entry, "copies", None)
            note = getattr(entry, "note", "")
            text = f"{i}. {entry.name}"
            if copies:
                text += f" ×{copies}"
            if note:
                text += f" ({note})"
            lines.append(text)
    return tuple(lines)


def build_view(ctx: ViewContext) -> ViewModel:
    """The view model for the current state."""
    lang = ctx.session.prefs.language
    _ = translator(lang)
    builder = _BUILDERS.get(ctx.state, _busy_view)
    view: dict[str, Any] = builder(ctx, _)
    actions = [
        *view.pop("actions", ()),
        Option(
            Intent.TOGGLE_LARGE_TEXT,
            _("Large text") if not ctx.session.prefs.large_text else _("Normal text"),
        ),
        Option(Intent.TOGGLE_LANGUAGE, "English" if lang == "zh_CN" else "中文"),
    ]
    seconds = None if ctx.seconds_left is None else int(ctx.seconds_left + 0.999)
    countdown = ""
    countdown_action = None
    if seconds is not None:
        countdown = _("Returning to the start in {n} s").format(n=seconds)
        if ctx.state != "thanks":
            countdown_action = Option(Intent.MORE_TIME, _("More time"), primary=True)
    notice = ctx.session.notice
    return ViewModel(
        state=ctx.state,
        notice=_(NOTICES.get(notice, NOTICES["internal_error"])) if notice else "",
        actions=tuple(actions),
        seconds_left=seconds,
        countdown_text=countdown,
        countdown_action=countdown_action,
        large_text=ctx.session.prefs.large_text,
        language=lang,
        status_line=f"{ctx.config.site_name}  ·  {ctx.config.kiosk_id}",
        **view,
    )


def _back_home(_: Any) -> list[Option]:
    return [Option(Intent.BACK, _("Back")), Option(Intent.HOME, _("Home"))]


def _attract(ctx: ViewContext, _: Any) -> dict[str, Any]:
    can_identify = Function.IDENTIFY_BY_ID_CARD in ctx.available
    view = {
        "title": _("Self-service"),
        "subtitle": ctx.config.site_name,
        "hint": _("Place your ID card on the reader, or touch Start"),
        "options": (Option(Intent.START, _("Start"), primary=True, enabled=can_identify),),
    }
    if not can_identify:
        view["hint"] = _(
            "The ID card reader is out of service. Please go to a service window; "
            "staff have been told."
        )
    return view


def _await_card(ctx: ViewContext, _: Any) -> dict[str, Any]:
    return {
        "title": _("Please place your ID card on the reader"),
        "hint": _("Lay the card flat on the reader below the screen and keep it still"),
        "actions": _back_home(_),
    }


def _busy_view(ctx: ViewContext, _: Any) -> dict[str, Any]:
    titles = {
        "identifying": _("Checking your identity…"),
        "printing": _("Printing, please wait…"),
    }
    return {"title": titles.get(ctx.state, _("Please wait…")), "busy": True}


def _greeting(ctx: ViewContext, _: Any) -> str:
    identity = ctx.session.identity
    if identity is None:
        return ""
    return _("Hello, {name}").format(name=mask_name(identity.name))


def _categories(ctx: ViewContext, _: Any) -> dict[str, Any]:
    lang = ctx.session.prefs.language
    options: tuple[Option, ...] = ()
    if ctx.catalogue is not None:
        options = tuple(
            Option(
                Intent.PICK_CATEGORY,
                _name(c, lang),
                arg=c.code,
                sublabel=_("{n} services").format(n=len(c.items)),
            )
            for c in ctx.catalogue.categories
        )
    return {
        "title": _("Choose a category"),
        "subtitle": _greeting(ctx, _),
        "busy": ctx.catalogue is None,
        "options": options,
        "actions": _back_home(_),
    }


def _items(ctx: ViewContext, _: Any) -> dict[str, Any]:
    lang = ctx.session.prefs.language
    category = (
        next((c for c in ctx.catalogue.categories if c.code == ctx.session.category), None)
        if ctx.catalogue is not None
        else None
    )
    if category is None:
        return {"title": _("Choose a service"), "busy": True, "actions": _back_home(_)}
    badge = {
        "print": _("Print here"),
        "guide": _("Guide"),
        "lookup": _("Look up"),
        "submit": _("Apply"),
        "ticket": _("Queue ticket"),
    }
    return {
        "title": _name(category, lang),
        "subtitle": _("Choose a service"),
        "options": tuple(
            Option(
                Intent.PICK_ITEM,
                _name(item, lang),
                arg=item.code,
                sublabel=f"{badge.get(item.flow, '')} · {item.department}",
            )
            for item in category.items
        ),
        "actions": _back_home(_),
    }


def _guide(ctx: ViewContext, _: Any) -> dict[str, Any]:
    item = ctx.session.item
    if item is None:
        return {"title": _("Loading the guide…"), "busy": True, "actions": _back_home(_)}
    lang = ctx.session.prefs.language
    sections = tuple(
        Section(_(heading), lines)
        for key, heading in GUIDE_SECTIONS
        if (lines := _as_lines(getattr(item, key, None)))
    )
    options: tuple[Option, ...] = ()
    hint = ""
    if item.flow == "print" and Function.PRINT_RECEIPT not in ctx.available:
        options = (Option(Intent.PRINT, _("Print the certificate"), enabled=False),)
        hint = _("The printer is out of service, so printing is not possible right now.")
    elif item.flow == "print":
        options = (Option(Intent.PRINT, _("Print the certificate"), primary=True),)
    else:
        hint = _("This service is not yet available at this kiosk; please go to a service window.")
    return {
        "title": _name(item, lang),
        "subtitle": getattr(item, "department", ""),
        "hint": hint,
        "sections": sections,
        "options": options,
        "actions": _back_home(_),
    }


def _rating(ctx: ViewContext, _: Any) -> dict[str, Any]:
    certificate = ctx.session.certificate
    subtitle = ""
    if certificate is not None:
        subtitle = _("Please take your receipt. Certificate no. {no}").format(
            no=certificate.certificate_no
        )
    return {
        "title": _("How satisfied are you with this service?"),
        "subtitle": subtitle,
        "options": tuple(Option(Intent.RATE, _(label), arg=arg) for arg, label in RATING_LEVELS),
        "actions": (Option(Intent.SKIP, _("Skip")), Option(Intent.HOME, _("Home"))),
    }


def _thanks(ctx: ViewContext, _: Any) -> dict[str, Any]:
    return {
        "title": _("Thank you"),
        "subtitle": _("Please take your ID card and your receipt"),
        "options": (Option(Intent.BACK, _("Finish"), primary=True),),
    }


_BUILDERS = {
    "attract": _attract,
    "await_card": _await_card,
    "categories": _categories,
    "items": _items,
    "guide": _guide,
    "rating": _rating,
    "thanks": _thanks,
}
