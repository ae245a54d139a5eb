"""Line framing for serial QR scanners: bytes in, one payload per terminated line out.

A serial scanner sends each code followed by a terminator (CR by default on most models, LF
or CRLF when configured). Reads from the port cut the stream anywhere, so `LineFramer` keeps
the partial line across reads. A line longer than `max_line` (a scanner misconfigured
without a suffix, or line noise) is discarded with one warning, and framing resynchronises at
the next terminator. Pure: no ports, no clocks.
"""

from __future__ import annotations

import logging
import re
from enum import StrEnum

log = logging.getLogger("drivers.qr")

DEFAULT_MAX_LINE = 4096


class Terminator(StrEnum):
    """What ends a scanned code on the line; ANY accepts CR, LF and CRLF alike."""

    CR = "CR"
    LF = "LF"
    CRLF = "CRLF"
    ANY = "ANY"

    @property
    def wire(self) -> bytes:
        """The bytes a scanner sends (ANY is sent as CR, the factory default of most scanners)."""
        return {"CR": b"\r", "LF": b"\n", "CRLF": b"\r\n", "ANY": b"\r"}[self.value]

    @classmethod
    def parse(cls, value: str) -> Terminator:
        """``CR``, ``lf``, ``crlf``, ``any`` (case-insensitive) as a `Terminator`."""
        try:
            return cls(value.strip().upper())
        except ValueError:
            raise ValueError(
                f"terminator {value!r} is not one of {', '.join(t.value for t in cls)}"
            ) from None


_ANY = re.compile(rb"[\r\n]")


class LineFramer:
    """Splits a byte stream into lines at the configured terminator.

    `feed` returns the complete lines in the bytes given (terminators stripped, empty lines
    skipped); `pending` is the size of the partial line held for the next read, and
    `discarded` counts overlong lines thrown away.
    """

    def __init__(
        self, terminator: Terminator = Terminator.ANY, *, max_line: int = DEFAULT_MAX_LINE
    ) -> None:
        if max_line < 1:
            raise ValueError("max_line must be at least 1")
        self.terminator = terminator
        self.max_line = max_line
        self.discarded = 0
        self._buffer = bytearray()
        self._skipping = False  # inside an overlong line: drop bytes until its terminator

    @property
    def pending(self) -> int:
        """Bytes of an unfinished line held back."""
        return len(self._buffer)

    def reset(self) -> None:
        """Forget any partial line (after a reconnect its rest will never come)."""
        self._buffer.clear()
        self._skipping = False

    def feed(self, data: bytes) -> list[bytes]:
        """Add bytes from the port; return the lines they complete, oldest first."""
        self._buffer += data
        lines: list[bytes] = []
        while True:
            end, after = self._find_terminator()
            if end < 0:
                break
            line = bytes(self._buffer[:end])
            del self._buffer[:after]
            if self._skipping:
                self._skipping = False  # the overlong line ends here: back in step
                continue
            if len(line) > self.max_line:
                self._overlong(len(line))
                continue
            if line:
                lines.append(line)
        if len(self._buffer) > self.max_line:
            if not self._skipping:
                self._overlong(len(self._buffer))
                self._skipping = True
            # A lone CR kept at the end may be the first half of a CRLF.
            keep = 1 if self.terminator is Terminator.CRLF and self._buffer.endswith(b"\r") else 0
            del self._buffer[: len(self._buffer) - keep]
        return lines

    def _find_terminator(self) -> tuple[int, int]:
        """Index where the first terminator starts and where the line after it starts."""
        if self.terminator is Terminator.ANY:
            match = _ANY.search(self._buffer)
            return (match.start(), match.end()) if match else (-1, -1)
        wire = self.terminator.wire
        index = self._buffer.find(wire)
        return (index, index + len(wire)) if index >= 0 else (-1, -1)

    def _overlong(self, size: int) -> None:
        self.discarded += 1
        # Once per overlong line, however many reads it spans.
        log.warning(
            "discarded an overlong scanner line (%d bytes, limit %d); is its suffix %s?",
            size,
            self.max_line,
            self.terminator.value,
        )
