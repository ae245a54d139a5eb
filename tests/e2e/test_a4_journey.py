"""An A4 certificate end to end: the reference service issues it and renders its PDF, the kiosk
previews it, and the private cupsd prints it; paper running out mid-job is reported and a retry
prints the same certificate, not a second one."""

from __future__ import annotations

import pytest

from kiosk.config import load_config
from kiosk.events import Intent
from kiosk.ids import StateId
from kiosk.runtime import build_runtime
from tests.support.pumping import pump_until

pytestmark = pytest.mark.slow


@pytest.fixture
def runtime(tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_HOME", str(tmp_path))
    config = load_config()
    config = config.model_copy(
        update={"simulation": config.simulation.model_copy(update={"demo_phone": False})}
    )
    with build_runtime(config) as rt:
        rt.hall.wait_started()
        yield rt


def test_print_an_a4_certificate_with_paper_running_out(runtime):
    core, sim = runtime.core, runtime.hall.document_sim
    if sim is None:
        pytest.skip(f"the private cupsd could not start here: {runtime.hall.problems}")
    pump_until(core, lambda c: c.catalogue is not None)
    pump_until(
        core, lambda c: c.devices.get("document_printer") and c.devices["document_printer"].usable
    )
    core.touch(Intent.START)  # the demo hand lays the card
    pump_until(core, lambda c: c.state == StateId.CATEGORIES)
    core.touch(Intent.PICK_CATEGORY, "huji")
    pump_until(core, lambda c: c.state == StateId.ITEMS)
    core.touch(Intent.PICK_ITEM, "huji.household-cert")
    pump_until(core, lambda c: c.session.item is not None)
    assert core.view().options[0].label == "打印证明（A4）"
    core.touch(Intent.ACT)
    pump_until(core, lambda c: c.state == StateId.PREVIEW)
    view = core.view()
    certificate = core.session.document.certificate
    assert certificate.title in view.subtitle and view.qr == certificate.verify_url
    assert any("公民身份号码" in line for line in view.sections[0].lines)

    sim.run_out_of_paper()
    core.touch(Intent.PRINT)
    pump_until(core, lambda c: c.state == StateId.PREVIEW and c.session.notice)
    assert core.view().notice == "打印机缺纸，请联系工作人员。"
    sim.load_paper()
    pump_until(core, lambda c: c.devices["document_printer"].usable)
    core.touch(Intent.PRINT)
    pump_until(core, lambda c: c.state == StateId.RATE, timeout=60)
    assert core.session.certificate.certificate_no == certificate.certificate_no
    printed = sim.printed()
    assert printed and printed[-1].read_bytes().startswith(b"%PDF")
