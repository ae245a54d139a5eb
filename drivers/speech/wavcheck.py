"""Figures about a spoken clip, read with the stdlib `wave` and numpy: is it there, is it sound?

Silence is measured on 10 ms windows whose RMS is below a floor relative to full scale (-40 dBFS
by default); speech sits well above it, espeak-ng's pauses at digital zero.
"""

from __future__ import annotations

import io
import os
import wave
from dataclasses import dataclass

import numpy as np

from drivers.speech.errors import SpeechError

WINDOW_S = 0.010
SILENCE_DBFS = -40.0


class BadWav(SpeechError, ValueError):
    """The bytes are not a PCM WAV this module can read."""


@dataclass(frozen=True)
class WavStats:
    """Figures of one clip; durations in seconds, RMS as a fraction of full scale."""

    duration_s: float
    sample_rate: int
    channels: int
    rms: float
    peak: float
    leading_silence_s: float
    trailing_silence_s: float
    longest_internal_silence_s: float

    @property
    def silent(self) -> bool:
        """No sound at all worth hearing (a clip of zeros or of a faint hiss)."""
        return self.peak == 0.0 or 20 * np.log10(max(self.rms, 1e-12)) < SILENCE_DBFS


def read_samples(source: bytes | str | os.PathLike[str]) -> tuple[np.ndarray, int, int]:
    """Samples as float in -1..1 (channels mixed down), the sample rate and channel count."""
    try:
        handle = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115
        with handle, wave.open(handle, "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            raw = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise BadWav(f"not a PCM WAV: {exc}") from None
    if width not in (1, 2, 4) or channels < 1 or rate < 1:
        raise BadWav(f"unsupported WAV: {width}-byte samples, {channels} channels, {rate} Hz")
    if width == 1:  # 8-bit WAV is unsigned
        samples = (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128) / 128
    else:
        dtype = np.dtype("<i2" if width == 2 else "<i4")
        samples = np.frombuffer(raw, dtype=dtype).astype(np.float64)
        samples /= float(np.iinfo(dtype).max) + 1
    usable = len(samples) - len(samples) % channels
    mono = samples[:usable].reshape(-1, channels).mean(axis=1)
    return mono, rate, channels


def analyse(source: bytes | str | os.PathLike[str], silence_dbfs: float = SILENCE_DBFS) -> WavStats:
    """Duration, loudness and silences of a WAV (bytes or a path)."""
    samples, rate, channels = read_samples(source)
    duration = len(samples) / rate
    if len(samples) == 0:
        return WavStats(0.0, rate, channels, 0.0, 0.0, 0.0, 0.0, 0.0)
    window = max(1, int(rate * WINDOW_S))
    count = -(-len(samples) // window)
    padded = np.zeros(count * window)
    padded[: len(samples)] = samples
    window_rms = np.sqrt((padded.reshape(count, window) ** 2).mean(axis=1))
    quiet = window_rms < 10 ** (silence_dbfs / 20)
    step = window / rate
    loud = np.flatnonzero(~quiet)
    if len(loud) == 0:
        lead = trail = duration
        internal = 0.0
    else:
        lead = float(loud[0] * step)
        trail = float(min(duration, (count - 1 - loud[-1]) * step))
        internal = _longest_run(quiet[loud[0] : loud[-1] + 1]) * step
    return WavStats(
        duration_s=duration,
        sample_rate=rate,
        channels=channels,
        rms=float(np.sqrt((samples**2).mean())),
        peak=float(np.abs(samples).max()),
        leading_silence_s=lead,
        trailing_silence_s=trail,
        longest_internal_silence_s=internal,
    )


def _longest_run(flags: np.ndarray) -> int:
    """The longest run of True in a boolean array."""
    if not flags.any():
        return 0
    edges = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return int((ends - starts).max())
