"""Print jobs as IPP describes them: `job-state` and `job-state-reasons` to typed values.

Pure functions over the attribute dictionaries the client returns (one value as itself, several
as a list, the shape pycups gave; both are accepted), so the mapping is tested without a server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class JobState(IntEnum):
    """IPP `job-state` (RFC 8011 5.3.7); the numbers are the protocol's."""

    PENDING = 3
    HELD = 4  # pending-held: waiting for a release, a time, or a password
    PROCESSING = 5
    STOPPED = 6  # processing-stopped: the printer stopped while working on it
    CANCELED = 7
    ABORTED = 8  # the system gave up on it (a backend or filter failed)
    COMPLETED = 9

    @property
    def terminal(self) -> bool:
        """Whether the job is over; CUPS changes nothing about it any more."""
        return self >= JobState.CANCELED


# Reasons worth telling a technician in words; others are shown as their keyword.
_REASON_WORDS = {
    "aborted-by-system": "aborted by the print system",
    "job-canceled-by-user": "canceled by a user",
    "job-canceled-by-operator": "canceled by an operator",
    "job-canceled-at-device": "canceled at the printer",
    "document-format-error": "the printer could not read the document",
    "document-unprintable-error": "the document cannot be printed",
    "document-access-error": "the print system could not read the document",
    "compression-error": "the document's compression is not supported",
    "unsupported-document-format": "the document format is not supported",
    "job-hold-until-specified": "held until a given time",
    "job-held-for-authentication": "held: the print system wants a password",
    "printer-stopped": "the printer is stopped",
    "printer-stopped-partly": "the printer is partly stopped",
    "job-printing": "printing",
    "job-queued": "queued",
    "job-incoming": "still being received",
    "job-data-insufficient": "still being received",
}
_NOT_REASONS = frozenset({"none", "processing-to-stop-point", "job-completed-successfully"})


def as_tuple(value: Any) -> tuple[str, ...]:
    """A multi-valued IPP keyword attribute as a tuple, whether it came as a str or a list."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(item) for item in value)


def describe_reasons(reasons: tuple[str, ...]) -> str:
    """Job state reasons in words, leaving out the ones that say nothing."""
    words = [_REASON_WORDS.get(r, r) for r in reasons if r not in _NOT_REASONS]
    return "; ".join(dict.fromkeys(words))  # keep order, drop repeats


@dataclass(frozen=True)
class PrintJob:
    """A job handed to CUPS: what `wait` follows. `pages` is the document's, when known."""

    job_id: int
    queue: str
    size: int
    pages: int | None = None


@dataclass(frozen=True)
class JobOutcome:
    """A job's state at one moment, with CUPS's reasons and the printer's last message."""

    job_id: int
    state: JobState
    reasons: tuple[str, ...] = ()
    printer_message: str = ""  # job-printer-state-message: what the backend said last
    printer_reasons: tuple[str, ...] = ()  # job-printer-state-reasons
    sheets_completed: int | None = None

    @property
    def ok(self) -> bool:
        """Whether the job printed completely."""
        return self.state is JobState.COMPLETED

    @property
    def reason(self) -> str:
        """Why the job is where it is, in words: the printer's message first, then CUPS's."""
        words = describe_reasons(self.reasons)
        printer = [r for r in self.printer_reasons if r not in _NOT_REASONS]
        parts = [self.printer_message.strip(), words, ", ".join(printer)]
        return "; ".join(p for p in parts if p) or self.state.name.lower()

    def describe(self) -> str:
        """A one-line English summary for logs and the CLI."""
        text = f"job {self.job_id} {self.state.name.lower()}"
        if self.sheets_completed:
            text += f", {self.sheets_completed} sheet(s)"
        return text if self.ok else f"{text}: {self.reason}"


JOB_ATTRIBUTES = [
    "job-id",
    "job-state",
    "job-state-reasons",
    "job-printer-state-message",
    "job-printer-state-reasons",
    "job-media-sheets-completed",
]


def job_outcome(job_id: int, attrs: Mapping[str, Any]) -> JobOutcome:
    """The typed state of a job from its Get-Job-Attributes answer."""
    try:
        state = JobState(int(attrs["job-state"]))
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"job {job_id}: no valid job-state in {sorted(attrs)}") from None
    sheets = attrs.get("job-media-sheets-completed")
    return JobOutcome(
        job_id=job_id,
        state=state,
        reasons=as_tuple(attrs.get("job-state-reasons")),
        printer_message=str(attrs.get("job-printer-state-message") or ""),
        printer_reasons=as_tuple(attrs.get("job-printer-state-reasons")),
        sheets_completed=sheets if isinstance(sheets, int) else None,
    )
