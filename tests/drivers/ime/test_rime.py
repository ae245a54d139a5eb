"""librime through the ctypes wrapper, for real: candidates, validation, threads, privacy."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.ime import ImeUnavailable
from drivers.ime.rime import MAX_PINYIN_LENGTH, PinyinEngine, validate_pinyin
from tests.support.ime_engines import pinyin_engine, rime_user_dir

ROOT = Path(__file__).resolve().parents[3]


def test_li_offers_li_the_surname_on_the_first_page():
    assert "李" in pinyin_engine().candidates("li", limit=8, single_chars=True)


def test_common_surnames_come_first_for_their_syllable():
    engine = pinyin_engine()
    for pinyin, surname in [("wang", "王"), ("zhang", "张"), ("chen", "陈"), ("lv", "吕")]:
        assert surname in engine.candidates(pinyin, limit=8), pinyin


def test_limit_and_single_characters():
    engine = pinyin_engine()
    everything = engine.candidates("xiaoming")
    assert "小明" in everything[:4]
    assert engine.candidates("xiaoming", limit=3) == everything[:3]
    singles = engine.candidates("xiaoming", single_chars=True)
    assert singles and all(len(c) == 1 for c in singles)
    assert len(set(everything)) == len(everything)


def test_separator_splits_syllables():
    assert "西安" in pinyin_engine().candidates("xi'an", limit=3)


def test_upper_case_is_typed_as_lower_case():
    engine = pinyin_engine()
    assert engine.candidates("LI", limit=5) == engine.candidates("li", limit=5)


def test_empty_input_and_zero_limit_give_nothing():
    engine = pinyin_engine()
    assert engine.candidates("") == []
    assert engine.candidates("li", limit=0) == []


@pytest.mark.parametrize("bad", ["li1", "李", "'li", "li li", "l-i", "x" * (MAX_PINYIN_LENGTH + 1)])
def test_malformed_pinyin_is_refused_clearly(bad):
    with pytest.raises(ValueError):
        pinyin_engine().candidates(bad)


def test_negative_limit_is_refused():
    with pytest.raises(ValueError):
        pinyin_engine().candidates("li", limit=-1)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60))
def test_any_text_gives_candidates_or_a_value_error(text):
    try:
        found = pinyin_engine().candidates(text, limit=20)
    except ValueError:
        with pytest.raises(ValueError):
            validate_pinyin(text)
    else:
        assert all(isinstance(c, str) and c for c in found)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz'", max_size=MAX_PINYIN_LENGTH))
def test_any_typing_on_the_pinyin_layout_never_crashes(text):
    if text.startswith("'"):
        return
    found = pinyin_engine().candidates(text, single_chars=True, limit=50)
    assert all(len(c) == 1 for c in found)


def test_one_engine_serves_threads_consistently():
    engine = pinyin_engine()
    words = ["li", "wang", "zhang", "yan", "ji", "liu", "chen", "zhao"]
    expected = {w: engine.candidates(w, limit=10) for w in words}
    failures: list[str] = []

    def hammer() -> None:
        for _ in range(20):
            for w in words:
                if engine.candidates(w, limit=10) != expected[w]:
                    failures.append(w)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_two_engines_have_their_own_sessions():
    with PinyinEngine(rime_user_dir()) as other:
        assert other.candidates("li", limit=3) == pinyin_engine().candidates("li", limit=3)


def test_a_second_user_directory_in_one_process_is_refused(tmp_path):
    pinyin_engine()
    with pytest.raises(ImeUnavailable):
        PinyinEngine(tmp_path / "elsewhere")


def test_nothing_typed_is_learned_or_kept(tmp_path):
    engine = pinyin_engine()
    before = engine.candidates("yan", limit=10)
    for _ in range(3):
        engine.candidates("yan", limit=10)
    assert engine.candidates("yan", limit=10) == before
    user_dir = rime_user_dir()
    # The patched schema is deployed, and with the user dictionary off there is no userdb.
    assert "enable_user_dict: false" in (user_dir / "build" / "pinyin_simp.schema.yaml").read_text()
    assert not list(user_dir.glob("*.userdb*"))


def test_missing_rime_data_is_a_clear_error(tmp_path):
    code = (
        "from drivers.ime.rime import PinyinEngine; from drivers.ime import ImeUnavailable\n"
        "try:\n"
        f"    PinyinEngine({str(tmp_path / 'u')!r}, shared_dir={str(tmp_path / 'none')!r})\n"
        "except ImeUnavailable as exc:\n"
        "    print('unavailable:', exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "unavailable:" in result.stdout and "rime-data-pinyin-simp" in result.stdout
