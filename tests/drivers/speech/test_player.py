"""The Speaker: a background thread, a real espeak-ng, clips written by the directory sink."""

from __future__ import annotations

import logging
import shutil
import sys
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.speech import (
    DirectorySink,
    NullSink,
    Speaker,
    SpeechEvent,
    SpeechUnavailable,
    Synthesizer,
    analyse,
    open_sink,
    open_speaker,
)
from drivers.speech.sinks import CommandSink
from drivers.state import DeviceState
from drivers.url import DeviceUrlError
from kiosk.prompts import prompt_for

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")

LONG = "请放被代办人的身份证，或填写被代办人信息。"  # about 6 s at the elderly speed, 3 s quick
SHORT = "请稍等。"


class Events:
    """Collects speaker events; waits for one of a kind."""

    def __init__(self) -> None:
        self.items: list[SpeechEvent] = []
        self._cond = threading.Condition()

    def __call__(self, event: SpeechEvent) -> None:
        with self._cond:
            self.items.append(event)
            self._cond.notify_all()

    def wait_for(self, kind: str, number: int, timeout: float = 5.0) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: (kind, number) in self.kinds(), timeout), (
                self.kinds()
            )

    def kinds(self) -> list[tuple[str, int]]:
        return [(e.kind, e.number) for e in self.items]


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return Synthesizer(cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """A faster voice for the tests that wait as long as a clip lasts (realtime=1)."""
    return Synthesizer(speed=300, cache_dir=tmp_path_factory.mktemp("quick"))


@pytest.fixture
def events():
    return Events()


@pytest.fixture
def speaker_at(synth, events):
    made: list[Speaker] = []

    def make(url: str, **options) -> Speaker:
        speaker = Speaker(url, options.pop("synthesizer", synth), on_event=events, **options)
        made.append(speaker)
        return speaker

    yield make
    for speaker in made:
        speaker.close()


def test_directory_sink_writes_each_prompt_as_a_numbered_wav(speaker_at, tmp_path, synth):
    speaker = speaker_at(f"dir://{tmp_path}")
    assert speaker.status.state is DeviceState.ONLINE
    speaker.say(SHORT, "zh")
    assert speaker.wait_idle()
    speaker.say("Please wait.", "en")
    assert speaker.wait_idle()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["00001-zh.wav", "00002-en.wav"]
    assert (tmp_path / "00001-zh.wav").read_bytes() == synth.synthesize(SHORT, "zh")
    assert analyse(tmp_path / "00002-en.wav").duration_s > 0.3


def test_numbering_continues_after_a_restart(speaker_at, tmp_path):
    (tmp_path / "00041-zh.wav").write_bytes(b"")
    speaker = speaker_at(f"dir://{tmp_path}")
    speaker.say(SHORT, "zh")
    assert speaker.wait_idle()
    assert (tmp_path / "00042-zh.wav").exists()


def test_a_new_prompt_interrupts_the_one_playing(speaker_at, tmp_path, events, quick):
    speaker = speaker_at(f"dir://{tmp_path}?realtime=1", synthesizer=quick)
    began = time.monotonic()
    speaker.say(LONG, "zh")
    events.wait_for("started", 1)
    assert speaker.status.state is DeviceState.BUSY
    speaker.say(SHORT, "zh")
    assert speaker.wait_idle(10)
    assert events.kinds() == [("started", 1), ("interrupted", 1), ("started", 2), ("finished", 2)]
    long_clip = events.items[0].seconds
    assert long_clip > 2
    assert time.monotonic() - began < long_clip  # the long prompt was cut off, not waited out
    assert speaker.status.state is DeviceState.ONLINE


def test_a_waiting_prompt_is_replaced_by_a_newer_one(speaker_at, tmp_path, events, quick):
    speaker = speaker_at(f"dir://{tmp_path}?realtime=1", synthesizer=quick)
    speaker.say(LONG, "zh")
    events.wait_for("started", 1)
    for _ in range(5):  # a resident tapping through screens
        speaker.say(SHORT, "zh")
    assert speaker.wait_idle(10)
    assert len(list(tmp_path.iterdir())) <= 3  # not six: stale prompts are never spoken
    assert events.items[-1].kind == "finished" and events.items[-1].number == 6


def test_mute_writes_nothing_and_stops_the_prompt_playing(speaker_at, tmp_path, events, quick):
    speaker = speaker_at(f"dir://{tmp_path}?realtime=1", synthesizer=quick)
    speaker.say(LONG, "zh")
    events.wait_for("started", 1)
    speaker.mute(True)
    events.wait_for("interrupted", 1)
    assert speaker.muted and speaker.status.details["muted"] is True
    speaker.say(SHORT, "zh")
    assert speaker.wait_idle()
    assert [p.name for p in tmp_path.iterdir()] == ["00001-zh.wav"]
    speaker.mute(False)
    assert speaker.repeat()  # the prompt asked for while muted, said once unmuted
    assert speaker.wait_idle()
    assert (tmp_path / "00002-zh.wav").exists()


def test_repeat_says_the_last_prompt_again(speaker_at, tmp_path):
    speaker = speaker_at(f"dir://{tmp_path}")
    assert not speaker.repeat()
    speaker.say(prompt_for("face_check", "zh"), "zh")
    assert speaker.wait_idle()
    assert speaker.repeat()
    assert speaker.wait_idle()
    first, second = sorted(tmp_path.iterdir())
    assert first.read_bytes() == second.read_bytes()


def test_stop_forgets_and_close_ends_the_thread(speaker_at, tmp_path, events, quick):
    speaker = speaker_at(f"dir://{tmp_path}?realtime=1", synthesizer=quick)
    speaker.say(LONG, "zh")
    events.wait_for("started", 1)
    speaker.stop()
    events.wait_for("interrupted", 1)
    speaker.close()
    assert not speaker._thread.is_alive()
    speaker.say(SHORT, "zh")  # after close: ignored, never raises
    assert speaker.repeat() in (True, False)
    assert len(list(tmp_path.iterdir())) == 1


def test_nothing_to_say_is_skipped(speaker_at, tmp_path, events):
    speaker = speaker_at(f"dir://{tmp_path}")
    speaker.say("，。", "zh")
    speaker.say("hello", "xx")
    assert speaker.wait_idle()
    assert [e.kind for e in events.items] == ["skipped"]  # the second replaced the first or not
    assert not list(tmp_path.iterdir())


def test_missing_espeak_is_a_hardware_error_never_a_crash(speaker_at, tmp_path, events):
    broken = Synthesizer(binary=str(tmp_path / "no-espeak-ng"))
    with pytest.raises(SpeechUnavailable):
        broken.synthesize(SHORT, "zh")
    speaker = speaker_at(f"dir://{tmp_path / 'out'}", synthesizer=broken)
    status = speaker.status
    assert status.state is DeviceState.HARDWARE_ERROR and not status.usable
    assert "not found" in status.reason
    speaker.say(SHORT, "zh")
    assert speaker.wait_idle()
    assert [e.kind for e in events.items] == ["failed"]
    assert not list((tmp_path / "out").glob("*.wav"))
    assert speaker.check().state is DeviceState.HARDWARE_ERROR  # still missing on a re-check


def test_spoken_text_never_reaches_the_log(speaker_at, tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="drivers.speech")
    speaker = speaker_at(f"dir://{tmp_path}")
    speaker.say("张三，请取走回执。", "zh")
    speaker.say("Zhang San, please take your receipt.", "en")
    assert speaker.wait_idle()
    assert caplog.records  # it did log, lengths only
    assert "张" not in caplog.text and "Zhang" not in caplog.text and "zhang1" not in caplog.text


def test_an_event_handler_that_fails_does_not_stop_the_speaker(synth, tmp_path):
    def explode(event):
        raise RuntimeError("handler bug")

    with Speaker(f"dir://{tmp_path}", synth, on_event=explode) as speaker:
        speaker.say(SHORT, "zh")
        assert speaker.wait_idle()
        speaker.say(SHORT, "zh")
        assert speaker.wait_idle()
    assert len(list(tmp_path.iterdir())) == 2


def test_open_speaker_with_a_null_sink(tmp_path):
    with open_speaker("null://", speed=150, cache_dir=tmp_path) as speaker:
        speaker.say(SHORT, "zh")
        assert speaker.wait_idle()
        assert speaker.status.details["sink"] == "null://"
    assert len(list(tmp_path.glob("*.wav"))) == 1  # the clip was cached for next time


# --- sinks -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "kind", "what"),
    [
        ("null://", NullSink, None),
        ("dir://var/speech", DirectorySink, "var/speech"),
        ("dir:///tmp/speech?realtime=1", DirectorySink, "/tmp/speech"),
        ("alsa://default", CommandSink, ["aplay", "-q", "-D", "default"]),
        ("alsa://", CommandSink, ["aplay", "-q", "-D", "default"]),
        ("alsa://plughw:1,0", CommandSink, ["aplay", "-q", "-D", "plughw:1,0"]),
        ("pulse://", CommandSink, ["paplay"]),
        ("pulse://hall_speaker", CommandSink, ["paplay", "--device=hall_speaker"]),
    ],
)
def test_sink_urls(url, kind, what):
    sink = open_sink(url)
    assert isinstance(sink, kind) and sink.url == url
    if isinstance(sink, DirectorySink):
        assert str(sink.folder) == what and sink.realtime == url.endswith("realtime=1")
    if isinstance(sink, CommandSink):
        assert sink.command == what


