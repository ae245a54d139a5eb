"""The maintenance menu under Xvfb: long press, PIN, a receipt self-test on the printer
simulator, out of service and back. Screenshots in artifacts/screens/maintenance/."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.gui, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "artifacts" / "screens" / "maintenance"
SHOTS = [
    "attract",
    "first-login",
    "first-login-typed",
    "first-menu",
    "self-tests",
    "self-test-result",
    "devices",
    "menu-out-of-service",
    "out-of-service",
    "out-of-service-en",
    "second-login",
    "second-login-typed",
    "second-menu",
    "back-in-service",
]


@pytest.fixture(scope="module")
def run() -> dict:
    if shutil.which("xvfb-run") is None:
        pytest.skip("xvfb-run not installed (apt-get install xvfb xauth)")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    done = subprocess.run(
        [
            "xvfb-run",
            "-a",
            "-s",
            "-screen 0 1080x1920x24",
            sys.executable,
            "-m",
            "tests.gui.maintenance_driver",
            "--out",
            str(OUT),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((OUT / "manifest.json").read_text(encoding="utf-8"))


def test_every_step_is_reached_and_shot(run):
    shots = run["journeys"]["maintenance"]["shots"]
    names = [s["file"].split("-", 2)[2].removesuffix(".png") for s in shots]
    assert names == SHOTS
    from PIL import Image

    for shot in shots:
        with Image.open(OUT / shot["file"]) as image:
            assert image.size == (1080, 1920)


def test_nothing_is_cut_off(run):
    problems = run["journeys"]["maintenance"]["layout_problems"]
    assert [p for p in problems if "cut off" in p] == []


def test_the_screens_speak_chinese_and_the_pin_never_shows(run):
    shots = {
        s["file"].split("-", 2)[2].removesuffix(".png"): s
        for s in run["journeys"]["maintenance"]["shots"]
    }
    assert "技术人员登录" in shots["first-login"]["texts"]
    assert "●●●●●●" in shots["first-login-typed"]["texts"]
    assert all("246810" not in t for s in shots.values() for t in s["texts"])
    assert "本机暂停服务" in shots["out-of-service"]["texts"]
    assert any("staffed service window" in t for t in shots["out-of-service-en"]["texts"])
    assert (
        "正常服务" in " ".join(shots["back-in-service"]["texts"])
        or shots["back-in-service"]["state"] == "attract"
    )


def test_the_audit_log_has_every_action(run):
    lines = (OUT / "audit.txt").read_text().splitlines()
    assert "pin self_test:receipt_printer ok" in lines
    assert "pin out_of_service ok" in lines and "pin back_in_service ok" in lines
    assert lines.count("pin sign_out ok") == 2
