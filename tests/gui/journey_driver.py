"""Walk a resident's journey through the real Kivy screens and screenshot every step.

    python -m tests.gui.journey_driver --out DIR [--large-text] [--lang zh_CN|en]
    python -m tests.gui.journey_driver --first-frame

Needs a display (run it under `xvfb-run -a -s "-screen 0 1080x1920x24"`). The core runs with fake
services, a fake clock, and tasks that run inline unless held (to catch the busy screens). Touches
go through the window like a finger's, to the widget that shows the intent. Writes NN-<step>.png
and manifest.json (every view model seen, plus layout problems found) into DIR; exit status 0
when every step reached the state it expected. `--first-frame` instead starts the app through
`screens.runner.run_app(exit_after_first_frame=True)` and prints when the first frame was drawn.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

STARTED = time.monotonic()
SIZE = (1080, 1920)
SETTLE_S = 0.4  # layouts and label textures settle over a few frames
HOLD_S = 0.12  # how long a simulated finger stays down
SETTLE_FRAMES = 3
WATCHDOG_S = 60

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


def build_core() -> tuple[Any, Any, HeldTaskRunner]:
    """A KioskCore over fakes, a FakeClock, and a task runner that can hold tasks."""
    from kiosk.clock import FakeClock
    from kiosk.config import parse_config
    from kiosk.core import KioskCore, Services
    from tests.support.fakes import FakeCentral, FakePrinter

    runners: list[HeldTaskRunner] = []

    def factory(post: Callable[[Any], None]) -> HeldTaskRunner:
        runners.append(HeldTaskRunner(post))
        return runners[-1]

    clock = FakeClock()
    config = parse_config({"kiosk_id": "KIOSK-DEMO-01", "ui": {"fullscreen": False}})
    core = KioskCore(config, Services(central=FakeCentral(), printer=FakePrinter()), clock, factory)
    core.start()
    core.pump()
    return core, clock, runners[0]


def view_record(view: Any) -> dict[str, Any]:
    """A view model as JSON-able data (intents become their values)."""
    return json.loads(json.dumps(dataclasses.asdict(view), default=str, ensure_ascii=False))


class Journey:
    """Runs the steps one per settle period on Kivy's clock, then stops the app."""

    def __init__(self, app: Any, core: Any, clock: Any, runner: HeldTaskRunner, out: Path) -> None:
        self.app, self.core, self.clock, self.runner, self.out = app, core, clock, runner, out
        self.steps: list[tuple[str | None, Callable[[], None], str, Check | None]] = []
        self.shots: list[dict[str, Any]] = []
        self.views: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.problems: list[str] = []
        core.add_listener(lambda view: self.views.append(view_record(view)))

    # ---- actions -------------------------------------------------------------------------------

    def press(self, intent: str, arg: str | None = None) -> Callable[[], None]:
        """An action that touches the on-screen widget that sends `intent` (with `arg`)."""

        def act() -> None:
            from kivy.core.window import Window
            from kivy.tests.common import UnitTestTouch

            widget = self._find(intent, arg)
            x, y = widget.to_window(*widget.center)
            if not (0 <= x < Window.width and 0 <= y < Window.height):
                raise AssertionError(f"{intent}/{arg} is off screen at {x:.0f},{y:.0f}")
            from kivy.clock import Clock

            touch = UnitTestTouch(x, y)
            touch.touch_down()
            # A finger rests a moment; an instant release confuses ScrollView's tap detection.
            Clock.schedule_once(lambda _dt: touch.touch_up(), HOLD_S)

        return act

    def post(self, event: Any) -> Callable[[], None]:
        return lambda: self.core.post(event)

    def advance(self, seconds: float) -> Callable[[], None]:
        """Move the fake clock on and tick, as a second of real time would."""

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

    def add(
        self, name: str | None, action: Callable[[], None], state: str, check: Check | None = None
    ) -> None:
        """A step: do `action`, expect `state` (and `check(view)`), screenshot NN-`name`.png."""
        self.steps.append((name, action, state, check))

    def begin(self, *_: object) -> None:
        from kivy.clock import Clock

        Clock.schedule_once(
            lambda _dt: self._fail("watchdog: the journey took too long"), WATCHDOG_S
        )
        # The first frames lay the window out; a touch before that lands on a 100x100 widget at 0,0.
        after_frames(SETTLE_FRAMES * 2, lambda: self._next(0))

    def _next(self, index: int) -> None:
        from kivy.clock import Clock

        if index >= len(self.steps):
            self._finish()
            return
        name, action, state, check = self.steps[index]
        try:
            action()
        except Exception:
            self._fail(f"step {index} ({name}): {traceback.format_exc()}")
            return

        def settled(_dt: float) -> None:
            self.core.pump()
            if self.core.state != state:
                self._fail(f"step {index} ({name}): state {self.core.state}, expected {state}")
                return
            if check is not None and not check(self.core.view()):
                self._fail(f"step {index} ({name}): the view does not show the expected change")
                return
            # A render in this very frame leaves layouts pending: let a few frames pass first.
            after_frames(SETTLE_FRAMES, lambda: done())

        def done() -> None:
            if name is None:
                self._next(index + 1)
            else:
                number = sum(1 for s in self.steps[:index] if s[0]) + 1
                self._capture(f"{number:02d}-{name}.png", lambda: self._next(index + 1))

        Clock.schedule_once(settled, SETTLE_S)

    def _capture(self, filename: str, then: Callable[[], None]) -> None:
        from kivy.clock import Clock
        from kivy.core.window import Window

        def on_flip(*_: object) -> None:
            # Bound on_flip handlers run after drawing, before the buffers swap: the frame is whole.
            Window.unbind(on_flip=on_flip)
            saved = Window.screenshot(name=str(self.out / f"tmp-{filename}"))
            os.replace(saved, self.out / filename)
            view = self.core.view()
            self.shots.append({"file": filename, "state": view.state, "view": view_record(view)})
            self.problems.extend(f"{filename}: {p}" for p in layout_problems(self.app))
            Clock.schedule_once(lambda _dt: then(), 0)

        Window.bind(on_flip=on_flip)
        Window.canvas.ask_update()

    def _fail(self, message: str) -> None:
        if not self.errors:
            self.errors.append(message)
        self._finish()

    def _finish(self) -> None:
        manifest = {
            "size": list(SIZE),
            "shots": self.shots,
            "views": self.views,
            "errors": self.errors,
            "layout_problems": self.problems,
        }
        text = json.dumps(manifest, ensure_ascii=False, indent=1)
        (self.out / "manifest.json").write_text(text, encoding="utf-8")
        self.app.stop()


