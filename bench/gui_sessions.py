"""Memory of the real Kivy app over many consecutive resident sessions, on the embedded default.

    python bench/gui_sessions.py [--sessions 1000] [--warmup 50] [--every 100] [--size 1080x1920]
                                 [--identify card|event] [--taps window|dispatch]
                                 [--trace 200,800] [--steps] [--json FILE]

The kiosk runs as `make run` does (`kiosk.runtime.build_runtime` on config/default.yaml, every
device simulated over its real transport, the reference service on loopback), in a window of its
own size under Xvfb (started here when there is no display), with `screens.app.KioskApp` pumping
the core on Kivy's clock. Only the demo resident is off: this script is the resident. Each session:
start screen → 身份核验办理 → the ID card on the simulated reader → categories → items → guide →
print (a receipt certificate and a guide checklist in turn) → rate → thanks → start screen, each
step taken as soon as the frame showing the previous one has been drawn.

Sampled after the warm-up and then every `--every` sessions, after a full garbage collection:
resident set size (VmRSS), threads, open file descriptors, live Kivy widgets and textures, and the
sizes of Kivy's caches. Printed: growth per 1,000 sessions (least squares over the samples) and
final/after-warm-up; the issue's goal is a ratio of at most 1.05. `--trace A,B` also diffs
tracemalloc snapshots taken at sessions A and B (slower; for finding a leak, not for the figure).

Pace: Mesa's llvmpipe draws every frame in software, about 40-150 ms a frame at 1080×1920 on two
shared cores, so the full-size run takes long; `--size 540x960 --identify event --taps dispatch`
(a CardRead event instead of the reader's 0.3 s polling, a button's release dispatched instead
of a finger on the glass) runs about twice as fast and exercises the same screens.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZE = (1080, 1920)
GOAL_RATIO = 1.05
STEP_TIMEOUT_S = 20.0
_UNDER_XVFB = "BENCH_UNDER_XVFB"

# Service items of the reference catalogue: a receipt certificate (needs identity), and a guide
# whose checklist prints on the receipt printer.
RECEIPT_ITEM = ("shebao", "shebao.insured-cert")
CHECKLIST_ITEM = ("huji", "huji.birth-registration")


# ---- setting up ------------------------------------------------------------------------------


def ensure_xvfb(script: str, size: tuple[int, int] = SIZE) -> None:
    """Without a display, run `script` again under xvfb-run (a screen of `size`) and exit with
    its status; a child process rather than exec, so `python -m bench` goes on afterwards."""
    if os.environ.get("DISPLAY") or os.environ.get(_UNDER_XVFB):
        return
    if shutil.which("xvfb-run") is None:
        sys.exit("no display and no xvfb-run: apt-get install xvfb xauth")
    width, height = size
    screen = ["-a", "-s", f"-screen 0 {width}x{height}x24"]
    env = {**os.environ, _UNDER_XVFB: "1"}
    argv = ["xvfb-run", *screen, sys.executable, script, *sys.argv[1:]]
    sys.exit(subprocess.run(argv, env=env, check=False).returncode)


def bench_config(home: Path, size: tuple[int, int] = SIZE) -> Any:
    """config/default.yaml, windowed at `size`, without the demo resident; files under `home`."""
    import yaml

    from kiosk.config import parse_config

    os.environ["KIOSK_HOME"] = str(home)
    data = yaml.safe_load((ROOT / "config" / "default.yaml").read_text("utf-8"))
    data.setdefault("simulation", {}).update(demo_hand=False, demo_phone=False)
    data.setdefault("ui", {}).update(fullscreen=False, width=size[0], height=size[1])
    return parse_config(data, "config/default.yaml (bench)")


@contextlib.contextmanager
def _bench_central(home: Path, config: Any) -> Iterator[Any]:
    """The reference service as `make run` embeds it, with this kiosk enrolled, but with per-kiosk
    limits no resident's pace reaches: this script identifies someone every two seconds, past the
    30 identity checks a minute a real kiosk is allowed. Yields `config` pointed at it."""
    from central.auth import AuthSettings
    from central.server import start_background
    from kiosk.credentials import kiosk_signer
    from trust.keys import KioskRegistry

    var = home / "var"
    var.mkdir(parents=True, exist_ok=True)
    registry = var / "bench-kiosks.yaml"
    kiosk_signer(config, home / config.credentials.key_file, embedded_registry=registry)
    server = start_background(
        db_url=f"sqlite:///{var / 'central.db'}",
        kiosk_registry=KioskRegistry.load(registry),
        auth_settings=AuthSettings(identity_limits="1000/minute", rating_limits="1000/minute"),
    )
    try:
        central = config.central.model_copy(update={"url": server.base_url})
        yield config.model_copy(update={"central": central})
    finally:
        server.stop()


@contextlib.contextmanager
def kiosk_app(size: tuple[int, int] = SIZE) -> Iterator[tuple[Any, Any]]:
    """The running kiosk's parts and its (not yet running) KioskApp, in a throwaway KIOSK_HOME."""
    home = Path(tempfile.mkdtemp(prefix="kiosk-bench-"))
    try:
        from kiosk.runtime import build_runtime

        config = bench_config(home, size)
        with _bench_central(home, config) as config, build_runtime(config) as runtime:
            from screens.runner import configure_kivy

            configure_kivy(fullscreen=False, size=(config.ui.width, config.ui.height))
            from screens.app import KioskApp

            app = KioskApp(runtime.core, fullscreen=False, size=(config.ui.width, config.ui.height))
            yield runtime, app
    finally:
        shutil.rmtree(home, ignore_errors=True)


