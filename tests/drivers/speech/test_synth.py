"""Speech synthesis: pinyin for espeak-ng, real espeak-ng WAVs checked with numpy and sox."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.speech import (
    BadWav,
    SpeechError,
    SpeechInputError,
    SpeechUnavailable,
    Synthesizer,
    analyse,
    render_clips,
    synthesize,
    to_pinyin_numbers,
)
from drivers.speech.pinyin import PAUSES, spell_number, syllables
from drivers.speech.synth import MAX_TEXT_CHARS, espeak_input, repair_streamed_wav
from kiosk.ids import StateId
from kiosk.prompts import PROMPTS, all_prompts, prompt_for

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("sox") is None,
    reason="needs Debian espeak-ng and sox (scripts/setup-system.sh)",
)

# --- pinyin ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("银行", "yin2 hang2"),
        ("重新", "chong2 xin1"),
        ("还款", "hai2 kuan3"),
        ("请到银行还款", "qing3 dao4 yin2 hang2 hai2 kuan3"),
        ("请重新刷卡", "qing3 chong2 xin1 shua1 ka3"),
        ("行人", "xing2 ren2"),
        ("还是", "hai2 shi4"),
        ("为本人办理", "wei4 ben3 ren2 ban4 li3"),
        ("作为", "zuo4 wei2"),
        ("长辈模式", "zhang3 bei4 mo2 shi4"),
        ("不要移动", "bu2 yao4 yi2 dong4"),  # 不 and 一 before a fourth tone
        ("一起", "yi4 qi3"),
        ("办理的事项", "ban4 li3 de5 shi4 xiang4"),  # neutral tone as 5
        ("女", "nv3"),  # espeak-ng reads v as ü
    ],
)
def test_polyphones_and_tones(text, expected):
    assert to_pinyin_numbers(text) == expected


def test_punctuation_becomes_pauses_and_ascii_punctuation_is_made_full_width():
    assert to_pinyin_numbers("请稍等，谢谢您。") == "qing3 shao1 deng3， xie4 xie4 nin2。"
    assert to_pinyin_numbers("请稍等, 好吗?") == "qing3 shao1 deng3， hao3 ma5？"
    assert to_pinyin_numbers("，，请。。") == "qing3。"  # runs collapse, none at the start


@pytest.mark.parametrize(
    ("number", "words"),
    [
        ("0", "零"),
        ("7", "七"),
        ("10", "十"),
        ("15", "十五"),
        ("20", "二十"),
        ("105", "一百零五"),
        ("200", "两百"),
        ("1010", "一千零一十"),
        ("2000", "两千"),
        ("9999", "九千九百九十九"),
        ("13800138000", "一三八零零一三八零零零"),  # phone numbers digit by digit
        ("0571", "零五七一"),  # so are codes that start with 0
    ],
)
def test_numbers_are_read_as_chinese_words(number, words):
    assert spell_number(number) == words


def test_numbers_in_text():
    assert to_pinyin_numbers("1号窗口") == "yi1 hao4 chuang1 kou3"
    assert to_pinyin_numbers("12.5元") == "shi2 er4 dian3 wu3 yuan2"
    assert to_pinyin_numbers("2024年") == "er4 ling2 er4 si4 nian2"  # years digit by digit
    assert to_pinyin_numbers("１２") == "shi2 er4"  # full-width digits


def test_latin_words_are_kept_for_espeak_english_and_controls_dropped():
    assert to_pinyin_numbers("请扫ABC码") == "qing3 sao3 ABC ma3"
    assert to_pinyin_numbers("请\x00\x1b稍\u200b等\n") == "qing3 shao1 deng3"
    assert to_pinyin_numbers("") == ""
    assert to_pinyin_numbers("，。！？") == ""


@pytest.mark.parametrize(("text", "language"), [p for p in all_prompts() if p[1] == "zh"])
def test_every_character_of_a_chinese_prompt_is_spoken(text, language):
    hanzi = [ch for ch in text if "\u4e00" <= ch <= "\u9fff"]
    assert len(syllables(to_pinyin_numbers(text))) == len(hanzi)


_SAFE_TOKEN = re.compile(rf"(?:[a-zü]+[1-5]|[A-Za-z]+)[{PAUSES}]?")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_text_gives_only_syllables_words_and_pauses(text):
    out = to_pinyin_numbers(text)
    assert all(_SAFE_TOKEN.fullmatch(token) for token in out.split()), out


def _espeak_tones(pinyin: str) -> list[str]:
    """The tone contours espeak-ng assigns, from its phoneme output."""
    done = subprocess.run(
        ["espeak-ng", "-q", "-x", "-v", "cmn-latn-pinyin", pinyin],
        capture_output=True,
        text=True,
        check=True,
    )
    return re.findall(r"\d+", done.stdout)


def test_espeak_reads_our_tone_numbers_as_the_four_tones_and_neutral():
    # Chao tone letters: 55 high level, 35 rising, 214 dipping, 51 falling; the neutral tone
    # takes its pitch from the tone before it (11 after a fourth, 44 after a half-third 21)
    assert _espeak_tones(to_pinyin_numbers("银行")) == ["35", "35"]
    assert _espeak_tones(to_pinyin_numbers("重新")) == ["35", "55"]
    assert _espeak_tones(to_pinyin_numbers("证明")) == ["51", "35"]
    assert _espeak_tones(to_pinyin_numbers("是的")) == ["51", "11"]
    assert _espeak_tones(to_pinyin_numbers("好的")) == ["21", "44"]
    assert _espeak_tones(to_pinyin_numbers("你好")) == ["35", "214"]  # espeak-ng's own sandhi


# --- the prompt scripts ------------------------------------------------------------------------

APPLICATION_STATES = (
    "apply_start",
    "principal",
    "face_check",
    "checking_face",
    "form",
    "editing",
    "documents",
    "review",
    "submitting",
    "submitted",
)
# States that deliberately say nothing: the technician's menu is not read aloud to the hall.
SILENT_STATES: frozenset[str] = frozenset(
    {"maintenance_login", "maintenance_menu", "maintenance_page"}
)


def test_every_state_has_a_prompt_in_both_languages():
    for state in [*StateId, *APPLICATION_STATES]:
        if state in SILENT_STATES:
            continue
        assert prompt_for(state, "zh"), state
        assert prompt_for(state, "en"), state
    assert prompt_for(StateId.ATTRACT, "zh") == "请刷身份证，或点击屏幕开始。"
    assert prompt_for("submitted", "zh") == "申请已受理，请取走回执。"


def test_unknown_state_or_language_says_nothing():
    assert prompt_for("no_such_state", "zh") is None
    assert prompt_for("attract", "fr") is None


@pytest.mark.parametrize(("state", "pair"), list(PROMPTS.items()))
def test_prompts_are_short_plain_and_fixed(state, pair):
    zh, en = pair
    assert len(zh) <= 24 and len(en) <= 90  # one breath for an elderly listener
    assert not re.search(r"[0-9A-Za-z{}%]", zh)  # no placeholders, no numbers, no Latin
    assert en.isascii() and "{" not in en and en[-1] in ".?"


# --- synthesis -------------------------------------------------------------------------------


def _sox_duration(path: Path) -> float:
    done = subprocess.run(
        ["sox", "--i", "-D", str(path)], capture_output=True, text=True, check=True
    )
    return float(done.stdout)


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory):
    """Every fixed prompt, rendered once for the module (also exercises `render_clips`)."""
    folder = tmp_path_factory.mktemp("clips")
    assert render_clips(all_prompts(), folder) == 2 * len(PROMPTS)
    return folder


@pytest.fixture(scope="module")
def synth(clip_dir):
    return Synthesizer(cache_dir=clip_dir)


@pytest.mark.parametrize(("text", "language"), list(all_prompts()))
def test_every_prompt_is_a_clear_clip_of_sensible_length(text, language, synth, tmp_path):
    clip = synth.clip(text, language)
    assert clip.cached  # rendered by the fixture: the "recorded" clip is replayed
    path = tmp_path / "prompt.wav"
    path.write_bytes(clip.wav)
    stats = analyse(path)
    assert stats.sample_rate == 22050 and stats.channels == 1
    assert 0.5 < stats.duration_s < 12.0
    assert not stats.silent and stats.rms > 0.02
    assert stats.longest_internal_silence_s < 1.5
    assert stats.leading_silence_s < 0.5 and stats.trailing_silence_s < 1.0
    assert _sox_duration(path) == pytest.approx(stats.duration_s, abs=0.01)


def test_streamed_header_is_repaired_so_sox_and_wave_agree(tmp_path):
    raw = subprocess.run(
        ["espeak-ng", "-v", "cmn-latn-pinyin", "--stdout", "ni3 hao3"],
        capture_output=True,
        check=True,
    ).stdout
    with wave.open(io.BytesIO(raw)) as broken:
        assert broken.getnframes() > 10**8  # the placeholder size espeak-ng writes when streaming
    (tmp_path / "fixed.wav").write_bytes(repair_streamed_wav(raw))
    with wave.open(str(tmp_path / "fixed.wav")) as fixed:
        frames = fixed.getnframes()
    assert frames * 2 == len(raw) - 44
    assert _sox_duration(tmp_path / "fixed.wav") == pytest.approx(frames / 22050, abs=0.001)


def test_slower_speed_gives_a_longer_clip():
    text = "请把身份证放在读卡区"
    slow = analyse(synthesize(text, "zh", speed=100)).duration_s
    normal = analyse(synthesize(text, "zh", speed=175)).duration_s
    assert slow > normal * 1.4


def test_a_pause_lengthens_the_clip():
    with_pause = analyse(synthesize("请稍等，谢谢", "zh")).duration_s
    without = analyse(synthesize("请稍等谢谢", "zh")).duration_s
    assert with_pause > without + 0.1


def test_english_prompt():
    stats = analyse(synthesize("Please place your ID card on the reader.", "en"))
    assert 1.0 < stats.duration_s < 8.0 and not stats.silent


def test_text_is_never_taken_for_an_option():
    # on argv "-s 900" would set the speed; on stdin it is just words
    stats = analyse(synthesize("-s 900 --stdout", "en"))
    assert stats.duration_s > 0.8 and not stats.silent


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("", "zh"),
        ("   ", "en"),
        ("，。！？", "zh"),
        ("\x00\x07\x1b", "zh"),
        ("--- ...", "en"),
        ("请" * (MAX_TEXT_CHARS + 1), "zh"),
        ("请稍等", "fr"),
        (None, "zh"),
    ],
)
def test_unspeakable_input_is_a_clear_error(text, language):
    with pytest.raises(SpeechInputError):
        synthesize(text, language)


def test_control_characters_are_dropped_not_spoken():
    stats = analyse(synthesize("请\x00稍\x1b[31m等\x07", "zh"))
    assert 0.5 < stats.duration_s < 5 and not stats.silent


@pytest.mark.parametrize("language", ["zh", "en"])
def test_lone_surrogates_are_dropped(language):
    assert analyse(synthesize("\ud800请稍等 wait\udfff", language)).duration_s > 0.3


def test_longest_allowed_text_is_bounded():
    stats = analyse(synthesize("请稍等，" * (MAX_TEXT_CHARS // 4), "zh", speed=450))
    assert 5 < stats.duration_s < 120


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=30), language=st.sampled_from(["zh", "en"]))
def test_any_short_text_gives_a_wav_or_a_clear_error(text, language):
    try:
        wav = synthesize(text, language)
    except SpeechInputError:
        return
    assert analyse(wav).duration_s > 0


def test_missing_espeak_is_speech_unavailable(tmp_path):
    synth = Synthesizer(binary=str(tmp_path / "no-espeak-ng"))
    assert not synth.available()
    with pytest.raises(SpeechUnavailable, match="not installed"):
        synth.synthesize("请稍等", "zh")


def test_cached_clips_play_without_espeak(clip_dir):
    offline = Synthesizer(binary="/nonexistent/espeak-ng", cache_dir=clip_dir)
    clip = offline.clip(PROMPTS["attract"][0], "zh")
    assert clip.cached and analyse(clip.wav).duration_s > 1


def test_cache_is_keyed_by_speed_and_language(tmp_path):
    slow, fast = Synthesizer(speed=100, cache_dir=tmp_path), Synthesizer(cache_dir=tmp_path)
    assert slow.cache_key("请稍等", "zh") != fast.cache_key("请稍等", "zh")
    assert fast.cache_key("OK", "zh") != fast.cache_key("OK", "en")
    assert not slow.clip("请稍等", "zh").cached
    assert not fast.clip("请稍等", "zh").cached
    assert slow.clip("请稍等", "zh").cached
    assert len(list(tmp_path.glob("*.wav"))) == 2
    assert render_clips([("请稍等", "zh"), ("请稍等", "zh")], tmp_path) == 0


def test_speed_outside_espeak_range_is_refused():
    with pytest.raises(ValueError, match="speed"):
        Synthesizer(speed=20)


def test_espeak_input_is_pinyin_for_chinese_and_plain_for_english():
    assert espeak_input("请稍等", "zh") == "qing3 shao1 deng3"
    assert espeak_input(" Please\twait\n", "en") == "Please wait"


# --- malformed WAVs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"", b"RIFF", b"RIFF\x00\x00\x00\x00WAVE", b"RIFF\x00\x00\x00\x00WAVEdata\x04\x00\x00\x00ab"],
)
def test_repair_refuses_what_is_not_a_pcm_wav(data):
    with pytest.raises(SpeechError):
        repair_streamed_wav(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_repair_never_crashes(data):
    try:
        wav = repair_streamed_wav(b"RIFF\xff\xff\xff\x7fWAVE" + data)
    except SpeechError:
        return
    analyse(wav)


# --- wavcheck on clips of known shape ---------------------------------------------------------


def _wav(samples: np.ndarray, rate: int = 16000, channels: int = 1) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes((samples * 32767).astype("<i2").tobytes())
    return out.getvalue()


def test_wavcheck_measures_silences_of_a_known_clip():
    rate = 16000
    tone = 0.5 * np.sin(2 * np.pi * 440 * np.arange(rate // 2) / rate)  # 0.5 s
    gap = np.zeros(rate)  # 1.0 s
    lead, tail = np.zeros(rate // 4), np.zeros(rate // 10)
    stats = analyse(_wav(np.concatenate([lead, tone, gap, tone, tail]), rate))
    assert stats.duration_s == pytest.approx(2.35)
    assert stats.leading_silence_s == pytest.approx(0.25, abs=0.011)
    assert stats.trailing_silence_s == pytest.approx(0.10, abs=0.011)
    assert stats.longest_internal_silence_s == pytest.approx(1.0, abs=0.021)
    assert stats.peak == pytest.approx(0.5, abs=0.01) and not stats.silent


def test_wavcheck_silent_and_empty_and_stereo():
    assert analyse(_wav(np.zeros(8000))).silent
    assert analyse(_wav(np.full(8000, 0.001))).silent  # a faint hiss is not a prompt
    empty = analyse(_wav(np.zeros(0)))
    assert empty.duration_s == 0 and empty.silent
    stereo = analyse(_wav(np.tile([0.5, 0.5], 8000), channels=2))
    assert stereo.channels == 2 and stereo.duration_s == pytest.approx(0.5)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=120))
def test_wavcheck_refuses_garbage_clearly(data):
    try:
        stats = analyse(data)
    except BadWav:
        return
    assert stats.duration_s >= 0
