"""View models of the technicians' side (sign-in, menu, its pages) and of out of service.

Technicians read plain words too: a device is "working" or "not answering", not `offline`. The
resident-facing out-of-service screen apologises and says where to go instead (config
`maintenance.nearest_window`, Chinese and English).
"""

from __future__ import annotations

from typing import Any

from drivers.state import DeviceState, PaperState
from kiosk.events import Intent
from kiosk.i18n import N_
from kiosk.ids import StateId
from kiosk.maintenance import menu
from kiosk.maintenance.menu import MaintenanceView
from kiosk.view_parts import Option, Section, Table

DEVICE_NAMES = {
    "idcard": N_("ID card reader"),
    "receipt_printer": N_("Receipt printer"),
    "document_printer": N_("A4 printer"),
    "smartcard": N_("Card reader (social security and technician cards)"),
    "qr_scanner": N_("QR code scanner"),
    "camera": N_("Camera"),
    "central": N_("Central service"),
    "fleet": N_("Fleet server"),
}
STATE_WORDS = {
    DeviceState.ONLINE: N_("Working"),
    DeviceState.OFFLINE: N_("Not answering: unplugged, switched off or starting"),
    DeviceState.BUSY: N_("Working on a job"),
    DeviceState.HARDWARE_ERROR: N_("Faulty: needs a repair"),
    DeviceState.USER_ERROR: N_("Waiting for someone to put something right (card, cover)"),
    DeviceState.NO_DEVICE: N_("Not found at its configured address"),
}
PAPER_WORDS = {
    PaperState.FULL: N_("Paper: enough"),
    PaperState.LOW: N_("Paper: running low, change the roll soon"),
    PaperState.OUT: N_("Paper: out, change the roll"),
    PaperState.JAMMED: N_("Paper: jammed, open the cover and clear it"),
    PaperState.UNKNOWN: N_("Paper: not known yet"),
}
MENU_LABELS = {
    menu.DEVICES: (N_("Device status"), N_("Every device, in plain words")),
    menu.SELF_TESTS: (N_("Self-tests"), N_("Test receipt, card, scanner, camera")),
    menu.PAPER_REPLACED: (N_("Paper replaced"), N_("A new receipt roll is in")),
    menu.OUTBOX: (N_("Outbox"), N_("Waiting messages, last error, retry now")),
    menu.LOGS: (N_("Recent logs"), N_("The last lines, personal data masked")),
    menu.NETWORK: (N_("Network checks"), N_("Central service and fleet server")),
    menu.CONFIG: (N_("Configuration"), N_("The settings in force, secrets hidden")),
    menu.RESTART: (N_("Restart"), N_("The kiosk software starts again")),
}
PAGE_TITLES = {
    menu.DEVICES: N_("Device status"),
    menu.SELF_TESTS: N_("Self-tests"),
    menu.SELF_TEST_RESULT: N_("Self-test result"),
    menu.OUTBOX: N_("Outbox"),
    menu.LOGS: N_("Recent logs"),
    menu.NETWORK: N_("Network checks"),
    menu.CONFIG: N_("Configuration in force"),
}
NOTICES = {
    "pin_wrong": N_("Wrong PIN."),
    "pin_wrong_locked": N_("Wrong PIN. Too many tries: wait {seconds} s before the next one."),
    "pin_locked": N_("Too many wrong PINs. Try again in {seconds} s."),
    "card_refused": N_("This card is not accepted as a technician card."),
    "action_failed": N_("That did not work. The log has the details."),
    "done": N_("Done."),
}
SET_BY_TECHNICIAN = N_("set by a technician")
OUT_REASONS = {
    "no_catalogue": N_("no service catalogue and the central service cannot be reached"),
    "technician": SET_BY_TECHNICIAN,
}


def _notice(view: MaintenanceView, _: Any) -> str:
    key = view.notice
    if key == "pin_wrong" and view.wait_s > 0:
        key = "pin_wrong_locked"
    if not key:
        return ""
    try:
        return str(_(NOTICES[key]).format(**view.notice_params))
    except (KeyError, IndexError, ValueError):
        return str(_(NOTICES.get(key, NOTICES["action_failed"])))


def _m(ctx: Any) -> MaintenanceView:
    return ctx.maintenance if ctx.maintenance is not None else MaintenanceView()


