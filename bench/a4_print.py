"""An A4 job from submit to completed through the kiosk's path, beside `lp` + `lpstat`.

    python -m bench.a4_print [--runs 10] [--lpstat-interval 0.02]

Both go to the same queue (`kiosk-a4`) of the private cupsd the embedded simulator starts
(kiosk/sim_cups.py), with the same PDF: a household certificate issued and rendered by the
reference service, fetched through the kiosk's central client as the A4 flow does.

* kiosk: `ManagedDocumentPrinter.print_pdf` over a `DeviceManager` supervising the document
  printer driver, as `kiosk run` wires it: PDF check, printer readiness, IPP submit, then the job
  followed until CUPS says completed.
* baseline: `lp -d kiosk-a4 FILE` with `CUPS_SERVER` at the private socket, then `lpstat -W
  completed -o kiosk-a4` every `--lpstat-interval` seconds until the job is listed.

Also measured: the kiosk's time to hand the job to CUPS (its "printing" progress step), and the
kiosk path again with the driver's `poll_interval` option set to the lpstat interval, the same
granularity as the baseline (the option a site's config can pass the driver). Runs alternate
after one warm-up each. Ratios are kiosk / lp.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.docprinter.printer import POLL_INTERVAL  # noqa: E402
from drivers.idcard.sim_cards import LI_XIUYING  # noqa: E402
from kiosk.device_manager import (  # noqa: E402
    FACTORIES,
    DeviceManager,
    DeviceSpec,
    ManagedDocumentPrinter,
    load_factory,
)
from kiosk.sim_cups import QUEUE, CupsUnavailable, SimulatedDocumentPrinter, skip_reason  # noqa: E402
from tests.support.inprocess import central_client  # noqa: E402

A4_ITEM = "huji.household-cert"
TITLE = "户籍证明"  # a job title carries no personal data
JOB_TIMEOUT_S = 60.0


def certificate_pdf() -> bytes:
    """A certificate PDF as the kiosk gets it: identify, issue, fetch, all from the service."""
    with central_client("KIOSK-BENCH-1") as (client, _http):
        identity = client.verify_identity(LI_XIUYING.id_number, LI_XIUYING.name)
        if not identity.verified or not identity.person_ref:
            raise SystemExit(f"the reference service did not verify the test person: {identity}")
        certificate = client.issue_certificate(A4_ITEM, identity.person_ref, str(uuid.uuid4()))
        return client.certificate_pdf(certificate.certificate_no, certificate.verify_code)


class KioskPath:
    """The document printer as the kiosk's flows use it."""

    def __init__(self, url: str, poll_interval: float | None = None) -> None:
        factory = load_factory(FACTORIES["document_printer"])
        options = {} if poll_interval is None else {"poll_interval": poll_interval}
        self.events: list[object] = []
        self.submitted: list[float] = []  # seconds from the call to the job being in CUPS
        self.manager = DeviceManager(
            [DeviceSpec("document_printer", url, options, factory)], self.events.append
        )
        self.printer = ManagedDocumentPrinter(self.manager, job_timeout_s=JOB_TIMEOUT_S)

    def __enter__(self) -> KioskPath:
        self.manager.start()
        deadline = time.monotonic() + 10
        while not self.manager.statuses()["document_printer"].usable:
            if time.monotonic() > deadline:
                status = self.manager.statuses()["document_printer"]
                self.manager.stop()
                raise SystemExit(f"the document printer did not come online: {status}")
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.manager.stop()

    def print_once(self, pdf: bytes) -> float:
        start = time.perf_counter()

        def progress(step: str) -> None:
            if step == "printing":
                self.submitted.append(time.perf_counter() - start)

        self.printer.print_pdf(pdf, title=TITLE, on_progress=progress)
        return time.perf_counter() - start