# ---- driving the screens -------------------------------------------------------------------------


@dataclass
class Step:
    """Do `action`; done when a frame showing `state` (and `check(view)`) has been drawn."""

    name: str
    action: Callable[[], None]
    state: str = ""
    check: Callable[[Any], bool] | None = None
    shown: Callable[[], bool] | None = None  # instead of `state`: when the step's frame is done


@dataclass
class Timing:
    """When a step's action ran, when its intent reached the core, and when its frame flipped."""

    step: str
    acted: float
    intent: float | None
    changed: float  # the first frame drawn with another state (or busy) than before the action
    drawn: float
    render_s: float = 0.0  # spent in KioskApp.render (building the screen's widgets) meanwhile


@dataclass
class Driver:
    """Runs steps one after the other on Kivy's clock, as fast as the screens allow.

    A step is over at the first `on_flip` (after a frame is drawn, before it is swapped onto the
    screen) at which the app has rendered the expected state and shows its screen.
    """

    app: Any
    core: Any
    taps: str = "window"  # "window": touches through the window; "dispatch": on_release directly
    timings: list[Timing] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    _steps: list[Step] = field(default_factory=list)
    _index: int = 0
    _acted: float = 0.0
    _intent_at: float | None = None
    _changed_at: float | None = None
    _render_s: float = 0.0
    _before: tuple[Any, ...] = ()
    _then: Callable[[], None] | None = None
    _waiting: bool = False
    _poll: Any = None

    def watch_intents(self) -> None:
        """Note when each intent reaches the core (the screens call `core.touch`)."""
        touch = self.core.touch

        def timed(intent: Any, arg: str | None = None) -> None:
            self.note_intent()
            touch(intent, arg)

        self.core.touch = timed

    def watch_render(self) -> None:
        """Add up the time the app spends rendering view models (call before `app.run`)."""
        render = self.app.render

        def timed(view: Any) -> None:
            start = time.perf_counter()
            try:
                render(view)
            finally:
                self._render_s += time.perf_counter() - start

        self.app.render = timed

    def note_intent(self) -> None:
        """The current step's intent was sent now."""
        self._intent_at = time.perf_counter()

    def run(self, steps: list[Step], then: Callable[[], None]) -> None:
        from kivy.clock import Clock
        from kivy.core.window import Window

        self._steps, self._index, self._then = steps, 0, then
        if self._poll is None:
            Window.bind(on_flip=self._on_flip)
            self._poll = Clock.schedule_interval(self._ask_redraw, 0)
        self._start_step()

    def stop(self) -> None:
        from kivy.core.window import Window

        Window.unbind(on_flip=self._on_flip)
        if self._poll is not None:
            self._poll.cancel()
            self._poll = None

    def _start_step(self, first_try: float | None = None) -> None:
        from kivy.clock import Clock

        step = self._steps[self._index]
        self._intent_at = self._changed_at = None
        self._render_s = 0.0
        self._before = self._looks()
        self._acted = time.perf_counter()
        first_try = self._acted if first_try is None else first_try
        self._waiting = True
        try:
            step.action()
        except LookupError as exc:
            # What to touch is not on screen yet (the catalogue or a device still coming up).
            self._waiting = False
            if self._acted - first_try > STEP_TIMEOUT_S:
                self._fail(f"{step.name}: {exc}")
            else:
                Clock.schedule_once(lambda _dt: self._start_step(first_try), 0.1)
        except Exception as exc:
            self._fail(f"{step.name}: {exc!r}")

    def _looks(self) -> tuple[Any, ...]:
        view = self.app.view
        return (None,) if view is None else (view.state, view.busy, self.app.manager.current)

    def _shown(self, step: Step) -> bool:
        from screens.routing import screen_for

        if step.shown is not None:
            return step.shown()
        view = self.app.view
        return (
            view is not None
            and view.state == step.state
            and self.app.manager.current == screen_for(view)
            and (step.check is None or step.check(view))
        )

    def _ask_redraw(self, _dt: float) -> None:
        # Kivy flips only when something changed; a step whose frame needs no redraw still ends.
        if not self._waiting:
            return
        from kivy.core.window import Window

        step = self._steps[self._index]
        if self._shown(step):
            Window.canvas.ask_update()
        elif time.perf_counter() - self._acted > STEP_TIMEOUT_S:
            self._fail(f"{step.name}: not shown after {STEP_TIMEOUT_S:.0f} s: {self._looks()}")

    def _on_flip(self, *_: object) -> None:
        from kivy.graphics.opengl import glFinish

        if not self._waiting:
            return
        step = self._steps[self._index]
        changed = self._changed_at is None and self._looks() != self._before
        shown = self._shown(step)
        if not (changed or shown):
            return
        # on_flip comes before the buffer swap, and a software renderer (llvmpipe under Xvfb)
        # rasterises only when the frame is flushed: finish it, so the time is the frame's.
        glFinish()
        now = time.perf_counter()
        if changed:
            self._changed_at = now
        if not shown:
            return
        self._waiting = False
        first = now if self._changed_at is None else self._changed_at
        timing = Timing(step.name, self._acted, self._intent_at, first, now, self._render_s)
        self.timings.append(timing)
        self._index += 1
        from kivy.clock import Clock

        # The next action in the next frame, as a finger could at the earliest.
        Clock.schedule_once(lambda _dt: self._next(), 0)

    def _next(self) -> None:
        if self._index >= len(self._steps):
            then, self._then = self._then, None
            if then is not None:
                then()
        else:
            self._start_step()

    def _fail(self, message: str) -> None:
        """Record it, take the kiosk back to its start screen, and carry on from there."""
        from kiosk.events import Intent
        from kiosk.ids import StateId

        self._waiting = False
        self.failures.append(message)
        print(f"  step failed: {message}", file=sys.stderr, flush=True)
        self.core.touch(Intent.HOME)
        self.core.touch(Intent.BACK)  # from thanks, home is "finish"
        recover = Step("(recover)", lambda: None, StateId.ATTRACT.value)
        self._steps, self._index = [recover], 0
        from kivy.clock import Clock

        Clock.schedule_once(lambda _dt: self._start_step(), 0.5)

    # ---- actions ---------------------------------------------------------------------------

    def press(self, intent: Any, arg: str | None = None) -> Callable[[], None]:
        """An action: the resident touches the widget on screen that sends `intent` / `arg`."""
        return lambda: self.tap(self.find(intent, arg))

    def find(self, intent: Any, arg: str | None) -> Any:
        matches = [
            w
            for w in self.app.root.walk()
            if getattr(w, "intent", None) == intent
            and getattr(w, "arg", None) == arg
            and not getattr(w, "disabled", False)
            and w.get_root_window() is not None
        ]
        if not matches:
            raise LookupError(f"no enabled widget on screen sends {intent}/{arg}")
        return matches[-1]  # the topmost: the countdown overlay's over the screen's

    def tap(self, widget: Any) -> None:
        """A finger down on `widget`'s centre and up in the next frame (or, with taps=dispatch,
        the button's release dispatched directly: no ScrollView tap delay)."""
        from kivy.clock import Clock
        from kivy.core.window import Window
        from kivy.tests.common import UnitTestTouch

        if self.taps == "dispatch":
            widget.dispatch("on_press")
            widget.dispatch("on_release")
            return
        scroll_into_view(widget)
        x, y = widget.to_window(*widget.center)
        if not (0 <= x < Window.width and 0 <= y < Window.height):
            raise LookupError(f"{type(widget).__name__} off screen at {x:.0f},{y:.0f}")
        finger = UnitTestTouch(x, y)
        finger.touch_down()
        Clock.schedule_once(lambda _dt: finger.touch_up(), 0)


