"""The headless on-screen keyboard, typing names with the real librime and zinnia engines."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.ime.rare import extended_candidates
from kiosk.keyboard import ELDER_PAGE_SIZE, Keyboard
from tests.support.ime_engines import handwriting_engine, pinyin_engine, recorded_strokes


def real_keyboard(layout: str = "pinyin", **kwargs) -> Keyboard:
    return Keyboard(
        layout,
        pinyin=pinyin_engine(),
        extended=extended_candidates,
        handwriting=handwriting_engine(),
        **kwargs,
    )


def type_keys(kb: Keyboard, keys: str) -> None:
    for key in keys:
        kb.press(key)


def page_to(kb: Keyboard, char: str, max_pages: int = 200) -> int:
    """Page forward until `char` is on the page; its index there."""
    for _ in range(max_pages):
        if char in kb.candidates:
            return kb.candidates.index(char)
        if not kb.page(+1):
            break
    raise AssertionError(f"{char} not reachable")


def test_typing_li_and_choosing_the_surname():
    kb = real_keyboard()
    type_keys(kb, "li")
    assert kb.composition == "li"
    assert "李" in kb.candidates and len(kb.candidates) == 8
    assert kb.choose(kb.candidates.index("李"))
    assert kb.text == "李" and kb.composition == "" and kb.candidates == []


def test_a_whole_name_one_character_at_a_time():
    kb = real_keyboard()
    for syllable, char in [("liu", "刘"), ("yan", "䶮")]:
        type_keys(kb, syllable)
        assert kb.choose(page_to(kb, char))
    assert kb.text == "刘䶮"


def test_rare_characters_come_after_all_of_rimes():
    kb = real_keyboard()
    type_keys(kb, "yan")
    everything = []
    while True:
        everything += kb.candidates
        if not kb.page(+1):
            break
    rime = pinyin_engine().candidates("yan", single_chars=True)
    assert everything[: len(rime)] == rime
    assert "䶮" in everything[len(rime) :]
    assert len(everything) == len(set(everything))


def test_ji_reaches_the_rare_ji_and_backspace_removes_it_whole():
    kb = real_keyboard()
    type_keys(kb, "ji")
    kb.choose(page_to(kb, "\U00020bb7"))
    assert kb.text == "\U00020bb7"
    assert kb.backspace()
    assert kb.text == ""
    assert not kb.backspace()


def test_backspace_takes_a_letter_while_composing_then_a_character():
    kb = real_keyboard(text="王")
    type_keys(kb, "lin")
    kb.backspace()
    assert kb.composition == "li" and "李" in kb.candidates
    kb.backspace()
    kb.backspace()
    assert kb.composition == "" and kb.candidates == [] and kb.text == "王"
    kb.backspace()
    assert kb.text == ""


def test_paging_has_ends_and_elder_mode_shows_four():
    kb = real_keyboard(page_size=ELDER_PAGE_SIZE)
    type_keys(kb, "zhang")
    assert len(kb.candidates) == 4
    assert kb.has_more and not kb.has_previous
    first = kb.candidates
    assert not kb.page(-1)
    assert kb.page(+1) and kb.has_previous and kb.candidates != first
    assert kb.page(-1) and kb.candidates == first
    while kb.page(+1):
        pass
    assert not kb.has_more and 1 <= len(kb.candidates) <= 4


def test_digit_picks_from_the_page_and_space_picks_the_first():
    kb = real_keyboard()
    type_keys(kb, "wang")
    second = kb.candidates[1]
    kb.press("2")
    assert kb.text == second
    type_keys(kb, "li")
    first = kb.candidates[0]
    kb.press(" ")
    assert kb.text == second + first


def test_separator_only_between_letters():
    kb = real_keyboard()
    assert not kb.press("'")
    type_keys(kb, "xi'")
    assert not kb.press("'")
    assert kb.composition == "xi'"


def test_max_length_holds():
    kb = real_keyboard(layout="digits", max_length=3)
    type_keys(kb, "1234")
    assert kb.text == "123" and kb.is_full
    kb.set_layout("pinyin")
    type_keys(kb, "li")
    assert not kb.choose(0)
    assert kb.text == "123"


def test_layouts_accept_only_their_keys():
    kb = real_keyboard(layout="digits")
    with pytest.raises(ValueError):
        kb.press("a")
    kb.set_layout("letters")
    type_keys(kb, "Ab 1")
    assert kb.text == "Ab 1"
    kb.set_layout("handwriting")
    with pytest.raises(ValueError):
        kb.press("a")
    with pytest.raises(ValueError):
        kb.set_layout("emoji")


def test_layouts_without_their_engine_are_not_offered():
    kb = Keyboard("digits")
    assert kb.available_layouts == ("digits", "letters")
    with pytest.raises(ValueError):
        kb.set_layout("pinyin")


def test_handwriting_a_rare_name_character():
    pad, strokes = recorded_strokes()
    kb = real_keyboard(layout="handwriting", ink_box=(pad, pad))
    for stroke in strokes["䶮"]:
        kb.add_stroke(stroke)
    assert "䶮" in kb.candidates[:5]
    assert kb.choose(kb.candidates.index("䶮"))
    assert kb.text == "䶮" and kb.ink == []


def test_handwriting_backspace_takes_a_stroke_then_a_character():
    pad, strokes = recorded_strokes()
    kb = real_keyboard(layout="handwriting", ink_box=(pad, pad), text="李")
    for stroke in strokes["王"]:
        kb.add_stroke(stroke)
    assert kb.candidates[0] == "王"
    kb.backspace()
    assert len(kb.ink) == len(strokes["王"]) - 1
    assert kb.candidates and kb.candidates[0] != "王"
    while kb.ink:
        kb.backspace()
    assert kb.candidates == [] and kb.text == "李"
    kb.backspace()
    assert kb.text == ""


def test_strokes_off_the_pad_are_kept_on_its_edge_and_nan_is_refused():
    kb = real_keyboard(layout="handwriting", ink_box=(100, 100))
    kb.add_stroke([(-20, 50), (140, 50)])
    assert kb.ink == [[(0, 50), (100, 50)]]
    assert "一" in kb.candidates
    with pytest.raises(ValueError):
        kb.add_stroke([(float("nan"), 1)])
    kb.clear_ink()
    assert kb.ink == [] and kb.candidates == []


class Broken:
    def candidates(self, pinyin, *, limit=None, single_chars=False):
        raise RuntimeError("librime died")

    def recognise(self, strokes, width, height, limit=10):
        raise RuntimeError("zinnia died")


def test_a_failing_engine_leaves_a_working_keyboard_and_logs_nothing_typed(caplog):
    caplog.set_level(logging.DEBUG)
    kb = Keyboard("pinyin", pinyin=Broken(), handwriting=Broken())
    type_keys(kb, "wangxiuying")
    assert kb.candidates == [] and kb.composition == "wangxiuying"
    kb.set_layout("handwriting")
    kb.add_stroke([(1, 1), (50, 50)])
    assert kb.candidates == []
    assert "failed" in caplog.text and "wangxiuying" not in caplog.text


operations = st.lists(
    st.one_of(
        st.tuples(st.just("press"), st.sampled_from(list("abgilnouyz'0123456789 "))),
        st.tuples(st.just("backspace"), st.none()),
        st.tuples(st.just("choose"), st.integers(-2, 9)),
        st.tuples(st.just("page"), st.sampled_from([-1, 1])),
        st.tuples(st.just("layout"), st.sampled_from(["pinyin", "handwriting", "digits"])),
        st.tuples(
            st.just("stroke"),
            st.lists(st.tuples(st.integers(-10, 310), st.integers(-10, 310)), max_size=12),
        ),
    ),
    max_size=40,
)


@settings(max_examples=80, deadline=None)
@given(operations)
def test_any_sequence_of_touches_keeps_the_keyboard_sane(ops):
    kb = real_keyboard(max_length=6)
    for op, arg in ops:
        try:
            if op == "press":
                kb.press(arg)
            elif op == "backspace":
                kb.backspace()
            elif op == "choose":
                kb.choose(arg)
            elif op == "page":
                kb.page(arg)
            elif op == "layout":
                kb.set_layout(arg)
            else:
                kb.add_stroke(arg)
        except ValueError:
            pass  # a key or stroke the layout does not have
        assert len(kb.text) <= 6
        assert len(kb.candidates) <= kb.page_size
        assert kb.has_more == ((kb.page_number + 1) * kb.page_size < len(kb._choices))
