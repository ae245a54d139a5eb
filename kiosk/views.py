"""View models: what each screen shows, already translated, built from the core's state.

Screens render these and nothing else, so every word a resident reads is decided (and tested) here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kiosk import views_apply, views_maintenance
from kiosk.availability import IDENTIFY_FUNCTIONS, Function
from kiosk.config import KioskConfig
from kiosk.events import Intent
from kiosk.flows.rating import DEFAULT_REASONS
from kiosk.i18n import N_, in_language, translator
from kiosk.ids import StateId
from kiosk.privacy import mask_address, mask_date, mask_id_number, mask_name
from kiosk.session import Session
from kiosk.view_parts import Option, Section, Table, back_home

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
    "service_unreachable": N_(
        "The service cannot be reached right now, so this cannot be done here at the moment. "
        "Guides and queue tickets still work."
    ),
    "service_rejected": N_("The service could not accept this request. Please ask at a window."),
    "service_error": N_("Something went wrong. Please try again or ask at a window."),
    "printer_paper_out": N_("The printer is out of paper. Please ask staff for help."),
    "printer_unavailable": N_("The printer is not available. Please try again or ask staff."),
    "printer_job_failed": N_("The page could not be printed. Please try again or ask staff."),
    "printer_out_of_service": N_("The printer is out of service, so printing is not possible now."),
    "identify_out_of_service": N_(
        "Identity checks are not possible at this kiosk right now. Please go to a service window."
    ),
    "internal_error": N_("Something went wrong. Please try again or ask at a window."),
    "card_expired_resident": N_(
        "This ID card has expired. Please renew it at the police station's ID card window; "
        "with the receipt of a renewal you can be served at a staffed window."
    ),
    "card_expired_hk_mo_tw_residence": N_(
        "This residence permit has expired. Please renew it at the public security exit-entry "
        "office, or show your Mainland Travel Permit at a staffed window."
    ),
    "card_expired_foreign_permanent_2017": N_(
        "This permanent residence card has expired. Please renew it at the exit-entry "
        "administration, or show your passport at a staffed window."
    ),
    "card_expired_foreign_permanent_2023": N_(
        "This permanent residence card has expired. Please renew it at the exit-entry "
        "administration, or show your passport at a staffed window."
    ),
    "eid_invalid": N_("This electronic ID code was not accepted. Please refresh it in the app."),
    "eid_expired": N_("This electronic ID code has expired. Please refresh it in the app."),
    "code_not_recognised": N_("This code is not one the kiosk can use here."),
    "receipt_no_incomplete": N_("A receipt number has 16 digits. Please check and complete it."),
    "receipt_no_mistyped": N_(
        "This receipt number has a typing mistake. Please check each digit against the receipt."
    ),
    "application_not_arrived": N_(
        "This application has not reached the service yet. It is sent automatically; please "
        "scan the code again later."
    ),
    "case_not_found": N_("No application has this receipt number. Please check the number."),
    "appointment_not_found": N_("This appointment was not found. Please ask at the front desk."),
    "appointment_not_today": N_("This appointment is not for today. Please come on its date."),
    "already_checked_in": N_("You have already checked in for this appointment."),
    "social_security_card_unreadable": N_(
        "The social security card could not be read. Please take it out and insert it again."
    ),
    "social_security_card_expired": N_(
        "This social security card has expired. Please use your ID card, or renew the card at "
        "the social security window."
    ),
    "rating_not_saved": N_("Your rating could not be saved. Please try again, or skip."),
}

# How the number on each card is called (certificates use the same labels).
NUMBER_LABELS = {
    "resident": N_("Citizen ID number"),
    "hk_mo_tw_residence": N_("Residence permit number"),
    "foreign_permanent_2017": N_("Permanent residence ID number"),
    "foreign_permanent_2023": N_("Permanent residence ID number"),
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
    entry: str | None = None  # the digit pad's display, when the screen has a pad
    qr: str = ""  # a QR code to show (the guide on a phone)
    qr_caption: str = ""
    table: Table | None = None
    # the apply flow (kiosk.views_apply)
    fields: tuple[Any, ...] = ()  # FieldView
    keyboard: Any = None  # KeyboardView of the field being edited
    thumbnails: tuple[Any, ...] = ()  # Thumbnail of each material
    camera: str = ""  # "document" or "face": show the live camera with that guide overlay
    # 长辈模式: larger targets and text, fewer choices, a voice with mute and say-again
    elder: bool = False
    muted: bool = False
    picture: bytes | None = None  # a PNG to show (the camera self-test's preview)


@dataclass(frozen=True)
class ViewContext:
    """The inputs of `build_view`."""

    state: str
    session: Session
    catalogue: Any
    config: KioskConfig
    seconds_left: float | None = None
    available: frozenset[Function] = frozenset(Function)
    central_up: bool = True
    action: Any = None  # `kiosk.flows.items.ItemAction` of the current item
    # `kiosk.maintenance.menu.MaintenanceView` on the technicians' screens and out of service
    maintenance: Any = None


def _name(obj: Any, language: str) -> str:
    return (getattr(obj, "name_en", "") or obj.name) if language == "en" else obj.name


def _material_line(i: int, entry: Any) -> str:
    copies = getattr(entry, "copies", None)
    note = getattr(entry, "note", "")
    text = f"{i}. {entry.name}"
    if copies:
        text += f" ×{copies}"
    if note:
        text += f" ({note})"
    return text


def _as_lines(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(
        f"{i}. {entry}" if isinstance(entry, str) else _material_line(i, entry)
        for i, entry in enumerate(value, 1)
    )


def build_view(ctx: ViewContext) -> ViewModel:
    """The view model for the current state."""
    lang = ctx.session.prefs.language
    _ = translator(lang)
    builder = _BUILDERS.get(StateId(ctx.state), _busy_view)
    view: dict[str, Any] = builder(ctx, _)
    prefs = ctx.session.prefs
    if prefs.elder and "options" in view:
        view = _paged(view, ctx.session.option_page, _)
    actions = [*view.pop("actions", ()), *_chrome(ctx, _)]
    seconds = None if ctx.seconds_left is None else int(ctx.seconds_left + 0.999)
    countdown = ""
    countdown_action = None
    if seconds is not None:
        countdown = _("Returning to the start in {n} s").format(n=seconds)
        if ctx.state != StateId.THANKS:
            countdown_action = Option(Intent.MORE_TIME, _("More time"), primary=True)
    notice = ctx.session.notice
    own_notice = view.pop("notice", "")  # the technicians' screens word their own
    return ViewModel(
        state=str(ctx.state),
        notice=_(NOTICES.get(notice, NOTICES["internal_error"])) if notice else own_notice,
        actions=tuple(actions),
        seconds_left=seconds,
        countdown_text=countdown,
        countdown_action=countdown_action,
        large_text=prefs.large_text or prefs.elder,
        elder=prefs.elder,
        muted=prefs.muted,
        language=lang,
        status_line=f"{_site_name(ctx.config, lang)}  ·  {ctx.config.kiosk_id}",
        **view,
    )


# Choices on one screen in 长辈模式 (the states whose options are a list to pick from).
ELDER_CHOICES_PER_PAGE = 4
_PAGED_INTENTS = frozenset({Intent.PICK_CATEGORY, Intent.PICK_ITEM, Intent.EDIT_FIELD})


def _paged(view: dict[str, Any], page: int, _: Any) -> dict[str, Any]:
    """Fewer choices per screen: a long list of categories or items shows four at a time."""
    options = tuple(view["options"])
    if len(options) <= ELDER_CHOICES_PER_PAGE or options[0].intent not in _PAGED_INTENTS:
        return view
    pages = -(-len(options) // ELDER_CHOICES_PER_PAGE)
    page = min(max(page, 0), pages - 1)
    start = page * ELDER_CHOICES_PER_PAGE
    paging = []
    if page > 0:
        paging.append(Option(Intent.PAGE, _("Previous"), arg="previous"))
    if page < pages - 1:
        paging.append(Option(Intent.PAGE, _("More"), arg="next", primary=True))
    return {
        **view,
        "options": options[start : start + ELDER_CHOICES_PER_PAGE],
        "hint": view.get("hint") or _("Page {page} of {pages}").format(page=page + 1, pages=pages),
        "actions": [*paging, *view.get("actions", ())],
    }


def _chrome(ctx: ViewContext, _: Any) -> list[Option]:
    """What every screen offers: 长辈模式 (with its voice), the language."""
    prefs = ctx.session.prefs
    lang = prefs.language
    if ctx.maintenance is not None:  # technicians and out of service: the language only
        return [Option(Intent.TOGGLE_LANGUAGE, "English" if lang == "zh_CN" else "中文")]
    chrome = [Option(Intent.TOGGLE_ELDER, _("Elder mode") if not prefs.elder else _("Standard"))]
    if prefs.elder:
        chrome += [
            Option(Intent.MUTE, _("Sound off") if not prefs.muted else _("Sound on")),
            Option(Intent.SAY_AGAIN, _("Say it again")),
        ]
    else:
        chrome.append(
            Option(
                Intent.TOGGLE_LARGE_TEXT,
                _("Large text") if not prefs.large_text else _("Normal text"),
            )
        )
    chrome.append(Option(Intent.TOGGLE_LANGUAGE, "English" if lang == "zh_CN" else "中文"))
    return chrome


def _site_name(config: KioskConfig, language: str) -> str:
    return (config.site_name_en or config.site_name) if language == "en" else config.site_name


def _notice(_: Any, key: str) -> str:
    return str(_(NOTICES.get(key, NOTICES["internal_error"])))


def _attract(ctx: ViewContext, _: Any) -> dict[str, Any]:
    can_identify = bool(IDENTIFY_FUNCTIONS & ctx.available)
    options = (
        Option(
            Intent.START,
            _("Start with my ID"),
            sublabel=_("ID card, electronic ID or social security card"),
            primary=True,
            enabled=can_identify,
        ),
        Option(
            Intent.BROWSE,
            _("Guides and services"),
            sublabel=_("No card needed: guides, queue tickets, progress"),
            enabled=ctx.catalogue is not None,
        ),
    )
    card = Function.IDENTIFY_BY_ID_CARD in ctx.available
    scan = Function.SCAN_QR in ctx.available
    hint = ""
    if card and scan:
        hint = _("Place your ID card on the reader, or scan your electronic ID or appointment code")
    elif card:
        hint = _("Place your ID card on the reader")
    elif scan:
        hint = _("Scan your electronic ID or appointment code")
    if not can_identify:
        hint = _(
            "Identity checks are out of service at this kiosk. Guides and queue tickets still "
            "work; for anything else please go to a service window."
        )
    return {
        "title": _("Self-service"),
        "subtitle": _site_name(ctx.config, ctx.session.prefs.language),
        "hint": hint,
        "options": options,
    }


def _await_identity(ctx: ViewContext, _: Any) -> dict[str, Any]:
    ways = []
    if Function.IDENTIFY_BY_ID_CARD in ctx.available:
        ways.append(_("Lay your ID card flat on the reader below the screen"))
    if Function.IDENTIFY_BY_EID in ctx.available:
        ways.append(_("Or show the electronic ID code from your government app to the scanner"))
    if Function.IDENTIFY_BY_SOCIAL_SECURITY_CARD in ctx.available:
        ways.append(_("Or insert your social security card"))
    return {
        "title": _("Please show your ID"),
        "hint": _("Keep the card still until the screen changes"),
        "sections": (Section(_("Ways to identify"), tuple(ways)),) if ways else (),
        "actions": back_home(_),
    }


def _busy_view(ctx: ViewContext, _: Any) -> dict[str, Any]:
    titles = {
        StateId.VERIFYING: _("Checking your identity…"),
        StateId.PRINTING: _("Printing, please wait…"),
        StateId.PREPARING: _("Preparing your certificate…"),
        StateId.LOOKING_UP: _("Looking it up…"),
        StateId.TICKETING: _("Getting your ticket…"),
    }
    view = {"title": titles.get(StateId(ctx.state), _("Please wait…")), "busy": True}
    steps = {
        "sending": _("Sending the page to the printer…"),
        "printing": _("The printer is printing your page…"),
        "printed": _("Printed."),
    }
    if ctx.state == StateId.PRINTING and ctx.session.progress in steps:
        view["subtitle"] = steps[ctx.session.progress]
    return view


def _greeting(ctx: ViewContext, _: Any) -> str:
    identity = ctx.session.identity
    if identity is None:
        return ""
    greeting = _("Hello, {name}").format(name=mask_name(identity.name))
    if identity.id_number:
        label = _(NUMBER_LABELS.get(identity.card_type, NUMBER_LABELS["resident"]))
        greeting += f"  ·  {label} {mask_id_number(identity.id_number)}"
    return greeting


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
        "hint": "" if ctx.central_up else _notice(_, "service_unreachable"),
        "busy": ctx.catalogue is None,
        "options": options,
        "actions": back_home(_),
    }


_BADGES = {
    "print": N_("Print here"),
    "guide": N_("Guide"),
    "lookup": N_("Look up"),
    "submit": N_("Apply here"),
    "ticket": N_("Queue ticket"),
}


def _items(ctx: ViewContext, _: Any) -> dict[str, Any]:
    lang = ctx.session.prefs.language
    category = (
        next((c for c in ctx.catalogue.categories if c.code == ctx.session.category), None)
        if ctx.catalogue is not None
        else None
    )
    if category is None:
        return {"title": _("Choose a service"), "busy": True, "actions": back_home(_)}

    def department(item: Any) -> str:
        return (
            (getattr(item, "department_en", "") or item.department)
            if lang == "en"
            else (item.department)
        )

    return {
        "title": _name(category, lang),
        "subtitle": _("Choose a service"),
        "options": tuple(
            Option(
                Intent.PICK_ITEM,
                _name(item, lang),
                arg=item.code,
                sublabel=f"{_(_BADGES.get(item.flow, ''))} · {department(item)}",
            )
            for item in category.items
        ),
        "actions": back_home(_),
    }


_ACTION_LABELS = {
    "print_receipt": N_("Print the certificate"),
    "print_a4": N_("Print the certificate (A4)"),
    "lookup": N_("Look up"),
    "ticket": N_("Take a queue ticket"),
    "apply": N_("Apply now"),
    "checklist": N_("Print the checklist of documents"),
}


def _guide_fields(item: Any, lang: str) -> Any:
    """The guide in the resident's language: English where the catalogue has it."""
    if lang == "en" and getattr(item, "guide_en", None) is not None:
        return item.guide_en
    return getattr(item, "guide", item)


