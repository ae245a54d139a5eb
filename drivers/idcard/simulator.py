"""A GA 467 ID card reader simulated on a pseudo-terminal, for development and tests.

The simulator holds the master side of a pty pair and serves the protocol in a thread; the
driver opens the slave side (``/dev/pts/N``) exactly as it would open ``/dev/ttyUSB0``. Output
is paced at the configured baud rate (10 bits per byte) so latency is realistic; tests switch
pacing off. Fault knobs inject line noise, corrupt checksums, silence and delays, a broken SAM and a card
that cannot be read.

Run ``python -m drivers.idcard.simulator`` to serve a demo card until Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import hashlib
import logging
import os
import pty
import select
import struct
import threading
import time
import tty
from collections import deque
from pathlib import Path
from types import TracebackType

from drivers.idcard.codec import (
    FIND_CARD,
    READ_TEXT_PHOTO,
    READ_WITH_FINGERPRINT,
    SAM_ID,
    SAM_RESET,
    SAM_STATUS,
    SELECT_CARD,
    CardPayload,
    Command,
    FrameDecoder,
    Status,
    encode_card_payload,
    encode_response,
)
from drivers.idcard.errors import ChecksumError
from drivers.idcard.textblock import CardRecord, build_text_block

log = logging.getLogger("drivers.idcard.simulator")

DEFAULT_SAM_ID = struct.pack("<HHIII", 5, 1, 20101010, 12345, 123456789)
# Noise with two traps: a partial preamble, and a whole preamble with an impossible length.
DEFAULT_GARBAGE = b"\x00\xff\x13\xaa\xaa\x96\xaa\xaa\xaa\x96\x69\x00\x00\xaa\xaa"
BITS_PER_BYTE = 10  # start bit, 8 data bits, stop bit
_CHUNK = 32  # bytes written per paced step: fine enough for realistic arrival times


def card_payload(card: CardRecord | CardPayload) -> CardPayload:
    """The raw files a reader would return for a card record (or a raw payload as is)."""
    if isinstance(card, CardPayload):
        return card
    return CardPayload(
        text=build_text_block(card), photo=card.photo_wlt, fingerprint=card.fingerprint
    )


def chip_number(card: CardPayload) -> bytes:
    """The 8-byte number the simulated chip answers to select: the same for the same card."""
    return hashlib.sha256(card.text).digest()[:8]


class IdCardSimulator:
    """Serves GA 467 on a pty; `port` is the slave path for the driver, `url` its URL.

    `pacing` sleeps the wire time of every byte at `baud` (commands in, answers out) plus
    `processing_s` per command, as a real reader's card access takes time. `link`, when given,
    is a symlink kept pointing at the current pty (like a udev rule's ``/dev/idcard``): a test
    can stop one simulator and start another on the same link to model unplugging and plugging
    the reader back in.

    Fault knobs, safe to change while serving: `inject_garbage`, `corrupt_checksum`,
    `fail_reads` (the next reads fail, then they work), `silent`
    (commands are read but never answered), `delay_s` (extra wait before each answer),
    `sam_fault` (an SW3 such as 0x60 answered to every command but a SAM reset, which clears
    it unless `sam_fault_sticky`) and `card_fault` (an SW3 such as 0x41 answered to reads
    while a card is on the reader). Like a real reader, it needs find before select and
    select before read; select answers the card's 8-byte chip number (the same for the same card).
    """

    def __init__(
        self,
        card: CardRecord | CardPayload | None = None,
        *,
        baud: int = 115200,
        pacing: bool = True,
        link: str | os.PathLike[str] | None = None,
        sam_id: bytes = DEFAULT_SAM_ID,
        processing_s: float = 0.0,
    ) -> None:
        self.baud = baud
        self.pacing = pacing
        self.link = Path(link) if link is not None else None
        self.sam_id_bytes = sam_id
        self.processing_s = processing_s
        # Fault knobs, safe to change while serving.
        self.silent = False
        self.delay_s = 0.0
        self.sam_fault: int | None = None
        self.sam_fault_sticky = False
        self.card_fault: int | None = None
        self._read_faults: list[int] = []
        self.sam_resets = 0
        # Bounded: a demo simulator polled for days must not grow without limit.
        self._commands: deque[Command] = deque(maxlen=1000)
        self._garbage: list[bytes] = []
        self._corrupt = 0
        self._card: CardPayload | None = None
        self._found = False
        self._selected = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._master = self._slave = -1
        self._wake_r = self._wake_w = -1
        self._port = ""
        if card is not None:
            self.insert(card)

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def port(self) -> str:
        """The slave device path the driver opens, e.g. ``/dev/pts/5``."""
        if not self._port:
            raise RuntimeError("the simulator is not started")
        return self._port

    @property
    def url(self) -> str:
        """A device URL for the driver: through `link` when set, else the pty itself."""
        path = str(self.link) if self.link is not None else self.port
        return f"serial://{path}?baud={self.baud}"

    def start(self) -> IdCardSimulator:
        """Open the pty pair and start serving; returns self."""
        if self._thread is not None:
            return self
        self._master, self._slave = pty.openpty()
        # Non-blocking, so a full pty buffer (nobody reading) cannot hang `stop`.
        os.set_blocking(self._master, False)
        # Raw, no echo: otherwise the line discipline would echo answers back to us.
        tty.setraw(self._slave)
        # We keep the slave open ourselves so the master never sees EIO between driver opens.
        self._port = os.ttyname(self._slave)
        self._wake_r, self._wake_w = os.pipe()
        self._stop.clear()
        if self.link is not None:
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()
            self.link.symlink_to(self._port)
        self._thread = threading.Thread(target=self._serve, name="idcard-sim", daemon=True)
        self._thread.start()
        log.info("ID card simulator serving on %s", self._port)
        return self

    def stop(self) -> None:
        """Stop serving and close the pty (the driver sees the device vanish)."""
        if self._thread is None:
            return
        self._stop.set()
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=5)
        self._thread = None
        if self.link is not None and self.link.is_symlink():
            with contextlib.suppress(FileNotFoundError):
                if os.readlink(self.link) == self._port:
                    self.link.unlink()
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._master = self._slave = self._wake_r = self._wake_w = -1
        log.info("ID card simulator on %s stopped", self._port)

    def __enter__(self) -> IdCardSimulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def commands(self) -> list[Command]:
        """The commands received so far (the last 1000), oldest first."""
        return list(self._commands)

    # -- the card --------------------------------------------------------------------------

    def insert(self, card: CardRecord | CardPayload) -> None:
        """Place a card on the reader."""
        with self._lock:
            self._card = card_payload(card)
            self._found = self._selected = False

    def remove(self) -> None:
        """Lift the card off the reader."""
        with self._lock:
            self._card = None
            self._found = self._selected = False

    # -- fault knobs -----------------------------------------------------------------------

    def inject_garbage(self, data: bytes = DEFAULT_GARBAGE, *, times: int = 1) -> None:
        """Send `data` before each of the next `times` answers."""
        with self._lock:
            self._garbage.extend([bytes(data)] * times)

    def fail_reads(self, status: int = Status.READ_FAILED, *, times: int = 1) -> None:
        """Answer the next `times` reads with `status` (a card not yet lying flat)."""
        with self._lock:
            self._read_faults.extend([int(status)] * times)

    def corrupt_checksum(self, *, times: int = 1) -> None:
        """Flip the checksum of each of the next `times` answers."""
        with self._lock:
            self._corrupt += times

    # -- serving ---------------------------------------------------------------------------

    def _serve(self) -> None:
        decoder = FrameDecoder()
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._master, self._wake_r], [], [])
                if self._wake_r in ready:
                    return
                data = os.read(self._master, 4096)
            except BlockingIOError:
                continue
            except OSError as exc:
                if exc.errno == errno.EIO:  # nobody on the slave side just now
                    time.sleep(0.01)
                    continue
                log.exception("ID card simulator read failed; stopping")
                return
            try:
                for frame in decoder.feed(data):
                    self._answer(frame.as_command(), len(frame.body) + 8)
                for error in decoder.take_errors():
                    status = Status.CHECKSUM_ERROR
                    if not isinstance(error, ChecksumError):
                        status = Status.LENGTH_ERROR
                    self._send(encode_response(status))
            except Exception:
                # Never die silently: a broken answer must not stop the simulated reader.
                log.exception("ID card simulator failed to answer")

    def _answer(self, command: Command, frame_size: int) -> None:
        self._commands.append(command)
        log.debug("simulator received %s", command.name)
        if self.pacing:
            # The command took this long to arrive on a real line; the reader then works.
            self._sleep(frame_size * BITS_PER_BYTE / self.baud + self.processing_s)
        if self.delay_s:
            self._sleep(self.delay_s)
        if self.silent:
            return
        self._send(self._respond(command))

    def _respond(self, command: Command) -> bytes:
        with self._lock:
            card = self._card
            if command == SAM_RESET:
                self.sam_resets += 1
                self._found = self._selected = False
                if not self.sam_fault_sticky:
                    self.sam_fault = None
            if self.sam_fault is not None:
                return encode_response(self.sam_fault)
            if command == FIND_CARD:
                self._found = card is not None
                self._selected = False
                if card is None:
                    return encode_response(Status.FIND_FAILED)
                return encode_response(Status.CARD_FOUND, bytes(4))
            if command == SELECT_CARD:
                if card is None or not self._found:
                    return encode_response(Status.SELECT_FAILED)
                self._selected = True
                return encode_response(Status.OK, chip_number(card))
            if command in (READ_TEXT_PHOTO, READ_WITH_FINGERPRINT):
                if card is None or not self._selected:
                    return encode_response(Status.READ_FAILED)
                if self.card_fault is not None:
                    return encode_response(self.card_fault)
                if self._read_faults:
                    return encode_response(self._read_faults.pop(0))
                fingerprint = command == READ_WITH_FINGERPRINT
                data = encode_card_payload(card, with_fingerprint=fingerprint)
                return encode_response(Status.OK, data)
            if command == SAM_ID:
                return encode_response(Status.OK, self.sam_id_bytes)
            if command in (SAM_RESET, SAM_STATUS):
                return encode_response(Status.OK)
            return encode_response(Status.COMMAND_ERROR)

    def _send(self, frame: bytes) -> None:
        with self._lock:
            garbage = self._garbage.pop(0) if self._garbage else b""
            if self._corrupt:
                self._corrupt -= 1
                frame = frame[:-1] + bytes([frame[-1] ^ 0xFF])
        self._write(garbage + frame)

    def _write(self, data: bytes) -> None:
        start = time.monotonic()
        sent = 0
        step = _CHUNK if self.pacing else len(data)
        while sent < len(data) and not self._stop.is_set():
            chunk = data[sent : sent + step]
            if self.pacing:
                # Sleep until this chunk's last byte would have arrived on a real line.
                due = start + (sent + len(chunk)) * BITS_PER_BYTE / self.baud
                self._sleep(due - time.monotonic())
            view = memoryview(chunk)
            while view and not self._stop.is_set():
                try:
                    view = view[os.write(self._master, view) :]
                except BlockingIOError:
                    select.select([], [self._master], [], 0.05)
            sent += len(chunk)

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stop.wait(seconds)


def main(argv: list[str] | None = None) -> int:
    """Serve a demo card on a pty until Ctrl-C, printing the port to open."""
    from drivers.idcard.sim_cards import CARDS

    parser = argparse.ArgumentParser(
        prog="python -m drivers.idcard.simulator", description="GA 467 ID card reader simulator"
    )
    parser.add_argument("--card", choices=[*CARDS, "none"], default="li_xiuying")
    parser.add_argument("--baud", type=int, default=115200)
    parser.add_argument("--no-pacing", action="store_true", help="answer at full speed")
    parser.add_argument("--link", help="also make this symlink point at the pty")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    card = None if args.card == "none" else CARDS[args.card]
    simulator = IdCardSimulator(card, baud=args.baud, pacing=not args.no_pacing, link=args.link)
    with simulator:
        print(simulator.port, flush=True)
        print(f"url: {simulator.url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
