"""The document printer against a real cupsd: a cups-pdf queue, and test-backend queues that fail,
hang or run out of paper through the CUPS backend protocol (tests/support/cups.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.docprinter import (
    DocumentPrinterDevice,
    JobFailedError,
    JobState,
    JobTimeoutError,
    NotAPdfError,
    PrinterNotReadyError,
    PrinterUnavailableError,
    QueueNotFoundError,
    check_pdf,
    open_document_printer,
)
from drivers.state import DeviceState, PaperState
from tests.support.cups import CupsServer, running_cups, sample_pdf

PDF = sample_pdf(pages=2)


@pytest.fixture(scope="module")
def cups() -> Iterator[CupsServer]:
    with running_cups() as server:
        yield server


@pytest.fixture
def ensure_running(cups: CupsServer) -> Iterator[CupsServer]:
    """For tests that stop cupsd: whatever happens, the next test finds it running."""
    yield cups
    cups.start()


def device(cups: CupsServer, queue: str) -> DocumentPrinterDevice:
    return open_document_printer(cups.url(queue), poll_interval=0.1)


def test_a_pdf_prints_through_cups_pdf_and_the_job_is_followed_to_completed(
    cups: CupsServer, tmp_path: Path
) -> None:
    """GIVEN a cups-pdf queue WHEN a two-page PDF file is printed THEN the job completes and
    cups-pdf writes a two-page PDF."""
    printer = open_document_printer(cups.add_pdf_queue("kioskpdf"))
    printer.open()
    assert printer.status().state is DeviceState.ONLINE
    document = tmp_path / "证明.pdf"
    document.write_bytes(PDF)

    job = printer.print_pdf(document, title="参保证明 test", options={"media": "A4"})
    outcome = printer.wait(job, timeout=30)

    assert outcome.ok and outcome.state is JobState.COMPLETED
    assert outcome.sheets_completed == 2
    assert (job.pages, job.size) == (2, len(PDF))
    (printed,) = cups.wait_for_pdfs(1)
    assert check_pdf(printed.read_bytes()).pages == 2
    assert any(
        line.startswith(f"kioskpdf-{job.job_id} ") for line in cups.jobs("kioskpdf", "completed")
    )
    assert printer.cancel(job) is False  # it has ended: nothing to cancel
    printer.close()
    printer.close()  # idempotent


def test_a_disabled_queue_is_offline_and_refuses_jobs_until_enabled(cups: CupsServer) -> None:
    printer = device(cups, "pausedq")
    cups.add_test_queue("pausedq", "ok")
    cups.disable("pausedq", "maintenance")

    status = printer.status()
    assert status.state is DeviceState.OFFLINE
    assert status.reason == "the queue is stopped (disabled): maintenance"
    with pytest.raises(PrinterUnavailableError, match="nothing was sent"):
        printer.print_pdf(PDF, title="t")
    assert cups.jobs("pausedq") == []

    cups.enable("pausedq")
    assert printer.status().state is DeviceState.ONLINE


def test_a_queue_that_does_not_exist_is_no_device(cups: CupsServer) -> None:
    printer = device(cups, "nosuchqueue")
    status = printer.status()
    assert status.state is DeviceState.NO_DEVICE
    assert "no printer queue 'nosuchqueue'" in status.reason
    with pytest.raises(QueueNotFoundError):
        printer.open()
    with pytest.raises(QueueNotFoundError):
        printer.print_pdf(PDF, title="t")
    with pytest.raises(QueueNotFoundError):  # Create-Job itself is refused
        printer.print_pdf(PDF, title="t", check_ready=False)


def test_a_failing_printer_fails_the_job_with_the_backends_reason(cups: CupsServer) -> None:
    printer = device(cups, "failq")
    cups.add_test_queue("failq", "fail", error_policy="abort-job")
    job = printer.print_pdf(PDF, title="t")

    with pytest.raises(JobFailedError) as failed:
        printer.wait(job, timeout=10)

    assert not isinstance(failed.value, JobTimeoutError)
    assert failed.value.reason.startswith("Simulated printer failure")
    assert failed.value.outcome is not None
    assert failed.value.outcome.state is JobState.ABORTED
    assert "was aborted: Simulated printer failure" in str(failed.value)


def test_paper_out_stops_the_printer_and_is_reported_before_the_next_job(cups: CupsServer) -> None:
    """GIVEN a printer that reports media-empty WHEN a job is sent THEN the queue stops, the
    job waits and is canceled at the deadline, status says paper out, and new jobs are refused."""
    printer = device(cups, "paperq")
    cups.add_test_queue("paperq", "stop/media-empty-error", error_policy="stop-printer")
    job = printer.print_pdf(PDF, title="t")

    with pytest.raises(JobTimeoutError) as timed_out:
        printer.wait(job, timeout=1.0)
    assert timed_out.value.canceled
    assert "media-empty-error" in timed_out.value.reason

    status = printer.status()
    assert (status.state, status.paper) == (DeviceState.ONLINE, PaperState.OUT)
    assert not status.usable
    with pytest.raises(PrinterNotReadyError, match="paper out") as refused:
        printer.print_pdf(PDF, title="t")
    assert refused.value.status.paper is PaperState.OUT
    assert len(cups.jobs("paperq")) == 1  # only the first job ever reached CUPS


def test_a_job_that_does_not_finish_in_time_is_canceled(cups: CupsServer) -> None:
    printer = device(cups, "hangq")
    cups.add_test_queue("hangq", "hang")
    job = printer.print_pdf(PDF, title="t")

    with pytest.raises(JobTimeoutError) as timed_out:
        printer.wait(job, timeout=1.0)

    assert timed_out.value.canceled
    assert "not finished after 1 s (it was processing" in timed_out.value.reason
    assert printer.job(job).state is JobState.CANCELED
    assert cups.jobs("hangq", "not-completed") == []


def test_without_cancel_on_timeout_the_job_is_left_alone(cups: CupsServer) -> None:
    printer = device(cups, "hangq2")
    cups.add_test_queue("hangq2", "hang")
    job = printer.print_pdf(PDF, title="t")
    with pytest.raises(JobTimeoutError) as timed_out:
        printer.wait(job, timeout=0.3, cancel_on_timeout=False)
    assert not timed_out.value.canceled
    assert not printer.job(job).state.terminal
    printer.cancel(job)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"<html><body>502 Bad Gateway</body></html>", "not a PDF"),
        (PDF[: len(PDF) - 300], "truncated"),
        (b"", "empty"),
    ],
)
def test_what_is_not_a_whole_pdf_never_reaches_cups(
    cups: CupsServer, data: bytes, words: str
) -> None:
    printer = device(cups, "okq")
    cups.add_test_queue("okq", "ok")
    before = cups.jobs("okq")
    with pytest.raises(NotAPdfError, match=words):
        printer.print_pdf(data, title="t")
    assert cups.jobs("okq") == before


def test_cupsd_stopped_is_offline_then_recovers_and_a_waiting_job_survives(
    ensure_running: CupsServer,
) -> None:
    """GIVEN a job pending on a disabled queue WHEN cupsd stops and comes back THEN status and
    open report it unavailable meanwhile, and `wait` rides out the outage to completion."""
    cups = ensure_running
    printer = device(cups, "laterq")
    cups.add_test_queue("laterq", "ok")
    cups.disable("laterq")
    job = printer.print_pdf(PDF, title="t", check_ready=False)

    cups.stop()
    status = printer.status()
    assert status.state is DeviceState.OFFLINE
    assert "cannot connect" in status.reason
    with pytest.raises(PrinterUnavailableError, match="cannot connect"):
        printer.open()
    with pytest.raises(PrinterUnavailableError):
        printer.print_pdf(PDF, title="t")

    def come_back() -> None:
        cups.start()
        cups.enable("laterq")

    timer = threading.Timer(0.5, come_back)
    timer.start()
    try:
        outcome = printer.wait(job, timeout=15)
    finally:
        timer.join()
    assert outcome.ok
    assert printer.status().state is DeviceState.ONLINE


def test_the_server_comes_from_cups_server_when_the_url_has_none(
    cups: CupsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    cups.add_test_queue("envq", "ok")
    monkeypatch.setenv("CUPS_SERVER", cups.server)
    assert open_document_printer("cups://envq").status().state is DeviceState.ONLINE


def test_an_unreachable_server_is_offline_not_an_exception() -> None:
    printer = open_document_printer("cups://q?server=/nonexistent/cups.sock")
    assert printer.status().state is DeviceState.OFFLINE
    with pytest.raises(PrinterUnavailableError, match="cannot connect to /nonexistent/cups.sock"):
        printer.open()