def _guide(ctx: ViewContext, _: Any) -> dict[str, Any]:
    item = ctx.session.item
    if item is None:
        hint = "" if ctx.central_up else _notice(_, "service_unreachable")
        return {
            "title": _("Loading the guide…"),
            "busy": True,
            "hint": hint,
            "actions": back_home(_),
        }
    lang = ctx.session.prefs.language
    fields = _guide_fields(item, lang)
    sections = [
        Section(_(heading), lines)
        for key, heading in GUIDE_SECTIONS
        if (lines := _as_lines(getattr(fields, key, None)))
    ]
    sample = getattr(item, "sample_form", None)
    if sample is not None:
        en = lang == "en"
        sections.append(
            Section(
                in_language(sample, "title", en),
                tuple(
                    f"{in_language(f, 'label', en)}: {in_language(f, 'value', en)}"
                    for f in sample.fields
                ),
            )
        )
    action = ctx.action
    options: tuple[Option, ...] = ()
    hint = ""
    if action is not None and action.kind in _ACTION_LABELS:
        label = _(_ACTION_LABELS[action.kind])
        sublabel = _("You will be asked for your ID") if action.needs_identity else ""
        options = (
            Option(Intent.ACT, label, sublabel=sublabel, primary=True, enabled=action.enabled),
        )
        if not action.enabled and action.reason:
            hint = _notice(_, action.reason)
    actions = back_home(_)
    if action is None or action.kind in ("checklist", "none") or not action.enabled:
        actions = [Option(Intent.DONE, _("Done")), *actions]
    department = getattr(item, "department_en", "") if lang == "en" else ""
    guide_url = getattr(item, "guide_url", None) or ""
    if guide_url and lang == "en":
        guide_url += ("&" if "?" in guide_url else "?") + "lang=en"
    return {
        "title": _name(item, lang),
        "subtitle": department or getattr(item, "department", ""),
        "hint": hint,
        "sections": tuple(sections),
        "options": options,
        "actions": actions,
        "qr": guide_url,
        "qr_caption": _("Scan to read this guide on your phone") if guide_url else "",
    }


