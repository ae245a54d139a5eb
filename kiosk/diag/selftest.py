"""One self-test per device, shared by the maintenance menu and `kiosk diag selftest`.

`run_self_test(device, driver, config=..., timeout_s=...)` takes the live driver object: the one
`DeviceManager.use(device)` yields in the menu, or one the command line opened from a URL. It
never raises: whatever goes wrong is a failed `SelfTestResult`. The result's `message` is an
English msgid (marked with `N_`, translated by whoever shows it) with ``{named}`` `params`;
`details` are technical lines. No result carries personal data: names and numbers read from a
card are masked (kiosk.privacy), a scanned code that could carry an identity is never shown, and
the camera preview has faces blurred (see `kiosk.diag.preview`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.config import KioskConfig
from kiosk.diag.command import status_extras
from kiosk.i18n import N_, translator
from kiosk.privacy import mask_id_number, mask_name, mask_pass_number, redact_text

SELF_TESTS: dict[str, str] = {
    "receipt_printer": N_("Print a test receipt"),
    "document_printer": N_("Print a test A4 page"),
    "idcard": N_("Read an ID card"),
    "smartcard": N_("Read a staff or social security card"),
    "qr_scanner": N_("Scan a QR code"),
    "camera": N_("Camera preview with QR and face boxes"),
}

_POLL_S = 0.2
_REASON_CHARS = 200
_SHOWN_PAYLOAD_CHARS = 60
_TOO_DARK = 25.0  # mean grey level under which the lens is covered or the light is off


@dataclass(frozen=True)
class SelfTestResult:
    """What a self-test found: `message` is an N_-marked msgid formatted with `params`."""

    device: str
    ok: bool
    message: str
    params: dict[str, str] = field(default_factory=dict)
    details: tuple[str, ...] = ()  # technical lines, no personal data
    image_png: bytes | None = None  # the camera preview with QR/face overlay


def render(result: SelfTestResult, language: str = "en") -> str:
    """The result's message in `language` (zh_CN or en), its params filled in."""
    return translator(language)(result.message).format(**result.params)


def run_self_test(
    device: str, driver: Any, *, config: KioskConfig, timeout_s: float = 20.0
) -> SelfTestResult:
    """Run the self-test of `device` on `driver`; a failure of any kind is a failed result."""
    test = _TESTS.get(device)
    if test is None:
        return SelfTestResult(
            device, False, N_("There is no self-test for {device}"), {"device": device}
        )
    try:
        return test(driver, config, timeout_s)
    except Exception as exc:  # a driver raises its own tree; the menu must stay up
        return _failed(device, N_("The self-test failed: {reason}"), exc)


def _reason(exc: BaseException) -> str:
    # Driver messages are technical; masking again costs nothing and guards against a slip.
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return redact_text(text)[:_REASON_CHARS]


def _failed(device: str, message: str, exc: BaseException, **params: str) -> SelfTestResult:
    return SelfTestResult(
        device,
        False,
        message,
        {"reason": _reason(exc), **params},
        (f"{type(exc).__name__}: {_reason(exc)}",),
    )


def _status_line(label: str, status: Any) -> str:
    return f"{label}: {', '.join([status.state.value, *status_extras(status)])}"


def _now(config: KioskConfig) -> datetime:
    try:
        return datetime.now(ZoneInfo(config.timezone))
    except (KeyError, ValueError):  # an unknown zone name: the machine's own time will do
        return datetime.now().astimezone()


# -- printers ---------------------------------------------------------------------------------


def selftest_slip(kiosk_id: str, now: datetime, before: Any) -> Any:
    """The self-test slip (drivers.printer) with the printer's status before printing added."""
    from drivers.printer import selftest_receipt
    from drivers.printer.receipt import Receipt, Text

    base = selftest_receipt(kiosk_id, now)
    state = before.state.value + (f", paper {before.paper.value}" if before.paper else "")
    at = next(
        i + 1
        for i, element in enumerate(base.elements)
        if isinstance(element, Text) and element.text.startswith("时间")
    )
    line = Text(f"打印前状态 Status: {state}")
    return Receipt((*base.elements[:at], line, *base.elements[at:]))


