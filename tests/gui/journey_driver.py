"""Walk residents' journeys through the real Kivy screens and screenshot every step.

    python -m tests.gui.journey_driver --out DIR [--large-text] [--lang zh_CN|en] [--only NAME]
    python -m tests.gui.journey_driver --first-frame

Needs a display (run it under `xvfb-run -a -s "-screen 0 1080x1920x24"`). The core runs with the
real central client against the reference service in-process (`tests.support.inprocess`), a fake
receipt printer and A4 printer, a fake clock, and tasks that run inline unless held (to catch the
busy screens). Touches go through the window like a finger's, to the widget that shows the intent.

One journey per flow kind (see `JOURNEYS`); a journey whose central endpoint does not exist yet is
skipped and the manifest says which endpoint. Writes <journey>-NN-<step>.png and manifest.json
(per journey: shots, errors, layout problems, skip reason; plus every view model seen) into DIR;
exit status 0 when every journey that ran reached the states it expected. `--first-frame` instead
starts the app through `screens.runner.run_app(exit_after_first_frame=True)` and prints when the
first frame was drawn.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STARTED = time.monotonic()
SIZE = (1080, 1920)
SETTLE_S = 0.3  # layouts and label textures settle over a few frames
HOLD_S = 0.12  # how long a simulated finger stays down
PATIENCE_S = 5.0  # how long a step may take to show on a loaded machine before it fails
RECHECK_S = 0.1
SCROLL_SETTLE_S = 0.3  # after scrolling a list, before touching what came into view
SETTLE_FRAMES = 3
WATCHDOG_S = 300
ROOT = Path(__file__).resolve().parents[2]
API_PREFIX = "/api/v1"

Check = Callable[[Any], bool]


class HeldTaskRunner:
    """Runs tasks at once, except those named in `hold`, which wait for `release()`."""

    def __init__(self, post: Callable[[Any], None]) -> None:
        self._post = post
        self.hold: set[str] = set()
        self._held: list[tuple[str, int, Callable[[], Any]]] = []

    def submit(self, task: str, token: int, work: Callable[[], Any]) -> None:
        if task in self.hold:
            self._held.append((task, token, work))
        else:
            self._post(_run_task(task, token, work))

    def release(self) -> None:
        """Let the held tasks finish now."""
        held, self._held = self._held, []
        self.hold.clear()
        for task, token, work in held:
            self._post(_run_task(task, token, work))

    def shutdown(self) -> None:
        self._held.clear()


def _run_task(task: str, token: int, work: Callable[[], Any]) -> Any:
    from kiosk.tasks import run_task

    return run_task(task, token, work)


@dataclass
class FakeDocuments:
    """The A4 printer: records the PDFs it was given instead of printing them."""

    printed: list[tuple[str, int]] = field(default_factory=list)

    def print_pdf(
        self, pdf: bytes, title: str = "", on_progress: Callable[[str], None] | None = None
    ) -> None:
        if not pdf.startswith(b"%PDF"):
            raise ValueError("not a PDF")
        self.printed.append((title, len(pdf)))


@dataclass
class Rig:
    """The core and what the journeys need to reach around it."""

    core: Any
    clock: Any
    runner: HeldTaskRunner
    central: Any  # the real CentralClient
    routes: frozenset[str]  # the reference service's paths, to tell what exists yet


# Devices beyond the defaults (ID card reader, receipt printer): every way to identify is offered,
# and items that print on A4 can.
DEVICES = {
    "document_printer": {"url": "cups://kiosk-a4", "enabled": True},
    "smartcard": {"url": "pcsc://", "enabled": True},
    "qr_scanner": {"url": "serial:///dev/ttyACM0", "enabled": True},
    "camera": {"url": "sim://camera?name=journeys&scene=document", "enabled": True},
}
# The simulated camera the apply journeys photograph their documents with.
APPLY_CAMERA = "sim://camera?name=journeys&scene=document"


@contextlib.contextmanager
def build_core() -> Iterator[Rig]:
    """A KioskCore over the real client and the reference service in-process, a FakeClock, fake
    printers, and a task runner that can hold tasks."""
    from kiosk.clock import FakeClock
    from kiosk.config import parse_config
    from kiosk.core import KioskCore, Services
    from tests.support.fakes import FakePrinter
    from tests.support.inprocess import central_client

    runners: list[HeldTaskRunner] = []

    def factory(post: Callable[[Any], None]) -> HeldTaskRunner:
        runners.append(HeldTaskRunner(post))
        return runners[-1]

    clock = FakeClock()
    config = parse_config(
        {"kiosk_id": "KIOSK-DEMO-01", "ui": {"fullscreen": False}, "devices": DEVICES}
    )
    with central_client("KIOSK-DEMO-01", clock=clock.now) as (client, http):
        services = Services(central=client, printer=FakePrinter(), documents=FakeDocuments())
        core = KioskCore(config, services, clock, factory)
        core.start()
        core.pump()
        # What the service offers now, by path (without its version prefix).
        paths = http.get("/openapi.json").json()["paths"]
        routes = frozenset(p.removeprefix(API_PREFIX) for p in paths)
        try:
            yield Rig(core, clock, runners[0], client, routes)
        finally:
            core.stop()


def view_record(view: Any) -> dict[str, Any]:
    """A view model as JSON-able data (intents become their values)."""
    return json.loads(json.dumps(dataclasses.asdict(view), default=str, ensure_ascii=False))


@dataclass
class Step:
    journey: str
    name: str | None  # a screenshot is taken when named
    action: Callable[[], Any]  # may return how long it goes on (a finger still down)
    state: str
    check: Check | None = None


@dataclass
class JourneyRecord:
    shots: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    layout_problems: list[str] = field(default_factory=list)
    skipped: str | None = None


class Journey:
    """Runs the steps one per settle period on Kivy's clock, then stops the app.

    A failing step ends its journey (recorded) and the next journey starts from the start screen.
    """

    def __init__(self, app: Any, rig: Rig, out: Path) -> None:
        self.app, self.rig, self.out = app, rig, out
        self.core, self.clock, self.runner = rig.core, rig.clock, rig.runner
        self.steps: list[Step] = []
        self.records: dict[str, JourneyRecord] = {}
        self.views: list[dict[str, Any]] = []
        self.fatal: list[str] = []
        self.current = ""
        self._numbers: dict[str, int] = {}
        self._finished = False
        self.intents: list[dict[str, Any]] = []
        self.core.add_listener(lambda view: self.views.append(view_record(view)))
        self._record_intents()

    def _record_intents(self) -> None:
        """Keep what each touch sent, for the tests; strokes as a summary (they may be a name)."""
        send = self.core.touch

        def recorded(intent: Any, arg: str | None = None) -> None:
            self.intents.append(intent_record(str(intent), arg))
            send(intent, arg)

        self.core.touch = recorded

    # ---- building ------------------------------------------------------------------------------

    def journey(self, name: str) -> None:
        """Steps added from now on belong to journey `name`."""
        self.current = name
        self.records[name] = JourneyRecord()

    def skip(self, name: str, reason: str) -> None:
        self.records[name] = JourneyRecord(skipped=reason)

    def add(
        self, name: str | None, action: Callable[[], Any], state: str, check: Check | None = None
    ) -> None:
        """A step: do `action`, expect `state` (and `check(view)`), screenshot when named."""
        self.steps.append(Step(self.current, name, action, str(state), check))

    # ---- actions -------------------------------------------------------------------------------

    def press(self, intent: str, arg: str | None = None) -> Callable[[], None]:
        """An action that touches the on-screen widget that sends `intent` (with `arg`), scrolling
        it into view first as a resident would."""

        def act() -> float:
            from kivy.clock import Clock

            widget = self._find(intent, arg)
            if scroll_into_view(widget):
                # Let the scrolled layout settle before the finger comes down.
                Clock.schedule_once(lambda _dt: touch(widget, intent, arg), SCROLL_SETTLE_S)
                return SCROLL_SETTLE_S + HOLD_S
            touch(widget, intent, arg)
            return HOLD_S

        return act

    def post(self, event: Any) -> Callable[[], None]:
        return lambda: self.core.post(event)

    def advance(self, seconds: float) -> Callable[[], None]:
        """Move the fake clock on and tick, as that much real time would."""

        def act() -> None:
            from kiosk.events import Tick

            self.clock.advance(seconds)
            self.core.post(Tick())

        return act

    def hold(self, task: str, then: Callable[[], None]) -> Callable[[], None]:
        def act() -> None:
            self.runner.hold.add(task)
            then()

        return act

    def _find(self, intent: str, arg: str | None) -> Any:
        matches = [
            w
            for w in self.app.root.walk()
            if getattr(w, "intent", None) == intent
            and getattr(w, "arg", None) == arg
            and w.get_root_window() is not None
        ]
        if not matches:
            raise AssertionError(f"no visible widget sends {intent}/{arg}")
        # The topmost (last drawn) wins: the countdown overlay's button over the screen's.
        return matches[-1]

    # ---- running -------------------------------------------------------------------------------

    def begin(self, *_: object) -> None:
        from kivy.clock import Clock

        Clock.schedule_once(
            lambda _dt: self._abort("watchdog: the journeys took too long"), WATCHDOG_S
        )
        # The first frames lay the window out; a touch before that lands on a 100x100 widget at 0,0.
        after_frames(SETTLE_FRAMES * 2, lambda: self._next(0))

    def _next(self, index: int) -> None:
        from kivy.clock import Clock

        if self._finished:
            return
        if index >= len(self.steps):
            self._finish()
            return
        step = self.steps[index]
        record = self.records[step.journey]
        try:
            busy_for = step.action()
        except Exception:
            self._journey_failed(index, f"{step.name}: {traceback.format_exc(limit=3)}")
            return

        waited = [0.0]

        def settled(_dt: float) -> None:
            from screens.routing import screen_for

            self.core.pump()
            view = self.core.view()
            arrived = (
                self.core.state == step.state
                and self.app.manager.current == screen_for(view)
                and (step.check is None or step.check(view))
            )
            if not arrived and waited[0] < PATIENCE_S:
                # A loaded machine (CI, other Kivy apps) draws late: look again, up to a limit.
                waited[0] += RECHECK_S
                Clock.schedule_once(settled, RECHECK_S)
                return
            if self.core.state != step.state:
                self._journey_failed(
                    index, f"{step.name}: state {self.core.state}, expected {step.state}"
                )
                return
            if self.app.manager.current != screen_for(view):
                # The screen failed to render this view (its error is in the log).
                self._journey_failed(index, f"{step.name}: {view.state} not on screen")
                return
            if step.check is not None and not step.check(view):
                self._journey_failed(index, f"{step.name}: the view does not show what it should")
                return
            # A render in this very frame leaves layouts pending: let a few frames pass first.
            after_frames(SETTLE_FRAMES, done)

        def done() -> None:
            if step.name is None:
                self._next(index + 1)
                return
            number = self._numbers.get(step.journey, 0) + 1
            self._numbers[step.journey] = number
            filename = f"{step.journey}-{number:02d}-{step.name}.png"
            self._capture(filename, record, lambda: self._next(index + 1))

        # Settle counts from when the action is over (the finger lifted), not when it began.
        extra = busy_for if isinstance(busy_for, int | float) else 0.0
        Clock.schedule_once(settled, SETTLE_S + extra)

    def _journey_failed(self, index: int, message: str) -> None:
        """Record the failure, put the kiosk back at the start, go on with the next journey."""
        from kivy.clock import Clock

        from kiosk.events import Intent

        journey = self.steps[index].journey
        self.records[journey].errors.append(f"step {index} {message}")
        self.runner.release()
        self.core.touch(Intent.HOME)
        self.core.touch(Intent.BACK)  # from thanks, home is "finish"
        nxt = next(
            (i for i in range(index + 1, len(self.steps)) if self.steps[i].journey != journey),
            len(self.steps),
        )
        Clock.schedule_once(lambda _dt: self._next(nxt), 1.0)

    def _capture(self, filename: str, record: JourneyRecord, then: Callable[[], None]) -> None:
        from kivy.clock import Clock
        from kivy.core.window import Window

        def on_flip(*_: object) -> None:
            # Bound on_flip handlers run after drawing, before the buffers swap: the frame is whole.
            Window.unbind(on_flip=on_flip)
            saved = Window.screenshot(name=str(self.out / f"tmp-{filename}"))
            os.replace(saved, self.out / filename)
            view = self.core.view()
            record.shots.append(
                {
                    "file": filename,
                    "state": view.state,
                    "view": view_record(view),
                    "texts": visible_texts(self.app),
                }
            )
            record.layout_problems.extend(f"{filename}: {p}" for p in layout_problems(self.app))
            Clock.schedule_once(lambda _dt: then(), 0)

        Window.bind(on_flip=on_flip)
        Window.canvas.ask_update()

    def _abort(self, message: str) -> None:
        self.fatal.append(message)
        self._finish()

    def _finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        manifest = {
            "size": list(SIZE),
            "journeys": {name: dataclasses.asdict(r) for name, r in self.records.items()},
            "views": self.views,
            "intents": self.intents,
            "fatal": self.fatal,
        }
        text = json.dumps(manifest, ensure_ascii=False, indent=1)
        (self.out / "manifest.json").write_text(text, encoding="utf-8")
        self.app.stop()


def intent_record(intent: str, arg: str | None) -> dict[str, Any]:
    """An intent for the manifest: typed keys and strokes are what a resident wrote, so a stroke
    is kept as its size and range and a key not at all."""
    if intent == "stroke":
        try:
            points = json.loads(arg or "")
            xs = [p[0] for p in points]
            ys = [p[1] for p in points]
            return {"intent": intent, "points": len(points), "range": [min(xs + ys), max(xs + ys)]}
        except (ValueError, TypeError, IndexError):
            return {"intent": intent, "malformed": True}
    if intent in ("key", "choose"):
        return {"intent": intent}
    return {"intent": intent, "arg": arg}


def touch(widget: Any, intent: str, arg: str | None) -> None:
    """A finger on `widget`'s centre: down, a moment's rest, up."""
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.tests.common import UnitTestTouch

    x, y = widget.to_window(*widget.center)
    if not (0 <= x < Window.width and 0 <= y < Window.height):
        raise AssertionError(f"{intent}/{arg} is off screen at {x:.0f},{y:.0f}")
    finger = UnitTestTouch(x, y)
    finger.touch_down()
    # A finger rests a moment; an instant release confuses ScrollView's tap detection.
    Clock.schedule_once(lambda _dt: finger.touch_up(), HOLD_S)


def ancestors(widget: Any) -> Iterator[Any]:
    """`widget`'s parents up to the window (whose parent is itself)."""
    parent = widget.parent
    while parent is not None and parent is not widget:
        yield parent
        widget, parent = parent, parent.parent


