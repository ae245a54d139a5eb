"""Rebuild rare_strokes.json: median strokes of rare name characters and of their look-alikes.

    npm pack hanzi-writer-data@2.0.1 && tar xzf hanzi-writer-data-2.0.1.tgz
    python drivers/ime/data/make_rare_strokes.py package/ > drivers/ime/data/rare_strokes.json

hanzi-writer-data (Make Me a Hanzi, Arphic Public License) holds stroke medians for about 9,500
characters, but not for 䶮, 𠮷 and the other rare name characters: those are composed here from
their components, each component's strokes stretched into its part of the square (䶮 = 龍 over
天). Coordinates are turned into screen orientation (y down) in a 1024 x 1024 box. The output
is committed, so building the handwriting model needs neither npm nor the network.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the square
LEFT_RADICAL: Box = (0.04, 0.12, 0.4, 0.88)
RIGHT_PART: Box = (0.44, 0.03, 0.96, 0.97)

# Rare name characters (none in GB 2312, so none in the Debian model) and how to write them.
RECIPES: dict[str, list[tuple[str, Box]]] = {
    "䶮": [("龍", (0.1, 0.02, 0.9, 0.55)), ("天", (0.14, 0.58, 0.86, 0.98))],
    "𠮷": [("土", (0.2, 0.04, 0.8, 0.5)), ("口", (0.26, 0.56, 0.74, 0.96))],
    "玥": [("王", LEFT_RADICAL), ("月", RIGHT_PART)],
    "珺": [("王", LEFT_RADICAL), ("君", RIGHT_PART)],
    "琇": [("王", LEFT_RADICAL), ("秀", RIGHT_PART)],
    "璟": [("王", LEFT_RADICAL), ("景", RIGHT_PART)],
    "珣": [("王", LEFT_RADICAL), ("旬", RIGHT_PART)],
    "玏": [("王", LEFT_RADICAL), ("力", RIGHT_PART)],
    "暻": [("日", (0.04, 0.2, 0.34, 0.8)), ("景", (0.38, 0.03, 0.96, 0.97))],
    "翀": [("羽", (0.04, 0.05, 0.58, 0.95)), ("中", (0.6, 0.03, 0.96, 0.97))],
    "燊": [("焱", (0.08, 0.02, 0.92, 0.55)), ("木", (0.14, 0.56, 0.86, 0.98))],
    "犇": [
        ("牛", (0.26, 0.02, 0.74, 0.47)),
        ("牛", (0.03, 0.52, 0.48, 0.98)),
        ("牛", (0.52, 0.52, 0.97, 0.98)),
    ],
    "囍": [("喜", (0.03, 0.04, 0.49, 0.96)), ("喜", (0.51, 0.04, 0.97, 0.96))],
}
# Rare name characters that hanzi-writer-data has whole.
WHOLE_RARE = "堃喆昇垚彧禛"
# Common characters (in the Debian model) that look like the rare ones: trained beside them so
# the small model has somewhere else to put a 王 or a 吉, instead of calling it 玥 or 𠮷.
LOOK_ALIKES = "龙天吉王月明君秀景旬力昌坤垒或真中森喜奔淼李土口日木牛羽焱龍"


def medians(data_dir: Path, char: str) -> list[list[list[int]]]:
    """The character's stroke medians, y down, in a 1024 box (the data's y runs up from -124)."""
    raw = json.loads((data_dir / f"{char}.json").read_text("utf-8"))["medians"]
    return [[[int(x), int(900 - y)] for x, y in stroke] for stroke in raw]


def compose(data_dir: Path, parts: list[tuple[str, Box]]) -> list[list[list[int]]]:
    strokes: list[list[list[int]]] = []
    for component, (x0, y0, x1, y1) in parts:
        comp = medians(data_dir, component)
        xs = [p[0] for s in comp for p in s]
        ys = [p[1] for s in comp for p in s]
        left, top = min(xs), min(ys)
        span_x, span_y = max(max(xs) - left, 1), max(max(ys) - top, 1)
        for stroke in comp:
            strokes.append(
                [
                    [
                        round((x0 + (x - left) / span_x * (x1 - x0)) * 1024),
                        round((y0 + (y - top) / span_y * (y1 - y0)) * 1024),
                    ]
                    for x, y in stroke
                ]
            )
    return strokes


def build(data_dir: Path) -> dict[str, object]:
    rare = {char: compose(data_dir, parts) for char, parts in RECIPES.items()}
    rare.update({char: medians(data_dir, char) for char in WHOLE_RARE})
    return {
        "source": "hanzi-writer-data 2.0.1 (Make Me a Hanzi), Arphic Public License",
        "box": 1024,
        "rare": rare,
        "look_alikes": {char: medians(data_dir, char) for char in LOOK_ALIKES},
    }


if __name__ == "__main__":
    json.dump(build(Path(sys.argv[1])), sys.stdout, ensure_ascii=False, separators=(",", ":"))
    print()
