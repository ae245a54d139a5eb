"""Screen transition time of the real Kivy app under Xvfb, beside a bare Kivy ScreenManager.

    python bench/screen_transitions.py [--repeat 30] [--json FILE]

The kiosk runs as in bench/gui_sessions.py: `build_runtime` on config/default.yaml (the reference
service on loopback, every device simulated over its real transport), `KioskApp` in a 1080×1920
window. Touches go through the window to the widget that shows the intent. Measured for each kind
of transition: from the intent reaching the core (the button's release calls `core.touch`) to the
first frame drawn that shows the next screen (Window `on_flip`, after `glFinish`, since Mesa's
llvmpipe rasterises only when a frame is flushed). Also shown: the first frame that changed at all
(the busy screen, while printing or loading a guide), the time spent in `KioskApp.render`
building the screen's widgets meanwhile, and finger down to intent: one frame of
finger rest here, plus Kivy ScrollView's tap handling (it hands a tap's release to the tile inside
it 0.2 s late).

The baseline, in the same window and run: a bare ScreenManager (NoTransition) switching between
two screens with one Label each, from a button's release to the first frame showing the other.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gui_sessions import CHECKLIST_ITEM, Driver, Step, Timing, ensure_xvfb, kiosk_app  # noqa: E402

LOOKUP_ITEM = ("zonghe", "zonghe.case-progress")
PAD_DIGITS = "202611031234567"  # 15 digits: one short of a receipt number, so 查询 stays off


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def journey_steps(driver: Driver, with_card: bool = False) -> list[Step]:
    """attract → categories → items → guide → printing → rate → thanks → attract (a checklist)."""
    from kiosk.events import Intent
    from kiosk.ids import StateId

    category, item = CHECKLIST_ITEM
    return [
        Step("attract→categories", driver.press(Intent.BROWSE), StateId.CATEGORIES.value),
        Step("categories→items", driver.press(Intent.PICK_CATEGORY, category), StateId.ITEMS.value),
        Step(
            "items→guide",
            driver.press(Intent.PICK_ITEM, item),
            StateId.GUIDE.value,
            lambda v: not v.busy,
        ),
        Step("guide→printing→rate", driver.press(Intent.ACT), StateId.RATE.value),
        Step("rate→thanks", driver.press(Intent.RATE, "5"), StateId.THANKS.value),
        Step("thanks→attract", driver.press(Intent.BACK), StateId.ATTRACT.value),
    ]


def pad_steps(driver: Driver) -> list[Step]:
    """To the digit pad, each key of a 15-digit number, then clear and back to the start."""
    from kiosk.events import Intent
    from kiosk.ids import StateId

    category, item = LOOKUP_ITEM
    entry = StateId.LOOKUP_ENTRY.value
    steps = [
        Step("(to pad)", driver.press(Intent.BROWSE), StateId.CATEGORIES.value),
        Step("(to pad)", driver.press(Intent.PICK_CATEGORY, category), StateId.ITEMS.value),
        Step("(to pad)", driver.press(Intent.PICK_ITEM, item), StateId.GUIDE.value, _ready),
        Step("(to pad)", driver.press(Intent.ACT), entry, lambda v: v.entry == ""),
    ]
    typed = ""
    for digit in PAD_DIGITS:
        typed += digit
        steps.append(
            Step(
                "pad digit→entry",
                driver.press(Intent.DIGIT, digit),
                entry,
                _entry_is(typed),
            )
        )
    steps += [
        Step("(from pad)", driver.press(Intent.DIGIT, "clear"), entry, _entry_is("")),
        Step("(from pad)", driver.press(Intent.HOME), StateId.ATTRACT.value),
    ]
    return steps


def _ready(view: Any) -> bool:
    return not view.busy


def _entry_is(digits: str) -> Callable[[Any], bool]:
    return lambda view: (view.entry or "").replace(" ", "") == digits


# ---- the baseline --------------------------------------------------------------------------------


class BareScreens:
    """Two screens with a Label each in a NoTransition ScreenManager, and a button to switch."""

    def __init__(self, on_switch: Callable[[], None]) -> None:
        from kivy.uix.button import Button
        from kivy.uix.floatlayout import FloatLayout
        from kivy.uix.label import Label
        from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager

        self._on_switch = on_switch
        self.manager = ScreenManager(transition=NoTransition())
        for name in ("a", "b"):
            screen = Screen(name=name)
            screen.add_widget(Label(text=f"Screen {name.upper()}", font_size=64))
            self.manager.add_widget(screen)
        self.root = FloatLayout()
        self.root.add_widget(self.manager)
        self.button = Button(text="switch", size_hint=(0.4, 0.1), pos_hint={"x": 0.3, "y": 0.05})
        self.button.bind(on_release=self._switch)
        self.root.add_widget(self.button)

    def _switch(self, *_: object) -> None:
        self._on_switch()
        self.manager.current = "b" if self.manager.current == "a" else "a"

    def steps(self, driver: Driver, repeat: int) -> list[Step]:
        steps = []
        for i in range(repeat * 2):
            target = "b" if i % 2 == 0 else "a"
            steps.append(
                Step(
                    "baseline a⇄b",
                    lambda: driver.tap(self.button),
                    shown=lambda target=target: self.manager.current == target,
                )
            )
        return steps


# ---- running -------------------------------------------------------------------------------------


def measure(repeat: int) -> tuple[list[Timing], list[Timing], list[str]]:
    """The kiosk's transitions, then the baseline in the same window."""
    kiosk: list[Timing] = []
    base: list[Timing] = []
    with kiosk_app() as (runtime, app):
        from kivy.clock import Clock
        from kivy.core.window import Window

        driver = Driver(app, runtime.core)
        driver.watch_render()
        bare = BareScreens(driver.note_intent)

        def kiosk_round(done: int) -> None:
            if done >= repeat:
                start_baseline()
                return
            steps = journey_steps(driver) + pad_steps(driver)
            driver.run(steps, lambda: kiosk_round(done + 1))

        def start_baseline() -> None:
            kiosk.extend(driver.timings)
            driver.timings.clear()
            Window.remove_widget(app.root)
            Window.add_widget(bare.root)
            # a few frames to lay the bare tree out before the first touch
            Clock.schedule_once(lambda _dt: driver.run(bare.steps(driver, repeat), finish), 0.5)

        def finish() -> None:
            base.extend(driver.timings)
            driver.stop()
            Window.remove_widget(bare.root)
            Window.add_widget(app.root)
            app.stop()

        def begin(_dt: float) -> None:
            driver.watch_intents()
            kiosk_round(0)

        Clock.schedule_once(begin, 1.0)
        app.run()
    return kiosk, base, driver.failures