def scroll_into_view(widget: Any) -> bool:
    """Scroll the ScrollView holding `widget` until all of it shows; True if it had to scroll."""
    from kivy.uix.scrollview import ScrollView

    parent = next((a for a in ancestors(widget) if isinstance(a, ScrollView)), None)
    if parent is None:
        return False
    x, y = widget.to_window(widget.x, widget.y)
    top = y + widget.height
    sx, sy = parent.to_window(parent.x, parent.y)
    if y >= sy and top <= sy + parent.height:
        return False
    parent.scroll_to(widget, padding=20, animate=False)
    return True


def after_frames(frames: int, then: Callable[[], None]) -> None:
    """Call `then` once `frames` more frames have been drawn."""
    from kivy.clock import Clock

    if frames <= 0:
        then()
    else:
        Clock.schedule_once(lambda _dt: after_frames(frames - 1, then), 0)


def _on_screen(widget: Any) -> bool:
    """Whether `widget` is in the window and not scrolled out of its ScrollView's view."""
    from kivy.uix.scrollview import ScrollView

    if widget.get_root_window() is None:
        return False
    _x, y = widget.to_window(widget.x, widget.y)
    for parent in ancestors(widget):
        if isinstance(parent, ScrollView):
            _sx, sy = parent.to_window(parent.x, parent.y)
            if y + widget.height < sy or y > sy + parent.height:
                return False
    return True


