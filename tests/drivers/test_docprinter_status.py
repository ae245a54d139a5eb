"""IPP attributes to typed values, and the cups:// URL and job options: pure, no server."""

from __future__ import annotations

from typing import Any

import pytest

from drivers.docprinter import (
    DocumentPrinterConfigError,
    JobState,
    open_document_printer,
    printer_status,
)
from drivers.docprinter.jobs import job_outcome
from drivers.docprinter.printer import _clean_title, _job_options
from drivers.docprinter.status import split_reason
from drivers.state import DeviceState, PaperState

IDLE, PROCESSING, STOPPED = 3, 4, 5


def status(state: int = IDLE, *reasons: str, accepting: bool = True, message: str = "") -> Any:
    return printer_status(
        "kioskpdf",
        {
            "printer-state": state,
            "printer-state-reasons": list(reasons) or ["none"],
            "printer-is-accepting-jobs": accepting,
            "printer-state-message": message,
            "queued-job-count": 0,
        },
    )


@pytest.mark.parametrize(
    ("state", "reasons", "expected", "paper", "cover"),
    [
        (IDLE, (), DeviceState.ONLINE, PaperState.UNKNOWN, None),
        (PROCESSING, ("connecting-to-device",), DeviceState.BUSY, PaperState.UNKNOWN, None),
        (STOPPED, ("paused",), DeviceState.OFFLINE, PaperState.UNKNOWN, None),
        (STOPPED, ("media-empty-error", "paused"), DeviceState.ONLINE, PaperState.OUT, None),
        (PROCESSING, ("media-empty-report",), DeviceState.BUSY, PaperState.OUT, None),
        (IDLE, ("media-needed",), DeviceState.ONLINE, PaperState.OUT, None),
        (IDLE, ("media-empty", "offline-report"), DeviceState.OFFLINE, PaperState.OUT, None),
        (STOPPED, ("media-jam-error",), DeviceState.HARDWARE_ERROR, PaperState.JAMMED, None),
        (STOPPED, ("cover-open-error",), DeviceState.USER_ERROR, PaperState.UNKNOWN, True),
        (STOPPED, ("door-open",), DeviceState.USER_ERROR, PaperState.UNKNOWN, True),
        (IDLE, ("offline-report",), DeviceState.OFFLINE, PaperState.UNKNOWN, None),
        (IDLE, ("media-low-report",), DeviceState.ONLINE, PaperState.LOW, None),
        (PROCESSING, ("toner-low-warning",), DeviceState.BUSY, PaperState.UNKNOWN, None),
        (STOPPED, ("toner-empty-error",), DeviceState.HARDWARE_ERROR, PaperState.UNKNOWN, None),
        (STOPPED, ("fancy-new-error",), DeviceState.HARDWARE_ERROR, PaperState.UNKNOWN, None),
        (IDLE, ("fancy-new-error",), DeviceState.ONLINE, PaperState.UNKNOWN, None),
        (STOPPED, ("media-jam-error", "media-empty-error"), DeviceState.HARDWARE_ERROR,
         PaperState.JAMMED, None),
        (STOPPED, ("cover-open-error", "offline-report"), DeviceState.USER_ERROR,
         PaperState.UNKNOWN, True),
    ],
)  # fmt: skip
def test_printer_state_and_reasons_map_to_the_shared_model(
    state: int, reasons: tuple[str, ...], expected: DeviceState, paper: PaperState, cover: Any
) -> None:
    result = status(state, *reasons)
    assert (result.state, result.paper, result.cover_open) == (expected, paper, cover)


def test_a_queue_rejecting_jobs_is_offline() -> None:
    result = status(IDLE, accepting=False)
    assert result.state is DeviceState.OFFLINE
    assert "rejecting" in result.reason


def test_paper_out_is_not_usable_and_says_why_with_the_printer_message() -> None:
    result = status(STOPPED, "media-empty-error", "paused", message="Tray 2 empty")
    assert not result.usable
    assert result.state is DeviceState.ONLINE and result.paper is PaperState.OUT
    assert result.reason == "paper out; the queue is stopped: Tray 2 empty"
    assert result.details["reasons"] == ["media-empty-error", "paused"]
    assert "warnings" not in result.details


def test_low_supplies_are_warnings_in_the_details() -> None:
    result = status(IDLE, "media-low-report", "toner-low-report", "connecting-to-device")
    assert result.usable
    assert result.details["warnings"] == ["media-low-report", "toner-low-report"]


