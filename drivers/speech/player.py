"""The kiosk's voice: says one prompt at a time in a background thread, with mute and say-again.

`say` returns at once; a new prompt cuts off the one playing (the resident has moved on, the old
step's words would only confuse). `repeat` says the last prompt again, also one asked for while
muted, so "unmute, then say it again" works. Nothing here raises into the kiosk: failures turn
into a status and an event. Logs carry lengths and languages, never the words.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count

from drivers.speech.errors import SpeechError, SpeechInputError, SpeechUnavailable
from drivers.speech.sinks import Sink, open_sink
from drivers.speech.synth import DEFAULT_SPEED, ESPEAK, Synthesizer
from drivers.speech.wavcheck import BadWav, analyse
from drivers.state import DeviceState, DeviceStatus

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prompt:
    text: str = field(repr=False)  # kept out of reprs, which end up in logs
    language: str
    number: int


@dataclass(frozen=True)
class SpeechEvent:
    """What became of one prompt: started, finished, interrupted, skipped (nothing to say), failed."""

    kind: str
    number: int
    language: str
    chars: int
    seconds: float = 0.0
    reason: str = ""


class Speaker:
    """Speaks prompts through a `Synthesizer` into a sink (`alsa://default`, `dir://...`, `null://`)."""

    def __init__(
        self,
        sink: Sink | str = "null://",
        synthesizer: Synthesizer | None = None,
        *,
        muted: bool = False,
        on_event: Callable[[SpeechEvent], None] | None = None,
    ) -> None:
        self.sink = open_sink(sink) if isinstance(sink, str) else sink
        self.synthesizer = synthesizer or Synthesizer()
        self.on_event = on_event
        self._muted = muted
        self._numbers = count(1)
        self._cond = threading.Condition()
        self._pending: Prompt | None = None
        self._playing: Prompt | None = None
        self._cancel = threading.Event()
        self._last: tuple[str, str] | None = None
        self._closed = False
        self._fault: DeviceStatus | None = None
        self._base = self._probe()
        self._thread = threading.Thread(target=self._run, name="speaker", daemon=True)
        self._thread.start()

    # --- what the kiosk calls -------------------------------------------------------------

    def say(self, text: str, language: str = "zh") -> None:
        """Speak `text` ("zh" or "en") soon, cutting off whatever is being said."""
        with self._cond:
            if self._closed:
                return
            self._last = (text, language)
            if self._muted:
                return
            self._pending = Prompt(text, language, next(self._numbers))
            self._cancel.set()  # the prompt playing now, if any, stops
            self._cond.notify_all()

    def repeat(self) -> bool:
        """Say the last prompt again; False when there is none yet."""
        with self._cond:
            last = self._last
        if last is None:
            return False
        self.say(*last)
        return True

    def mute(self, on: bool = True) -> None:
        """Mute (stops the prompt playing now) or unmute."""
        with self._cond:
            self._muted = on
        if on:
            self.stop()

    @property
    def muted(self) -> bool:
        return self._muted

    def stop(self) -> None:
        """Stop the prompt playing now and forget the one waiting."""
        with self._cond:
            self._pending = None
            self._cancel.set()

    def close(self, timeout: float = 2.0) -> None:
        """Stop and end the background thread; later calls do nothing."""
        with self._cond:
            self._closed = True
            self._pending = None
            self._cancel.set()
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def __enter__(self) -> Speaker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until nothing is waiting or playing (for tests and the diag command)."""
        with self._cond:
            return self._cond.wait_for(
                lambda: self._pending is None and self._playing is None, timeout
            )

    @property
    def status(self) -> DeviceStatus:
        """The shared device state: online, busy while speaking, or why it cannot speak."""
        with self._cond:
            base = self._fault or self._base
            speaking = self._playing is not None
        if base.state is DeviceState.ONLINE and speaking:
            base = DeviceStatus(DeviceState.BUSY)
        details = {"sink": self.sink.url, "muted": self._muted}
        return DeviceStatus(base.state, base.reason, details=details)

    def check(self) -> DeviceStatus:
        """Look again (espeak-ng installed since, sound card back) and return the status."""
        base = self._probe()
        with self._cond:
            self._base, self._fault = base, None
        return self.status

    # --- the background thread --------------------------------------------------------------

    def _probe(self) -> DeviceStatus:
        if not self.synthesizer.available():
            return DeviceStatus(DeviceState.HARDWARE_ERROR, f"{self.synthesizer.binary} not found")
        return self.sink.probe()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending is not None or self._closed)
                if self._closed:
                    return
                prompt, self._pending = self._pending, None
                assert prompt is not None
                self._playing = prompt
                self._cancel = cancel = threading.Event()
            try:
                self._speak(prompt, cancel)
            except Exception:  # a bug here must not silence the kiosk for good
                _log.exception("speaker failed on prompt %d", prompt.number)
            finally:
                with self._cond:
                    self._playing = None
                    self._cond.notify_all()

    def _speak(self, prompt: Prompt, cancel: threading.Event) -> None:
        chars = len(prompt.text) if isinstance(prompt.text, str) else 0

        def event(kind: str, seconds: float = 0.0, reason: str = "") -> None:
            self._emit(SpeechEvent(kind, prompt.number, prompt.language, chars, seconds, reason))

        try:
            wav = self.synthesizer.synthesize(prompt.text, prompt.language)
        except SpeechInputError as exc:
            event("skipped", reason=str(exc))
            return
        except SpeechError as exc:
            self._failed(exc)
            event("failed", reason=str(exc))
            return
        try:
            seconds = analyse(wav).duration_s
        except BadWav:
            seconds = 0.0
        if cancel.is_set():
            event("interrupted", seconds)
            return
        event("started", seconds)
        try:
            finished = self.sink.play(wav, cancel, prompt.language)
        except SpeechError as exc:
            self._failed(exc)
            event("failed", seconds, str(exc))
            return
        with self._cond:
            self._fault = None
        event("finished" if finished else "interrupted", seconds)

    def _failed(self, exc: SpeechError) -> None:
        state = DeviceState.HARDWARE_ERROR if isinstance(exc, SpeechUnavailable) else None
        _log.warning("speech failed: %s", exc)
        if state is not None:
            with self._cond:
                self._fault = DeviceStatus(state, str(exc))

    def _emit(self, event: SpeechEvent) -> None:
        _log.debug(
            "prompt %d (%s, %d chars, %.1f s): %s",
            event.number,
            event.language,
            event.chars,
            event.seconds,
            event.kind,
        )
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:
                _log.exception("speech event handler failed")


def open_speaker(
    url: str,
    *,
    speed: int = DEFAULT_SPEED,
    cache_dir: str | os.PathLike[str] | None = None,
    binary: str = ESPEAK,
    muted: bool = False,
    on_event: Callable[[SpeechEvent], None] | None = None,
) -> Speaker:
    """A Speaker for a sink URL (`alsa://default`, `dir://var/speech`, `null://`); DeviceUrlError
    when the URL is malformed, otherwise never raises (a missing espeak-ng shows in `status`)."""
    synthesizer = Synthesizer(binary=binary, speed=speed, cache_dir=cache_dir)
    return Speaker(url, synthesizer, muted=muted, on_event=on_event)
