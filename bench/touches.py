"""Touches from the attract screen to paper (or to the result), for each flow kind.

    python -m bench.touches [--repeat 1]

The real core runs headless (`KioskCore` with `InlineTaskRunner` and `FakeClock`), its real
central client talks to the reference service in this process, and the printers record what they
are given. Each journey is the shortest path the screens offer; it stops as soon as the first
receipt or PDF is printed (or, for a lookup, the result is on screen). Every `core.touch` call is
counted; a digit pad press counts as a touch but is reported apart (keys) from the touches that
choose something (decisions). Laying a card down and showing a QR code are not touches.

The baseline, from the same run's catalogue: the fewest choices the resident must make, that is
category, item and action (3), plus print for a lookup taken to paper; for a receipt number, the
16 digits are the fewest keys. Confirmations (the A4 preview's print, the pad's OK) are not
choices, so they show up in the ratio. The issue's goal: a certificate in at most 4 touches.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# starlette's TestClient warns about its own httpx use on import: noise in a benchmark's output.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
# Runnable from a checkout: the project (and its tests/support) importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from central.seed import SEED_DIR  # noqa: E402
from drivers.idcard.sim_cards import LI_XIUYING  # noqa: E402
from kiosk.clock import FakeClock  # noqa: E402
from kiosk.config import parse_config  # noqa: E402
from kiosk.core import KioskCore, Services  # noqa: E402
from kiosk.events import CardRead, Intent, QrScanned  # noqa: E402
from kiosk.ids import StateId  # noqa: E402
from kiosk.tasks import InlineTaskRunner  # noqa: E402
from tests.support.fakes import FakePrinter  # noqa: E402
from tests.support.inprocess import central_client  # noqa: E402

GOAL_TOUCHES = 4  # the issue: print a certificate in at most 4 touches
RECEIPT_NO_DIGITS = 16
EID_PERSON = "BJ1101000001"  # 李秀英 in the reference registry


@dataclass
class RecordingDocuments:
    """The A4 printer: records each PDF instead of sending it to CUPS."""

    pdfs: list[tuple[bytes, str]] = field(default_factory=list)

    def print_pdf(
        self, pdf: bytes, title: str, on_progress: Callable[[str], None] | None = None
    ) -> None:
        if on_progress is not None:
            on_progress("printed")
        self.pdfs.append((pdf, title))


# A journey step: a touch (intent, arg), the card laid down, or a QR code shown.
Step = tuple[str, Any, Any]


def touch(intent: Intent, arg: str | None = None) -> Step:
    return ("touch", intent, arg)


CARD: Step = ("card", LI_XIUYING, None)
EID: Step = ("eid", EID_PERSON, None)


def digits(number: str) -> list[Step]:
    return [touch(Intent.DIGIT, d) for d in number]


@dataclass(frozen=True)
class Journey:
    flow: str
    what: str
    identity: str
    end: str  # "paper" (first receipt or PDF printed) or "result" (lookup result on screen)
    steps: list[Step]
    baseline: tuple[str, ...]  # the choices the resident must make
    min_keys: int = 0
    certificate: bool = False  # counts towards the goal


@dataclass(frozen=True)
class Outcome:
    journey: Journey
    decisions: int
    keys: int
    ms: float

    @property
    def touches(self) -> int:
        return self.decisions + self.keys


def journeys(receipt_no: str) -> list[Journey]:
    """The shortest path of each flow kind, as the screens offer it (tests/kiosk/test_flows.py)."""
    pick = [touch(Intent.PICK_CATEGORY, "shebao"), touch(Intent.PICK_ITEM, "shebao.insured-cert")]
    act = touch(Intent.ACT)
    choose = ("category", "item", "action")
    case = [
        touch(Intent.BROWSE),
        touch(Intent.PICK_CATEGORY, "zonghe"),
        touch(Intent.PICK_ITEM, "zonghe.case-progress"),
        act,
        *digits(receipt_no),
        touch(Intent.SUBMIT_ENTRY),
    ]
    renewal = [touch(Intent.PICK_CATEGORY, "huji"), touch(Intent.PICK_ITEM, "huji.id-card-renewal")]
    return [
        Journey("print", "receipt certificate", "ID card", "paper", [CARD, *pick, act], choose,
                certificate=True),
        Journey("print", "receipt certificate", "e-ID code", "paper", [EID, *pick, act], choose,
                certificate=True),
        Journey("print", "receipt certificate", "browse, card when asked", "paper",
                [touch(Intent.BROWSE), *pick, act, CARD], choose, certificate=True),
        Journey("print", "A4 certificate", "ID card", "paper",
                [CARD, touch(Intent.PICK_CATEGORY, "huji"),
                 touch(Intent.PICK_ITEM, "huji.household-cert"), act, touch(Intent.PRINT)],
                choose, certificate=True),
        Journey("guide", "materials checklist", "none (browse)", "paper",
                [touch(Intent.BROWSE), touch(Intent.PICK_CATEGORY, "huji"),
                 touch(Intent.PICK_ITEM, "huji.birth-registration"), act], choose),
        Journey("ticket", "queue ticket", "ID card", "paper", [CARD, *renewal, act], choose),
        Journey("ticket", "queue ticket", "browse, card when asked", "paper",
                [touch(Intent.BROWSE), *renewal, act, CARD], choose),
        Journey("lookup", "case by receipt number", "none (browse)", "result", case, choose,
                min_keys=RECEIPT_NO_DIGITS),
        Journey("lookup", "case by receipt number", "none (browse)", "paper",
                [*case, touch(Intent.PRINT)], (*choose, "print"), min_keys=RECEIPT_NO_DIGITS),
        Journey("lookup", "records by identity", "ID card", "result",
                [CARD, touch(Intent.PICK_CATEGORY, "shebao"),
                 touch(Intent.PICK_ITEM, "shebao.rights-record"), act], choose),
    ]  # fmt: skip


@contextmanager
def headless_kiosk() -> Iterator[tuple[KioskCore, Any]]:
    """A started core over the reference service in-process; yields it and the service's client."""
    clock = FakeClock()
    config = parse_config(
        {
            "kiosk_id": "KIOSK-BENCH-1",
            "devices": {
                "document_printer": {"url": "cups://kiosk-a4"},
                "qr_scanner": {"url": "sim://"},
            },
        }
    )
    with central_client("KIOSK-BENCH-1") as (client, http):
        services = Services(central=client, printer=FakePrinter(), documents=RecordingDocuments())
        core = KioskCore(config, services, clock, runner_factory=InlineTaskRunner)
        core.start()
        core.pump()
        try:
            yield core, http
        finally:
            core.stop()