def test_a_single_value_is_one_reason_not_characters() -> None:
    result = printer_status("q", {"printer-state": STOPPED, "printer-state-reasons": "paused"})
    assert result.details["reasons"] == ["paused"]
    assert result.state is DeviceState.OFFLINE


def test_an_unknown_printer_state_is_not_printed_on() -> None:
    assert printer_status("q", {"printer-state": 42}).state is DeviceState.OFFLINE


@pytest.mark.parametrize(
    ("reason", "split"),
    [
        ("media-empty-error", ("media-empty", "error")),
        ("offline-report", ("offline", "report")),
        ("toner-low-warning", ("toner-low", "warning")),
        ("paused", ("paused", "")),
    ],
)
def test_severity_suffixes(reason: str, split: tuple[str, str]) -> None:
    assert split_reason(reason) == split


def test_job_outcome_of_an_aborted_job_says_why() -> None:
    outcome = job_outcome(
        7,
        {
            "job-state": 8,
            "job-state-reasons": "aborted-by-system",
            "job-printer-state-message": "Simulated printer failure",
            "job-printer-state-reasons": ["none"],
            "job-media-sheets-completed": 0,
        },
    )
    assert outcome.state is JobState.ABORTED and outcome.state.terminal and not outcome.ok
    assert outcome.reason == "Simulated printer failure; aborted by the print system"
    assert outcome.describe() == "job 7 aborted: Simulated printer failure; " + (
        "aborted by the print system"
    )


def test_job_outcome_of_a_completed_job() -> None:
    outcome = job_outcome(
        3, {"job-state": 9, "job-state-reasons": "job-completed-successfully", "job-media-sheets-completed": 2}
    )  # fmt: skip
    assert outcome.ok
    assert outcome.describe() == "job 3 completed, 2 sheet(s)"


def test_a_pending_job_on_a_stopped_printer_names_the_printer_reason() -> None:
    outcome = job_outcome(
        4,
        {
            "job-state": 3,
            "job-state-reasons": "printer-stopped",
            "job-printer-state-reasons": ["media-empty-error", "paused"],
        },
    )
    assert not outcome.state.terminal
    assert outcome.reason == "the printer is stopped; media-empty-error, paused"


def test_job_outcome_without_a_state_is_an_error() -> None:
    with pytest.raises(ValueError, match="job-state"):
        job_outcome(1, {"job-id": 1})


# -- URL, options, title ---------------------------------------------------------------------


def test_the_url_names_the_queue_and_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUPS_SERVER", raising=False)
    printer = open_document_printer("cups://kioskpdf?server=/run/cups/cups.sock")
    assert (printer.queue, printer.server) == ("kioskpdf", "/run/cups/cups.sock")
    assert open_document_printer("cups://kioskpdf").server is None


def test_cups_server_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUPS_SERVER", "printhost:8631")
    assert open_document_printer("cups://A4").server == "printhost:8631"
    assert open_document_printer("cups://A4?server=other").server == "other"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("tcp://127.0.0.1:631", "CUPS queue"),
        ("cups://", "not a CUPS queue name"),
        ("cups://a%20b", "not a CUPS queue name"),
        ("cups://kioskpdf?sever=x", "unknown parameter 'sever'"),
        ("kioskpdf", "not a device URL"),
    ],
)
def test_bad_urls_fail_at_once_with_a_readable_message(url: str, words: str) -> None:
    with pytest.raises(DocumentPrinterConfigError, match=words):
        open_document_printer(url)


def test_job_options_default_to_a4_one_sided_and_carry_copies() -> None:
    assert _job_options(2, {"sides": "two-sided-long-edge", "fit-to-page": True}) == {
        "media": "A4",
        "sides": "two-sided-long-edge",
        "fit-to-page": "true",
        "copies": "2",
    }


@pytest.mark.parametrize(
    ("copies", "options", "words"),
    [
        (0, None, "copies"),
        (100, None, "copies"),
        (True, None, "copies"),
        (1, {"copies": "3"}, "copies argument"),
        (1, {"Bad Name": "x"}, "not an IPP attribute"),
    ],
)
def test_bad_job_options_are_refused(copies: Any, options: Any, words: str) -> None:
    with pytest.raises(DocumentPrinterConfigError, match=words):
        _job_options(copies, options)


def test_titles_lose_control_characters_and_fit_cups() -> None:
    assert _clean_title("参保\n证明\x00 ") == "参保 证明"
    assert len(_clean_title("证" * 200).encode()) <= 255
    assert _clean_title("\n") == "document"
