"""A network receipt printer that speaks real ESC/POS over TCP, like port 9100 on the real thing.

It decodes what it receives, answers DLE EOT status queries for its simulated state (paper full,
low or out, cover open, offline), and keeps every completed job: a job ends at a cut, or when the
connection closes with something printed. While the paper is out or the cover is open it prints
nothing, as a real printer would not. `run_out_after(low=N, out=M)` makes the roll reach its
near-end after N more receipts and its end after M. Faults for tests: `set_mute()` stops status
answers (the driver times out), `disconnect_after()` drops the connection mid-job with a TCP
reset, and `stop()` then `start()` is a power cycle on the same port (unreachable in between).

    python -m drivers.printer.simulator --port 9100 --out var/printer
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from types import TracebackType

from PIL import Image

from drivers.printer.escpos_decode import (
    DecodedJob,
    EscPosDecodeError,
    EscPosStreamDecoder,
    Event,
    PaperCut,
    StatusRequest,
)
from drivers.printer.receipt import Receipt
from drivers.printer.render import png_bytes, render_job
from drivers.printer.status import PaperLevel, PrinterStatus, encode_status

log = logging.getLogger(__name__)

_POLL = 0.1  # how often blocking loops look at the stop flag


@dataclass(frozen=True)
class PrintedJob:
    """One completed job: the bytes as received, what they decode to, and when."""

    number: int
    raw: bytes
    decoded: DecodedJob
    receipt: Receipt | None  # None if the bytes cannot be expressed as a Receipt
    finished_at: datetime = field(default_factory=datetime.now)
    complete: bool = True  # False when the connection closed before a cut

    def image(self) -> Image.Image:
        """The paper this job printed."""
        return render_job(self.decoded)

    def png(self) -> bytes:
        """The paper this job printed, as PNG."""
        return png_bytes(self.image())


class PrinterSimulator:
    """An ESC/POS printer on a TCP port; see the module docstring."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        paper: str = "full",
        *,
        out_dir: str | Path | None = None,
        chinese_default: bool = False,
    ) -> None:
        self.host = host
        self._requested_port = port
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.chinese_default = chinese_default
        self._state = PrinterStatus(paper=PaperLevel(paper))
        self._cond = threading.Condition()
        self._jobs: list[PrintedJob] = []
        self._numbered = 0
        self._cursor = 0  # receipts already handed out by wait_for_receipt
        self._received = bytearray()
        self._discarded_items = 0
        self._connections = 0
        self._mute = False
        self._disconnect_after: int | None = None
        self._low_after: int | None = None  # cuts left before the near-end sensor trips
        self._out_after: int | None = None  # cuts left before the paper ends
        self._listener: socket.socket | None = None
        self._clients: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self.port = port

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> PrinterSimulator:
        """Listen and serve in background threads; returns self."""
        if self._listener is not None:
            return self
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Started again after a stop, it comes back on the same port, as a printer powered on.
        listener.bind((self.host, self.port or self._requested_port))
        listener.listen(8)
        listener.settimeout(_POLL)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._stopping.clear()
        self._spawn(self._accept_loop, "printer-sim-accept")
        log.info("printer simulator listening on %s (paper %s)", self.url, self._state.paper.value)
        return self

    def stop(self) -> None:
        """Stop listening and drop every connection, like pulling the power cord."""
        self._stopping.set()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._cond:
            clients = list(self._clients)
        for client in clients:
            _shutdown(client)
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=2)
        self._threads.clear()

    def __enter__(self) -> PrinterSimulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The device URL drivers use to reach this printer."""
        return f"tcp://{self.host}:{self.port}"

    # -- simulated state -----------------------------------------------------------------------

    @property
    def status(self) -> PrinterStatus:
        """The state the printer reports."""
        with self._cond:
            return self._state

    def set_paper(self, level: str) -> None:
        """Paper "full", "low" (near end) or "out"."""
        paper = PaperLevel(level)
        if paper is PaperLevel.UNKNOWN:
            raise ValueError("the simulated paper is full, low or out")
        self._update(paper=paper)

    def set_cover_open(self, is_open: bool = True) -> None:
        """Open or close the paper cover."""
        self._update(cover_open=is_open)

    def set_online(self, online: bool = True) -> None:
        """Take the printer offline (it still answers status, as real ones do)."""
        self._update(online=online)

    def set_error(self, *, cutter: bool = False, unrecoverable: bool = False) -> None:
        """Simulate a cutter jam or an unrecoverable fault (both False clears them)."""
        self._update(cutter_error=cutter, unrecoverable_error=unrecoverable)

    def run_out_after(self, *, low: int | None = None, out: int | None = None) -> None:
        """Paper near its end after `low` more cut receipts, and out after `out` more."""
        if (low is not None and low < 0) or (out is not None and out < 0):
            raise ValueError("receipt counts are not negative")
        with self._cond:
            self._low_after, self._out_after = low, out
            self._count_down(0)

    def _count_down(self, cuts: int) -> None:
        # Called with the condition held, after each cut.
        if self._low_after is not None:
            self._low_after -= cuts
            if self._low_after <= 0 and self._state.paper is PaperLevel.FULL:
                self._state = replace(self._state, paper=PaperLevel.LOW)
                self._low_after = None
        if self._out_after is not None:
            self._out_after -= cuts
            if self._out_after <= 0:
                self._state = replace(self._state, paper=PaperLevel.OUT)
                self._out_after = self._low_after = None

    def set_mute(self, mute: bool = True) -> None:
        """Stop answering DLE EOT, like a print server without a back channel."""
        with self._cond:
            self._mute = mute

    def disconnect_after(self, nbytes: int | None) -> None:
        """Reset each later connection once it has sent `nbytes` bytes (None turns this off)."""
        with self._cond:
            self._disconnect_after = nbytes

    def _update(self, **changes: object) -> None:
        with self._cond:
            self._state = replace(self._state, **changes)  # type: ignore[arg-type]

    # -- what was printed ----------------------------------------------------------------------

    @property
    def jobs(self) -> list[PrintedJob]:
        """Every completed job, oldest first."""
        with self._cond:
            return list(self._jobs)

    @property
    def receipts(self) -> list[Receipt]:
        """The documents of the completed jobs that decode to a Receipt."""
        return [job.receipt for job in self.jobs if job.receipt is not None]

    @property
    def received(self) -> bytes:
        """Every byte received on every connection, in order."""
        with self._cond:
            return bytes(self._received)

    @property
    def connections(self) -> int:
        """How many connections were accepted."""
        with self._cond:
            return self._connections

    @property
    def discarded_items(self) -> int:
        """Printable items thrown away because the printer was not ready."""
        with self._cond:
            return self._discarded_items

    def wait_for_job(self, timeout: float = 5.0) -> PrintedJob:
        """The next job not yet returned by a wait; TimeoutError if none arrives in time."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._cursor >= len(self._jobs):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no print job arrived at {self.url} within {timeout:g} s")
                self._cond.wait(remaining)
            job = self._jobs[self._cursor]
            self._cursor += 1
            return job

    def wait_for_receipt(self, timeout: float = 5.0) -> Receipt:
        """The document of the next job; raises TimeoutError or EscPosDecodeError."""
        job = self.wait_for_job(timeout)
        if job.receipt is None:
            raise EscPosDecodeError(f"job {job.number} is not a receipt: {job.decoded.problems}", 0)
        return job.receipt

    def last_png(self) -> bytes:
        """The last job's paper as PNG; LookupError if nothing was printed yet."""
        jobs = self.jobs
        if not jobs:
            raise LookupError("the simulated printer has not printed anything")
        return jobs[-1].png()

    # -- serving -------------------------------------------------------------------------------

    def _spawn(self, target: Callable[..., None], name: str, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            listener = self._listener
            if listener is None:
                return
            try:
                client, peer = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # the listener was closed by stop()
            client.settimeout(_POLL)
            with self._cond:
                self._clients.add(client)
                self._connections += 1
            log.debug("printer simulator: connection from %s:%s", *peer[:2])
            self._spawn(self._serve, f"printer-sim-{peer[1]}", client)

    def _serve(self, client: socket.socket) -> None:
        connection = _Connection(self, client)
        try:
            connection.run()
        except Exception:  # a simulator thread must never die silently
            log.exception("printer simulator: connection failed")
        finally:
            with self._cond:
                self._clients.discard(client)
            client.close()

    def _answer(self, client: socket.socket, n: int) -> None:
        with self._cond:
            mute, state = self._mute, self._state
        if not mute:
            client.sendall(bytes([encode_status(n, state)]))

    def _accept_item(self) -> bool:
        with self._cond:
            if self._state.ready:
                return True
            self._discarded_items += 1
            return False

    def _finish_job(
        self, raw: bytes, events: list[Event], problems: list[str], complete: bool
    ) -> None:
        decoded = DecodedJob.from_events(events, problems)
        try:
            receipt: Receipt | None = decoded.to_receipt()
        except EscPosDecodeError as exc:
            log.warning("printer simulator: job is not a receipt: %s", exc)
            receipt = None
        with self._cond:
            self._numbered += 1
            job = PrintedJob(self._numbered, raw, decoded, receipt, complete=complete)
        # Saved before it is published, so a waiter finds the files already there.
        if self.out_dir is not None:
            self._save(job, self.out_dir)
        with self._cond:
            self._jobs.append(job)
            if job.complete and decoded.cuts:
                self._count_down(decoded.cuts)
            self._cond.notify_all()
        log.info(
            "printer simulator: job %d, %d lines, QR %s, %s",
            job.number,
            len(decoded.lines),
            list(decoded.qr_payloads),
            "cut" if decoded.cuts else "no cut",
        )

    def _save(self, job: PrintedJob, out_dir: Path) -> None:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            stem = out_dir / f"job-{job.number:04d}"
            stem.with_suffix(".bin").write_bytes(job.raw)
            stem.with_suffix(".png").write_bytes(job.png())
            notes = "\n".join(f"# {p}" for p in job.decoded.problems)
            stem.with_suffix(".txt").write_text(job.decoded.text + "\n" + notes, encoding="utf-8")
        except OSError:
            log.exception("printer simulator: cannot save job %d under %s", job.number, out_dir)


class _Connection:
    """One client: decode as bytes arrive, answer status at once, cut jobs at cuts."""

    def __init__(self, sim: PrinterSimulator, client: socket.socket) -> None:
        self.sim = sim
        self.client = client
        self.decoder = EscPosStreamDecoder(strict=False, chinese_default=sim.chinese_default)
        self.raw = bytearray()
        self.job_start = 0  # stream offset where the current job began
        self.events: list[Event] = []
        with sim._cond:
            self.limit = sim._disconnect_after

    def run(self) -> None:
        while not self.sim._stopping.is_set():
            try:
                chunk = self.client.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                break
            if not chunk:
                break
            if self.limit is not None and len(self.raw) + len(chunk) > self.limit:
                chunk = chunk[: max(0, self.limit - len(self.raw))]
                self._take(chunk)
                _reset(self.client)
                log.info("printer simulator: dropped the connection after %d bytes", self.limit)
                break
            self._take(chunk)
        for event in self.decoder.finish():
            self._handle(event)
        if any(not isinstance(e, StatusRequest) for e in self.events):
            self._complete(len(self.raw), complete=False)

    def _take(self, chunk: bytes) -> None:
        self.raw += chunk
        with self.sim._cond:
            self.sim._received += chunk
        for event in self.decoder.feed(chunk):
            self._handle(event)

    def _handle(self, event: Event) -> None:
        if isinstance(event, StatusRequest):
            # A client that went away is noticed by the read loop; nothing to do here.
            with contextlib.suppress(OSError):
                self.sim._answer(self.client, event.n)
            self.events.append(event)  # kept so a job shows the queries made during it
            return
        if not self.sim._accept_item():
            return
        self.events.append(event)
        if isinstance(event, PaperCut):
            self._complete(event.end, complete=True)

    def _complete(self, end: int, *, complete: bool) -> None:
        raw = bytes(self.raw[self.job_start : end])
        self.sim._finish_job(raw, self.events, self.decoder.take_problems(), complete)
        self.job_start = end
        self.events = []


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _reset(sock: socket.socket) -> None:
    # SO_LINGER with a zero timeout makes close() send RST: the peer sees a dead printer at once.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def main(argv: list[str] | None = None) -> int:
    """Run a simulated printer until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m drivers.printer.simulator", description="Simulated ESC/POS receipt printer"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--paper", choices=["full", "low", "out"], default="full")
    parser.add_argument("--out", type=Path, help="save each job's .bin, .png and .txt here")
    parser.add_argument("--chinese-default", action="store_true", help="start in Chinese mode")
    parser.add_argument("--low-after", type=int, metavar="N", help="paper low after N receipts")
    parser.add_argument("--out-after", type=int, metavar="M", help="paper out after M receipts")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    sim = PrinterSimulator(
        args.host, args.port, args.paper, out_dir=args.out, chinese_default=args.chinese_default
    )
    sim.run_out_after(low=args.low_after, out=args.out_after)
    try:
        sim.start()
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}")
        return 1
    print(f"simulated receipt printer at {sim.url}; Ctrl-C to stop", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