def scroll_into_view(widget: Any) -> None:
    """Scroll the ScrollView holding `widget` (if any) so that all of it shows."""
    from kivy.uix.scrollview import ScrollView

    parent = widget.parent
    while parent is not None and parent is not parent.parent:
        if isinstance(parent, ScrollView):
            _x, y = widget.to_window(widget.x, widget.y)
            _sx, sy = parent.to_window(parent.x, parent.y)
            if y < sy or y + widget.height > sy + parent.height:
                parent.scroll_to(widget, padding=20, animate=False)
                parent._update_effect_bounds()
                # scroll_to moves the content on the next layout pass; do it now.
                parent.update_from_scroll()
            return
        parent = parent.parent


def identify_offered(app: Any) -> bool:
    """Whether the start screen is up and offers identification (the ID card reader online)."""
    from kiosk.events import Intent

    view = app.view
    return view is not None and any(
        o.intent == Intent.START and o.enabled for o in (*view.options, *view.actions)
    )


def session_steps(driver: Driver, runtime: Any, n: int, identify: str) -> list[Step]:
    """One resident's visit; even sessions print a certificate, odd ones a guide's checklist."""
    from drivers.idcard.sim_cards import LI_XIUYING
    from kiosk.events import CardRead, Intent
    from kiosk.ids import StateId

    category, item = RECEIPT_ITEM if n % 2 == 0 else CHECKLIST_ITEM
    reader = runtime.hall.idcard_sim

    def lay_card() -> None:
        if identify == "card" and reader is not None:
            reader.insert(LI_XIUYING)
        else:
            driver.core.post(CardRead(LI_XIUYING))

    def take_card_and_rate() -> None:
        if reader is not None:
            reader.remove()
        driver.press(Intent.RATE, "5")()

    def ready(view: Any) -> bool:
        return not view.busy

    return [
        Step("attract→await", driver.press(Intent.START), StateId.AWAIT_IDENTITY.value),
        Step("card→categories", lay_card, StateId.CATEGORIES.value),
        Step("categories→items", driver.press(Intent.PICK_CATEGORY, category), StateId.ITEMS.value),
        Step("items→guide", driver.press(Intent.PICK_ITEM, item), StateId.GUIDE.value, ready),
        Step("guide→rate", driver.press(Intent.ACT), StateId.RATE.value),
        Step("rate→thanks", take_card_and_rate, StateId.THANKS.value),
        Step("thanks→attract", driver.press(Intent.BACK), StateId.ATTRACT.value),
    ]