def visible_texts(app: Any) -> list[str]:
    """The words on screen now, top to bottom (for reviews: e.g. Chinese left in English mode)."""
    from kivy.uix.label import Label

    found = []
    for w in app.root.walk():
        if isinstance(w, Label) and w.text.strip() and _on_screen(w):
            _x, y = w.to_window(w.x, w.y)
            found.append((-y - w.height, w.text))
    return [text for _y, text in sorted(found)]


def layout_problems(app: Any) -> list[str]:
    """Text cut off, text too small, touch targets too short, QR codes too small to scan."""
    from kivy.uix.behaviors import ButtonBehavior
    from kivy.uix.image import Image
    from kivy.uix.label import Label

    from screens import theme

    scale = theme.window_scale(*app.root.size)
    problems = elder_target_problems(app)
    for w in app.root.walk():
        if w.get_root_window() is None:
            continue
        if isinstance(w, Label) and w.text.strip():
            tw, th = w.texture_size
            if tw > w.width + 2 or th > w.height + 2:
                problems.append(
                    f"text cut off ({tw}x{th} in {w.width:.0f}x{w.height:.0f}): {w.text!r}"
                )
            if w.font_size < 28 * scale - 0.5:
                problems.append(f"text smaller than 28 px ({w.font_size:.0f}): {w.text!r}")
        if isinstance(w, ButtonBehavior) and w.height < 120 * scale - 0.5:
            problems.append(f"touch target {w.height:.0f} px tall: {type(w).__name__}")
        if isinstance(w, Image) and w.texture is not None and min(w.size) < 300 * scale - 0.5:
            problems.append(f"QR code only {min(w.size):.0f} px: too small to scan")
    return problems


