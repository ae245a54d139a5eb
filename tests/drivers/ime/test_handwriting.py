"""Handwriting with real zinnia: the Debian model, the trained rare name model, validation."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.ime import ImeUnavailable
from drivers.ime.handwriting import HandwritingEngine
from drivers.ime.rare_model import STROKE_DATA, build_rare_model, rare_characters
from drivers.ime.strokes import MAX_POINTS_PER_STROKE, MAX_STROKES, resample
from tests.support.ime_engines import handwriting_engine, rare_model_dir, recorded_strokes


def top(char: str, n: int = 5) -> list[str]:
    pad, strokes = recorded_strokes()
    return [c for c, _ in handwriting_engine().recognise(strokes[char], pad, pad, limit=n)]


def test_recorded_yan_is_recognised():
    assert "䶮" in top("䶮", 5)


def test_recorded_ji_with_earth_on_top_is_recognised():
    assert "\U00020bb7" in top("\U00020bb7", 5)


def test_common_characters_still_come_from_the_debian_model():
    assert top("王", 3)[0] == "王"
    assert "李" in top("李", 5)


def test_without_the_rare_model_yan_cannot_be_written():
    pad, strokes = recorded_strokes()
    with HandwritingEngine(with_rare_model=False) as plain:
        found = [c for c, _ in plain.recognise(strokes["䶮"], pad, pad, limit=20)]
    assert found and "䶮" not in found


def test_results_are_ranked_and_limited():
    pad, strokes = recorded_strokes()
    found = handwriting_engine().recognise(strokes["李"], pad, pad, limit=7)
    assert len(found) == 7
    scores = [s for _, s in found]
    assert scores == sorted(scores, reverse=True)
    assert len({c for c, _ in found}) == 7


def test_look_alike_classes_of_the_rare_model_never_leak():
    # 龍 is trained in the rare model only as a look-alike; the Debian model lacks it.
    data = json.loads(STROKE_DATA.read_text("utf-8"))
    dragon = [[(x * 300 // 1024, y * 300 // 1024) for x, y in s] for s in data["look_alikes"]["龍"]]
    found = [c for c, _ in handwriting_engine().recognise(dragon, 300, 300, limit=20)]
    assert "龍" not in found
    assert "龍" not in rare_characters()


def test_the_trained_model_is_cached():
    first = build_rare_model(rare_model_dir())
    mtime = first.stat().st_mtime_ns
    assert build_rare_model(rare_model_dir()) == first
    assert first.stat().st_mtime_ns == mtime


def test_a_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ImeUnavailable, match="tegaki"):
        HandwritingEngine([tmp_path / "none.model"], with_rare_model=False)


def test_a_broken_model_is_a_clear_error(tmp_path):
    broken = tmp_path / "broken.model"
    broken.write_bytes(b"not a zinnia model")
    with pytest.raises(ImeUnavailable):
        HandwritingEngine([broken], with_rare_model=False)


def test_long_strokes_are_resampled():
    many = [(i % 300, 150) for i in range(5000)]
    assert len(resample(many)) == MAX_POINTS_PER_STROKE
    assert resample(many)[0] == many[0] and resample(many)[-1] == many[-1]
    assert handwriting_engine().recognise([many], 300, 300, limit=3)


@pytest.mark.parametrize(
    ("strokes", "width", "height", "reason"),
    [
        ([], 300, 300, "no strokes"),
        ([[]], 300, 300, "no points"),
        ([[(10, 10), (math.nan, 20)]], 300, 300, "finite"),
        ([[(10, 10), (math.inf, 20)]], 300, 300, "finite"),
        ([[(10, 10), (301, 20)]], 300, 300, "outside"),
        ([[(-1, 10)]], 300, 300, "outside"),
        ([[(10, 10)]], 0, 300, "width"),
        ([[(10, 10)]], 300, 10**6, "height"),
        ([[(10, 10, 3)]], 300, 300, "pair"),
        ([[("1", 2)]], 300, 300, "numbers"),
        ("abc", 300, 300, "list of strokes"),
        ([[(1, 1)]] * (MAX_STROKES + 1), 300, 300, "more than"),
    ],
)
def test_malformed_strokes_are_refused_clearly(strokes, width, height, reason):
    with pytest.raises(ValueError, match=reason):
        handwriting_engine().recognise(strokes, width, height)


@pytest.mark.parametrize("limit", [0, -1, 101, True])
def test_a_silly_limit_is_refused(limit):
    with pytest.raises(ValueError):
        handwriting_engine().recognise([[(1, 1), (5, 5)]], 10, 10, limit=limit)


coordinate = st.one_of(
    st.integers(-50, 400), st.floats(allow_nan=True, allow_infinity=True), st.just(150)
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.lists(st.tuples(coordinate, coordinate), max_size=40), max_size=12),
    st.integers(-5, 400),
)
def test_any_scribble_gives_a_ranking_or_a_value_error(strokes, size):
    try:
        found = handwriting_engine().recognise(strokes, size, size, limit=5)
    except ValueError:
        return
    assert len(found) <= 5
    assert all(isinstance(c, str) and math.isfinite(s) for c, s in found)
