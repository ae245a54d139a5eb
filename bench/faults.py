"""Delivered exactly once, measured: 1,000 fault trials through the harness the tests use.

Each trial (tests/faults/harness.py) queues a few applications or ratings on the real store and
outbox, delivers them through a proxy that drops, delays, resets and answers 5xx, kills the kiosk
(-9) during a submission or during delivery in a share of the trials, restarts it on the same
files, drains with the network healthy, and asks the central service what it applied.

Printed: trials, messages told RECEIVED, delivered once, duplicated, lost, told but not durable,
refused, answers cut off by a kill, kills, the proxy's faults by kind, and the wall time.
Exit status 1 when any trial broke the promise (its seed is printed for replay).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.faults.harness import Lab, Totals, run_trial  # noqa: E402


def kind_of(seed: int, kinds: str) -> str:
    if kinds != "mixed":
        return kinds
    return "rating" if seed % 5 == 0 else "application"  # mostly the large, personal payload


def mode_of(seed: int, killed_share: float) -> str:
    # Spread the kill trials evenly through the run.
    return "forked" if int((seed + 1) * killed_share) > int(seed * killed_share) else "inprocess"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--killed-share", type=float, default=0.25, help="trials with kill -9")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--kinds", choices=("mixed", "application", "rating"), default="mixed")
    args = parser.parse_args(argv)
    totals = Totals()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as workdir, Lab(Path(workdir)) as lab:
        for seed in range(args.first_seed, args.first_seed + args.trials):
            result = run_trial(
                lab,
                seed,
                kind=kind_of(seed, args.kinds),
                mode=mode_of(seed, args.killed_share),
                run="b",
            )
            totals.add(result)
            if result.problems():
                print(f"FAILED {result.describe()}: {'; '.join(result.problems())}", flush=True)
    wall = time.perf_counter() - started
    print(f"trials              {totals.trials}")
    print(f"told RECEIVED       {totals.told}")
    print(f"delivered once      {totals.delivered_once}")
    print(f"duplicated          {totals.duplicated}")
    print(f"lost                {totals.lost}")
    print(f"not durable         {totals.not_durable}")
    print(f"refused             {totals.refused}")
    print(f"cut off by a kill   {totals.unanswered}  (each applied at most once)")
    print(f"kills (-9)          {totals.kills}")
    faults = ", ".join(f"{kind} {n}" for kind, n in sorted(totals.faults.items()))
    print(f"proxy connections   {sum(totals.faults.values())}: {faults}")
    print(
        f"wall time           {wall:.1f} s ({wall / max(totals.trials, 1) * 1000:.0f} ms a trial)"
    )
    if totals.failed_trials:
        print(f"FAILED seeds        {totals.failed_trials}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
