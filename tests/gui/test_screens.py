"""The Kivy screens under Xvfb: one journey per flow kind in three display modes, with screenshots.

The core runs over the real central client and the reference service in-process. Screenshots land
in artifacts/screens/<mode>/ for people to look at; these tests check what a machine can: every
step reached, every picture the window's size and not blank, no layout problem the driver found
(text cut off, text under 28 px, touch targets under 120 px, QR codes under 300 px), no personal
data in any view model, and English where the data has English. A journey whose central endpoint
does not exist yet is skipped, naming the endpoint.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# The journeys run once per mode, all three in the first test's setup: minutes, not seconds.
pytestmark = [pytest.mark.gui, pytest.mark.timeout(1200)]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "screens"
XVFB = ["xvfb-run", "-a", "-s", "-screen 0 1080x1920x24"]
SIZE = (1080, 1920)
MODES = {
    "zh_CN": [],
    "large": ["--large-text"],
    "en": ["--lang", "en"],
}
# Screenshots per journey (<journey>-NN-<step>.png), one journey per flow kind.
EXPECTED = {
    "print": [
        "attract",
        "await_identity",
        "await_identity-notice",
        "verifying",
        "categories",
        "items",
        "guide",
        "printing",
        "rate",
        "thanks",
        "attract-again",
    ],
    "guide": [
        "attract",
        "categories",
        "items",
        "guide",
        "printing",
        "rate",
        "reasons",
        "reasons-chosen",
        "thanks",
        "attract-again",
    ],
    "pad": ["guide", "lookup_entry", "lookup_entry-typed", "lookup_entry-short"],
    "lookup": [
        "guide",
        "lookup_entry",
        "lookup_entry-full",
        "looking_up",
        "lookup_result",
        "rate",
        "thanks",
    ],
    "records": ["guide", "looking_up", "lookup_result", "lookup_result-page2"],
    "ticket": ["guide", "await_identity", "ticketing", "ticket", "rate", "thanks"],
    "a4": ["guide", "preparing", "preview", "rate"],
    "timeout": ["countdown", "timed-out"],
    "device": ["guide-printer-offline", "attract-no-identify"],
}
ID_NUMBER, FULL_NAME, MASKED = "110101195603121240", "李秀英", "李**"

needs_xvfb = pytest.mark.skipif(
    shutil.which("xvfb-run") is None, reason="xvfb-run not installed (apt-get install xvfb xauth)"
)


def _driver(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.run(
        [*XVFB, sys.executable, "-m", "tests.gui.journey_driver", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def journeys() -> dict[str, dict]:
    """Run the journeys once per mode (one after another: parallel `xvfb-run -a` can collide)."""
    results = {}
    for mode, args in MODES.items():
        out = ARTIFACTS / mode
        proc = _driver("--out", str(out), *args, timeout=400)
        manifest_path = out / "manifest.json"
        manifest = json.loads(manifest_path.read_text("utf-8")) if manifest_path.exists() else {}
        results[mode] = {"out": out, "proc": proc, "manifest": manifest}
    return results


def _journey(journeys: dict[str, dict], mode: str, name: str) -> dict:
    run = journeys[mode]
    manifest = run["manifest"]
    assert manifest, f"no manifest: {run['proc'].stderr[-3000:]}"
    assert manifest["fatal"] == []
    record = manifest["journeys"][name]
    if record["skipped"]:
        pytest.skip(f"{name} journey: {record['skipped']}")
    return record


def _shot(journeys: dict[str, dict], mode: str, journey: str, step: str) -> dict:
    record = _journey(journeys, mode, journey)
    index = EXPECTED[journey].index(step) + 1
    filename = f"{journey}-{index:02d}-{step}.png"
    return next(s for s in record["shots"] if s["file"] == filename)


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@needs_xvfb
@pytest.mark.parametrize("journey", list(EXPECTED))
@pytest.mark.parametrize("mode", list(MODES))
def test_journey_reaches_every_screen_with_sound_screenshots(journeys, mode, journey):
    """GIVEN the kiosk app over the real core and service WHEN a resident walks a flow by touching
    the screen THEN every step shows, and every screenshot is whole and laid out well."""
    from PIL import Image, ImageStat

    record = _journey(journeys, mode, journey)
    assert record["errors"] == []
    assert record["layout_problems"] == []
    names = [f"{journey}-{i:02d}-{step}" for i, step in enumerate(EXPECTED[journey], 1)]
    assert [shot["file"] for shot in record["shots"]] == [f"{n}.png" for n in names]
    for name in names:
        path = journeys[mode]["out"] / f"{name}.png"
        assert path.exists(), path
        with Image.open(path) as image:
            assert image.size == SIZE
            # Not blank: a real screen has both light and dark areas.
            stddev = ImageStat.Stat(image.convert("L")).stddev[0]
            assert stddev > 10, f"{name}: looks blank (stddev {stddev:.1f})"


@needs_xvfb
def test_modes_show_what_they_promise(journeys):
    """Large-text mode and English really changed what the screens were given."""
    assert _shot(journeys, "large", "print", "guide")["view"]["large_text"] is True
    assert _shot(journeys, "zh_CN", "print", "guide")["view"]["large_text"] is False
    assert _shot(journeys, "en", "print", "guide")["view"]["language"] == "en"
    countdown = _shot(journeys, "zh_CN", "timeout", "countdown")["view"]
    assert countdown["countdown_text"] == "10 秒后返回首页"
    assert _shot(journeys, "zh_CN", "print", "await_identity-notice")["view"]["notice"]
    # The next resident starts in the defaults, whatever the last one chose.
    for mode in MODES:
        again = _shot(journeys, mode, "print", "attract-again")["view"]
        assert again["large_text"] is False and again["language"] == "zh_CN"


@needs_xvfb
@pytest.mark.parametrize(("journey", "step"), [("print", "items"), ("guide", "categories")])
def test_english_mode_shows_the_english_names_the_data_has(journeys, journey, step):
    """GIVEN a catalogue with English names WHEN a resident chose English THEN the menu's tiles
    read in English (only the 中文 switch and the site's own name stay Chinese)."""
    shot = _shot(journeys, "en", journey, step)
    tiles = [o["label"] for o in shot["view"]["options"]]
    assert tiles and not [t for t in tiles if _has_cjk(t)]
    site = shot["view"]["status_line"]
    chinese = [t for t in shot["texts"] if _has_cjk(t) and t not in ("中文", site)]
    assert chinese == [], chinese


@needs_xvfb
def test_qr_codes_and_tables_reach_the_screen(journeys):
    """The guide's QR code and a record lookup's table, with every column heading on screen."""
    guide = _shot(journeys, "zh_CN", "guide", "guide")["view"]
    assert guide["qr"].startswith("https://")
    result = _shot(journeys, "zh_CN", "records", "lookup_result")
    table = result["view"]["table"]
    assert table["columns"] and table["rows"]
    for heading in table["columns"]:
        assert heading in result["texts"]


@needs_xvfb
def test_no_personal_data_reaches_any_screen(journeys):
    """GIVEN a resident 李秀英 with ID 110101195603121240 WHEN they walk the journeys THEN no view
    model (the only source of screen text) and no text on screen holds either; the greeting shows
    the masked name."""
    for mode, run in journeys.items():
        text = json.dumps(run["manifest"], ensure_ascii=False)
        assert ID_NUMBER not in text, mode
        assert FULL_NAME not in text, mode
    categories = _shot(journeys, "zh_CN", "print", "categories")
    assert categories["view"]["subtitle"].startswith(f"您好，{MASKED}")


@needs_xvfb
def test_run_app_reports_its_first_frame_and_can_exit():
    """The CLI's entry point draws the start screen, calls on_first_frame once, and exits."""
    proc = _driver("--first-frame", timeout=30)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["status"] == 0 and result["calls"] == 1
    assert 0 < result["after_s"][0] < 20


def test_ensure_display_explains_when_there_is_no_way_to_show_anything(tmp_path):
    """No DISPLAY and no xvfb-run: one clear line and exit status 2, not a Kivy traceback."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PATH"] = str(tmp_path)  # nothing to find there, xvfb-run included
    proc = subprocess.run(
        [sys.executable, "-c", "from screens.runner import ensure_display; ensure_display()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert "no display" in proc.stderr and "xvfb" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@needs_xvfb
def test_ensure_display_restarts_under_xvfb():
    """No DISPLAY but xvfb-run installed: the same command runs again on a virtual screen."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    code = "import os; from screens.runner import ensure_display; ensure_display(); print(os.environ['DISPLAY'])"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().startswith(":")