def after_frames(frames: int, then: Callable[[], None]) -> None:
    """Call `then` once `frames` more frames have been drawn."""
    from kivy.clock import Clock

    if frames <= 0:
        then()
    else:
        Clock.schedule_once(lambda _dt: after_frames(frames - 1, then), 0)


def layout_problems(app: Any) -> list[str]:
    """Text cut off, text too small, touch targets too short: what a screenshot review looks for."""
    from kivy.uix.behaviors import ButtonBehavior
    from kivy.uix.label import Label

    from screens import theme

    scale = theme.window_scale(*app.root.size)
    problems = []
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
    return problems


def plan(journey: Journey, *, large_text: bool, language: str) -> None:
    """The journey: every state, a read error, a countdown warning, and back to the start."""
    from drivers.state import DeviceState, DeviceStatus
    from kiosk.events import CardRead, CardReadFailed, DeviceChanged, Intent
    from tests.support.fakes import card

    j = journey
    if large_text:
        j.add(None, j.press(Intent.TOGGLE_LARGE_TEXT), "attract", lambda v: v.large_text)
    if language == "en":
        j.add(None, j.press(Intent.TOGGLE_LANGUAGE), "attract", lambda v: v.language == "en")
    j.add("attract", lambda: None, "attract")
    j.add("await_card", j.press(Intent.START), "await_card")
    j.add(
        "await_card-notice", j.post(CardReadFailed("unreadable")), "await_card", lambda v: v.notice
    )
    j.add("identifying", j.hold("verify", j.post(CardRead(card()))), "identifying")
    j.add("categories", j.runner.release, "categories")
    j.add("items", j.press(Intent.PICK_CATEGORY, "shebao"), "items")
    j.add("guide-no-print", j.press(Intent.PICK_ITEM, "SB002"), "guide")
    j.add(None, j.press(Intent.BACK), "items")
    j.add("guide", j.press(Intent.PICK_ITEM, "SB001"), "guide")
    warn_at = journey.core.config.ui.timeouts.guide_s - 10
    j.add("guide-countdown", j.advance(warn_at), "guide", lambda v: v.seconds_left is not None)
    j.add(None, j.press(Intent.MORE_TIME), "guide", lambda v: v.seconds_left is None)
    # The printer fails: printing is greyed out with the reason; it comes back without a restart.
    offline = DeviceChanged("receipt_printer", DeviceStatus(DeviceState.OFFLINE, "unplugged"))
    greyed = lambda v: not v.options[0].enabled  # noqa: E731
    j.add("guide-printer-offline", j.post(offline), "guide", greyed)
    back = DeviceChanged("receipt_printer", DeviceStatus(DeviceState.ONLINE))
    j.add(None, j.post(back), "guide", lambda v: v.options[0].enabled)
    j.add("printing", j.hold("print", j.press(Intent.PRINT)), "printing")
    j.add("rating", j.runner.release, "rating")
    j.add("thanks", j.press(Intent.RATE, "5"), "thanks")
    # Back at the start, the next resident gets the default text size and language again.
    wiped = lambda v: not v.large_text and v.language == "zh_CN"  # noqa: E731
    j.add("attract-again", j.press(Intent.BACK), "attract", wiped)


def first_frame() -> int:
    """Start the app as the CLI does, quit after the first frame, print when it came (JSON)."""
    from screens.runner import run_app

    core, _clock, _runner = build_core()
    seen: list[float] = []
    status = run_app(
        core, fullscreen=False, size=SIZE, exit_after_first_frame=True, on_first_frame=seen.append
    )
    core.stop()
    print(
        json.dumps({"status": status, "calls": len(seen), "after_s": [t - STARTED for t in seen]})
    )
    return status if len(seen) == 1 else 1


def main(argv: list[str] | None = None) -> int:
    """Run the journey and write the screenshots; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--large-text", action="store_true")
    parser.add_argument("--lang", choices=("zh_CN", "en"), default="zh_CN")
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

    core, clock, runner = build_core()
    app = KioskApp(core, fullscreen=False, size=SIZE)
    journey = Journey(app, core, clock, runner, args.out)
    plan(journey, large_text=args.large_text, language=args.lang)
    Clock.schedule_once(journey.begin, 0.5)
    app.run()
    core.stop()
    for error in journey.errors:
        print(error, file=sys.stderr)
    return 1 if journey.errors else 0


if __name__ == "__main__":
    sys.exit(main())