def _mint_eid(http: Any, person: str) -> str:
    response = http.post("/api/v1/dev/eid/mint", json={"person": person})
    response.raise_for_status()
    return str(response.json()["token"])


def _arrived(core: KioskCore, end: str) -> bool:
    if end == "result":
        return core.state == StateId.LOOKUP_RESULT
    return bool(core.services.printer.receipts or core.services.documents.pdfs)


def walk(journey: Journey) -> Outcome:
    """Run one journey on a fresh kiosk; count the touches until it arrives."""
    with headless_kiosk() as (core, http):
        counted = {"decisions": 0, "keys": 0}
        real_touch = core.touch

        def counting_touch(intent: Intent | str, arg: str | None = None) -> None:
            counted["keys" if Intent(intent) == Intent.DIGIT else "decisions"] += 1
            real_touch(intent, arg)

        core.touch = counting_touch  # type: ignore[method-assign]
        start = time.perf_counter()
        for kind, what, arg in journey.steps:
            if _arrived(core, journey.end):
                break
            if kind == "touch":
                core.touch(what, arg)
            elif kind == "card":
                core.post(CardRead(what))
            else:
                core.post(QrScanned(_mint_eid(http, what), "qr_scanner"))
            core.pump()
        ms = (time.perf_counter() - start) * 1000
        pdfs = core.services.documents.pdfs
        if pdfs and not pdfs[0][0].startswith(b"%PDF-"):
            raise SystemExit(f"{journey.flow} / {journey.what}: the A4 document is not a PDF")
        if not _arrived(core, journey.end):
            raise SystemExit(
                f"{journey.flow} / {journey.what}: did not reach {journey.end} "
                f"(state {core.state}, notice {core.session.notice})"
            )
        return Outcome(journey, counted["decisions"], counted["keys"], ms)


def seeded_receipt_no() -> str:
    cases = json.loads((SEED_DIR / "cases.json").read_text(encoding="utf-8"))
    cases = cases if isinstance(cases, list) else cases["cases"]
    return str(cases[0]["receipt_no"])


def print_table(outcomes: list[Outcome]) -> None:
    header = (
        f"{'flow':<7}{'what':<24}{'identity':<25}{'to':<7}{'touches':>8}{'decide':>7}"
        f"{'keys':>5}{'base':>5}{'touch/base':>11}{'decide/base':>12}{'keys/min':>9}  goal"
    )
    print(header)
    print("-" * len(header))
    for o in outcomes:
        j = o.journey
        base = len(j.baseline)
        keys_ratio = f"{o.keys / j.min_keys:.2f}" if j.min_keys else "-"
        goal = ("met" if o.touches <= GOAL_TOUCHES else "NOT met") if j.certificate else "-"
        print(
            f"{j.flow:<7}{j.what:<24}{j.identity:<25}{j.end:<7}{o.touches:>8}{o.decisions:>7}"
            f"{o.keys:>5}{base:>5}{o.touches / base:>11.2f}{o.decisions / base:>12.2f}"
            f"{keys_ratio:>9}  {goal}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="walk each journey this many times")
    args = parser.parse_args(argv)
    outcomes: list[Outcome] = []
    for journey in journeys(seeded_receipt_no()):
        walks = [walk(journey) for _ in range(max(1, args.repeat))]
        if len({(w.decisions, w.keys) for w in walks}) != 1:
            raise SystemExit(f"{journey.flow} / {journey.what}: touch counts differ between walks")
        outcomes.append(min(walks, key=lambda w: w.ms))
    print("touches from attract to paper (or to the result), headless core, reference service")
    print_table(outcomes)
    print(
        "  base = choices the resident must make (category, item, action; + print for a lookup "
        "taken to paper); keys/min = pad presses / 16 digits"
    )
    certificates = [o for o in outcomes if o.journey.certificate]
    worst = max(o.touches for o in certificates)
    print(
        f"  certificates: at most {worst} touches (goal <= {GOAL_TOUCHES}: "
        f"{'met' if worst <= GOAL_TOUCHES else 'NOT met'})"
    )
    slowest = max(outcomes, key=lambda o: o.ms)
    print(
        f"  headless walk time: slowest {slowest.ms:.0f} ms "
        f"({slowest.journey.flow} / {slowest.journey.what})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
