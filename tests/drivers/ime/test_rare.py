"""Rare name characters by pinyin: 䶮 and 𠮷 reachable, everything offered drawable and rare."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.ime.rare import (
    RareIndex,
    extended_candidates,
    font_coverage,
    rime_dictionary_characters,
    toneless,
)


def test_yan_reaches_yan_of_liu_yan():
    assert "䶮" in extended_candidates("yan")


def test_ji_reaches_the_ji_with_earth_on_top():
    found = extended_candidates("ji")
    assert "\U00020bb7" in found
    assert found[0] == "\U00020bb7"  # a known name character comes before the obscure ones


def test_separators_are_ignored():
    assert extended_candidates("yan'") == extended_candidates("yan")


def test_offered_characters_are_rare_and_drawable():
    drawable = font_coverage()
    common = rime_dictionary_characters()
    assert drawable and len(common) > 6000
    for syllable in ["yan", "ji", "li", "wang", "lv", "kun"]:
        for char in extended_candidates(syllable):
            assert ord(char) in drawable
            assert char not in common
            with pytest.raises(UnicodeEncodeError):
                char.encode("gb2312")


def test_unknown_syllables_and_empty_input_give_nothing():
    assert extended_candidates("xyz") == []
    assert extended_candidates("") == []


@pytest.mark.parametrize(
    ("reading", "typed"), [("yǎn", "yan"), ("lǚ", "lv"), ("lüè", "lve"), ("jí", "ji"), ("ḿ", "m")]
)
def test_toneless_pinyin_is_what_a_person_types(reading, typed):
    assert toneless(reading) == typed


def test_without_the_kiosk_font_nothing_is_offered(tmp_path):
    index = RareIndex(font_path=tmp_path / "missing.ttc")
    assert index.candidates("yan") == []


def test_without_the_rime_dictionary_gb2312_is_still_left_out(tmp_path):
    index = RareIndex(rime_dict=tmp_path / "missing.dict.yaml")
    found = index.candidates("yan")
    assert "䶮" in found and "严" not in found


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_any_text_gives_characters_or_a_value_error(text):
    try:
        found = extended_candidates(text)
    except ValueError:
        return
    assert all(len(c) == 1 for c in found)