# ---- measuring -----------------------------------------------------------------------------------


def rss_kb() -> int:
    """This process's resident set size (VmRSS), in kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def kivy_counts() -> dict[str, int]:
    """Live widgets, textures, and entries in each of Kivy's caches (after a full collection)."""
    from kivy.app import App
    from kivy.cache import Cache
    from kivy.graphics.texture import Texture
    from kivy.uix.widget import Widget

    gc.collect()
    counts: Counter[str] = Counter()
    for obj in gc.get_objects():
        if isinstance(obj, Widget):
            counts["widgets"] += 1
        elif isinstance(obj, Texture):
            counts["textures"] += 1
    result = {"widgets": counts["widgets"], "textures": counts["textures"]}
    app = App.get_running_app()
    if app is not None:
        # kv rules bind to the app's size properties; a binding that outlives its widget stays
        # here until the property next changes
        result["app_bindings"] = sum(
            len(app.get_property_observers(name)) for name in app.properties()
        )
    for category, objects in Cache._objects.items():
        result[f"cache:{category}"] = len(objects)
    return result


def sample(session: int) -> dict[str, Any]:
    """One row of figures, taken between sessions."""
    figures = kivy_counts()  # collects first, so RSS follows a full collection
    return {
        "session": session,
        "rss_kb": rss_kb(),
        "threads": len(os.listdir("/proc/self/task")),
        "fds": len(os.listdir("/proc/self/fd")),
        **figures,
    }


