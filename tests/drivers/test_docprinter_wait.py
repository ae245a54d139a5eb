"""`wait` on a scripted transport and a fake clock: the edges real cupsd rarely shows on cue."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from drivers.docprinter import (
    DocumentPrinterDevice,
    JobFailedError,
    JobState,
    JobTimeoutError,
    PrinterUnavailableError,
)
from drivers.docprinter.cups_client import CupsClient
from tests.support.cups import sample_pdf


class ScriptedCups(CupsClient):
    """Answers Get-Job-Attributes from a script of states; None in it means CUPS is down."""

    def __init__(self, states: list[int | None], *, cancel_ok: bool = True) -> None:
        super().__init__("/scripted")
        self.states = states
        self.cancel_ok = cancel_ok
        self.canceled: list[int] = []
        self.down = False

    def printer_attributes(self, queue: str, names: list[str]) -> dict[str, Any]:
        if self.down:
            raise PrinterUnavailableError("cannot connect to /scripted")
        return {"printer-state": 3, "printer-state-reasons": ["none"]}

    def job_attributes(self, job_id: int, names: list[str]) -> dict[str, Any]:
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        if state is None:
            raise PrinterUnavailableError("cannot connect to /scripted")
        return {"job-state": state, "job-state-reasons": "job-printing"}

    def cancel(self, job_id: int) -> bool:
        if not self.cancel_ok:
            raise PrinterUnavailableError("cannot connect to /scripted")
        self.canceled.append(job_id)
        if self.states[0] in (7, 8, 9):
            return False
        self.states[:] = [7]
        return True

    def submit(self, queue: str, data: bytes, *, title: str, options: Mapping[str, str]) -> int:
        return 42


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def device(cups: ScriptedCups) -> tuple[DocumentPrinterDevice, FakeClock]:
    clock = FakeClock()
    printer = DocumentPrinterDevice(
        "q", client=cups, clock=clock, sleep=clock.sleep, poll_interval=1.0, first_poll=1.0
    )
    return printer, clock


def test_a_quick_job_is_seen_done_quickly_then_polls_back_off() -> None:
    """A one-page job on a fast printer ends in tens of ms: the first looks come soon, then
    the pauses double up to the poll interval (a real page takes seconds)."""
    clock = FakeClock()
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(round(seconds, 3))
        clock.sleep(seconds)

    cups = ScriptedCups([5] * 7 + [9])
    printer = DocumentPrinterDevice("q", client=cups, clock=clock, sleep=sleep, poll_interval=0.25)
    assert printer.wait(42, timeout=10).ok
    assert pauses == [0.02, 0.04, 0.08, 0.16, 0.25, 0.25, 0.25]


def test_pending_then_processing_then_completed() -> None:
    printer, clock = device(ScriptedCups([3, 5, 5, 9]))
    assert printer.wait(42, timeout=10).state is JobState.COMPLETED
    assert clock.now == 3.0


def test_an_outage_while_waiting_is_ridden_out() -> None:
    printer, _ = device(ScriptedCups([5, None, None, 5, 9]))
    assert printer.wait(42, timeout=10).ok


def test_an_outage_at_the_deadline_cannot_cancel_and_says_so() -> None:
    cups = ScriptedCups([5, None], cancel_ok=False)
    printer, _ = device(cups)
    with pytest.raises(JobTimeoutError) as timed_out:
        printer.wait(42, timeout=3)
    assert not timed_out.value.canceled
    assert "cannot connect to /scripted" in timed_out.value.reason
    assert str(timed_out.value).endswith("left in the queue")


def test_a_job_that_completes_just_as_time_runs_out_is_a_success() -> None:
    # Polls at t=0, 1 and 1.5 see "processing"; at the deadline the cancel finds it done.
    cups = ScriptedCups([5, 5, 5, 9])
    printer, _ = device(cups)
    outcome = printer.wait(42, timeout=1.5)
    assert outcome.ok
    assert cups.canceled == [42]


def test_a_canceled_job_is_a_failure_not_a_timeout() -> None:
    printer, _ = device(ScriptedCups([5, 7]))
    with pytest.raises(JobFailedError) as failed:
        printer.wait(42, timeout=10)
    assert type(failed.value) is JobFailedError
    assert failed.value.outcome is not None and failed.value.outcome.state is JobState.CANCELED


def test_a_held_job_times_out_and_is_canceled() -> None:
    cups = ScriptedCups([4])
    printer, clock = device(cups)
    with pytest.raises(JobTimeoutError, match=r"not finished after 2 s \(it was held"):
        printer.wait(42, timeout=2)
    assert cups.canceled == [42]
    assert clock.now == 2.0


def test_print_pdf_refuses_when_cups_is_down_and_sends_nothing() -> None:
    cups = ScriptedCups([3])
    cups.down = True
    printer, _ = device(cups)
    with pytest.raises(PrinterUnavailableError):
        printer.print_pdf(sample_pdf(1), title="t")
    cups.down = False
    assert printer.print_pdf(sample_pdf(1), title="t").job_id == 42
