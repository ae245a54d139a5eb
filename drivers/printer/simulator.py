"""A network receipt printer that speaks real ESC/POS over TCP, like port 9100 on the real thing.

It decodes what it receives, answers DLE EOT status queries for its simulated state (paper full,
low or out, cover open, offline), and keeps the last completed jobs (a job ends at a cut, or when
the connection closes with something printed) and the last bytes received, counting all of them:
it runs for days beside a kiosk whose driver connects for every job and every status poll, so
nothing it keeps may grow with each connection. With `out_dir` every job is also saved to disk. While the paper is out or the cover is open it prints
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
from collections import deque
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
# Status queries kept while no job is under way: a client polling on one connection for days
# would otherwise pile them up. A job shows the queries made just before and during it.
_IDLE_STATUS_KEPT = 16
# What a kept connection costs besides its bytes (its _Stream and bytearray objects), charged
# against the `received` budget so that thousands of 12-byte status polls are not all kept.
_STREAM_COST = 256


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


@dataclass
class _Stream:
    """The bytes one connection sent, kept for `received` until the budget needs the room."""

    data: bytearray = field(default_factory=bytearray)
    open: bool = True
    settled: int = 0  # bytes at the front that belong to finished jobs: may be dropped


class PrinterSimulator:
    """An ESC/POS printer on a TCP port; see the module docstring."""

    JOBS_KEPT = 64  # completed jobs kept in `jobs`; `job_count` counts them all
    RECEIVED_KEPT = 64 * 1024  # bytes kept in `received`; `received_bytes` counts them all

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        paper: str = "full",
        *,
        out_dir: str | Path | None = None,
        chinese_default: bool = False,
        jobs_kept: int = JOBS_KEPT,
        received_kept: int = RECEIVED_KEPT,
    ) -> None:
        if jobs_kept < 1 or received_kept < 0:
            raise ValueError("keep at least one job and a byte budget that is not negative")
        self.host = host
        self._requested_port = port
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.chinese_default = chinese_default
        self._state = PrinterStatus(paper=PaperLevel(paper))
        self._cond = threading.Condition()
        self._jobs: deque[PrintedJob] = deque(maxlen=jobs_kept)
        self._numbered = 0  # jobs completed, kept or not
        self._handed = 0  # number of the last job handed out by wait_for_job
        self._streams: list[_Stream] = []  # oldest connection first
        self._received_kept = received_kept
        self._received_size = 0  # bytes held in _streams, plus _STREAM_COST for each
        self._received_total = 0
        self._discarded_items = 0
        self._connections = 0
        self._mute = False
        self._disconnect_after: int | None = None
        self._low_after: int | None = None  # cuts left before the near-end sensor trips
        self._out_after: int | None = None  # cuts left before the paper ends
        self._listener: socket.socket | None = None
        self._clients: set[socket.socket] = set()
        self._accept_thread: threading.Thread | None = None
        # One per open connection; a thread removes itself when its connection ends.
        self._connection_threads: set[threading.Thread] = set()
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
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name="printer-sim-accept", daemon=True
        )
        self._accept_thread.start()
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
            threads = [*self._connection_threads, self._accept_thread]
        for client in clients:
            _shutdown(client)
        for thread in threads:
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout=2)
        self._accept_thread = None

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
        """The last completed jobs (up to `jobs_kept`), oldest first."""
        with self._cond:
            return list(self._jobs)

    @property
    def job_count(self) -> int:
        """How many jobs were completed since the simulator was made, kept or not."""
        with self._cond:
            return self._numbered

    @property
    def receipts(self) -> list[Receipt]:
        """The documents of the completed jobs that decode to a Receipt."""
        return [job.receipt for job in self.jobs if job.receipt is not None]

    @property
    def received(self) -> bytes:
        """The bytes received lately, connection after connection, each in order.

        Up to `received_kept` bytes: the oldest finished connections are dropped whole (and the
        finished jobs of a long open one), so what is kept starts at a command boundary.
        """
        with self._cond:
            return b"".join(stream.data for stream in self._streams)

    @property
    def received_bytes(self) -> int:
        """How many bytes were received on all connections, kept or not."""
        with self._cond:
            return self._received_total

    @property
    def thread_count(self) -> int:
        """Threads serving now: the accept loop, and one per open connection."""
        with self._cond:
            accepting = self._accept_thread is not None and self._accept_thread.is_alive()
            return len(self._connection_threads) + int(accepting)

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
        """The next job not yet returned by a wait; TimeoutError if none arrives in time.

        A waiter that fell more than `jobs_kept` jobs behind gets the oldest job still kept.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._numbered <= self._handed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no print job arrived at {self.url} within {timeout:g} s")
                self._cond.wait(remaining)
            # Kept jobs are numbered without gaps, the newest last.
            behind = self._numbered - self._handed
            job = self._jobs[max(len(self._jobs) - behind, 0)]
            self._handed = job.number
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
            # Status answers are single bytes: send each at once, as a printer does, not after
            # the peer's delayed ACK (Nagle).
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            stream = _Stream()
            thread = threading.Thread(
                target=self._serve,
                args=(client, stream),
                name=f"printer-sim-{peer[1]}",
                daemon=True,
            )
            with self._cond:
                self._clients.add(client)
                self._connections += 1
                self._streams.append(stream)
                self._received_size += _STREAM_COST
                self._connection_threads.add(thread)
            log.debug("printer simulator: connection from %s:%s", *peer[:2])
            thread.start()

    def _serve(self, client: socket.socket, stream: _Stream) -> None:
        connection = _Connection(self, client, stream)
        try:
            connection.run()
        except Exception:  # a simulator thread must never die silently
            log.exception("printer simulator: connection failed")
        finally:
            client.close()
            with self._cond:
                self._clients.discard(client)
                # Finished: the thread and the connection's decoding state go; its bytes stay in
                # `received` only while the budget has room.
                self._connection_threads.discard(threading.current_thread())
                stream.open = False
                self._trim_received()

    def _receive(self, stream: _Stream, chunk: bytes) -> None:
        with self._cond:
            stream.data += chunk
            self._received_size += len(chunk)
            self._received_total += len(chunk)
            self._trim_received()

    def _settle(self, stream: _Stream, offset: int, received: int) -> None:
        """A connection's bytes before `offset` (of `received` so far) belong to no job to come."""
        with self._cond:
            kept_from = received - len(stream.data)  # the stream's front may be gone already
            stream.settled = max(0, min(offset - kept_from, len(stream.data)))
            self._trim_received()

    def _trim_received(self) -> None:
        # Called with the condition held. Oldest first: finished connections go whole, open ones
        # give up their settled front; an open job's bytes stay until it ends.
        for stream in list(self._streams):
            if self._received_size <= self._received_kept:
                return
            if not stream.open:
                self._streams.remove(stream)
                self._received_size -= len(stream.data) + _STREAM_COST
            elif stream.settled:
                del stream.data[: stream.settled]
                self._received_size -= stream.settled
                stream.settled = 0

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
    """One client: decode as bytes arrive, answer status at once, cut jobs at cuts.

    Only the bytes of the job under way are held: `raw` starts at stream offset `base`.
    """

    def __init__(self, sim: PrinterSimulator, client: socket.socket, stream: _Stream) -> None:
        self.sim = sim
        self.client = client
        self.stream = stream
        self.decoder = EscPosStreamDecoder(strict=False, chinese_default=sim.chinese_default)
        self.raw = bytearray()
        self.base = 0  # stream offset of raw[0]
        self.received = 0  # bytes received on this connection
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
            if self.limit is not None and self.received + len(chunk) > self.limit:
                chunk = chunk[: max(0, self.limit - self.received)]
                self._take(chunk)
                _reset(self.client)
                log.info("printer simulator: dropped the connection after %d bytes", self.limit)
                break
            self._take(chunk)
        for event in self.decoder.finish():
            self._handle(event)
        if any(not isinstance(e, StatusRequest) for e in self.events):
            self._complete(self.received, complete=False)

    def _take(self, chunk: bytes) -> None:
        self.raw += chunk
        self.received += len(chunk)
        self.sim._receive(self.stream, chunk)
        for event in self.decoder.feed(chunk):
            self._handle(event)

    def _handle(self, event: Event) -> None:
        if isinstance(event, StatusRequest):
            # A client that went away is noticed by the read loop; nothing to do here.
            with contextlib.suppress(OSError):
                self.sim._answer(self.client, event.n)
            self.events.append(event)  # kept so a job shows the queries made during it
            if len(self.events) > _IDLE_STATUS_KEPT and all(
                isinstance(e, StatusRequest) for e in self.events
            ):
                # Polling, no job under way: the oldest query will belong to no job.
                dropped = self.events.pop(0)
                self._settle_before(dropped.end)
            return
        if not self.sim._accept_item():
            return
        self.events.append(event)
        if isinstance(event, PaperCut):
            self._complete(event.end, complete=True)

    def _complete(self, end: int, *, complete: bool) -> None:
        raw = bytes(self.raw[self.job_start - self.base : end - self.base])
        self.sim._finish_job(raw, self.events, self.decoder.take_problems(), complete)
        self.events = []
        self._settle_before(end)

    def _settle_before(self, offset: int) -> None:
        """Bytes before stream `offset` belong to no job to come: drop them here, and let the
        simulator drop them from `received` when it needs the room."""
        self.job_start = offset
        del self.raw[: offset - self.base]
        self.base = offset
        self.sim._settle(self.stream, offset, self.received)


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