def _shown_on_screen(label: str, value: str) -> str:
    """A certificate line as the hall may see it over the resident's shoulder: the page prints
    in full, the screen hides addresses and full birth dates."""
    if "地址" in label or "住址" in label or "address" in label.lower():
        return mask_address(value)
    if "出生" in label or "birth" in label.lower():
        return mask_date(value)
    return value


def _preview(ctx: ViewContext, _: Any) -> dict[str, Any]:
    document = ctx.session.document
    if document is None:
        return _busy_view(ctx, _)
    certificate = document.certificate
    number_label = _("Certificate no.")
    lines = (
        f"{number_label} {certificate.certificate_no}",
        *(
            f"{line.label}: {_shown_on_screen(line.label, line.value)}"
            for line in certificate.lines
        ),
        f"{certificate.issuer}",
    )
    can_print = Function.PRINT_DOCUMENT in ctx.available
    return {
        "title": _("Check the page before printing"),
        "subtitle": certificate.title,
        "hint": _("Addresses and dates are hidden on screen; the printed page shows them in full.")
        if can_print
        else _notice(_, "printer_out_of_service"),
        "sections": (Section(certificate.title, lines),),
        "qr": certificate.verify_url,
        "qr_caption": _("Verification code {code}").format(code=certificate.verify_code),
        "options": (Option(Intent.PRINT, _("Print on A4"), primary=True, enabled=can_print),),
        "actions": back_home(_),
    }


