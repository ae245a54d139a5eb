"""Spoken prompts as WAV bytes: espeak-ng, with Mandarin fed as tone-numbered pinyin.

espeak-ng's hanzi voice (`cmn`) reads many characters as English letters; its `cmn-latn-pinyin`
voice reads pypinyin's tone numbers as real Mandarin, with polyphones (银行, 重新, 还款) resolved
by pypinyin. Text goes in on stdin (never argv, so a prompt cannot pass as an option). With
`--stdout` espeak-ng streams a WAV whose RIFF and data sizes are placeholders (0x7ffff000), so the
header is rebuilt from the bytes that actually arrived.

Clips are cached in a folder keyed by (text, language, voice, speed): fixed prompts are then
synthesized once ("recorded", e.g. at install with `render_clips`) and replayed, also when
espeak-ng has gone missing.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import shutil
import struct
import subprocess
import tempfile
import unicodedata
import wave
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from drivers.speech.errors import SpeechError, SpeechInputError, SpeechUnavailable
from drivers.speech.pinyin import to_pinyin_numbers

_log = logging.getLogger(__name__)

ESPEAK = "espeak-ng"
CHINESE_VOICE = "cmn-latn-pinyin"
ENGLISH_VOICE = "en-us"
DEFAULT_SPEED = 130  # words a minute; espeak-ng's own 175 is too quick for elderly residents
MIN_SPEED, MAX_SPEED = 80, 450  # espeak-ng's range
MAX_TEXT_CHARS = 400  # a prompt is a sentence or two; anything longer is a bug, not a prompt
TIMEOUT_S = 15.0
_CACHE_FORMAT = "1"  # bump when the pinyin conversion or the WAV format changes


@dataclass(frozen=True)
class Clip:
    """One spoken prompt (WAV bytes) and whether it came from the cache."""

    wav: bytes
    cached: bool = False


class Synthesizer:
    """espeak-ng with fixed voices and speed, and an optional folder of cached clips."""

    def __init__(
        self,
        *,
        binary: str = ESPEAK,
        speed: int = DEFAULT_SPEED,
        chinese_voice: str = CHINESE_VOICE,
        english_voice: str = ENGLISH_VOICE,
        cache_dir: str | os.PathLike[str] | None = None,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        if not MIN_SPEED <= speed <= MAX_SPEED:
            raise ValueError(f"speed {speed} is outside {MIN_SPEED}..{MAX_SPEED} words a minute")
        self.binary = binary
        self.speed = speed
        self.voices = {"zh": chinese_voice, "en": english_voice}
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.timeout_s = timeout_s

    def available(self) -> bool:
        """Is the espeak-ng program there (a path or a name on PATH)?"""
        return shutil.which(self.binary) is not None

    def synthesize(self, text: str, language: str) -> bytes:
        """The WAV of `text` ("zh" or "en"); SpeechInputError if nothing in it can be spoken."""
        return self.clip(text, language).wav

    def clip(self, text: str, language: str) -> Clip:
        """Like `synthesize`, also telling whether the clip came from the cache."""
        voice = self._voice(language)
        spoken = espeak_input(text, language)  # refuses what cannot be spoken, cached or not
        key = self.cache_key(text, language)
        cached = self._cache_read(key)
        if cached is not None:
            return Clip(cached, cached=True)
        wav = self._run(spoken, voice)
        self._cache_write(key, wav)
        return Clip(wav)

    def cache_key(self, text: str, language: str) -> str:
        """A file name for the clip of (text, language, voice, speed)."""
        fields = (_CACHE_FORMAT, text, language, self._voice(language), str(self.speed))
        key = "\x1f".join(fields).encode("utf-8", "surrogatepass")  # any str has a key
        return hashlib.sha256(key).hexdigest()[:32]

    def _voice(self, language: str) -> str:
        try:
            return self.voices[language]
        except KeyError:
            raise SpeechInputError(f"no voice for language {language!r} (zh or en)") from None

    def _run(self, text: str, voice: str) -> bytes:
        command = [self.binary, "-v", voice, "-s", str(self.speed), "--stdout"]
        try:
            done = subprocess.run(
                command, input=text.encode(), capture_output=True, timeout=self.timeout_s
            )
        except FileNotFoundError:
            raise SpeechUnavailable(f"{self.binary} is not installed") from None
        except PermissionError:
            raise SpeechUnavailable(f"{self.binary} cannot be run") from None
        except subprocess.TimeoutExpired:
            raise SpeechError(f"{self.binary} took longer than {self.timeout_s:.0f} s") from None
        if done.returncode != 0:
            detail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
            raise SpeechError(f"{self.binary} failed ({done.returncode}): {detail[0][:120]}")
        wav = repair_streamed_wav(done.stdout)
        _log.debug("synthesized %d characters (%s): %d bytes", len(text), voice, len(wav))
        return wav

    def _cache_read(self, key: str) -> bytes | None:
        if self.cache_dir is None:
            return None
        try:
            return (self.cache_dir / f"{key}.wav").read_bytes()
        except OSError:
            return None

    def _cache_write(self, key: str, wav: bytes) -> None:
        if self.cache_dir is None:
            return
        try:  # atomic, so a kiosk that loses power never replays half a clip
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.cache_dir, suffix=".part")
            with os.fdopen(fd, "wb") as out:
                out.write(wav)
            os.replace(tmp, self.cache_dir / f"{key}.wav")
        except OSError as exc:  # a full or read-only disk costs the cache, not the prompt
            _log.warning("speech cache not written: %s", exc.strerror or exc)


def espeak_input(text: str, language: str) -> str:
    """What espeak-ng is fed for `text`; SpeechInputError when nothing is left to say."""
    if not isinstance(text, str):
        raise SpeechInputError(f"a prompt is text, not {type(text).__name__}")
    if len(text) > MAX_TEXT_CHARS:
        raise SpeechInputError(f"{len(text)} characters is too long for a prompt")
    if language == "zh":
        spoken = to_pinyin_numbers(text)
    else:
        spoken = " ".join(
            "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text).split()
        )
    if not any(ch.isalnum() for ch in spoken):
        raise SpeechInputError("nothing speakable in the prompt")
    return spoken


def repair_streamed_wav(data: bytes) -> bytes:
    """A well-formed WAV from espeak-ng's streamed one (whose size fields are placeholders)."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise SpeechError("the synthesizer returned no WAV")
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = pos + 8
        if chunk_id == b"fmt " and size >= 16:
            fmt = struct.unpack_from("<HHIIHH", data, body)
        elif chunk_id == b"data":
            if fmt is None or fmt[0] != 1:
                raise SpeechError("the synthesizer's WAV is not PCM")
            _, channels, rate, _, block, bits = fmt
            pcm = data[body:]
            pcm = pcm[: len(pcm) - len(pcm) % max(block, 1)]
            out = io.BytesIO()
            with wave.open(out, "wb") as wav:
                wav.setnchannels(channels)
                wav.setsampwidth(bits // 8)
                wav.setframerate(rate)
                wav.writeframes(pcm)
            return out.getvalue()
        pos = body + size + (size & 1)
    raise SpeechError("the synthesizer's WAV has no data")


_default: Synthesizer | None = None


def synthesize(text: str, language: str, *, speed: int = DEFAULT_SPEED) -> bytes:
    """The WAV of `text` in "zh" or "en" at `speed`, without a cache (see `Synthesizer`)."""
    global _default
    if _default is None or _default.speed != speed:
        _default = Synthesizer(speed=speed)
    return _default.synthesize(text, language)


def render_clips(
    prompts: Iterable[tuple[str, str]],
    folder: str | os.PathLike[str],
    *,
    speed: int = DEFAULT_SPEED,
    binary: str = ESPEAK,
) -> int:
    """Pre-render (text, language) prompts into the clip cache at `folder` (e.g. at install);
    returns how many were newly synthesized, so a second run returns 0."""
    synth = Synthesizer(cache_dir=folder, speed=speed, binary=binary)
    made = 0
    for text, language in dict.fromkeys(prompts):
        made += not synth.clip(text, language).cached
    return made