def _sign_out(_: Any) -> Option:
    return Option(Intent.HOME, _("Sign out"))


def _login(ctx: Any, _: Any) -> dict[str, Any]:
    view = _m(ctx)
    keys = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0")
    options = [Option(Intent.DIGIT, _("Clear") if k == "clear" else k, arg=k) for k in keys]
    options.append(
        Option(Intent.SUBMIT_ENTRY, _("Sign in"), primary=True, enabled=view.pin_length > 0)
    )
    if view.can_use_pin and view.can_use_card:
        hint = _("Enter the maintenance PIN, or insert a technician card")
    elif view.can_use_card:
        hint = _("No PIN is set on this kiosk: insert a technician card")
    else:
        hint = _("Enter the maintenance PIN")
    if view.working:
        hint = _("Checking…")
    return {
        "title": _("Technician sign-in"),
        "subtitle": _("Maintenance"),
        "hint": hint,
        "entry": "●" * view.pin_length,
        "options": tuple(options) if view.can_use_pin else (),
        "actions": [Option(Intent.BACK, _("Back")), Option(Intent.HOME, _("Leave"))],
        "notice": _notice(view, _),
    }


def _who(view: MaintenanceView, _: Any) -> str:
    if view.actor.startswith("technician:"):
        return str(_("Technician {id}").format(id=view.actor.partition(":")[2]))
    return str(_("Signed in with the PIN"))


def _service_line(view: MaintenanceView, _: Any) -> str:
    if view.in_service:
        return str(_("In service"))
    return str(_("Out of service: {reason}").format(reason=_out_reason(view, _)))


def _out_reason(view: MaintenanceView, _: Any) -> str:
    reason = view.out_reason
    if reason.startswith("device:"):
        name = reason.partition(":")[2]
        return str(_("{device} is not usable").format(device=_(DEVICE_NAMES.get(name, name))))
    if reason in OUT_REASONS:
        return str(_(OUT_REASONS[reason]))
    if view.out_actor == "fleet":
        return str(_("set by the fleet operators")) + (f" ({reason})" if reason else "")
    return reason or str(_(SET_BY_TECHNICIAN))


def _menu(ctx: Any, _: Any) -> dict[str, Any]:
    view = _m(ctx)
    options = [
        Option(Intent.TECH, _(label), arg=action, sublabel=_(sub))
        for action, (label, sub) in MENU_LABELS.items()
        if action != menu.RESTART
    ]
    if view.in_service:
        options.append(
            Option(
                Intent.TECH,
                _("Out of service"),
                arg=menu.OUT_OF_SERVICE,
                sublabel=_("Residents are sent to a staffed window"),
            )
        )
    else:
        options.append(
            Option(
                Intent.TECH,
                _("Back in service"),
                arg=menu.BACK_IN_SERVICE,
                primary=True,
                sublabel=_("Residents can use the kiosk again"),
            )
        )
    label, sub = MENU_LABELS[menu.RESTART]
    options.append(Option(Intent.TECH, _(label), arg=menu.RESTART, sublabel=_(sub)))
    return {
        "title": _("Maintenance"),
        "subtitle": f"{_who(view, _)}  ·  {_service_line(view, _)}",
        "options": tuple(options),
        "actions": [_sign_out(_)],
        "notice": _notice(view, _),
    }


def _device_section(name: str, status: Any, _: Any) -> Section:
    lines = [str(_(STATE_WORDS.get(status.state, N_("Not known"))))]
    if status.reason and status.state != DeviceState.ONLINE:
        lines.append(str(_("Detail: {reason}").format(reason=status.reason)))
    if status.paper is not None:
        lines.append(str(_(PAPER_WORDS.get(status.paper, PAPER_WORDS[PaperState.UNKNOWN]))))
    if status.cover_open:
        lines.append(str(_("The cover is open")))
    return Section(str(_(DEVICE_NAMES.get(name, name))), tuple(lines))


def _result_section(result: Any, _: Any) -> Section:
    params = {k: str(v) for k, v in (getattr(result, "params", None) or {}).items()}
    try:
        message = str(_(result.message).format(**params))
    except (KeyError, IndexError, ValueError):
        message = str(_(result.message))
    mark = "✓" if result.ok else "✗"
    heading = f"{mark} {_(DEVICE_NAMES.get(result.device, result.device))}"
    return Section(heading, (message, *tuple(getattr(result, "details", ()) or ())))