_DIGIT_PAD = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0")


def _lookup_entry(ctx: ViewContext, _: Any) -> dict[str, Any]:
    entry = ctx.session.lookup_entry
    shown = " ".join(entry[i : i + 4] for i in range(0, len(entry), 4))
    options = [
        Option(Intent.DIGIT, _("Clear") if key == "clear" else key, arg=key) for key in _DIGIT_PAD
    ]
    options.append(
        Option(
            Intent.SUBMIT_ENTRY,
            _("Look up"),
            primary=True,
            # Always touchable: a short or mistyped number gets a notice saying what is wrong.
            enabled=bool(entry),
        )
    )
    actions = back_home(_)
    if ctx.session.identity is not None or IDENTIFY_FUNCTIONS & ctx.available:
        actions = [Option(Intent.LOOKUP_BY_IDENTITY, _("My applications (with ID)")), *actions]
    return {
        "title": _("Enter the receipt number"),
        "subtitle": _("16 digits, on the receipt you were given when you applied"),
        "hint": _("Or scan the QR code on the receipt"),
        "entry": shown,
        "options": tuple(options),
        "actions": actions,
    }


def _case_section(case: Any, en: bool, _: Any) -> Section:
    label = in_language(case, "status_label", en)
    receipt_label, service_label, status_label = _("Receipt no."), _("Service"), _("Status")
    item_name = in_language(case, "item_name", en)
    lines = [
        f"{receipt_label} {case.receipt_no}",
        f"{service_label}: {item_name}",
        f"{status_label}: {label}",
    ]
    for step in case.history:
        step_label = in_language(step, "status_label", en)
        note = in_language(step, "note", en)
        lines.append(f"{step.at:%Y-%m-%d %H:%M}  {step_label}  {note}".rstrip())
    return Section(label, tuple(lines))


