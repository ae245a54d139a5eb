"""Where spoken clips go, chosen by URL like every other device.

    alsa://default, alsa://plughw:1,0   `aplay` on an ALSA device (the kiosk's speaker)
    pulse://, pulse://SINK              `paplay` through PulseAudio / PipeWire
    dir://var/speech[?realtime=1]       each clip written as NNNNN-LANG.wav (simulator, tests);
                                        `realtime=1` also waits as long as the clip lasts, so a
                                        new prompt can interrupt it as on a real speaker
    null://                             nowhere (speech switched off)

A sink's `play` blocks until the clip has played or `cancel` is set; it returns False when cut
short. drivers/url.py knows only device transports, so these URLs are parsed here, with the same
error type.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qsl, unquote

from drivers.speech.errors import SpeechUnavailable
from drivers.speech.wavcheck import BadWav, analyse
from drivers.state import DeviceState, DeviceStatus
from drivers.url import DeviceUrlError

SINK_SCHEMES = ("alsa", "pulse", "dir", "null")
_POLL_S = 0.02


class Sink(Protocol):
    url: str

    def probe(self) -> DeviceStatus:
        """Can clips be played now?"""
        ...

    def play(self, wav: bytes, cancel: threading.Event, label: str = "") -> bool:
        """Play one clip; False when `cancel` cut it short."""
        ...


class NullSink:
    """Plays nothing, at once."""

    def __init__(self, url: str = "null://") -> None:
        self.url = url

    def probe(self) -> DeviceStatus:
        return DeviceStatus(DeviceState.ONLINE, details={"sink": self.url})

    def play(self, wav: bytes, cancel: threading.Event, label: str = "") -> bool:
        return not cancel.is_set()


class DirectorySink:
    """Writes each clip to a numbered WAV file in a folder; numbering continues after a restart."""

    def __init__(
        self, folder: str | os.PathLike[str], *, realtime: bool = False, url: str = ""
    ) -> None:
        self.folder = Path(folder)
        self.realtime = realtime
        self.url = url or f"dir://{self.folder}"
        self._lock = threading.Lock()
        self._next: int | None = None

    def probe(self) -> DeviceStatus:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return DeviceStatus(DeviceState.HARDWARE_ERROR, f"cannot create folder: {exc.strerror}")
        if not os.access(self.folder, os.W_OK):
            return DeviceStatus(DeviceState.HARDWARE_ERROR, "folder is not writable")
        return DeviceStatus(DeviceState.ONLINE, details={"sink": self.url})

    def play(self, wav: bytes, cancel: threading.Event, label: str = "") -> bool:
        if cancel.is_set():
            return False
        path = self._next_path(label)
        try:
            path.write_bytes(wav)
        except OSError as exc:
            raise SpeechUnavailable(f"cannot write clip: {exc.strerror}") from None
        if not self.realtime:
            return True
        try:
            seconds = analyse(wav).duration_s
        except BadWav:
            seconds = 0.0
        return not cancel.wait(seconds)

    def written(self) -> list[Path]:
        """The clips written so far, oldest first."""
        return sorted(self.folder.glob("[0-9]*.wav"))

    def _next_path(self, label: str) -> Path:
        with self._lock:
            if self._next is None:
                self.folder.mkdir(parents=True, exist_ok=True)
                numbers = [int(p.name[:5]) for p in self.written() if p.name[:5].isdigit()]
                self._next = max(numbers, default=0) + 1
            number, self._next = self._next, self._next + 1
        suffix = f"-{label}" if re.fullmatch(r"[a-z]{1,8}", label) else ""
        return self.folder / f"{number:05d}{suffix}.wav"


class CommandSink:
    """A sound device through `aplay` (ALSA) or `paplay` (PulseAudio); a clip is stopped by
    ending the player process."""

    def __init__(self, command: list[str], *, url: str, needs_alsa_card: bool) -> None:
        self.command = command
        self.url = url
        self.needs_alsa_card = needs_alsa_card

    def probe(self) -> DeviceStatus:
        if shutil.which(self.command[0]) is None:
            return DeviceStatus(DeviceState.HARDWARE_ERROR, f"{self.command[0]} is not installed")
        if self.needs_alsa_card and not _alsa_cards():
            return DeviceStatus(DeviceState.NO_DEVICE, "no sound card")
        return DeviceStatus(DeviceState.ONLINE, details={"sink": self.url})

    def play(self, wav: bytes, cancel: threading.Event, label: str = "") -> bool:
        if cancel.is_set():
            return False
        with tempfile.NamedTemporaryFile(suffix=".wav") as clip:
            clip.write(wav)
            clip.flush()
            try:
                process = subprocess.Popen(
                    [*self.command, clip.name],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
            except OSError as exc:
                raise SpeechUnavailable(
                    f"{self.command[0]} cannot be run: {exc.strerror}"
                ) from None
            with process:  # closes the pipe and reaps the player however this ends
                while process.poll() is None:
                    if cancel.wait(_POLL_S):
                        process.terminate()
                        try:
                            process.wait(1.0)
                        except subprocess.TimeoutExpired:
                            process.kill()
                        return False
                error = process.communicate()[1].decode(errors="replace")
            if process.returncode != 0:
                last = error.strip().splitlines()[-1:] or [""]
                raise SpeechUnavailable(f"{self.command[0]} failed: {last[0][:120]}")
        return True


def _alsa_cards() -> bool:
    try:
        text = Path("/proc/asound/cards").read_text()
    except OSError:
        return False
    return bool(text.strip()) and "no soundcards" not in text


def open_sink(url: str) -> Sink:
    """The sink for a speech URL; DeviceUrlError with a readable message when malformed."""
    if not isinstance(url, str) or "://" not in url:
        raise DeviceUrlError(f"{url!r} is not a speech URL (e.g. alsa://default, dir://var/speech)")
    scheme, rest = url.split("://", 1)
    scheme = scheme.lower()
    target, _, query = rest.partition("?")
    target = unquote(target)
    params = dict(parse_qsl(query, keep_blank_values=True))
    if scheme == "null":
        return NullSink(url)
    if scheme == "dir":
        if not target:
            raise DeviceUrlError(f"{url!r}: a dir URL needs a folder, e.g. dir://var/speech")
        realtime = params.get("realtime", "0").lower()
        if realtime not in ("0", "1", "true", "false", "yes", "no"):
            raise DeviceUrlError(f"{url!r}: realtime={realtime!r} is not 0 or 1")
        return DirectorySink(target, realtime=realtime in ("1", "true", "yes"), url=url)
    if scheme == "alsa":
        device = target or "default"
        if not re.fullmatch(r"[\w:,.=-]+", device):
            raise DeviceUrlError(f"{url!r}: {device!r} is not an ALSA device name")
        return CommandSink(["aplay", "-q", "-D", device], url=url, needs_alsa_card=True)
    if scheme == "pulse":
        command = ["paplay"] + ([f"--device={target}"] if target else [])
        return CommandSink(command, url=url, needs_alsa_card=False)
    known = ", ".join(SINK_SCHEMES)
    raise DeviceUrlError(f"{url!r}: unknown speech output {scheme!r} (known: {known})")