def _page(ctx: Any, _: Any) -> dict[str, Any]:
    view = _m(ctx)
    page, data = view.page, view.data
    out: dict[str, Any] = {
        "title": _(PAGE_TITLES.get(page, N_("Maintenance"))),
        "subtitle": _who(view, _),
        "actions": [Option(Intent.BACK, _("Back")), _sign_out(_)],
        "notice": _notice(view, _),
    }
    if view.working:
        out["hint"] = _("Working, please wait…")
    if page == menu.DEVICES:
        out["sections"] = tuple(
            _device_section(name, status, _) for name, status in view.devices.items()
        ) or (Section(str(_("Devices")), (str(_("No devices are configured")),)),)
    elif page == menu.SELF_TESTS:
        out["options"] = tuple(
            Option(Intent.TECH, f"{_(DEVICE_NAMES.get(d, d))}: {_(label)}", arg=f"self_test:{d}")
            for d, label in view.self_tests.items()
            if d in view.devices
        )
        out["hint"] = _("Each test uses the device as residents do; it is written to the audit log")
    elif page == menu.SELF_TEST_RESULT and data is not None:
        out["sections"] = (_result_section(data, _),)
        out["picture"] = getattr(data, "image_png", None)
        out["options"] = (
            Option(Intent.TECH, _("Run again"), arg=f"self_test:{data.device}"),
            Option(Intent.TECH, _("Other self-tests"), arg=menu.SELF_TESTS),
        )
    elif page == menu.NETWORK and data is not None:
        out["sections"] = tuple(_result_section(r, _) for r in data) or (
            Section(str(_("Network checks")), (str(_("Nothing to check is configured")),)),
        )
        out["options"] = (Option(Intent.TECH, _("Check again"), arg=menu.NETWORK),)
    elif page == menu.OUTBOX and data is not None:
        out.update(_outbox(data, _))
    elif page == menu.LOGS:
        out["sections"] = (
            Section(str(_("The newest last")), tuple(data or (str(_("Nothing logged yet")),))),
        )
        out["options"] = (Option(Intent.TECH, _("Refresh"), arg=menu.LOGS),)
    elif page == menu.CONFIG and data is not None:
        out["table"] = Table((str(_("Setting")), str(_("Value"))), tuple(data))
    return out


def _outbox(data: Any, _: Any) -> dict[str, Any]:
    summary = data.summary
    lines = [
        str(_("Waiting to be sent: {n}").format(n=summary.pending)),
        str(_("Parked for a technician: {n}").format(n=summary.parked)),
    ]
    age = getattr(summary, "oldest_age_s", None)
    if age is not None:
        lines.append(str(_("Oldest waiting for: {minutes} min").format(minutes=int(age // 60))))
    if summary.last_error:
        lines.append(str(_("Last error: {error}").format(error=summary.last_error)))
    if summary.parked_error:
        lines.append(str(_("Parked because: {error}").format(error=summary.parked_error)))
    if data.released is not None:
        lines.append(str(_("Released for sending now: {n}").format(n=data.released)))
    return {
        "sections": (Section(str(_("Outbox")), tuple(lines)),),
        "options": (Option(Intent.TECH, _("Retry now"), arg=menu.RETRY_OUTBOX, primary=True),),
    }


def _out_of_service(ctx: Any, _: Any) -> dict[str, Any]:
    view = _m(ctx)
    english = ctx.session.prefs.language == "en"
    window = (view.nearest_window_en or view.nearest_window) if english else view.nearest_window
    return {
        "title": _("This kiosk is out of service"),
        "subtitle": _("We are sorry for the inconvenience"),
        "hint": _("The kiosk will be back in service soon."),
        "sections": (Section(str(_("Where to go instead")), (window,)),),
    }


BUILDERS = {
    StateId.MAINTENANCE_LOGIN: _login,
    StateId.MAINTENANCE_MENU: _menu,
    StateId.MAINTENANCE_PAGE: _page,
    StateId.OUT_OF_SERVICE: _out_of_service,
}