def _lookup_result(ctx: ViewContext, _: Any) -> dict[str, Any]:
    result = ctx.session.lookup_result
    en = ctx.session.prefs.language == "en"
    can_print = Function.PRINT_RECEIPT in ctx.available
    options = [
        Option(Intent.PRINT, _("Print"), enabled=can_print),
        Option(Intent.DONE, _("Done"), primary=True),
    ]
    view: dict[str, Any] = {"actions": back_home(_)}
    if result.page is not None:
        page = result.page
        view["title"] = in_language(page, "title", en)
        view["table"] = Table(
            columns=tuple(in_language(c, "label", en) for c in page.columns),
            rows=tuple(tuple(row) for row in page.rows),
            caption=_("Page {page} of {pages}, {total} records").format(
                page=page.page, pages=page.pages, total=page.total
            ),
        )
        if page.pages > 1:
            options = [
                Option(Intent.PAGE, _("Previous page"), arg="previous", enabled=page.page > 1),
                Option(Intent.PAGE, _("Next page"), arg="next", enabled=page.page < page.pages),
                *options,
            ]
    else:
        view["title"] = _("Application progress")
        view["sections"] = tuple(_case_section(case, en, _) for case in result.cases)
        if not result.cases:
            view["hint"] = _("No applications were found for you.")
    view["options"] = tuple(options)
    return view