class LpPath:
    """`lp` to submit, `lpstat` polled until the job is among the completed ones."""

    def __init__(self, socket: Path, pdf_file: Path, interval: float) -> None:
        self.env = {**os.environ, "CUPS_SERVER": str(socket)}
        self.pdf_file = pdf_file
        self.interval = interval

    def _run(self, *argv: str) -> str:
        done = subprocess.run(
            argv, env=self.env, capture_output=True, text=True, timeout=JOB_TIMEOUT_S
        )
        if done.returncode != 0:
            raise SystemExit(f"{argv[0]} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def print_once(self) -> float:
        start = time.perf_counter()
        # "request id is kiosk-a4-12 (1 file(s))"
        answer = self._run("lp", "-d", QUEUE, "-t", TITLE, str(self.pdf_file))
        words = answer.split()
        if "id" not in words or words.index("id") + 2 >= len(words):
            raise SystemExit(f"lp said something unexpected: {answer.strip()}")
        request = words[words.index("id") + 2]
        deadline = start + JOB_TIMEOUT_S
        while True:
            listed = self._run("lpstat", "-W", "completed", "-o", QUEUE)
            if any(line.split()[:1] == [request] for line in listed.splitlines()):
                return time.perf_counter() - start
            if time.perf_counter() > deadline:
                raise SystemExit(f"{request} did not complete within {JOB_TIMEOUT_S:g} s")
            time.sleep(self.interval)


@dataclass
class Figures:
    kiosk: list[float]  # seconds, submit -> completed, the driver's default polling
    kiosk_submit: list[float]  # of which: to the job being in CUPS
    kiosk_fine: list[float]  # the driver polling at the lpstat interval
    lp: list[float]
    printed: int  # PDFs the printer wrote, warm-ups included


def measure(runs: int, interval: float) -> Figures:
    """Alternate the kiosk path (default and fine polling) and lp, same PDF, same queue."""
    pdf = certificate_pdf()
    with tempfile.TemporaryDirectory(prefix="bench-a4-") as tmp:
        sim = SimulatedDocumentPrinter(Path(tmp) / "printed")
        try:
            sim.start()
        except CupsUnavailable as exc:
            raise SystemExit(f"the private cupsd cannot start here: {exc}") from None
        try:
            pdf_file = Path(tmp) / "certificate.pdf"
            pdf_file.write_bytes(pdf)
            lp = LpPath(sim.socket, pdf_file, interval)
            kiosk_s: list[float] = []
            fine_s: list[float] = []
            lp_s: list[float] = []
            with KioskPath(sim.url) as kiosk, KioskPath(sim.url, interval) as fine:
                # warm-up: connections, imports, the queue's first job
                kiosk.print_once(pdf)
                fine.print_once(pdf)
                lp.print_once()
                kiosk.submitted.clear()
                for _ in range(runs):
                    kiosk_s.append(kiosk.print_once(pdf))
                    fine_s.append(fine.print_once(pdf))
                    lp_s.append(lp.print_once())
                submitted = list(kiosk.submitted)
            printed = sim.printed()
            if any(p.read_bytes() != pdf for p in printed):
                raise SystemExit("a printed file differs from the PDF sent")
            return Figures(kiosk_s, submitted, fine_s, lp_s, len(printed))
        finally:
            sim.stop()


def summary(label: str, seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return (
        f"  {label:<38} median {statistics.median(ms):7.1f} ms   "
        f"min {min(ms):7.1f} ms   max {max(ms):7.1f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument(
        "--lpstat-interval", type=float, default=0.02, help="seconds between lpstat calls"
    )
    args = parser.parse_args(argv)
    reason = skip_reason()
    if reason:
        print(f"A4 print: skipped, {reason}")
        return 0
    f = measure(max(1, args.runs), args.lpstat_interval)
    runs = len(f.kiosk)
    expected = 3 * (runs + 1)
    interval = f"{args.lpstat_interval:g} s"
    print(f"A4 job, submit -> completed, {runs} runs each, private cupsd queue {QUEUE}")
    print(summary(f"kiosk, default polls (20 ms doubling to {POLL_INTERVAL:g} s)", f.kiosk))
    print(summary("  of which submit (job in CUPS)", f.kiosk_submit))
    print(summary(f"kiosk, driver polls every {interval}", f.kiosk_fine))
    print(summary(f"baseline: lp + lpstat every {interval}", f.lp))
    lp_median = statistics.median(f.lp)
    print(
        f"  median kiosk / lp: {statistics.median(f.kiosk) / lp_median:.2f}   "
        f"(min / min {min(f.kiosk) / min(f.lp):.2f})"
    )
    print(
        f"  median kiosk polling every {interval} / lp: "
        f"{statistics.median(f.kiosk_fine) / lp_median:.2f}   "
        f"(min / min {min(f.kiosk_fine) / min(f.lp):.2f})"
    )
    print(f"  printed PDFs (incl. warm-ups): {f.printed} of {expected}, each the PDF sent")
    if f.printed != expected:
        raise SystemExit(f"expected {expected} printed PDFs, the printer wrote {f.printed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