def touch_targets(app: Any) -> list[Any]:
    """Everything a finger can act on now: buttons, tiles, keys, the handwriting pad."""
    from kivy.uix.behaviors import ButtonBehavior

    from screens.keyboard import InkPad

    return [
        w
        for w in app.root.walk()
        if isinstance(w, ButtonBehavior | InkPad) and w.get_root_window() is not None
    ]


def elder_target_problems(app: Any) -> list[str]:
    """In 长辈模式, every touch target at least 15 mm wide and high on the configured screen."""
    from screens import theme

    view = getattr(app, "view", None)
    if view is None or not view.elder:
        return []
    least = theme.mm(theme.ELDER_TARGET_MM) - 0.5
    return [
        f"elder-mode target {w.width:.0f}x{w.height:.0f} px under {least:.0f} px (15 mm): "
        f"{type(w).__name__} {getattr(w, 'text', '') or getattr(w, 'label', '')!r}"
        for w in touch_targets(app)
        if _on_screen(w) and min(w.width, w.height) < least
    ]


# ---- the journeys --------------------------------------------------------------------------------

PRINT_CATEGORY, PRINT_ITEM = "shebao", "shebao.insured-cert"
GUIDE_CATEGORY, GUIDE_ITEM = "huji", "huji.birth-registration"
TICKET_CATEGORY, TICKET_ITEM = "huji", "huji.id-card-renewal"
A4_CATEGORY, A4_ITEM = "huji", "huji.household-cert"
LOOKUP_CATEGORY, LOOKUP_ITEM = "zonghe", "zonghe.case-progress"
RECORDS_CATEGORY, RECORDS_ITEM = "shebao", "shebao.rights-record"


def _missing(rig: Rig, client_method: str, route: str) -> str | None:
    """Why a journey cannot run yet: the client method or the service route is missing."""
    if not hasattr(rig.central, client_method):
        return f"CentralClient.{client_method} is missing (for {route})"
    if route not in rig.routes:
        return f"the reference service has no {route} endpoint"
    return None


def seeded_receipt_no() -> str | None:
    """A case receipt number the reference service is seeded with, if any."""
    path = ROOT / "central" / "seed" / "cases.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text("utf-8"))
    cases = data.get("cases", data) if isinstance(data, dict) else data
    for case in cases:
        number = str(case.get("receipt_no", ""))
        if len(number) == 16 and number.isdigit():
            return number
    return None


def _modes(j: Journey, large_text: bool, language: str) -> None:
    """The resident's display choices, made on the start screen (each session starts afresh)."""
    from kiosk.events import Intent
    from kiosk.ids import StateId

    if large_text:
        j.add(None, j.press(Intent.TOGGLE_LARGE_TEXT), StateId.ATTRACT, lambda v: v.large_text)
    if language == "en":
        j.add(None, j.press(Intent.TOGGLE_LANGUAGE), StateId.ATTRACT, lambda v: v.language == "en")


def _not_busy(view: Any) -> bool:
    return not view.busy


def _rate_and_finish(j: Journey, level: str = "5") -> None:
    from kiosk.events import Intent
    from kiosk.ids import StateId

    j.add("thanks", j.press(Intent.RATE, level), StateId.THANKS)
    # Back at the start, the next resident gets the default text size and language again.
    wiped = lambda v: not v.large_text and v.language == "zh_CN"  # noqa: E731
    j.add("attract-again", j.press(Intent.BACK), StateId.ATTRACT, wiped)


def plan_print(j: Journey) -> None:
    """(a) Card on the start screen, a certificate on the receipt printer, a rating, thanks."""
    from drivers.idcard.sim_cards import LI_XIUYING
    from kiosk.events import CardRead, CardReadFailed, Intent
    from kiosk.ids import StateId

    j.add("attract", lambda: None, StateId.ATTRACT)
    j.add("await_identity", j.press(Intent.START), StateId.AWAIT_IDENTITY)
    j.add(
        "await_identity-notice",
        j.post(CardReadFailed("unreadable")),
        StateId.AWAIT_IDENTITY,
        lambda v: bool(v.notice),
    )
    j.add("verifying", j.hold("verify", j.post(CardRead(LI_XIUYING))), StateId.VERIFYING)
    j.add("categories", j.runner.release, StateId.CATEGORIES)
    j.add("items", j.press(Intent.PICK_CATEGORY, PRINT_CATEGORY), StateId.ITEMS)
    j.add("guide", j.press(Intent.PICK_ITEM, PRINT_ITEM), StateId.GUIDE, _not_busy)
    j.add("printing", j.hold("print", j.press(Intent.ACT)), StateId.PRINTING)
    receipt_out = lambda v: len(j.core.services.printer.receipts) == 1  # noqa: E731
    j.add("rate", j.runner.release, StateId.RATE, receipt_out)
    _rate_and_finish(j)


def plan_guide(j: Journey) -> None:
    """(b) No card: browse to a guide, print its checklist, rate it low, say why, thanks."""
    from kiosk.events import Intent
    from kiosk.ids import StateId

    j.add("attract", lambda: None, StateId.ATTRACT)
    j.add("categories", j.press(Intent.BROWSE), StateId.CATEGORIES, lambda v: not v.subtitle)
    j.add("items", j.press(Intent.PICK_CATEGORY, GUIDE_CATEGORY), StateId.ITEMS)
    has_qr = lambda v: not v.busy and bool(v.qr)  # noqa: E731
    j.add("guide", j.press(Intent.PICK_ITEM, GUIDE_ITEM), StateId.GUIDE, has_qr)
    j.add("printing", j.hold("print", j.press(Intent.ACT)), StateId.PRINTING)
    j.add("rate", j.runner.release, StateId.RATE)
    j.add("reasons", j.press(Intent.RATE, "2"), StateId.REASONS)

    def chosen(*codes: str) -> Check:
        return lambda v: {o.arg for o in v.options if o.selected} == set(codes)

    j.add(None, j.press(Intent.TOGGLE_REASON, "guide_unclear"), StateId.REASONS)
    j.add(
        "reasons-chosen",
        j.press(Intent.TOGGLE_REASON, "long_wait"),
        StateId.REASONS,
        chosen("guide_unclear", "long_wait"),
    )
    j.add("thanks", j.press(Intent.SUBMIT_RATING), StateId.THANKS)
    j.add("attract-again", j.press(Intent.BACK), StateId.ATTRACT)


