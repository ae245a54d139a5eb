"""The embedded default shows everything: config/default.yaml simulates every device, each over
its real protocol and transport (GA 467 and QR lines on ptys, ESC/POS over TCP, IPP to a private
cupsd, PC/SC through a private pcscd and vpcd, a synthetic camera), and the kiosk reaches them all.

One runtime for the module: libpcsclite binds a process to one pcscd, so a second runtime in the
same process would find its smart card reader absent (by design, said plainly).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from drivers.docprinter import JobFailedError, PrinterNotReadyError
from drivers.state import PaperState
from kiosk import simulation
from kiosk.config import load_config
from kiosk.device_manager import DeviceUnavailable, ManagedDocumentPrinter
from kiosk.events import DeviceInput, QrScanned
from kiosk.runtime import build_runtime
from tests.support.cups import sample_pdf

pytestmark = pytest.mark.slow

EVERY_DEVICE = {
    "idcard",
    "receipt_printer",
    "document_printer",
    "qr_scanner",
    "camera",
    "smartcard",
}


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    home = tmp_path_factory.mktemp("kiosk-home")
    mp = pytest.MonkeyPatch()
    mp.setenv("KIOSK_HOME", str(home))
    config = load_config()  # config/default.yaml, as `make run` uses it
    try:
        with build_runtime(config) as rt:
            rt.hall.wait_started()
            yield rt
            pcscd = rt.hall.smartcard_sim.process if rt.hall.smartcard_sim else None
    finally:
        mp.undo()
    if pcscd is not None:  # stopping the runtime stopped the private pcscd too
        assert pcscd.poll() is not None


@pytest.fixture
def posted(runtime, monkeypatch):
    """Every event posted to the core from now on (the device manager posts through core.post)."""
    events: list[object] = []
    original = runtime.core.post

    def recording(event):
        events.append(event)
        original(event)

    monkeypatch.setattr(runtime.core, "post", recording)
    return events


def wait_for(predicate, timeout=15.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_default_config_simulates_every_device_kind():
    config = load_config()
    assert set(config.devices.enabled()) == EVERY_DEVICE
    assert all(cfg.url.startswith("sim://") for cfg in config.devices.enabled().values())


def test_every_configured_device_comes_online(runtime):
    """GIVEN the embedded default WHEN it starts THEN each device it could simulate is online
    within a bounded wait, and a device it could not (pcscd) is absent with a one-line reason."""
    absent = EVERY_DEVICE - set(runtime.devices.names())
    assert absent <= {"smartcard"}, runtime.hall.problems
    for name in absent:
        reason = runtime.hall.problems[name]
        assert reason and "\n" not in reason

    def all_usable():
        return all(s.usable for s in runtime.devices.statuses().values())

    wait_for(all_usable, timeout=20, what=f"all devices online: {runtime.devices.statuses()}")
    if "smartcard" in runtime.devices.names():
        # the seeded person's social security card is in the reader (status refreshes every 5 s)
        wait_for(
            lambda: runtime.devices.statuses()["smartcard"].media_present,
            timeout=15,
            what="the social security card in the simulated reader",
        )


def test_an_a4_pdf_prints_into_the_printed_folder(runtime):
    printed_dir = runtime.hall.printed_dir
    assert printed_dir == Path(os.environ["KIOSK_HOME"]) / "var" / "printed"
    before = set(printed_dir.glob("*.pdf"))
    pdf = sample_pdf(pages=2)
    steps: list[str] = []

    runtime.core.services.documents.print_pdf(pdf, "kiosk test page", steps.append)

    new = set(printed_dir.glob("*.pdf")) - before
    assert len(new) == 1
    assert new.pop().read_bytes() == pdf  # the very document, through CUPS's raw queue
    assert steps == ["sending", "printing", "printed"]


def test_paper_running_out_mid_job_is_paper_out_not_another_failure(runtime):
    """GIVEN the A4 printer runs dry WHEN a job prints THEN it fails as paper out (the driver's
    PrinterNotReadyError, paper=out), the next job is refused before it is sent, and after the
    paper is loaded printing works again."""
    documents = runtime.core.services.documents
    sim = runtime.hall.document_sim
    pdf = sample_pdf(pages=1)
    sim.run_out_of_paper()
    try:
        with pytest.raises(PrinterNotReadyError) as ran_out:
            documents.print_pdf(pdf, "kiosk test page")
        assert ran_out.value.status.paper is PaperState.OUT
        assert isinstance(ran_out.value.__cause__, JobFailedError)  # it broke mid-job

        with pytest.raises(PrinterNotReadyError, match="nothing was sent"):
            documents.print_pdf(pdf, "kiosk test page")
    finally:
        sim.load_paper()
    before = len(sim.printed())
    documents.print_pdf(pdf, "kiosk test page")
    assert len(sim.printed()) == before + 1


def test_a_printer_that_is_not_configured_is_unavailable_not_a_failure(runtime):
    with pytest.raises(DeviceUnavailable):
        ManagedDocumentPrinter(runtime.devices, name="no_such_printer").print_pdf(b"%PDF", "t")


def scanned_texts(events: list[object]) -> list[str]:
    """The texts of codes from the QR scanner among `events`, as device input or QrScanned."""
    texts = []
    for event in events:
        if isinstance(event, DeviceInput) and event.device == "qr_scanner":
            texts.append(event.payload.text)
        elif isinstance(event, QrScanned):
            texts.append(event.text)
    return texts


def test_a_code_shown_to_the_scanner_reaches_the_core(runtime, posted):
    runtime.hall.present_code("APPT:DEMO0000TEST")
    wait_for(
        lambda: "APPT:DEMO0000TEST" in scanned_texts(posted),
        timeout=10,
        what="the scanned code as an event",
    )


def test_the_demo_phone_shows_an_appointment_minted_by_the_central_service(runtime, posted):
    code = runtime.hall.mint_appointment("huji.id-card-renewal")
    assert code is not None and code.startswith("APPT:")
    runtime.hall.present_code(code)
    wait_for(
        lambda: code in scanned_texts(posted),
        timeout=10,
        what="the appointment code from the scanner",
    )


def test_the_demo_phone_mints_an_eid_or_says_why_not(runtime, caplog):
    token = runtime.hall.mint_eid()
    if token is None:  # the central service's dev e-ID endpoint may not exist yet
        assert any("demo phone" in r.getMessage() for r in caplog.records)
    else:
        assert token.startswith("CNEID1.")


def test_simulators_leave_no_process_behind(tmp_path, monkeypatch):
    """A runtime of its own (its smart card reader absent: the module's owns PC/SC): cupsd and
    everything else it started are gone once it stops."""
    monkeypatch.setenv("KIOSK_HOME", str(tmp_path))
    with build_runtime(load_config()) as rt:
        rt.hall.wait_started()
        cupsd = rt.hall.document_sim._process.pid
        assert Path(f"/proc/{cupsd}").exists()
    assert not Path(f"/proc/{cupsd}").exists()


def test_the_demo_resident_takes_turns_between_card_and_phone(runtime, monkeypatch):
    """With demo_hand and demo_phone on, each request for identity is answered by the next one."""
    hall = runtime.hall
    gestures: list[str] = []
    monkeypatch.setattr(simulation, "CARD_PLACING_DELAY_S", 0.0)
    monkeypatch.setattr(hall, "_place_card", lambda: gestures.append("card"))
    monkeypatch.setattr(hall, "_show_eid", lambda: gestures.append("phone"))
    monkeypatch.setattr(hall, "_turn", 0)
    for state in ("await_identity", "attract", "await_identity", "thanks", "await_identity"):
        hall._on_view(SimpleNamespace(state=state))
        time.sleep(0.05)
    wait_for(lambda: len(gestures) == 3, timeout=5, what="three gestures")
    assert gestures == ["card", "phone", "card"]