def slope_per_1000(samples: list[dict[str, Any]], key: str) -> float:
    """Least-squares growth of `key` per 1,000 sessions."""
    xs = [s["session"] for s in samples]
    ys = [s[key] for s in samples]
    if len(xs) < 2:
        return 0.0
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return 1000 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def top_growth(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, limit: int = 15) -> str:
    stats = after.compare_to(before, "traceback")
    lines = []
    for stat in stats[:limit]:
        frames = [f"{f.filename.replace(str(ROOT) + '/', '')}:{f.lineno}" for f in stat.traceback]
        lines.append(f"{stat.size_diff / 1024:+9.1f} kB {stat.count_diff:+7d}  {frames[-1]}")
        lines.extend(f"{'':28}{f}" for f in reversed(frames[:-1][-4:]))
    return "\n".join(lines)


def step_summary(timings: list[Timing]) -> str:
    """Median and p95 per step: action to drawn frame (and intent to drawn frame)."""
    by_step: dict[str, list[Timing]] = {}
    for t in timings:
        by_step.setdefault(t.step, []).append(t)
    lines = []
    for name, ts in by_step.items():
        total = sorted((t.drawn - t.acted) * 1000 for t in ts)
        lines.append(
            f"  {name:18} n={len(ts):5d}  median {total[len(total) // 2]:7.1f} ms  "
            f"p95 {total[min(len(total) - 1, round(0.95 * (len(total) - 1)))]:7.1f} ms"
        )
    return "\n".join(lines)


# ---- the run -------------------------------------------------------------------------------------


@dataclass
class Run:
    sessions: int
    warmup: int
    every: int
    identify: str
    trace: tuple[int, ...] | None
    samples: list[dict[str, Any]] = field(default_factory=list)
    snapshots: dict[int, tracemalloc.Snapshot] = field(default_factory=dict)
    started: float = 0.0

    def due(self, done: int) -> bool:
        periodic = done > self.warmup and done % self.every == 0
        return done in (self.warmup, self.sessions) or periodic