def _to_lookup_entry(j: Journey) -> None:
    from kiosk.events import Intent
    from kiosk.ids import StateId

    j.add(None, j.press(Intent.BROWSE), StateId.CATEGORIES)
    j.add(None, j.press(Intent.PICK_CATEGORY, LOOKUP_CATEGORY), StateId.ITEMS)
    j.add("guide", j.press(Intent.PICK_ITEM, LOOKUP_ITEM), StateId.GUIDE, _not_busy)
    empty = lambda v: v.entry == ""  # noqa: E731
    j.add("lookup_entry", j.press(Intent.ACT), StateId.LOOKUP_ENTRY, empty)


def _type(j: Journey, digits: str) -> None:
    from kiosk.events import Intent
    from kiosk.ids import StateId

    for digit in digits:
        j.add(None, j.press(Intent.DIGIT, digit), StateId.LOOKUP_ENTRY)


def plan_pad(j: Journey) -> None:
    """The digit pad on its own (no lookup endpoint needed): type, submit too few, clear, back."""
    from kiosk.events import Intent
    from kiosk.ids import StateId

    _to_lookup_entry(j)
    _type(j, "2026110")
    typed = lambda v: v.entry == "2026 1103" and v.options[-1].enabled  # noqa: E731
    j.add("lookup_entry-typed", j.press(Intent.DIGIT, "3"), StateId.LOOKUP_ENTRY, typed)
    # 查询 with 8 digits says what is missing instead of looking anything up.
    short = lambda v: "16" in v.notice  # noqa: E731
    j.add("lookup_entry-short", j.press(Intent.SUBMIT_ENTRY), StateId.LOOKUP_ENTRY, short)
    # 返回 takes back one digit first; 清空 clears all.
    j.add(None, j.press(Intent.BACK), StateId.LOOKUP_ENTRY, lambda v: v.entry == "2026 110")
    j.add(None, j.press(Intent.DIGIT, "clear"), StateId.LOOKUP_ENTRY, lambda v: v.entry == "")
    j.add(None, j.press(Intent.BACK), StateId.GUIDE)
    j.add(None, j.press(Intent.HOME), StateId.ATTRACT)


def plan_lookup(j: Journey, receipt_no: str) -> None:
    """(c) A case by its receipt number on the digit pad, its progress, done, rating skipped."""
    from kiosk.events import Intent
    from kiosk.ids import StateId

    _to_lookup_entry(j)
    _type(j, receipt_no[:-1])
    full = lambda v: v.entry.replace(" ", "") == receipt_no  # noqa: E731
    j.add("lookup_entry-full", j.press(Intent.DIGIT, receipt_no[-1]), StateId.LOOKUP_ENTRY, full)
    j.add("looking_up", j.hold("lookup", j.press(Intent.SUBMIT_ENTRY)), StateId.LOOKING_UP)
    found = lambda v: any(receipt_no in line for s in v.sections for line in s.lines)  # noqa: E731
    j.add("lookup_result", j.runner.release, StateId.LOOKUP_RESULT, found)
    j.add("rate", j.press(Intent.DONE), StateId.RATE)
    j.add("thanks", j.press(Intent.SKIP), StateId.THANKS)
    j.add(None, j.press(Intent.BACK), StateId.ATTRACT)


def plan_records(j: Journey) -> None:
    """A record lookup by identity: a paged table, the next page, printed, done."""
    from drivers.idcard.sim_cards import LI_XIUYING
    from kiosk.events import CardRead, Intent
    from kiosk.ids import StateId

    j.add(None, j.press(Intent.START), StateId.AWAIT_IDENTITY)
    j.add(None, j.post(CardRead(LI_XIUYING)), StateId.CATEGORIES)
    j.add(None, j.press(Intent.PICK_CATEGORY, RECORDS_CATEGORY), StateId.ITEMS)
    j.add("guide", j.press(Intent.PICK_ITEM, RECORDS_ITEM), StateId.GUIDE, _not_busy)
    j.add("looking_up", j.hold("lookup", j.press(Intent.ACT)), StateId.LOOKING_UP)
    table = lambda v: v.table is not None and len(v.table.rows) > 0  # noqa: E731
    j.add("lookup_result", j.runner.release, StateId.LOOKUP_RESULT, table)
    page_two = lambda v: v.table is not None and v.options[0].enabled  # noqa: E731
    j.add("lookup_result-page2", j.press(Intent.PAGE, "next"), StateId.LOOKUP_RESULT, page_two)
    printed = lambda v: len(j.core.services.printer.receipts) >= 1  # noqa: E731
    j.add(None, j.press(Intent.PRINT), StateId.RATE, printed)
    j.add(None, j.press(Intent.SKIP), StateId.THANKS)
    j.add(None, j.press(Intent.BACK), StateId.ATTRACT)


def plan_ticket(j: Journey) -> None:
    """(d) Browse to a ticket item, 取号, identify when asked, the ticket, done."""
    from drivers.idcard.sim_cards import LI_XIUYING
    from kiosk.events import CardRead, Intent
    from kiosk.ids import StateId

    j.add(None, j.press(Intent.BROWSE), StateId.CATEGORIES)
    j.add(None, j.press(Intent.PICK_CATEGORY, TICKET_CATEGORY), StateId.ITEMS)
    j.add("guide", j.press(Intent.PICK_ITEM, TICKET_ITEM), StateId.GUIDE, _not_busy)
    j.add("await_identity", j.press(Intent.ACT), StateId.AWAIT_IDENTITY)
    j.add("ticketing", j.hold("ticket", j.post(CardRead(LI_XIUYING))), StateId.TICKETING)
    printed = lambda v: len(j.core.services.printer.receipts) >= 1  # noqa: E731
    j.add("ticket", j.runner.release, StateId.TICKET, printed)
    j.add("rate", j.press(Intent.DONE), StateId.RATE)
    j.add("thanks", j.press(Intent.SKIP), StateId.THANKS)
    j.add(None, j.press(Intent.BACK), StateId.ATTRACT)


