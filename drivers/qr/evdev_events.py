"""Linux input events as bytes: parse, write, record and synthesise ``struct input_event``.

``/dev/input/eventN`` hands out a stream of fixed-size structs::

    struct input_event { struct timeval time; __u16 type; __u16 code; __s32 value; };

24 bytes on 64-bit machines (``<qqHHi`` on x86-64 and arm64). A recording is exactly that
stream saved to a file, so the driver, the tests and a technician's recording share one
parser. ``python -m drivers.qr.evdev_events`` records a real device, or writes what a wedge
scanner would send for given texts (`drivers.qr.keymap.events_for_text`).
"""

from __future__ import annotations

import argparse
import os
import select
import struct
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

# The kernel ABI of this machine, and the 64-bit little-endian layout used for fixtures.
NATIVE_FORMAT = "@llHHi"
EVENT_FORMAT_64 = "<qqHHi"

EV_SYN = 0x00
EV_KEY = 0x01
EV_MSC = 0x04
SYN_REPORT = 0
MSC_SCAN = 4

KEY_UP = 0
KEY_DOWN = 1
KEY_REPEAT = 2


@dataclass(frozen=True)
class InputEvent:
    """One input event: time, type (EV_KEY...), code (KEY_A...) and value (1 down, 0 up...)."""

    sec: int
    usec: int
    type: int
    code: int
    value: int

    @property
    def timestamp(self) -> float:
        """Seconds since the epoch, as the kernel stamped it."""
        return self.sec + self.usec / 1e6


class EventParser:
    """Turns a byte stream into events, keeping a partial struct for the next `feed`."""

    def __init__(self, fmt: str = NATIVE_FORMAT) -> None:
        self._struct = struct.Struct(fmt)
        self._buffer = bytearray()

    @property
    def size(self) -> int:
        """Bytes per event in this format."""
        return self._struct.size

    @property
    def pending(self) -> int:
        """Bytes of an incomplete event held back."""
        return len(self._buffer)

    def reset(self) -> None:
        """Forget a partial event (after the device was reopened)."""
        self._buffer.clear()

    def feed(self, data: bytes) -> list[InputEvent]:
        """Add bytes; return the complete events they finish, oldest first."""
        self._buffer += data
        whole = len(self._buffer) - len(self._buffer) % self.size
        events = [InputEvent(*fields) for fields in self._struct.iter_unpack(self._buffer[:whole])]
        del self._buffer[:whole]
        return events


def parse_events(data: bytes, fmt: str = NATIVE_FORMAT) -> list[InputEvent]:
    """All complete events in `data` (a trailing partial struct is ignored)."""
    return EventParser(fmt).feed(data)


def read_events(
    stream: BinaryIO, fmt: str = NATIVE_FORMAT, *, chunk: int = 4096
) -> Iterator[InputEvent]:
    """Events from any binary file object (a recording, a pipe, ``/dev/input/eventN``) to EOF."""
    parser = EventParser(fmt)
    while data := stream.read(chunk):
        yield from parser.feed(data)


def encode_events(events: Iterable[InputEvent], fmt: str = NATIVE_FORMAT) -> bytes:
    """The events as the kernel would hand them out."""
    packer = struct.Struct(fmt)
    return b"".join(packer.pack(e.sec, e.usec, e.type, e.code, e.value) for e in events)


def write_events(stream: BinaryIO, events: Iterable[InputEvent], fmt: str = NATIVE_FORMAT) -> int:
    """Write events to a binary file object; return the number of bytes written."""
    data = encode_events(events, fmt)
    stream.write(data)
    return len(data)


# -- command line ---------------------------------------------------------------------------


def record(path: str, out: BinaryIO, seconds: float) -> int:
    """Copy raw events from an input device to `out` for `seconds`; return bytes copied.

    The device is not grabbed: the technician sees the scan typed as usual while recording.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    total = 0
    deadline = time.monotonic() + seconds
    try:
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                data = os.read(fd, 4096)
                if not data:
                    break
                out.write(data)
                total += len(data)
    finally:
        os.close(fd)
    return total


def main(argv: list[str] | None = None) -> int:
    """``record DEVICE OUT [--seconds S]`` or ``synth OUT TEXT...``: make an event recording."""
    parser = argparse.ArgumentParser(prog="python -m drivers.qr.evdev_events")
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="record a real input device (native event layout)")
    rec.add_argument("device")
    rec.add_argument("out")
    rec.add_argument("--seconds", type=float, default=10.0)
    syn = sub.add_parser("synth", help="write the events a wedge scanner sends for TEXT")
    syn.add_argument("out")
    syn.add_argument("text", nargs="+", help="one scanned code each")
    syn.add_argument("--alt-codes", choices=["gbk", "unicode"], default="gbk")
    args = parser.parse_args(argv)
    with open(args.out, "wb") as out:
        if args.command == "record":
            print(f"scan now; recording {args.device} for {args.seconds:g} s", file=sys.stderr)
            size = record(args.device, out, args.seconds)
        else:
            from drivers.qr.keymap import events_for_text  # keymap imports this module

            events = [e for t in args.text for e in events_for_text(t, alt_codes=args.alt_codes)]
            size = write_events(out, events, EVENT_FORMAT_64)
    print(f"{size} bytes written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