def _ticket(ctx: ViewContext, _: Any) -> dict[str, Any]:
    ticket = ctx.session.ticket
    en = ctx.session.prefs.language == "en"
    queue = in_language(ticket, "queue_name", en)
    return {
        "title": ticket.ticket_no,
        "subtitle": queue,
        "sections": (
            Section(
                _("Your number"),
                (
                    _("{n} people ahead of you").format(n=ticket.people_ahead),
                    _("About {m} minutes to wait").format(m=ticket.estimated_wait_min),
                    _("Please watch the calling screen and listen for your number."),
                    # not when the printer failed: the notice says so, the number is on screen
                    *(() if ctx.session.notice else (_("Please take your printed ticket."),)),
                ),
            ),
        ),
        "options": (Option(Intent.DONE, _("Done"), primary=True),),
        "actions": (Option(Intent.HOME, _("Home")),),
    }


def _rate(ctx: ViewContext, _: Any) -> dict[str, Any]:
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


def _reasons(ctx: ViewContext, _: Any) -> dict[str, Any]:
    en = ctx.session.prefs.language == "en"
    chosen = set(ctx.session.reasons)
    return {
        "title": _("What went wrong?"),
        "subtitle": _("Choose any that apply; it helps us improve"),
        "options": tuple(
            Option(
                Intent.TOGGLE_REASON,
                ("✓ " if code in chosen else "") + (label_en if en else label),
                arg=code,
                selected=code in chosen,
            )
            for code, label, label_en in DEFAULT_REASONS
        ),
        "actions": (
            Option(Intent.SUBMIT_RATING, _("Send"), primary=True),
            Option(Intent.BACK, _("Back")),
            Option(Intent.SKIP, _("Skip")),
        ),
    }


def _thanks(ctx: ViewContext, _: Any) -> dict[str, Any]:
    subtitle = _("Please take your ID card and your receipt")
    if ctx.session.identity is None or ctx.session.identity.method != "id_card":
        subtitle = _("Please take your receipt")
    return {
        "title": _("Thank you"),
        "subtitle": subtitle,
        "options": (Option(Intent.BACK, _("Finish"), primary=True),),
    }


_BUILDERS = {
    StateId.ATTRACT: _attract,
    StateId.AWAIT_IDENTITY: _await_identity,
    StateId.CATEGORIES: _categories,
    StateId.ITEMS: _items,
    StateId.GUIDE: _guide,
    StateId.PREVIEW: _preview,
    StateId.LOOKUP_ENTRY: _lookup_entry,
    StateId.LOOKUP_RESULT: _lookup_result,
    StateId.TICKET: _ticket,
    StateId.RATE: _rate,
    StateId.REASONS: _reasons,
    StateId.THANKS: _thanks,
    **views_apply.BUILDERS,
    **views_maintenance.BUILDERS,
}
NOTICES.update(views_apply.NOTICES)