def plan_a4(j: Journey) -> None:
    """A certificate on A4: preview with its verification QR code, print, rating skipped."""
    from drivers.idcard.sim_cards import LI_XIUYING
    from kiosk.events import CardRead, Intent
    from kiosk.ids import StateId

    j.add(None, j.press(Intent.START), StateId.AWAIT_IDENTITY)
    j.add(None, j.post(CardRead(LI_XIUYING)), StateId.CATEGORIES)
    j.add(None, j.press(Intent.PICK_CATEGORY, A4_CATEGORY), StateId.ITEMS)
    j.add("guide", j.press(Intent.PICK_ITEM, A4_ITEM), StateId.GUIDE, _not_busy)
    j.add("preparing", j.hold("prepare", j.press(Intent.ACT)), StateId.PREPARING)
    has_qr = lambda v: bool(v.qr)  # noqa: E731
    j.add("preview", j.runner.release, StateId.PREVIEW, has_qr)
    printed = lambda v: len(j.core.services.documents.printed) == 1  # noqa: E731
    j.add("rate", j.press(Intent.PRINT), StateId.RATE, printed)
    j.add(None, j.press(Intent.SKIP), StateId.THANKS)
    j.add(None, j.press(Intent.BACK), StateId.ATTRACT)


def plan_timeout(j: Journey) -> None:
    """(e) A resident walks away: the countdown warns, 继续办理 keeps them, then it times out."""
    from kiosk.events import Intent
    from kiosk.ids import StateId

    j.add(None, j.press(Intent.BROWSE), StateId.CATEGORIES)
    limit = j.core.config.ui.timeouts.default_s
    warns = lambda v: v.seconds_left is not None  # noqa: E731
    j.add("countdown", j.advance(limit - 10), StateId.CATEGORIES, warns)
    j.add(None, j.press(Intent.MORE_TIME), StateId.CATEGORIES, lambda v: v.seconds_left is None)
    wiped = lambda v: not v.large_text and v.language == "zh_CN"  # noqa: E731
    j.add("timed-out", j.advance(limit + 1), StateId.ATTRACT, wiped)


def plan_device(j: Journey) -> None:
    """(f) Devices down: printing greyed with the reason on the guide; identity on the start."""
    from drivers.idcard.sim_cards import LI_XIUYING
    from drivers.state import DeviceState, DeviceStatus
    from kiosk.events import CardRead, DeviceChanged, Intent
    from kiosk.ids import StateId

    def status(device: str, state: DeviceState, detail: str = "") -> DeviceChanged:
        return DeviceChanged(device, DeviceStatus(state, detail))

    j.add(None, j.press(Intent.START), StateId.AWAIT_IDENTITY)
    j.add(None, j.post(CardRead(LI_XIUYING)), StateId.CATEGORIES)
    j.add(None, j.press(Intent.PICK_CATEGORY, PRINT_CATEGORY), StateId.ITEMS)
    j.add(None, j.press(Intent.PICK_ITEM, PRINT_ITEM), StateId.GUIDE, _not_busy)
    offline = j.post(status("receipt_printer", DeviceState.OFFLINE, "unplugged"))
    greyed = lambda v: not v.options[0].enabled and bool(v.hint)  # noqa: E731
    j.add("guide-printer-offline", offline, StateId.GUIDE, greyed)
    # It comes back without a restart.
    online = j.post(status("receipt_printer", DeviceState.ONLINE))
    j.add(None, online, StateId.GUIDE, lambda v: v.options[0].enabled)
    j.add(None, j.press(Intent.HOME), StateId.ATTRACT)
    readers = ("idcard", "smartcard", "qr_scanner", "camera")  # the camera reads e-ID codes too

    def all_down() -> None:
        for name in readers:
            j.core.post(status(name, DeviceState.OFFLINE, "unplugged"))

    j.add("attract-no-identify", all_down, StateId.ATTRACT, lambda v: not v.options[0].enabled)

    def all_up() -> None:
        for name in readers:
            j.core.post(status(name, DeviceState.ONLINE))

    j.add(None, all_up, StateId.ATTRACT, lambda v: v.options[0].enabled)


APPLY_CATEGORY, APPLY_ITEM = "shebao", "shebao.unemployment-registration"  # one document


def equip_for_applying(rig: Rig) -> str | None:
    """Give the core what applying needs: a simulated camera showing a page, an outbox on real
    SQLite, the real pinyin and handwriting engines. Returns why not, or None."""
    import atexit
    import shutil
    import tempfile
    from types import SimpleNamespace

    try:
        from drivers.camera.device import open_camera
        from drivers.ime.rare import extended_candidates
        from kiosk.outbox import Outbox, load_or_create_key
        from kiosk.store.db import open_store
        from tests.support.ime_engines import handwriting_engine, pinyin_engine

        engines = SimpleNamespace(
            pinyin=pinyin_engine(), handwriting=handwriting_engine(), extended=extended_candidates
        )
    except Exception as exc:  # an engine not installed: the journey says which
        return f"input engines not available: {type(exc).__name__}: {exc}"
    folder = Path(tempfile.mkdtemp(prefix="kiosk-journey-"))
    camera = open_camera(APPLY_CAMERA)
    camera.open()
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    atexit.register(camera.close)
    store = open_store(f"sqlite:///{folder / 'kiosk.db'}", rig.clock.now)
    services = rig.core.services
    services.outbox = Outbox(store, load_or_create_key(folder / "outbox.key"))
    services.camera = camera
    services.input_methods = engines
    return None


def _until_shown(j: Journey, intent: str, arg: str, state: str, pages: int = 4) -> None:
    """Page on (长辈模式 shows four choices, or one question, at a time) until `arg` shows."""
    from kiosk.events import Intent

    def page_if_hidden() -> float:
        if any(o.intent == intent and o.arg == arg for o in j.core.view().options):
            return 0.0
        return j.press(Intent.PAGE, "next")() or 0.0

    for _ in range(pages):
        j.add(None, page_if_hidden, state)


