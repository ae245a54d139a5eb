"""Read latency of the ID card driver against the simulator at a real baud rate.

    python bench/idcard_latency.py [--reads 20] [--baud 115200]

The simulator paces its output at the baud rate (10 bits per byte), so the floor is the time
the bytes need on the wire. The figure that matters is the ratio of the measured latency to
that floor: driver and simulator overhead on top of physics.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

# Runnable as a plain script from a checkout: make the project importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.idcard import (  # noqa: E402
    FIND_CARD,
    READ_TEXT_PHOTO,
    SELECT_CARD,
    IdCardReader,
    Status,
    encode_card_payload,
    encode_response,
)
from drivers.idcard.sim_cards import LI_XIUYING  # noqa: E402
from drivers.idcard.simulator import BITS_PER_BYTE, IdCardSimulator, card_payload  # noqa: E402


def wire_bytes() -> tuple[int, int]:
    """Bytes of the read answer alone, and of the whole find + select + read exchange."""
    read_answer = len(encode_response(Status.OK, encode_card_payload(card_payload(LI_XIUYING))))
    commands = sum(len(c.encode()) for c in (FIND_CARD, SELECT_CARD, READ_TEXT_PHOTO))
    find_answer = len(encode_response(Status.CARD_FOUND, bytes(4)))
    select_answer = len(encode_response(Status.OK, bytes(8)))
    return read_answer, commands + find_answer + select_answer + read_answer


def measure(reads: int, baud: int) -> list[float]:
    """Seconds taken by each of `reads` calls of `read_card`, simulator paced at `baud`."""
    timings: list[float] = []
    with (
        IdCardSimulator(LI_XIUYING, baud=baud, pacing=True) as simulator,
        IdCardReader(simulator.url, timeout=5.0) as reader,
    ):
        reader.read_card()  # warm-up: first open, imports, caches
        for _ in range(reads):
            start = time.perf_counter()
            reader.read_card()
            timings.append(time.perf_counter() - start)
    return timings


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=20)
    parser.add_argument("--baud", type=int, default=115200)
    args = parser.parse_args(argv)
    read_answer, exchange = wire_bytes()
    floor_ms = read_answer * BITS_PER_BYTE / args.baud * 1000
    exchange_ms = exchange * BITS_PER_BYTE / args.baud * 1000
    timings_ms = [t * 1000 for t in measure(args.reads, args.baud)]
    median = statistics.median(timings_ms)
    print(f"ID card read latency, {args.reads} reads at {args.baud} baud (simulator, paced)")
    print(f"  median {median:.1f} ms   min {min(timings_ms):.1f} ms   max {max(timings_ms):.1f} ms")
    print(f"  wire floor, read answer ({read_answer} bytes): {floor_ms:.1f} ms")
    print(f"  wire floor, find+select+read ({exchange} bytes): {exchange_ms:.1f} ms")
    print(f"  median / read-answer floor: {median / floor_ms:.2f}")
    print(f"  median / exchange floor:    {median / exchange_ms:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
