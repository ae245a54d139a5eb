"""Identify with a social security card through the real PC/SC stack: pyscard -> libpcsclite ->
a private pcscd -> vpcd -> a virtual card of a seeded person, then the reference service.

libpcsclite binds a process to the first pcscd it talks to, and earlier tests in this process
may have talked to theirs: the journey runs in a process of its own (`python -m` this module).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.support.pumping import pump_until

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(200)
def test_a_social_security_card_identifies_the_resident():
    # not the pcscd socket an earlier test of this process pointed libpcsclite at
    env = {k: v for k, v in os.environ.items() if k != "PCSCLITE_CSOCK_NAME"}
    result = subprocess.run(
        [sys.executable, "-m", "tests.e2e.test_social_security_journey"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "identified by social security card" in result.stdout


def journey() -> None:
    from kiosk.config import load_config
    from kiosk.events import Intent
    from kiosk.ids import StateId
    from kiosk.runtime import build_runtime

    config = load_config()
    sim = config.simulation.model_copy(update={"demo_hand": False, "demo_phone": False})
    # The camera plays no part here; its 640x480 frames would only take CPU from pcscd's start.
    camera = config.devices.camera.model_copy(update={"enabled": False})
    devices = config.devices.model_copy(update={"camera": camera})
    with build_runtime(
        config.model_copy(update={"simulation": sim, "devices": devices})
    ) as runtime:
        runtime.hall.wait_started()
        core, reader = runtime.core, runtime.hall.smartcard_sim
        assert reader is not None and reader.client is not None, runtime.hall.problems
        pump_until(core, lambda c: c.catalogue is not None)
        # the reader is retried with back-off while the private pcscd starts (slow on a busy CI)
        # (the supervisor retries at 1, 3, 7, 15, 31, 61 and 91 s). A timeout prints the reader's
        # status and pcscd's log: that is how vpcd's port, once taken by an outgoing connection
        # before pcscd bound it, was found (drivers.smartcard.simulator.vpcd_port).
        try:
            pump_until(
                core, lambda c: "smartcard" in c.devices and c.devices["smartcard"].usable, 120
            )
        except AssertionError:
            log = reader.workdir / "pcscd.log"
            print("smartcard:", core.devices.get("smartcard"), "problems:", runtime.hall.problems)
            print("pcscd log:", log.read_text(errors="replace")[-1500:] if log.exists() else "-")
            raise
        time.sleep(0.5)
        assert core.state == StateId.ATTRACT, "an empty reader at boot identifies nobody"
        core.touch(Intent.START)
        pump_until(core, lambda c: c.state == StateId.AWAIT_IDENTITY)
        assert "插入社会保障卡" in "".join(core.view().sections[0].lines)
        reader.insert_card()
        pump_until(core, lambda c: c.state == StateId.CATEGORIES)
        identity = core.session.identity
        assert identity.method == "social_security_card" and identity.person_ref
        assert core.view().subtitle.startswith("您好，王**")
        core.touch(Intent.HOME)
        pump_until(core, lambda c: c.state == StateId.ATTRACT)
        assert core.session.identity is None
    print("identified by social security card")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as home:
        os.environ["KIOSK_HOME"] = home
        journey()