def _keys(j: Journey, keys: str) -> None:
    from kiosk.events import Intent
    from kiosk.ids import StateId

    for key in keys:
        j.add(None, j.press(Intent.KEY, key), StateId.EDITING)


def pick_candidate(j: Journey, char: str) -> Callable[[], float]:
    """Touch the candidate key showing `char`, paging the candidates until it shows."""
    from kiosk.events import Intent

    def act() -> float:
        keyboard = j.core.view().keyboard
        if char in keyboard.candidates:
            return j.press(Intent.CANDIDATE, str(keyboard.candidates.index(char)))() or 0.0
        return j.press(Intent.CANDIDATE_PAGE, "next")() or 0.0

    return act


def write_strokes(
    j: Journey, strokes: list[list[tuple[int, int]]], box: int
) -> Callable[[], float]:
    """A finger writing `strokes` (points in a `box` square, y down) on the handwriting pad."""
    from kivy.clock import Clock
    from kivy.tests.common import UnitTestTouch

    from screens.keyboard import InkPad

    def act() -> float:
        pad = next(w for w in j.app.root.walk() if isinstance(w, InkPad) and w.get_root_window())
        x0, y0 = pad.to_window(pad.x, pad.y)
        at = [0.0]

        def window(point: tuple[int, int]) -> tuple[float, float]:
            return x0 + point[0] / box * pad.width, y0 + (1 - point[1] / box) * pad.height

        def later(fn: Callable[[], None]) -> None:
            at[0] += 0.02
            Clock.schedule_once(lambda _dt: fn(), at[0])

        for stroke in strokes:
            finger = UnitTestTouch(*window(stroke[0]))
            later(finger.touch_down)
            for point in stroke[1:]:
                x, y = window(point)
                later(lambda f=finger, x=x, y=y: f.touch_move(x, y))
            later(finger.touch_up)
        return at[0] + HOLD_S

    return act


def ink_drawn(j: Journey) -> int:
    """Strokes drawn on the handwriting pad on screen now."""
    from screens.keyboard import InkPad

    pads = [w for w in j.app.root.walk() if isinstance(w, InkPad) and w.get_root_window()]
    return pads[0].drawn if pads else -1


def plan_apply(j: Journey, *, elder: bool) -> None:
    """申请 from the start: identify, 失业登记, fill the form on the keyboards (digits, a choice,
    pinyin, handwriting with a rare character), photograph the document, review, submit, receipt."""
    from drivers.idcard.sim_cards import LI_XIUYING
    from kiosk.events import CardRead, Intent
    from kiosk.ids import StateId
    from tests.support.ime_engines import recorded_strokes

    box, written = recorded_strokes()
    if elder:
        j.add(None, j.press(Intent.TOGGLE_ELDER), StateId.ATTRACT, lambda v: v.elder)
    j.add(None, j.press(Intent.START), StateId.AWAIT_IDENTITY)
    j.add(None, j.post(CardRead(LI_XIUYING)), StateId.CATEGORIES)
    _until_shown(j, Intent.PICK_CATEGORY, APPLY_CATEGORY, StateId.CATEGORIES)
    j.add(None, j.press(Intent.PICK_CATEGORY, APPLY_CATEGORY), StateId.ITEMS)
    _until_shown(j, Intent.PICK_ITEM, APPLY_ITEM, StateId.ITEMS)
    j.add("guide", j.press(Intent.PICK_ITEM, APPLY_ITEM), StateId.GUIDE, _not_busy)
    j.add("apply_start", j.press(Intent.ACT), StateId.APPLY_START, _not_busy)
    j.add("form", j.press(Intent.FOR_SELF), StateId.FORM)
    # the phone number on the digit keys
    _until_shown(j, Intent.EDIT_FIELD, "phone", StateId.FORM)
    j.add("editing-digits", j.press(Intent.EDIT_FIELD, "phone"), StateId.EDITING)
    _keys(j, "13800138000")
    j.add(None, j.press(Intent.FIELD_DONE), StateId.FORM)
    # a choice
    _until_shown(j, Intent.EDIT_FIELD, "reason", StateId.FORM)
    j.add("editing-choice", j.press(Intent.EDIT_FIELD, "reason"), StateId.EDITING)
    j.add(None, j.press(Intent.CHOOSE, "resigned"), StateId.FORM)
    # text: 李 in pinyin, then 䶮 written by hand
    _until_shown(j, Intent.EDIT_FIELD, "last_employer", StateId.FORM)
    j.add(None, j.press(Intent.EDIT_FIELD, "last_employer"), StateId.EDITING)
    _keys(j, "lix")
    # 删除 takes back the last pinyin letter first
    composing = lambda v: v.keyboard.composition == "li" and "李" in v.keyboard.candidates  # noqa: E731
    j.add("editing-pinyin", j.press(Intent.BACKSPACE), StateId.EDITING, composing)
    for _ in range(3):
        j.add(None, pick_candidate(j, "李"), StateId.EDITING)
    j.add(None, lambda: None, StateId.EDITING, lambda v: v.keyboard.text == "李")
    j.add(None, j.press(Intent.LAYOUT, "handwriting"), StateId.EDITING)
    strokes = written["䶮"]
    inked = lambda v: v.keyboard.strokes == len(strokes) == ink_drawn(j)  # noqa: E731
    j.add(None, write_strokes(j, strokes, box), StateId.EDITING, inked)
    # 删除 with ink on the pad takes back the last stroke, on screen too; then it is rewritten
    less = lambda v: v.keyboard.strokes == len(strokes) - 1 == ink_drawn(j)  # noqa: E731
    j.add(None, j.press(Intent.BACKSPACE), StateId.EDITING, less)
    again = write_strokes(j, strokes[-1:], box)
    j.add("editing-handwriting", again, StateId.EDITING, inked)
    for _ in range(3):
        j.add(None, pick_candidate(j, "䶮"), StateId.EDITING)
    typed = lambda v: v.keyboard.text == "李䶮"  # noqa: E731
    j.add("editing-rare", lambda: None, StateId.EDITING, typed)
    j.add(None, j.press(Intent.FIELD_DONE), StateId.FORM)
    # a date, on the digit keys
    _until_shown(j, Intent.EDIT_FIELD, "ended_on", StateId.FORM)
    j.add(None, j.press(Intent.EDIT_FIELD, "ended_on"), StateId.EDITING)
    _keys(j, "2025010")
    j.add(None, j.press(Intent.KEY, "2"), StateId.EDITING, lambda v: v.keyboard.text == "20250102")
    filled = lambda v: all(f.value and not f.problem for f in v.fields)  # noqa: E731
    j.add("form-filled", j.press(Intent.FIELD_DONE), StateId.FORM, filled)
    live = lambda v: v.camera == "document"  # noqa: E731
    j.add("documents", j.press(Intent.NEXT), StateId.DOCUMENTS, live)
    j.add("documents-capturing", j.hold("capture", j.press(Intent.CAPTURE)), StateId.DOCUMENTS)
    taken = lambda v: any(t.jpeg for t in v.thumbnails) and not v.busy  # noqa: E731
    j.add("documents-taken", j.runner.release, StateId.DOCUMENTS, taken)
    j.add("review", j.press(Intent.NEXT), StateId.REVIEW)
    submitting = j.hold("submit", j.press(Intent.SUBMIT_APPLICATION))
    j.add("submitting", submitting, StateId.SUBMITTING)
    case = lambda v: v.qr.startswith("CASE:")  # noqa: E731
    j.add("submitted", j.runner.release, StateId.SUBMITTED, case)
    j.add(None, j.press(Intent.DONE), StateId.RATE)
    j.add(None, j.press(Intent.SKIP), StateId.THANKS)
    j.add(None, j.press(Intent.BACK), StateId.ATTRACT)