@pytest.mark.parametrize(
    "url",
    [
        "",
        "speaker",
        "dir://",
        "dir://x?realtime=maybe",
        "alsa://hw 0; rm -rf /",
        "bluetooth://x",
        None,
    ],
)
def test_malformed_sink_urls_are_clear_errors(url):
    with pytest.raises(DeviceUrlError):
        open_sink(url)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=40),
        st.sampled_from(["dir://", "alsa://", "pulse://", "null://"]).flatmap(
            lambda p: st.text(max_size=30).map(lambda t: p + t)
        ),
    )
)
def test_any_sink_url_opens_or_is_refused_clearly(url):
    try:
        sink = open_sink(url)
    except DeviceUrlError:
        return
    assert sink.url == url


def test_alsa_without_player_or_card_is_not_usable_here():
    # this machine has no sound card (and may lack aplay): the status says why
    status = Speaker("alsa://default", Synthesizer()).status
    assert status.state in (DeviceState.NO_DEVICE, DeviceState.HARDWARE_ERROR)
    assert not status.usable and status.reason


def _python_player(code: str) -> CommandSink:
    return CommandSink([sys.executable, "-c", code], url="test://", needs_alsa_card=False)


def test_command_sink_plays_through_a_real_process(synth):
    wav = synth.synthesize(SHORT, "zh")
    check = "import sys, wave; assert wave.open(sys.argv[1]).getnframes() > 0"
    assert _python_player(check).play(wav, threading.Event()) is True


def test_command_sink_stops_the_player_when_cancelled(synth):
    wav = synth.synthesize(SHORT, "zh")
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    began = time.monotonic()
    assert _python_player("import time; time.sleep(30)").play(wav, cancel) is False
    assert time.monotonic() - began < 3


def test_command_sink_failure_is_speech_unavailable(synth, speaker_at, events):
    wav = synth.synthesize(SHORT, "zh")
    failing = _python_player("import sys; sys.exit('cannot open audio device')")
    with pytest.raises(SpeechUnavailable, match="cannot open audio device"):
        failing.play(wav, threading.Event())
    speaker = speaker_at(failing)
    speaker.say(SHORT, "zh")
    assert speaker.wait_idle()
    assert events.items[-1].kind == "failed"
    assert speaker.status.state is DeviceState.HARDWARE_ERROR