def _receipt_printer(driver: Any, config: KioskConfig, timeout_s: float) -> SelfTestResult:
    from drivers.printer import PrinterError

    device = "receipt_printer"
    before = driver.status()
    try:
        printed = driver.print_receipt(selftest_slip(config.kiosk_id, _now(config), before))
    except PrinterError as exc:
        result = _failed(device, N_("The test receipt was not printed: {reason}"), exc)
        return _with_details(result, _status_line("before", before))
    after = driver.status()
    details = (
        _status_line("before", before),
        _status_line("after", after),
        f"printer reported: {printed.describe() if printed.known else 'unknown (no status)'}",
    )
    if not after.usable:
        message = N_("The test receipt was printed, but the printer now needs attention: {state}")
        return SelfTestResult(device, False, message, {"state": after.state.value}, details)
    if printed.warnings:
        message = N_("The test receipt was printed; the paper is running low")
        return SelfTestResult(device, True, message, {}, details)
    return SelfTestResult(device, True, N_("The test receipt was printed"), {}, details)


def _with_details(result: SelfTestResult, *lines: str) -> SelfTestResult:
    return SelfTestResult(
        result.device, result.ok, result.message, result.params, (*lines, *result.details)
    )


def selftest_page_pdf(kiosk_id: str, now: datetime) -> bytes:
    """A one-page A4 test PDF: a frame at the printable margin, the kiosk id, the time, a ruler."""
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_line_width(0.5)
    pdf.rect(10, 10, 190, 277)
    pdf.set_font("Helvetica", "B", 24)
    pdf.set_xy(10, 30)
    pdf.cell(190, 12, "Kiosk printer self-test", align="C")
    pdf.set_font("Helvetica", "", 14)
    for offset, text in enumerate(
        (f"Kiosk: {kiosk_id}", f"Time: {now:%Y-%m-%d %H:%M:%S %z}", "Page 1 of 1, A4 portrait")
    ):
        pdf.set_xy(20, 60 + offset * 10)
        pdf.cell(170, 8, text)
    for mm in range(0, 171, 10):  # a 170 mm ruler: a scaled print shows at once
        pdf.line(20 + mm, 120, 20 + mm, 126 if mm % 50 == 0 else 123)
    pdf.line(20, 120, 190, 120)
    return bytes(pdf.output())


def _document_printer(driver: Any, config: KioskConfig, timeout_s: float) -> SelfTestResult:
    from drivers.docprinter import DocumentPrinterError

    device = "document_printer"
    before = driver.status()
    try:
        job = driver.print_pdf(
            selftest_page_pdf(config.kiosk_id, _now(config)), title="kiosk self-test"
        )
        outcome = driver.wait(job, timeout_s)
    except DocumentPrinterError as exc:
        result = _failed(device, N_("The test page was not printed: {reason}"), exc)
        return _with_details(result, _status_line("before", before))
    details = (
        _status_line("before", before),
        _status_line("after", driver.status()),
        outcome.describe(),
    )
    params = {"job": str(outcome.job_id)}
    return SelfTestResult(
        device, True, N_("The test page was printed (job {job})"), params, details
    )


# -- cards ------------------------------------------------------------------------------------


def _idcard(driver: Any, config: KioskConfig, timeout_s: float) -> SelfTestResult:
    from drivers.idcard import NoCardError
    from kiosk.diag.idcard import wait_for_card

    device = "idcard"
    sam_id = getattr(driver, "sam_id", None) or "-"
    try:
        record = wait_for_card(driver.reader, timeout_s)
    except NoCardError:
        message = N_("No card was placed on the reader within {seconds} s")
        return SelfTestResult(
            device, False, message, {"seconds": f"{timeout_s:g}"}, (f"SAM id: {sam_id}",)
        )
    data = record.as_dict()
    name = data.get("name") or data.get("chinese_name") or data.get("english_name") or ""
    params = {
        "card_type": str(data.get("card_type", "")),
        "name": mask_name(name) if name else "-",
        "number": mask_id_number(str(data.get("id_number", ""))),
    }
    message = N_("Card read: {card_type}, {name}, {number}")
    return SelfTestResult(device, True, message, params, (f"SAM id: {sam_id}",))