def _apply_missing(rig: Rig) -> str | None:
    return (
        _missing(rig, "application_form", "/items/{code}/form")
        or _missing(rig, "submit_application", "/applications")
        or equip_for_applying(rig)
    )


def plan(journey: Journey, *, large_text: bool, language: str, only: str | None = None) -> None:
    """Every journey, or those named in `only` (comma-separated), each from the start screen."""
    rig = journey.rig
    receipt_no = seeded_receipt_no()
    lookup_missing = _missing(rig, "case", "/cases/{receipt_no}")
    if lookup_missing is None and receipt_no is None:
        lookup_missing = "no seeded case (central/seed/cases.json) to look up"
    a4_missing = _missing(rig, "certificate_pdf", "/certificates/{certificate_no}/pdf")
    journeys: dict[str, tuple[str | None, Callable[[Journey], None]]] = {
        "print": (None, plan_print),
        "guide": (None, plan_guide),
        "pad": (None, plan_pad),
        "lookup": (lookup_missing, lambda j: plan_lookup(j, receipt_no or "")),
        "records": (_missing(rig, "records", "/records/{item_code}"), plan_records),
        "ticket": (_missing(rig, "take_ticket", "/tickets"), plan_ticket),
        "a4": (a4_missing, plan_a4),
        "timeout": (None, plan_timeout),
        "device": (None, plan_device),
        "apply": (None, lambda j: plan_apply(j, elder=False)),
        "apply-elder": (None, lambda j: plan_apply(j, elder=True)),
    }
    # The apply journeys run on their own (tests/gui/test_apply_screens.py), not in every mode.
    wanted = set(only.split(",")) if only else set(journeys) - set(APPLY_JOURNEYS)
    if wanted & {"apply", "apply-elder"}:
        why_not = _apply_missing(rig)
        journeys["apply"] = (why_not, journeys["apply"][1])
        journeys["apply-elder"] = (why_not, journeys["apply-elder"][1])
    for name, (missing, build) in journeys.items():
        if name not in wanted:
            continue
        if missing is not None:
            journey.skip(name, missing)
            continue
        journey.journey(name)
        _modes(journey, large_text, language)
        build(journey)


JOURNEYS = (
    "print",
    "guide",
    "pad",
    "lookup",
    "records",
    "ticket",
    "a4",
    "timeout",
    "device",
    "apply",
    "apply-elder",
)
APPLY_JOURNEYS = ("apply", "apply-elder")  # only with --only: a minute and a half together


def first_frame() -> int:
    """Start the app as the CLI does, quit after the first frame, print when it came (JSON)."""
    from screens.runner import run_app

    seen: list[float] = []
    with build_core() as rig:
        status = run_app(
            rig.core,
            fullscreen=False,
            size=SIZE,
            exit_after_first_frame=True,
            on_first_frame=seen.append,
        )
    print(
        json.dumps({"status": status, "calls": len(seen), "after_s": [t - STARTED for t in seen]})
    )
    return status if len(seen) == 1 else 1


def main(argv: list[str] | None = None) -> int:
    """Run the journeys and write the screenshots; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--large-text", action="store_true")
    parser.add_argument("--lang", choices=("zh_CN", "en"), default="zh_CN")
    parser.add_argument("--only", help="comma-separated journey names: " + ", ".join(JOURNEYS))
    parser.add_argument("--first-frame", action="store_true")
    args = parser.parse_args(argv)
    if args.first_frame:
        return first_frame()
    if args.out is None:
        parser.error("--out is required")
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.png"):
        old.unlink()

    from screens.runner import configure_kivy

    configure_kivy(fullscreen=False, size=SIZE)
    from kivy.clock import Clock

    from screens.app import KioskApp

    with build_core() as rig:
        app = KioskApp(rig.core, fullscreen=False, size=SIZE)
        journey = Journey(app, rig, args.out)
        plan(journey, large_text=args.large_text, language=args.lang, only=args.only)
        Clock.schedule_once(journey.begin, 0.5)
        app.run()
    failed = journey.fatal + [
        f"{name}: {error}" for name, r in journey.records.items() for error in r.errors
    ]
    for error in failed:
        print(error, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
