"""The A4 document printer: a CUPS queue at `cups://QUEUE[?server=...]`, with the uniform face.

`open_document_printer(url)` gives a `DocumentPrinterDevice` (not yet connected). `open()`
checks that CUPS answers and has the queue; `status()` reads the queue's state and reasons;
`print_pdf()` checks the document and the printer, then submits; `wait()` follows the job
until CUPS says it completed, failed, or the deadline passes (then it cancels the job).

The server is `?server=` in the URL (a socket path or `host[:port]`), else `CUPS_SERVER`
as it is when the device is created, else the default libcups would pick (client.conf, then
the local cupsd); cups_client.py speaks IPP to it.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping

from drivers.docprinter.cups_client import CupsClient, split_server
from drivers.docprinter.errors import (
    DocumentPrinterConfigError,
    DocumentPrinterError,
    JobFailedError,
    JobTimeoutError,
    NotAPdfError,
    PrinterNotReadyError,
    PrinterUnavailableError,
    QueueNotFoundError,
)
from drivers.docprinter.jobs import JOB_ATTRIBUTES, JobOutcome, JobState, PrintJob, job_outcome
from drivers.docprinter.pdf import DEFAULT_MAX_BYTES, check_pdf, read_pdf
from drivers.docprinter.status import (
    PRINTER_ATTRIBUTES,
    missing_status,
    printer_status,
    unreachable_status,
)
from drivers.state import DeviceState, DeviceStatus
from drivers.url import DeviceUrlError, parse_device_url

log = logging.getLogger(__name__)

DEFAULT_OPTIONS: Mapping[str, str] = {"media": "A4", "sides": "one-sided"}
MAX_COPIES = 99
POLL_INTERVAL = 0.25
FIRST_POLL = 0.02
# CUPS queue names: printable, no space, slash, '#' or backslash, at most 127 bytes.
_QUEUE_NAME = re.compile(r"[^\s/#\\\x00-\x1f\x7f]{1,127}")
_OPTION_NAME = re.compile(r"[a-z][a-z0-9-]{0,62}")
_URL_PARAMS = frozenset({"server"})

Document = bytes | bytearray | memoryview | str | os.PathLike[str]


def open_document_printer(
    url: str, *, max_bytes: int = DEFAULT_MAX_BYTES, poll_interval: float = POLL_INTERVAL
) -> DocumentPrinterDevice:
    """The document printer at `cups://QUEUE[?server=...]`, not yet connected."""
    try:
        dev = parse_device_url(url)
    except DeviceUrlError as exc:
        raise DocumentPrinterConfigError(str(exc)) from None
    if dev.scheme != "cups":
        raise DocumentPrinterConfigError(
            f"{url}: a document printer is a CUPS queue, cups://QUEUE (not {dev.scheme}://)"
        )
    queue = dev.path.strip("/")
    if not _QUEUE_NAME.fullmatch(queue):
        raise DocumentPrinterConfigError(
            f"{url}: {queue!r} is not a CUPS queue name (e.g. cups://kioskpdf)"
        )
    unknown = sorted(set(dev.params) - _URL_PARAMS)
    if unknown:
        raise DocumentPrinterConfigError(f"{url}: unknown parameter {unknown[0]!r} (known: server)")
    server = dev.params.get("server") or os.environ.get("CUPS_SERVER") or None
    if server:
        split_server(server)  # a server name that can never work fails here, not at each poll
    return DocumentPrinterDevice(
        queue, server=server, url=url, max_bytes=max_bytes, poll_interval=poll_interval
    )


class DocumentPrinterDevice:
    """One CUPS queue: status, PDF jobs, and following a job to its end."""

    def __init__(
        self,
        queue: str,
        *,
        server: str | None = None,
        url: str = "",
        max_bytes: int = DEFAULT_MAX_BYTES,
        poll_interval: float = POLL_INTERVAL,
        first_poll: float = FIRST_POLL,
        client: CupsClient | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.queue = queue
        self.server = server
        self.url = url or f"cups://{queue}"
        self.max_bytes = max_bytes
        self.poll_interval = poll_interval
        self.first_poll = min(first_poll, poll_interval)
        self._client = client or CupsClient(server)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()  # one IPP exchange at a time per device

    def __repr__(self) -> str:
        return f"DocumentPrinterDevice({self.url!r})"

    # -- the uniform face ------------------------------------------------------------------

    def open(self) -> None:
        """Check that CUPS answers and has the queue; raises PrinterUnavailableError if not."""
        self._printer_attributes()

    def close(self) -> None:
        """Nothing to release: each operation has its own connection. Idempotent."""

    def status(self) -> DeviceStatus:
        """The queue's state: online, busy, offline, user or hardware error, or no_device."""
        try:
            attrs = self._printer_attributes()
        except QueueNotFoundError as exc:
            return missing_status(self.queue, str(exc))
        except PrinterUnavailableError as exc:
            return unreachable_status(self.queue, str(exc))
        except DocumentPrinterError as exc:  # e.g. not allowed: configured wrongly, not absent
            return DeviceStatus(DeviceState.HARDWARE_ERROR, reason=str(exc))
        return printer_status(self.queue, attrs)

    # -- jobs ------------------------------------------------------------------------------

    def print_pdf(
        self,
        document: Document,
        *,
        title: str,
        copies: int = 1,
        options: Mapping[str, str | int | bool] | None = None,
        check_ready: bool = True,
    ) -> PrintJob:
        """Check `document` is a PDF and the printer can print, then submit it; returns the job.

        `title` is the CUPS job name: CUPS logs it and keeps it in the job history, so it must
        not carry personal data. `options` are IPP job attributes over DEFAULT_OPTIONS (A4,
        one-sided). With `check_ready`, a printer that needs a person (paper out, jam, cover
        open) or a disabled queue is refused before anything is sent.
        """
        job_options = _job_options(copies, options)
        job_title = _clean_title(title)
        data = self._load(document)
        info = check_pdf(data, max_bytes=self.max_bytes)
        if check_ready:
            self._raise_unless_ready()
        with self._lock:
            job_id = self._client.submit(self.queue, data, title=job_title, options=job_options)
        job = PrintJob(job_id=job_id, queue=self.queue, size=info.size, pages=info.pages)
        log.info(
            "job %d sent to %s (%d bytes, %s pages, %d copies)",
            job_id,
            self.url,
            info.size,
            info.pages if info.pages is not None else "?",
            copies,
        )
        return job

    def job(self, job: PrintJob | int) -> JobOutcome:
        """The job's state now."""
        job_id = job.job_id if isinstance(job, PrintJob) else int(job)
        with self._lock:
            attrs = self._client.job_attributes(job_id, JOB_ATTRIBUTES)
        try:
            return job_outcome(job_id, attrs)
        except ValueError as exc:
            raise DocumentPrinterError(f"{self.url}: {exc}") from None

    def cancel(self, job: PrintJob | int) -> bool:
        """Cancel the job; False if it had already ended (completed, canceled or aborted)."""
        job_id = job.job_id if isinstance(job, PrintJob) else int(job)
        with self._lock:
            return self._client.cancel(job_id)

    def wait(
        self, job: PrintJob | int, timeout: float, *, cancel_on_timeout: bool = True
    ) -> JobOutcome:
        """Follow the job until it completes (returned) or fails or times out (raised).

        Raises JobFailedError when CUPS aborts or cancels it, and JobTimeoutError when it has
        not completed within `timeout` seconds, after canceling it if `cancel_on_timeout`. The
        job survives a cupsd restart, so CUPS being unreachable for a while is waited out.
        """
        job_id = job.job_id if isinstance(job, PrintJob) else int(job)
        deadline = self._clock() + timeout
        last: JobOutcome | None = None
        unreachable = ""  # why CUPS cannot be asked now; logged once, and its return once
        # Look again soon at first (a one-page job on a fast printer is done in tens of ms),
        # then back off to `poll_interval` for the pages that take seconds.
        pause = self.first_poll
        while True:
            try:
                last = self.job(job_id)
            except PrinterUnavailableError as exc:
                if not unreachable:
                    log.warning("job %d: %s; still waiting", job_id, exc)
                unreachable = str(exc)
            else:
                if unreachable:
                    log.info("%s answers again while job %d waits", self.url, job_id)
                unreachable = ""
                if last.state is JobState.COMPLETED:
                    log.info("%s on %s", last.describe(), self.url)
                    return last
                if last.state.terminal:
                    raise self._failed(last)
            if self._clock() >= deadline:
                return self._at_deadline(job_id, timeout, last, unreachable, cancel_on_timeout)
            self._sleep(min(pause, max(0.0, deadline - self._clock())))
            pause = min(pause * 2, self.poll_interval)

    # -- helpers ---------------------------------------------------------------------------

    def _printer_attributes(self) -> dict[str, object]:
        with self._lock:
            return self._client.printer_attributes(self.queue, PRINTER_ATTRIBUTES)

    def _load(self, document: Document) -> bytes:
        if isinstance(document, bytes | bytearray | memoryview):
            return bytes(document)
        if isinstance(document, str | os.PathLike):
            return read_pdf(document, max_bytes=self.max_bytes)
        raise NotAPdfError(f"cannot print a {type(document).__name__}: give bytes or a path")

    def _raise_unless_ready(self) -> None:
        # Not status(): that turns failures into states, and here they should stay errors.
        status = printer_status(self.queue, self._printer_attributes())
        if status.state is DeviceState.OFFLINE:
            raise PrinterUnavailableError(f"{self.url}: {status.reason}; nothing was sent")
        if not status.usable:
            raise PrinterNotReadyError(
                f"{self.url}: {status.reason or status.state.value}; nothing was sent",
                status=status,
            )

    def _failed(self, outcome: JobOutcome) -> JobFailedError:
        reason = outcome.reason
        log.warning("%s on %s", outcome.describe(), self.url)
        return JobFailedError(
            f"job {outcome.job_id} on {self.url} was {outcome.state.name.lower()}: {reason}",
            reason=reason,
            outcome=outcome,
        )

    def _at_deadline(
        self,
        job_id: int,
        timeout: float,
        last: JobOutcome | None,
        unreachable: str,
        cancel: bool,
    ) -> JobOutcome:
        """Cancel the late job and raise JobTimeoutError, unless it ended in the meantime."""
        # Describe the job as it was when time ran out; keep its state after the cancel.
        if unreachable:
            where = unreachable
        elif last is None:
            where = "its state is unknown"
        else:
            where = f"it was {last.state.name.lower()}: {last.reason}"
        canceled = False
        if cancel:
            try:
                canceled = self.cancel(job_id)
                last = self.job(job_id)
            except DocumentPrinterError as exc:
                log.warning("could not cancel job %d on %s: %s", job_id, self.url, exc)
            if not canceled and last is not None and last.state.terminal:
                # CUPS could not cancel it because it had just ended on its own.
                if last.ok:
                    return last
                raise self._failed(last)
        then = "canceled" if canceled else "left in the queue"
        reason = f"not finished after {timeout:g} s ({where})"
        log.warning("job %d on %s %s; %s", job_id, self.url, reason, then)
        raise JobTimeoutError(
            f"job {job_id} on {self.url} {reason}; {then}",
            reason=reason,
            outcome=last,
            canceled=canceled,
        )


def _job_options(copies: int, options: Mapping[str, str | int | bool] | None) -> dict[str, str]:
    """Job options as CUPS-style strings (the client types them as IPP does), copies checked."""
    if isinstance(copies, bool) or not isinstance(copies, int) or not 1 <= copies <= MAX_COPIES:
        raise DocumentPrinterConfigError(f"copies must be a whole number from 1 to {MAX_COPIES}")
    merged: dict[str, str] = dict(DEFAULT_OPTIONS)
    for name, value in (options or {}).items():
        if not _OPTION_NAME.fullmatch(name):
            raise DocumentPrinterConfigError(f"{name!r} is not an IPP attribute name")
        if name == "copies":
            raise DocumentPrinterConfigError("give copies as the copies argument, not an option")
        if isinstance(value, bool):
            merged[name] = "true" if value else "false"
        else:
            merged[name] = str(value)
    merged["copies"] = str(copies)
    return merged


def _clean_title(title: str) -> str:
    """A job name CUPS accepts: no control characters, at most 255 bytes of UTF-8."""
    text = " ".join("".join(c if c.isprintable() else " " for c in title).split())
    data = text.encode("utf-8")[:255]
    return data.decode("utf-8", errors="ignore") or "document"