def _smartcard(driver: Any, config: KioskConfig, timeout_s: float) -> SelfTestResult:
    from drivers.smartcard import NoCardError, TechnicianAuthError, TechnicianRegistry
    from kiosk.diag.smartcard import identify, wait_for_card

    device = "smartcard"
    try:
        wait_for_card(driver, timeout_s)
    except NoCardError:
        message = N_("No card was put in the reader within {seconds} s")
        return SelfTestResult(device, False, message, {"seconds": f"{timeout_s:g}"})
    registry = TechnicianRegistry.load(config.staff_registry) if config.staff_registry else None
    card = driver.connect()
    atr = card.atr.hex(" ").upper()
    details = (f"reader: {card.reader}", f"ATR: {atr}")
    try:
        found = identify(driver, registry, config.kiosk_id)
    except TechnicianAuthError as exc:
        result = _failed(device, N_("The staff card was not accepted: {reason}"), exc)
        return _with_details(result, *details)
    finally:
        driver.disconnect()
    params = {"atr": atr}
    if found["kind"] == "social_security":
        params["number"] = mask_pass_number(str(found.get("card_number") or ""))
        message = N_("Social security card read: number {number}, ATR {atr}")
    elif found["kind"] == "technician":
        params["staff_id"] = mask_pass_number(str(found.get("tech_id") or ""))
        if found.get("verified"):
            message = N_("Staff card read and verified: {staff_id}, ATR {atr}")
        else:
            message = N_("Staff card read (not verified: no staff registry): {staff_id}, ATR {atr}")
    else:
        message = N_("The reader works, but the card is of an unknown kind (ATR {atr})")
    return SelfTestResult(device, True, message, params, details)


# -- codes and pictures -----------------------------------------------------------------------


def code_kind(text: str) -> str:
    """Which payload format admits `text` (drivers.qr.admission); "text" when none is specific."""
    from drivers.qr.admission import admit_each

    admitted = [kind for kind, verdict in admit_each(text).items() if verdict.admitted]
    specific = [kind for kind in admitted if kind != "text"]
    return specific[0] if specific else (admitted[0] if admitted else "refused")


def carries_identity(text: str, kind: str) -> bool:
    """Whether a payload may identify a person: an e-ID token, or anything shaped like an ID
    number. Such a payload is never shown, only its kind and length."""
    return kind == "eid_token" or redact_text(text) != text


def _qr_scanner(driver: Any, config: KioskConfig, timeout_s: float) -> SelfTestResult:
    from kiosk.diag.qr import escape_text

    device = "qr_scanner"
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        codes = driver.poll(min(_POLL_S, left))
        if codes:
            break
    else:
        message = N_("No code was scanned within {seconds} s")
        return SelfTestResult(device, False, message, {"seconds": f"{timeout_s:g}"})
    text = codes[0].text
    kind = code_kind(text)
    params = {"kind": kind, "length": str(len(text))}
    details: tuple[str, ...] = (f"symbology: {codes[0].symbology}",)
    if not carries_identity(text, kind):
        shown = escape_text(text)
        if len(shown) > _SHOWN_PAYLOAD_CHARS:
            shown = shown[:_SHOWN_PAYLOAD_CHARS] + "…"
        details = (*details, f"payload: {shown}")
    message = N_("Scanned a code: {kind}, {length} characters")
    return SelfTestResult(device, True, message, params, details)


def _camera(driver: Any, config: KioskConfig, timeout_s: float) -> SelfTestResult:
    from kiosk.diag.preview import render_preview

    device = "camera"
    frame = driver.frame(timeout_s)
    preview = render_preview(frame.image)
    params = {
        "width": str(preview.width),
        "height": str(preview.height),
        "codes": str(len(preview.qr_boxes)),
        "faces": str(len(preview.face_boxes)),
        "brightness": f"{preview.brightness:.0f}",
        "sharpness": f"{preview.sharpness:.0f}",
    }
    details = (
        f"frame: {preview.width}x{preview.height}",
        f"brightness: {preview.brightness:.1f} (0-255)",
        f"sharpness: {preview.sharpness:.1f} (variance of the Laplacian)",
        f"QR codes: {len(preview.qr_boxes)}, faces: {len(preview.face_boxes)} (blurred)",
    )
    if preview.brightness < _TOO_DARK:
        message = N_(
            "The camera picture is too dark (brightness {brightness}): lens covered or no light?"
        )
        return SelfTestResult(device, False, message, params, details, preview.png)
    message = N_(
        "Camera picture {width}×{height}: {codes} QR code(s), {faces} face(s), "
        "brightness {brightness}, sharpness {sharpness}"
    )
    return SelfTestResult(device, True, message, params, details, preview.png)


_TESTS: dict[str, Callable[[Any, KioskConfig, float], SelfTestResult]] = {
    "receipt_printer": _receipt_printer,
    "document_printer": _document_printer,
    "idcard": _idcard,
    "smartcard": _smartcard,
    "qr_scanner": _qr_scanner,
    "camera": _camera,
}
