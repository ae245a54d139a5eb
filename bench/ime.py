"""Chinese input engines: pinyin candidates per keystroke and handwriting per character.

    python -m bench.ime [--repeat 3]

Pinyin: a list of common names is typed letter by letter, one syllable at a time (as the
keyboard does for names), and each keystroke asks the real librime session for its single
characters (`PinyinEngine.candidates(..., single_chars=True)`) plus the rare characters
(`extended_candidates`). Baseline, in the same run: the same keystrokes answered by a dict
lookup in an index built from pypinyin's dictionary, i.e. the cost of having the answer at hand.

Handwriting: the recorded strokes of tests/fixtures/strokes (䶮 𠮷 王 李), recognised by both
zinnia models; baseline: the same call with a one-stroke character (一).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.ime.handwriting import HandwritingEngine  # noqa: E402
from drivers.ime.rare import extended_candidates, toneless  # noqa: E402
from drivers.ime.rime import PinyinEngine  # noqa: E402
from tests.support.ime_engines import recorded_strokes  # noqa: E402

# Common names (syllables), the kind the kiosk's forms are filled with.
NAMES = [
    ["wang", "xiu", "ying"],
    ["li", "jian", "guo"],
    ["zhang", "wei"],
    ["liu", "yan"],
    ["chen", "jing"],
    ["yang", "fan"],
    ["zhao", "min"],
    ["huang", "li", "hua"],
    ["zhou", "jie"],
    ["wu", "hai", "yan"],
    ["xu", "ming"],
    ["sun", "li"],
    ["ma", "jun"],
    ["zhu", "hong", "mei"],
    ["hu", "jun"],
    ["guo", "qiang"],
    ["he", "ping"],
    ["lv", "ji"],
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def keystrokes() -> list[str]:
    """Every prefix typed: 'w', 'wa', 'wan', 'wang', 'x', ..."""
    return [syl[: i + 1] for name in NAMES for syl in name for i in range(len(syl))]


def baseline_index() -> dict[str, list[str]]:
    from pypinyin.pinyin_dict import pinyin_dict

    index: dict[str, list[str]] = {}
    for code, readings in pinyin_dict.items():
        for reading in readings.split(","):
            key = toneless(reading)
            for i in range(1, len(key) + 1):
                index.setdefault(key[:i], []).append(chr(code))
    return index


def timed_ms(func, arg, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        func(arg)
        out.append((time.perf_counter() - start) * 1000)
    return out


def report(label: str, measured: list[float], base: list[float]) -> None:
    med, p95 = statistics.median(measured), percentile(measured, 0.95)
    bmed, bp95 = statistics.median(base), percentile(base, 0.95)
    print(
        f"{label}: median {med:.3f} ms, p95 {p95:.3f} ms | baseline median {bmed:.4f} ms, "
        f"p95 {bp95:.4f} ms | ratio median x{med / bmed:.0f}, p95 x{p95 / bp95:.0f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        engine = PinyinEngine(Path(scratch) / "rime")
        extended_candidates("a")  # build the rare index outside the timing
        index = baseline_index()
        keys = keystrokes()

        def per_key(prefix: str) -> list[str]:
            return engine.candidates(prefix, single_chars=True) + extended_candidates(prefix)

        pinyin_ms = [t for k in keys for t in timed_ms(per_key, k, args.repeat)]
        dict_ms = [t for k in keys for t in timed_ms(index.get, k, args.repeat)]
        print(f"pinyin: {len(keys)} keystrokes x {args.repeat}, librime {engine.version}")
        report("pinyin candidates per keystroke", pinyin_ms, dict_ms)

        writer = HandwritingEngine(rare_model_dir=Path(scratch) / "models")
        pad, chars = recorded_strokes()
        hits = 0
        hand_ms: list[float] = []
        for char, strokes in chars.items():
            hand_ms += timed_ms(lambda s: writer.recognise(s, pad, pad, 10), strokes, args.repeat)
            hits += char in [c for c, _ in writer.recognise(strokes, pad, pad, 5)]
        one = [[(pad // 10, pad // 2), (pad * 9 // 10, pad // 2)]]
        one_ms = [
            t
            for _ in chars
            for t in timed_ms(lambda s: writer.recognise(s, pad, pad, 10), one, args.repeat)
        ]
        print(f"handwriting: {len(chars)} recorded characters, {hits} in the top 5")
        report("handwriting per character", hand_ms, one_ms)
    return 0


if __name__ == "__main__":
    sys.exit(main())