def run_sessions(args: argparse.Namespace) -> tuple[Run, Driver]:
    trace = tuple(int(n) for n in args.trace.split(",")) if args.trace else None
    run = Run(args.sessions, args.warmup, args.every, args.identify, trace)
    with kiosk_app(args.size) as (runtime, app):
        from kivy.clock import Clock

        driver = Driver(app, runtime.core, taps=args.taps)
        if trace:
            tracemalloc.start(8)

        def after(done: int) -> None:
            if run.due(done):
                row = sample(done)
                row["elapsed_s"] = round(time.perf_counter() - run.started, 1)
                run.samples.append(row)
                print(json.dumps(row), flush=True)
            if trace and done in trace:
                gc.collect()
                run.snapshots[done] = tracemalloc.take_snapshot()
            if done >= run.sessions:
                driver.stop()
                app.stop()
                return
            driver.run(session_steps(driver, runtime, done, args.identify), lambda: after(done + 1))

        def begin(_dt: float) -> None:
            if not identify_offered(app):  # the simulated reader is still coming online
                Clock.schedule_once(begin, 0.2)
                return
            driver.watch_intents()
            run.started = time.perf_counter()
            after(0)

        Clock.schedule_once(begin, 1.0)  # the window laid out, the first frames drawn
        app.run()
    return run, driver


def report(run: Run, driver: Driver) -> dict[str, Any]:
    samples = run.samples
    first, last = samples[0], samples[-1]
    result = {
        "sessions": last["session"],
        "warmup": run.warmup,
        "failures": len(driver.failures),
        "seconds": last["elapsed_s"],
        "rss_after_warmup_kb": first["rss_kb"],
        "rss_final_kb": last["rss_kb"],
        "rss_ratio": round(last["rss_kb"] / first["rss_kb"], 4),
        "rss_growth_kb_per_1000": round(slope_per_1000(samples, "rss_kb"), 1),
        "widgets_growth_per_1000": round(slope_per_1000(samples, "widgets"), 1),
        "textures_growth_per_1000": round(slope_per_1000(samples, "textures"), 1),
        "threads": [first["threads"], last["threads"]],
        "fds": [first["fds"], last["fds"]],
        "goal_ratio": GOAL_RATIO,
    }
    result["pass"] = result["rss_ratio"] <= GOAL_RATIO and not driver.failures
    return result


def window_size(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    return int(width), int(height)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument(
        "--identify",
        choices=("card", "event"),
        default="card",
        help="the simulated reader, or a CardRead event posted to the core",
    )
    parser.add_argument(
        "--size", type=window_size, default=SIZE, help="window WxH (default 1080x1920)"
    )
    parser.add_argument("--taps", choices=("window", "dispatch"), default="window")
    parser.add_argument("--trace", help="A,B: diff tracemalloc snapshots at sessions A and B")
    parser.add_argument("--steps", action="store_true", help="also print each step's times")
    parser.add_argument("--json", type=Path, help="also write the samples and summary here")
    args = parser.parse_args(argv)
    if args.sessions <= args.warmup:
        parser.error("--sessions must be more than --warmup")
    ensure_xvfb(__file__, args.size)
    run, driver = run_sessions(args)
    if not run.samples:
        print("no samples: the app stopped early", file=sys.stderr)
        return 1
    result = report(run, driver)
    print(
        f"RSS {result['rss_after_warmup_kb'] / 1024:.1f} MB after {run.warmup} sessions, "
        f"{result['rss_final_kb'] / 1024:.1f} MB after {result['sessions']}: "
        f"ratio {result['rss_ratio']:.3f} (goal <= {GOAL_RATIO}), "
        f"{result['rss_growth_kb_per_1000'] / 1024:+.2f} MB per 1,000 sessions; "
        f"widgets {result['widgets_growth_per_1000']:+.0f}, textures "
        f"{result['textures_growth_per_1000']:+.0f} per 1,000; threads {result['threads']}, "
        f"fds {result['fds']}; {result['failures']} failed steps in {result['seconds']} s"
    )
    if run.trace and len(run.snapshots) == 2:
        a, b = run.trace
        print(f"tracemalloc: growth from session {a} to {b}")
        print(top_growth(run.snapshots[a], run.snapshots[b]))
    if args.steps:
        print(step_summary(driver.timings))
    if args.json:
        args.json.write_text(json.dumps({"samples": run.samples, "summary": result}, indent=1))
    print(json.dumps(result))
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
