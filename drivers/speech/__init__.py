"""Spoken prompts for 长辈模式 (elder mode): espeak-ng Mandarin through tone-numbered pinyin.

Public API (import from here):

    Speaker, open_speaker, SpeechEvent       say / repeat / mute / stop / close, status
    Synthesizer, synthesize, render_clips    text -> WAV bytes, with a folder of cached clips
    to_pinyin_numbers                        Chinese text -> pinyin espeak-ng's cmn-latn-pinyin reads
    open_sink                                alsa://default, pulse://, dir://FOLDER, null://
    analyse, WavStats                        duration, loudness and silences of a clip
    SpeechError, SpeechUnavailable, SpeechInputError

Modules: `pinyin` (pure), `synth` (espeak-ng as a subprocess, the clip cache), `wavcheck` (numpy
figures of a WAV), `sinks` (where clips are played), `player` (the Speaker thread).
"""

from drivers.speech.errors import SpeechError, SpeechInputError, SpeechUnavailable
from drivers.speech.pinyin import to_pinyin_numbers
from drivers.speech.player import Speaker, SpeechEvent, open_speaker
from drivers.speech.sinks import DirectorySink, NullSink, open_sink
from drivers.speech.synth import DEFAULT_SPEED, Synthesizer, render_clips, synthesize
from drivers.speech.wavcheck import BadWav, WavStats, analyse

__all__ = [
    "DEFAULT_SPEED",
    "BadWav",
    "DirectorySink",
    "NullSink",
    "Speaker",
    "SpeechError",
    "SpeechEvent",
    "SpeechInputError",
    "SpeechUnavailable",
    "Synthesizer",
    "WavStats",
    "analyse",
    "open_sink",
    "open_speaker",
    "render_clips",
    "synthesize",
    "to_pinyin_numbers",
]
