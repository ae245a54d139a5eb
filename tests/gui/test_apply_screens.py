"""申请 through the real window, in the standard mode and in 长辈模式, and the pieces under it.

The journeys (tests/gui/journey_driver.py, `apply` and `apply-elder`) run the real core against
the reference service in-process, with the real pinyin and handwriting engines, a simulated
camera showing a page, and an outbox on real SQLite. A finger types l-i-x, takes back the x,
picks 李, writes 䶮 stroke by stroke on the pad (one stroke taken back and rewritten), picks it,
photographs the document, reviews and submits. Screenshots land in artifacts/screens/apply/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.config import UiConfig
from kiosk.events import Intent
from kiosk.ids import StateId
from kiosk.views import Option, ViewModel
from screens import routing, theme

# The helpers tested below import Kivy, which must not read pytest's arguments or take over logging.
for _name, _value in (("KIVY_NO_ARGS", "1"), ("KIVY_LOG_MODE", "PYTHON"), ("KIVY_NO_FILELOG", "1")):
    os.environ.setdefault(_name, _value)

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "artifacts" / "screens" / "apply"
XVFB = ["xvfb-run", "-a", "-s", "-screen 0 1080x1920x24"]
SHOTS = [
    "guide",
    "apply_start",
    "form",
    "editing-digits",
    "editing-choice",
    "editing-pinyin",
    "editing-handwriting",
    "editing-rare",
    "form-filled",
    "documents",
    "documents-capturing",
    "documents-taken",
    "review",
    "submitting",
    "submitted",
]
JOURNEYS = ("apply", "apply-elder")
ID_NUMBER, FULL_NAME = "110101195603121240", "李秀英"

needs_xvfb = pytest.mark.skipif(
    shutil.which("xvfb-run") is None, reason="xvfb-run not installed (apt-get install xvfb xauth)"
)


@pytest.fixture(scope="module")
def run() -> dict:
    """Both apply journeys, once, through the real window (about a minute and a half)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.run(
        [
            *XVFB,
            sys.executable,
            "-m",
            "tests.gui.journey_driver",
            "--out",
            str(OUT),
            "--only",
            ",".join(JOURNEYS),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    manifest_path = OUT / "manifest.json"
    assert manifest_path.exists(), proc.stderr[-3000:]
    manifest = json.loads(manifest_path.read_text("utf-8"))
    assert manifest["fatal"] == [], manifest["fatal"]
    return manifest


def _journey(manifest: dict, name: str) -> dict:
    record = manifest["journeys"][name]
    if record["skipped"]:
        pytest.skip(f"{name}: {record['skipped']}")
    return record


def _shot(record: dict, step: str) -> dict:
    return next(s for s in record["shots"] if s["file"].endswith(f"-{step}.png"))


@pytest.mark.gui
@needs_xvfb
@pytest.mark.timeout(600)
@pytest.mark.parametrize("journey", JOURNEYS)
def test_a_whole_application_through_the_window(run, journey):
    """GIVEN a resident with their ID card WHEN they apply for 失业登记 by touching the screen
    (digits, a choice, pinyin, handwriting, the camera) THEN every step shows, the service gives
    a tracking number shown large with its QR code, and no layout problem was found: no text cut
    off or under 28 px, no target under 120 px, and in 长辈模式 none under 15 mm either way."""
    from PIL import Image, ImageStat

    record = _journey(run, journey)
    assert record["errors"] == []
    assert record["layout_problems"] == []
    names = [s["file"] for s in record["shots"]]
    assert names == [f"{journey}-{i:02d}-{step}.png" for i, step in enumerate(SHOTS, 1)]
    for name in names:
        with Image.open(OUT / name) as image:
            assert image.size == (1080, 1920)
            assert ImageStat.Stat(image.convert("L")).stddev[0] > 10, f"{name} looks blank"
    submitted = _shot(record, "submitted")
    number = submitted["view"]["qr"].removeprefix("CASE:")
    assert len(number) == 16 and number.isdigit()
    assert any(number in text for text in submitted["texts"])  # the number, on screen


@pytest.mark.gui
@needs_xvfb
@pytest.mark.timeout(600)
def test_the_keyboards_type_pinyin_and_handwriting_into_the_field(run):
    """l-i-x then 删除 leaves "li" with 李 among the candidates; picking it types 李; strokes
    written on the pad go as STROKE intents with points in the 0..1000 square; 䶮 shows."""
    record = _journey(run, "apply")
    pinyin = _shot(record, "editing-pinyin")["view"]["keyboard"]
    assert pinyin["composition"] == "li" and "李" in pinyin["candidates"]
    assert "李" in _shot(record, "editing-pinyin")["texts"]
    handwriting = _shot(record, "editing-handwriting")["view"]["keyboard"]
    assert handwriting["layout"] == "handwriting" and handwriting["strokes"] > 1
    rare = _shot(record, "editing-rare")
    assert rare["view"]["keyboard"]["text"] == "李䶮"
    assert "李䶮" in rare["texts"]
    strokes = [i for i in run["intents"] if i["intent"] == Intent.STROKE]
    assert strokes and not [s for s in strokes if s.get("malformed")]
    for stroke in strokes:
        low, high = stroke["range"]
        assert 0 <= low <= high <= 1000 and stroke["points"] >= 2
    assert any(i["intent"] == Intent.BACKSPACE for i in run["intents"])


@pytest.mark.gui
@needs_xvfb
@pytest.mark.timeout(600)
def test_elder_mode_shows_its_chrome_and_one_question_at_a_time(run):
    record = _journey(run, "apply-elder")
    for shot in record["shots"]:
        assert shot["view"]["elder"] is True, shot["file"]
    form = _shot(record, "form")["view"]
    assert len(form["options"]) == 1
    chrome = {o["intent"]: o["label"] for o in form["actions"]}
    for intent in (Intent.TOGGLE_ELDER, Intent.MUTE, Intent.SAY_AGAIN):
        assert chrome[intent] in _shot(record, "form")["texts"]
    # Four candidates a page in 长辈模式, each a large key.
    assert len(_shot(record, "editing-pinyin")["view"]["keyboard"]["candidates"]) == 4


@pytest.mark.gui
@needs_xvfb
@pytest.mark.timeout(600)
def test_the_document_preview_is_live_and_the_photo_reaches_the_review(run):
    record = _journey(run, "apply")
    assert _shot(record, "documents")["view"]["camera"] == "document"
    review = _shot(record, "review")["view"]
    assert review["thumbnails"] and review["fields"]


@pytest.mark.gui
@needs_xvfb
@pytest.mark.timeout(600)
def test_no_personal_data_in_what_the_journeys_recorded(run):
    text = json.dumps(run, ensure_ascii=False)
    assert ID_NUMBER not in text and FULL_NAME not in text
    assert not [i for i in run["intents"] if i["intent"] == Intent.KEY and "arg" in i]


# ---- the parts, without a window ----------------------------------------------------------------


def _view(state: str, **kwargs) -> ViewModel:
    return ViewModel(state=state, title="t", **kwargs)


@pytest.mark.parametrize(
    ("state", "screen"),
    [
        (StateId.LOADING_FORM, "busy"),
        (StateId.APPLY_START, "menu"),
        (StateId.PRINCIPAL, "guide"),
        (StateId.FACE_CHECK, "face"),
        (StateId.FORM, "form"),
        (StateId.EDITING, "editing"),
        (StateId.DOCUMENTS, "documents"),
        (StateId.REVIEW, "review"),
        (StateId.SUBMITTING, "busy"),
        (StateId.SUBMITTED, "submitted"),
    ],
)
def test_apply_states_have_their_screens(state, screen):
    assert routing.screen_for(_view(state)) == screen


def test_a_photo_being_taken_keeps_the_live_picture_other_work_shows_the_busy_screen():
    assert routing.screen_for(_view(StateId.DOCUMENTS, busy=True, camera="document")) == "documents"
    assert routing.screen_for(_view(StateId.FACE_CHECK, busy=True, camera="face")) == "face"
    assert routing.screen_for(_view(StateId.DOCUMENTS, busy=True)) == "busy"


def test_elder_preferences_move_to_two_rows_when_one_would_break_their_words():
    own = (Option(Intent.FIELD_DONE, "确定"), Option(Intent.BACK, "取消"))
    prefs = (
        Option(Intent.TOGGLE_ELDER, "标准模式"),
        Option(Intent.MUTE, "关闭语音"),
        Option(Intent.SAY_AGAIN, "再说一遍"),
        Option(Intent.TOGGLE_LANGUAGE, "English"),
    )
    fits = lambda labels: len(labels) <= 2  # noqa: E731
    assert routing.footer_rows(own + prefs, fits) == [own, prefs[:2], prefs[2:]]
    # Halves that would not fit either: one row, as before.
    assert routing.footer_rows(own + prefs, lambda labels: False) == [own, prefs]


def test_millimetres_follow_the_configured_panel():
    ui = UiConfig()
    assert ui.screen_diagonal_in == 21.5
    assert ui.dpi == pytest.approx(102.46, abs=0.01)
    assert theme.pixels_per_mm((1080, 1920), 21.5) == pytest.approx(ui.dpi / 25.4)
    theme.set_screen((2160, 3840), 21.5)  # the same panel size at twice the pixels
    try:
        assert theme.mm(15) == pytest.approx(2 * 15 * 102.46 / 25.4, rel=1e-3)
    finally:
        theme.set_screen(theme.REFERENCE_SIZE, theme.REFERENCE_DIAGONAL_IN)
    assert theme.elder_target_px() >= theme.mm(15)
    with pytest.raises(ValueError):
        theme.pixels_per_mm((1080, 1920), 0)
    with pytest.raises(ValueError):
        UiConfig(screen_diagonal_in=-1)


def test_every_elder_target_is_at_least_15_mm_by_the_size_rules():
    """The size rules alone: the standard touch target already exceeds 15 mm on the kiosk."""
    for large_text in (False, True):
        sizes = theme.layout_sizes(1080, 1920, large_text)
        assert sizes["touch_h"] >= theme.elder_target_px()


@given(
    x=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
    y=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
    w=st.floats(min_value=0, max_value=5000),
    h=st.floats(min_value=0, max_value=5000),
)
def test_any_touch_on_or_off_the_pad_maps_into_the_ink_square(x, y, w, h):
    from screens.keyboard import ink_point

    px, py = ink_point(x, y, (100.0, 200.0), (w, h))
    assert 0 <= px <= 1000 and 0 <= py <= 1000


def test_the_ink_square_points_down_like_the_recognisers_expect():
    from screens.keyboard import ink_point

    pos, size = (100.0, 200.0), (400.0, 400.0)
    assert ink_point(100, 600, pos, size) == [0, 0]  # top left on screen
    assert ink_point(500, 200, pos, size) == [1000, 1000]  # bottom right
    assert ink_point(300, 400, pos, size) == [500, 500]


def test_frames_become_texture_rows_bottom_up_and_bad_frames_are_refused():
    import numpy as np

    from screens.camera_screens import frame_pixels
    from screens.geometry import fitted

    image = np.zeros((2, 3, 3), dtype=np.uint8)
    image[0, 0] = (255, 0, 0)  # top-left pixel, blue in BGR
    pixels, size = frame_pixels(image, mirror=False)
    assert size == (3, 2) and len(pixels) == 18
    assert pixels[9:12] == bytes((0, 0, 255))  # now the first pixel of the last row, as RGB
    mirrored, _ = frame_pixels(image, mirror=True)
    assert mirrored[15:18] == bytes((0, 0, 255))
    for bad in (np.zeros((2, 3), np.uint8), np.zeros((2, 3, 4), np.uint8), np.zeros((2, 3, 3))):
        with pytest.raises(ValueError):
            frame_pixels(bad, mirror=False)
    assert fitted((0, 0, 400, 400), (4, 3)) == (0, 50, 400, 300)
    assert fitted((0, 0, 400, 400), (0, 0)) == (0, 0, 400, 400)


def test_the_tracking_number_goes_on_a_line_of_its_own():
    from screens.apply_form import number_lines

    assert number_lines("受理编号 1101010145204645") == "受理编号\n1101010145204645"
    assert number_lines("Tracking number 1101010145204645").endswith("\n1101010145204645")
    assert number_lines("申请已保存") == "申请已保存"
