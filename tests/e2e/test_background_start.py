"""`kiosk run` shows the start screen first and starts the rest behind it.

Until the core is attached the start screen offers nothing (greyed ways in, "请稍候…", no footer)
and drops touches; a SIGTERM or a failing part during the background start still stops every
simulator and child process. The `kiosk run` cases run the real command on an Xvfb of their own.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kiosk.config import load_config
from kiosk.ids import StateId
from kiosk.startup import StartingCore, starting_view

ROOT = Path(__file__).resolve().parents[2]


# ---- the stand-in core, without a screen ------------------------------------------------------


@dataclass
class RecordingCore:
    """Just enough of a KioskCore to see what StartingCore forwards."""

    listeners: list = field(default_factory=list)
    waker: object = None
    touches: list = field(default_factory=list)
    queued: int = 0

    def add_listener(self, listener):
        self.listeners.append(listener)

    def remove_listener(self, listener):
        self.listeners.remove(listener)

    def set_waker(self, waker):
        self.waker = waker

    def view(self):
        return "the real view"

    def touch(self, intent, arg=None):
        self.touches.append((intent, arg))

    def post(self, event):
        self.queued += 1

    def pump(self, limit=1000):
        handled, self.queued = self.queued, 0
        return handled


def test_the_starting_screen_offers_nothing_it_cannot_serve():
    view = starting_view(load_config())
    assert view.state == StateId.ATTRACT
    assert [o.enabled for o in view.options] == [False, False]
    assert view.hint == "请稍候…"
    assert view.actions == ()  # no language or large-text toggle either
    assert view.subtitle  # the site's name, as on the ready start screen


def test_touches_before_the_core_is_attached_are_dropped_then_forwarded():
    starting = StartingCore(load_config())
    seen: list[object] = []
    wakes: list[int] = []
    starting.add_listener(seen.append)
    starting.set_waker(lambda: wakes.append(1))
    starting.touch("start")
    starting.post(object())
    assert starting.pump() == 0 and seen == []
    assert starting.view().hint == "请稍候…"
    assert starting.local_now().tzinfo is not None

    core = RecordingCore()
    starting.attach(core)  # from the builder thread, in the kiosk
    assert wakes == [1], "attaching wakes the front end"
    assert core.listeners == [seen.append] and core.waker is not None
    assert core.touches == []  # the touch made while starting never arrives
    # The first pump shows the real view even though no event came.
    assert starting.pump() == 0
    assert seen == ["the real view"]
    starting.pump()
    assert seen == ["the real view"], "only once"
    starting.touch("start", "x")
    assert core.touches == [("start", "x")]

    starting.detach()
    assert core.listeners == [] and core.waker is None
    starting.touch("start")
    assert core.touches == [("start", "x")]


# ---- `kiosk run` on a screen of its own -------------------------------------------------------

needs_xvfb = pytest.mark.skipif(shutil.which("Xvfb") is None, reason="Xvfb not installed")


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    read, write = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1080x1920x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as fd:
        number = fd.readline().strip()
    try:
        yield f":{number}"
    finally:
        xvfb.terminate()
        xvfb.wait(10)


def _children(pid: int) -> set[int]:
    """Every descendant of `pid` now (children are listed per thread that started them)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        kids: set[int] = set()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                kids |= {int(k) for k in (task / "children").read_text().split()}
            except OSError:
                continue
        todo.extend(kids - found)
        found |= kids
    return found


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class Kiosk:
    """`kiosk run --windowed` in a subprocess; its log lines, and every child it ever had."""

    def __init__(self, display: str, home: Path, *args: str) -> None:
        env = dict(os.environ, DISPLAY=display, KIOSK_HOME=str(home), KIVY_HOME=str(home))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kiosk.cli", "run", "--windowed", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.seen: dict[int, str] = {}
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        self._watcher.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)

    def _watch(self) -> None:
        while self.proc.poll() is None:
            for pid in _children(self.proc.pid):
                cmd = _cmdline(pid)
                if cmd:  # the latest: right after fork a child still shows its parent's
                    self.seen[pid] = cmd
            time.sleep(0.02)

    def wait_for(self, text: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            assert self.proc.poll() is None, "".join(self.lines)[-3000:]
            assert time.monotonic() < deadline, f"no {text!r}:\n" + "".join(self.lines)[-3000:]
            time.sleep(0.02)

    def terminate(self, timeout: float = 60) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def leftovers(self) -> list[str]:
        """Children of the kiosk still running a moment after it exited."""
        time.sleep(0.5)
        return [
            f"{pid} {cmd}"
            for pid, cmd in self.seen.items()
            if _cmdline(pid) == cmd and cmd and os.path.exists(f"/proc/{pid}")
        ]


@needs_xvfb
@pytest.mark.slow
@pytest.mark.parametrize(
    "moment",
    [
        "start screen shown",  # the background start has just begun
        "simulated A4 printer",  # the central process and cupsd are up, the store is not
        "kiosk ready after",  # everything is running
    ],
)
def test_sigterm_at_any_moment_of_the_start_stops_every_child(display, tmp_path, moment):
    kiosk = Kiosk(display, tmp_path)
    try:
        kiosk.wait_for(moment)
        status = kiosk.terminate()
    finally:
        if kiosk.proc.poll() is None:
            kiosk.proc.kill()
    log = "".join(kiosk.lines)
    assert status == 0, log[-3000:]
    assert "Traceback" not in log
    if moment != "start screen shown":  # by then the service runs, in a process of its own
        assert any("kiosk.cli central" in cmd for cmd in kiosk.seen.values())
    assert kiosk.leftovers() == []


@needs_xvfb
@pytest.mark.slow
def test_the_start_screen_comes_before_the_rest_and_the_kiosk_then_gets_ready(display, tmp_path):
    kiosk = Kiosk(display, tmp_path)
    try:
        kiosk.wait_for("kiosk ready after")
    finally:
        status = kiosk.terminate()
    log = "".join(kiosk.lines)
    shown = log.index("start screen shown")
    assert shown < log.index("reference central service on") < log.index("kiosk ready after")
    assert shown < log.index("simulated ID card reader")
    assert status == 0 and kiosk.leftovers() == []


@needs_xvfb
@pytest.mark.slow
def test_a_part_that_cannot_start_closes_the_screen_with_one_line(display, tmp_path):
    config = tmp_path / "kiosk.yaml"
    text = (ROOT / "config" / "default.yaml").read_text(encoding="utf-8")
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the store's folder should be", encoding="utf-8")
    config.write_text(
        text.replace("sqlite:///var/kiosk.db", f"sqlite:///{blocked}/kiosk.db"), encoding="utf-8"
    )
    kiosk = Kiosk(display, tmp_path, "--config", str(config))
    try:
        status = kiosk.proc.wait(90)
    finally:
        if kiosk.proc.poll() is None:
            kiosk.proc.kill()
    kiosk._reader.join(5)
    log = "".join(kiosk.lines)
    assert status == 2, log[-3000:]
    assert "无法启动 / cannot start: local store" in log
    assert "Traceback" not in log
    assert kiosk.leftovers() == []
