"""Read latency of the ID card driver against the simulator at a real baud rate.

    python bench/idcard_latency.py [--reads 20] [--baud 115200]

The simulator paces its output at the baud rate (10 bits per byte), so the floor is the time
the bytes need on the wire. The figure that matters is the ratio of the measured latency to
that floor: driver and simulator overhead on top of physics. Also measured: a read with
fingerprints (30 10, 1024 more bytes), and what a resident feels through the device face: from
putting a card down to `CardPresented` coming out of `poll`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from pathlib import Path

# Runnable as a plain script from a checkout: make the project importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.idcard import (  # noqa: E402
    FIND_CARD,
    READ_TEXT_PHOTO,
    SELECT_CARD,
    CardPresented,
    CardRemoved,
    IdCardReader,
    Status,
    encode_card_payload,
    encode_response,
    open_idcard_reader,
)
from drivers.idcard.sim_cards import LI_XIUYING, ZHAO_MIN  # noqa: E402
from drivers.idcard.simulator import BITS_PER_BYTE, IdCardSimulator, card_payload  # noqa: E402


def wire_bytes() -> tuple[int, int]:
    """Bytes of the read answer alone, and of the whole find + select + read exchange."""
    read_answer = len(encode_response(Status.OK, encode_card_payload(card_payload(LI_XIUYING))))
    commands = sum(len(c.encode()) for c in (FIND_CARD, SELECT_CARD, READ_TEXT_PHOTO))
    find_answer = len(encode_response(Status.CARD_FOUND, bytes(4)))
    select_answer = len(encode_response(Status.OK, bytes(8)))
    return read_answer, commands + find_answer + select_answer + read_answer


def measure(reads: int, baud: int, *, with_fingerprint: bool = False) -> list[float]:
    """Seconds taken by each of `reads` calls of `read_card`, simulator paced at `baud`."""
    timings: list[float] = []
    card = ZHAO_MIN if with_fingerprint else LI_XIUYING
    with (
        IdCardSimulator(card, baud=baud, pacing=True) as simulator,
        IdCardReader(simulator.url, timeout=5.0) as reader,
    ):
        reader.read_card(with_fingerprint=with_fingerprint)  # warm-up: open, imports, caches
        for _ in range(reads):
            start = time.perf_counter()
            reader.read_card(with_fingerprint=with_fingerprint)
            timings.append(time.perf_counter() - start)
    return timings


def measure_presentation(placements: int, baud: int, poll_interval_s: float) -> list[float]:
    """Seconds from putting a card down to `CardPresented` out of `IdCardDevice.poll`.

    The card is put down at a random moment while the device is polling, as a resident would,
    so the figure includes the wait for the next look at the reader.
    """
    timings: list[float] = []
    rng = random.Random(467)
    with IdCardSimulator(None, baud=baud, pacing=True) as simulator:
        device = open_idcard_reader(simulator.url, timeout=5.0, poll_interval_s=poll_interval_s)
        device.open()
        try:
            for _ in range(placements):
                placed: list[float] = []

                def put_down(placed: list[float] = placed) -> None:
                    placed.append(time.perf_counter())
                    simulator.insert(LI_XIUYING)

                threading.Timer(rng.uniform(0.05, 0.05 + 2 * poll_interval_s), put_down).start()
                while not any(isinstance(e, CardPresented) for e in device.poll(1.0)):
                    pass
                timings.append(time.perf_counter() - placed[0])
                simulator.remove()
                while not any(isinstance(e, CardRemoved) for e in device.poll(1.0)):
                    pass
        finally:
            device.close()
    return timings


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=20)
    parser.add_argument("--baud", type=int, default=115200)
    parser.add_argument("--poll-interval", type=float, default=0.2, help="device face, seconds")
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
    fp_ms = [t * 1000 for t in measure(args.reads, args.baud, with_fingerprint=True)]
    fp_floor_ms = (read_answer + 1026) * BITS_PER_BYTE / args.baud * 1000
    print(f"with fingerprints (30 10): median {statistics.median(fp_ms):.1f} ms", end="")
    print(f"   read-answer floor {fp_floor_ms:.1f} ms")
    shown = [t * 1000 for t in measure_presentation(args.reads, args.baud, args.poll_interval)]
    print(
        f"card down to CardPresented (device face, poll interval {args.poll_interval:g} s): "
        f"median {statistics.median(shown):.1f} ms   max {max(shown):.1f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