def summarise(kiosk: list[Timing], base: list[Timing]) -> dict[str, Any]:
    baseline = [(t.drawn - (t.intent or t.acted)) * 1000 for t in base]
    base_median = statistics.median(baseline)
    rows: dict[str, Any] = {
        "baseline a⇄b": {
            "n": len(baseline),
            "median_ms": round(base_median, 1),
            "p95_ms": round(percentile(baseline, 0.95), 1),
        }
    }
    by_step: dict[str, list[Timing]] = {}
    for t in kiosk:
        if not t.step.startswith("("):
            by_step.setdefault(t.step, []).append(t)
    for name, timings in by_step.items():
        done = [(t.drawn - (t.intent or t.acted)) * 1000 for t in timings]
        first = [(t.changed - (t.intent or t.acted)) * 1000 for t in timings]
        lag = [((t.intent or t.acted) - t.acted) * 1000 for t in timings]
        row = {
            "n": len(done),
            "median_ms": round(statistics.median(done), 1),
            "p95_ms": round(percentile(done, 0.95), 1),
            "x_baseline": round(statistics.median(done) / base_median, 1),
            "touch_to_intent_median_ms": round(statistics.median(lag), 1),
            "render_median_ms": round(statistics.median(t.render_s * 1000 for t in timings), 1),
        }
        # the first frame that changed (a busy screen on the way, while loading or printing)
        row["first_change_median_ms"] = round(statistics.median(first), 1)
        row["first_change_p95_ms"] = round(percentile(first, 0.95), 1)
        rows[name] = row
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    ensure_xvfb(__file__)
    kiosk, base, failures = measure(args.repeat)
    if not base:
        print("the run ended before the baseline", file=sys.stderr)
        return 1
    rows = summarise(kiosk, base)
    print(
        f"{'transition':22} {'n':>4} {'median':>9} {'p95':>9} {'×base':>6} "
        f"{'first change':>13} {'render':>9} {'touch→intent':>13}"
    )
    for name, row in rows.items():
        first = row.get("first_change_median_ms", row["median_ms"])
        print(
            f"{name:22} {row['n']:4d} {row['median_ms']:7.1f}ms {row['p95_ms']:7.1f}ms "
            f"{row.get('x_baseline', 1.0):6.1f} {first:11.1f}ms "
            f"{row.get('render_median_ms', 0.0):7.1f}ms "
            f"{row.get('touch_to_intent_median_ms', 0.0):11.1f}ms"
        )
    for failure in failures:
        print(f"failed: {failure}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1))
    print(json.dumps({"transitions": rows, "failures": len(failures)}, ensure_ascii=False))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
