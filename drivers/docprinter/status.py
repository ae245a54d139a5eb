"""A CUPS queue's IPP printer attributes to the shared `DeviceStatus` (drivers/state.py).

`printer-state` (idle, processing, stopped) says whether the queue is working; the
`printer-state-reasons` keywords say why it is not. A reason may carry a severity suffix
(`media-empty-error`, `media-low-report`, `toner-low-warning`, RFC 8011 5.4.12); known keywords
are classified by the keyword alone, since backends disagree on the suffix (CUPS's own backends
send `offline-report` for a printer that does not answer). Unknown keywords count as a hardware
fault only with the `-error` suffix on a stopped printer; otherwise they are shown, not acted on.

Precedence, worst first: hardware_error (jam, toner or waste full, other errors) > user_error
(cover open) > offline (printer not answering) > paper out > offline (queue disabled or
rejecting jobs) > busy (printing) > online. Paper out is, as in CEN/XFS and for the receipt
printer, `paper=out` on a device that is otherwise online (busy while a job is processing):
`DeviceStatus.usable` is False either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from typing import Any

from drivers.docprinter.jobs import as_tuple
from drivers.state import DeviceState, DeviceStatus, PaperState


class PrinterState(IntEnum):
    """IPP `printer-state` (RFC 8011 5.4.11)."""

    IDLE = 3
    PROCESSING = 4
    STOPPED = 5


PRINTER_ATTRIBUTES = [
    "printer-name",
    "printer-state",
    "printer-state-reasons",
    "printer-state-message",
    "printer-is-accepting-jobs",
    "queued-job-count",
]

_SUFFIXES = ("-error", "-warning", "-report")
_PAPER_OUT = frozenset({"media-empty", "media-needed"})
_JAM = frozenset({"media-jam"})
_PAPER_LOW = frozenset({"media-low"})
# Supplies running low: worth a warning to the technician, no reason to stop printing.
_LOW = frozenset(
    {"media-low", "toner-low", "marker-supply-low", "marker-waste-almost-full", "developer-low"}
)
_COVER = frozenset({"cover-open", "door-open", "interlock-open"})
# Faults a resident cannot fix and a paper change will not: a technician's call.
_HARDWARE = frozenset(
    {"toner-empty", "marker-supply-empty", "marker-waste-full", "fuser-over-temp", "opc-life-over"}
)
_OFFLINE = frozenset({"offline", "shutdown", "timed-out"})
_PAUSED = frozenset({"paused", "moving-to-paused"})  # cupsdisable, or CUPS's own stop-printer
# Reasons that say nothing is wrong: not worth a warning line.
_QUIET = frozenset({"none", "connecting-to-device", "cups-waiting-for-job-completed"})
_KNOWN = _PAPER_OUT | _JAM | _LOW | _COVER | _HARDWARE | _OFFLINE | _PAUSED | _QUIET


def split_reason(reason: str) -> tuple[str, str]:
    """`media-empty-error` -> (`media-empty`, `error`); no suffix -> (keyword, ``)."""
    for suffix in _SUFFIXES:
        if reason.endswith(suffix):
            return reason[: -len(suffix)], suffix[1:]
    return reason, ""


def printer_status(queue: str, attrs: Mapping[str, Any]) -> DeviceStatus:
    """The device status of queue `queue` from its Get-Printer-Attributes answer."""
    try:
        state = PrinterState(int(attrs.get("printer-state", 0)))
    except ValueError:
        state = PrinterState.STOPPED  # an unknown state is not one to print on
    reasons = tuple(r for r in as_tuple(attrs.get("printer-state-reasons")) if r != "none")
    message = str(attrs.get("printer-state-message") or "").strip()
    accepting = attrs.get("printer-is-accepting-jobs", True) is not False
    keywords = {split_reason(r)[0] for r in reasons}
    hardware = sorted(keywords & (_HARDWARE | _JAM))
    if state is PrinterState.STOPPED:
        hardware += [r for r in reasons if _unknown_error(r)]
    paper = _paper(keywords)
    device_state, why = _classify(state, keywords, hardware, paper, accepting)

    details: dict[str, Any] = {
        "queue": queue,
        "printer_state": state.name.lower(),
        "accepting_jobs": accepting,
        "reasons": list(reasons),
    }
    if message:
        details["message"] = message
    # Low supplies, and reasons this module does not know that did not stop the printer.
    warnings = [
        r
        for r in reasons
        if split_reason(r)[0] in _LOW or (split_reason(r)[0] not in _KNOWN and r not in hardware)
    ]
    if warnings:
        details["warnings"] = warnings
    if isinstance(attrs.get("queued-job-count"), int):
        details["queued_jobs"] = attrs["queued-job-count"]
    return DeviceStatus(
        state=device_state,
        reason=f"{why}: {message}" if why and message else why,
        paper=paper,
        cover_open=True if keywords & _COVER else None,
        details=details,
    )


def _paper(keywords: set[str]) -> PaperState:
    if keywords & _JAM:
        return PaperState.JAMMED
    if keywords & _PAPER_OUT:
        return PaperState.OUT
    if keywords & _PAPER_LOW:
        return PaperState.LOW
    return PaperState.UNKNOWN  # CUPS only says something when a sensor reports a problem


def _unknown_error(reason: str) -> bool:
    keyword, severity = split_reason(reason)
    return severity == "error" and keyword not in _KNOWN


def _classify(
    state: PrinterState,
    keywords: set[str],
    hardware: list[str],
    paper: PaperState,
    accepting: bool,
) -> tuple[DeviceState, str]:
    """The device state and why, by the precedence in the module docstring."""
    if hardware:
        return DeviceState.HARDWARE_ERROR, _words(hardware)
    if keywords & _COVER:
        return DeviceState.USER_ERROR, _words(sorted(keywords & _COVER))
    if keywords & _OFFLINE:
        return DeviceState.OFFLINE, "the printer is not answering"
    if paper is PaperState.OUT:
        # As CEN/XFS and the receipt printer: the device is there, its paper is out, and
        # DeviceStatus.usable says no. CUPS has usually stopped the queue as well.
        busy = DeviceState.BUSY if state is PrinterState.PROCESSING else DeviceState.ONLINE
        return busy, "paper out" + (
            "; the queue is stopped" if state is PrinterState.STOPPED else ""
        )
    if state is PrinterState.STOPPED or keywords & _PAUSED:
        return DeviceState.OFFLINE, "the queue is stopped (disabled)"
    if not accepting:
        return DeviceState.OFFLINE, "the queue is rejecting jobs"
    if state is PrinterState.PROCESSING:
        return DeviceState.BUSY, "printing"
    return DeviceState.ONLINE, ""


def unreachable_status(queue: str, why: str) -> DeviceStatus:
    """The status of a queue whose CUPS server cannot be reached."""
    return DeviceStatus(DeviceState.OFFLINE, reason=why, details={"queue": queue})


def missing_status(queue: str, why: str) -> DeviceStatus:
    """The status of a queue CUPS does not have."""
    return DeviceStatus(DeviceState.NO_DEVICE, reason=why, details={"queue": queue})


_WORDS = {
    "media-empty": "paper out",
    "media-needed": "paper out",
    "media-jam": "paper jam",
    "cover-open": "cover open",
    "door-open": "door open",
    "interlock-open": "interlock open",
    "toner-empty": "toner empty",
    "marker-supply-empty": "ink or toner empty",
    "marker-waste-full": "waste toner full",
    "fuser-over-temp": "fuser overheated",
    "opc-life-over": "drum worn out",
}


def _words(reasons: list[str]) -> str:
    return ", ".join(_WORDS.get(split_reason(r)[0], r) for r in reasons)
