"""A serial QR scanner simulated on a pseudo-terminal, for development and tests.

The simulator holds the master side of a pty pair and "scans" codes by writing them, each
followed by the configured terminator; the driver opens the slave side (``/dev/pts/N``)
exactly as it would open ``/dev/ttyACM0``. Codes can be split into fragments with pauses in
between (as USB packets and slow baud rates deliver them), sent in GBK, and mixed with line
noise or overlong lines. `link` keeps a symlink pointing at the current pty, so a test can
stop one simulator and start another on the same link: the scanner unplugged and plugged in.

Run ``python -m drivers.qr.simulator --code TEXT --every 2`` to scan codes until Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import pty
import select
import threading
import time
import tty
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from drivers.qr.framing import Terminator

log = logging.getLogger("drivers.qr.simulator")

BITS_PER_BYTE = 10  # start bit, 8 data bits, stop bit
DEFAULT_GARBAGE = b"\x00\xff\x1b[2J\x07noise"
_WRITE_TIMEOUT_S = 2.0


class QrScannerSimulator:
    """Writes scanned codes to a pty; `port` is the slave path for the driver, `url` its URL.

    `pacing` sleeps the wire time of every byte at `baud`, for realistic timing; tests leave
    it off. Writing is synchronous: `scan` returns once the bytes are in the pty.
    """

    def __init__(
        self,
        *,
        terminator: Terminator | str = Terminator.CR,
        baud: int = 9600,
        pacing: bool = False,
        link: str | os.PathLike[str] | None = None,
    ) -> None:
        self.terminator = Terminator.parse(str(terminator))
        self.baud = baud
        self.pacing = pacing
        self.link = Path(link) if link is not None else None
        self._master = self._slave = -1
        self._port = ""
        self._lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def port(self) -> str:
        """The slave device path the driver opens, e.g. ``/dev/pts/5``."""
        if not self._port:
            raise RuntimeError("the simulator is not started")
        return self._port

    @property
    def url(self) -> str:
        """A scanner URL for the driver: through `link` when set, else the pty itself."""
        path = str(self.link) if self.link is not None else self.port
        return f"serial://{path}?baud={self.baud}&terminator={self.terminator.value}"

    @property
    def running(self) -> bool:
        """True between `start` and `stop`."""
        return self._master >= 0

    def start(self) -> QrScannerSimulator:
        """Open the pty pair (the scanner is plugged in); returns self."""
        if self.running:
            return self
        self._master, self._slave = pty.openpty()
        # Non-blocking, so a full pty buffer (nobody reading) cannot hang a test.
        os.set_blocking(self._master, False)
        # Raw: no echo, no CR/LF translation; the terminator arrives as sent.
        tty.setraw(self._slave)
        # We keep the slave open ourselves so the master never sees EIO between driver opens.
        self._port = os.ttyname(self._slave)
        if self.link is not None:
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()
            self.link.symlink_to(self._port)
        log.info("QR scanner simulator on %s", self._port)
        return self

    def stop(self) -> None:
        """Close the pty: the driver sees the scanner vanish (unplugged)."""
        if not self.running:
            return
        if self.link is not None and self.link.is_symlink():
            with contextlib.suppress(OSError):
                if os.readlink(self.link) == self._port:
                    self.link.unlink()
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._master = self._slave = -1
        log.info("QR scanner simulator on %s stopped", self._port)

    def __enter__(self) -> QrScannerSimulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- scanning --------------------------------------------------------------------------

    def frame(self, code: str | bytes, *, encoding: str = "utf-8") -> bytes:
        """The bytes a scan of `code` puts on the line, terminator included."""
        data = code.encode(encoding) if isinstance(code, str) else bytes(code)
        return data + self.terminator.wire

    def scan(
        self,
        code: str | bytes,
        *,
        encoding: str = "utf-8",
        fragments: int | Sequence[int] = 1,
        gap_s: float = 0.0,
    ) -> None:
        """Scan one code: its bytes and the terminator, in `fragments` writes `gap_s` apart.

        `fragments` is a number of roughly equal parts, or the sizes of the parts.
        """
        self.send(self.frame(code, encoding=encoding), fragments=fragments, gap_s=gap_s)

    def send_garbage(self, data: bytes = DEFAULT_GARBAGE, *, terminated: bool = True) -> None:
        """Line noise, ended by a terminator (a corrupt line) or not (a fragment)."""
        self.send(data + (self.terminator.wire if terminated else b""))

    def send_overlong(self, size: int = 5000) -> None:
        """A line of `size` printable bytes: a scanner misconfigured or a runaway sender."""
        self.send(b"X" * size + self.terminator.wire)

    def send(self, data: bytes, *, fragments: int | Sequence[int] = 1, gap_s: float = 0.0) -> None:
        """Write raw bytes in fragments `gap_s` apart."""
        for index, part in enumerate(_split(data, fragments)):
            if index and gap_s:
                time.sleep(gap_s)
            self._write(part)

    def _write(self, data: bytes) -> None:
        with self._lock:
            if not self.running:
                raise RuntimeError("the simulator is not started")
            start = time.monotonic()
            view = memoryview(data)
            while view:
                try:
                    sent = os.write(self._master, view[:1] if self.pacing else view)
                except BlockingIOError:
                    if time.monotonic() - start > _WRITE_TIMEOUT_S:
                        raise TimeoutError("nobody reads the simulated scanner") from None
                    select.select([], [self._master], [], 0.05)
                    continue
                view = view[sent:]
                if self.pacing:
                    time.sleep(sent * BITS_PER_BYTE / self.baud)


def _split(data: bytes, fragments: int | Sequence[int]) -> list[bytes]:
    """`data` cut into `fragments` near-equal parts, or into parts of the given sizes."""
    if isinstance(fragments, int):
        count = max(1, min(fragments, len(data)))
        step, extra = divmod(len(data), count)
        sizes = [step + (1 if i < extra else 0) for i in range(count)]
    else:
        sizes = list(fragments)
        sizes.append(len(data) - sum(sizes))
    parts, offset = [], 0
    for size in sizes:
        if size > 0:
            parts.append(data[offset : offset + size])
            offset += size
    return parts


def main(argv: list[str] | None = None) -> int:
    """Scan the given codes over and over on a pty until Ctrl-C, printing the port."""
    parser = argparse.ArgumentParser(
        prog="python -m drivers.qr.simulator", description="serial QR scanner simulator"
    )
    parser.add_argument("--code", action="append", help="a code to scan (repeatable)")
    parser.add_argument("--every", type=float, default=2.0, metavar="SECONDS")
    parser.add_argument("--terminator", default="CR", choices=[t.value for t in Terminator])
    parser.add_argument("--baud", type=int, default=9600)
    parser.add_argument("--link", help="also make this symlink point at the pty")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    codes = args.code or ["https://zwfw.example.gov.cn/qr?c=DEMO", "预约号:A20240518-0037"]
    simulator = QrScannerSimulator(
        terminator=args.terminator, baud=args.baud, pacing=True, link=args.link
    )
    with simulator, contextlib.suppress(KeyboardInterrupt):
        print(f"url: {simulator.url}", flush=True)
        index = 0
        while True:
            time.sleep(args.every)
            with contextlib.suppress(TimeoutError):
                simulator.scan(codes[index % len(codes)])
            index += 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
