"""What can go wrong when the kiosk speaks. Messages are safe to log: they never carry the text."""

from __future__ import annotations


class SpeechError(Exception):
    """Base class: speech failed; the kiosk carries on silently."""


class SpeechUnavailable(SpeechError):
    """The synthesizer or the sound output cannot be used (missing program, no sound device)."""


class SpeechInputError(SpeechError, ValueError):
    """The text cannot be spoken: nothing speakable in it, or far too long for a prompt."""
