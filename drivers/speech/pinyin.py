"""Chinese text to the tone-numbered pinyin that espeak-ng's `cmn-latn-pinyin` voice reads.

Checked against espeak-ng 1.51 (`espeak-ng -v cmn-latn-pinyin -x` and clip durations):
- tones 1-4 as digits after the syllable, neutral tone as 5 (`xie4 xie5` -> 51 11); `v` or `ü`;
- it applies third-tone sandhi itself (`ni3 hao3` -> 35 214), pypinyin's 一/不 sandhi is kept;
- full-width punctuation ，、；：。？！ makes pauses; an ASCII `.` before a lower-case syllable does
  not, so ASCII punctuation is turned into its full-width form;
- its own number reading is poor (`12.5` loses the point, `ka35` swallows the digit), so numbers
  are turned into hanzi first and read by pypinyin;
- Latin words are handed over to its English voice (`ABC`, `hello`), so they are kept.
"""

from __future__ import annotations

import re
import unicodedata

from pypinyin import Style, lazy_pinyin

PAUSES = "，、；：。？！…"
_ASCII_PAUSES = str.maketrans({",": "，", ";": "；", ":": "：", ".": "。", "?": "？", "!": "！"})
_DIGITS = "零一二三四五六七八九"
_NUMBER = re.compile(r"(\d+)(?:\.(\d+))?(年)?")
_TOKEN = re.compile(rf"[a-z]+[1-5]|[A-Za-z]+|[{PAUSES}]")
_SYLLABLE = re.compile(r"[a-zü]+[1-5]")
MAX_QUANTITY_DIGITS = 4  # longer runs (phone, ID, receipt numbers) are read digit by digit


def to_pinyin_numbers(text: str) -> str:
    """Tone-numbered pinyin for `text`, punctuation kept as pauses; "" when nothing is speakable.

    >>> to_pinyin_numbers("请到银行还款，谢谢")
    'qing3 dao4 yin2 hang2 hai2 kuan3， xie4 xie4'
    """
    tokens: list[str] = []
    for piece in lazy_pinyin(
        _prepare(text), style=Style.TONE3, neutral_tone_with_five=True, tone_sandhi=True
    ):
        tokens.extend(_TOKEN.findall(piece))
    return _join(tokens)


def spell_number(digits: str, fraction: str | None = None, year: bool = False) -> str:
    """A number as Chinese words: quantities up to 9999, longer or zero-led runs digit by digit."""
    if year or len(digits) > MAX_QUANTITY_DIGITS or (len(digits) > 1 and digits[0] == "0"):
        words = _digit_by_digit(digits)
    else:
        words = _quantity(int(digits))
    if fraction:
        words += "点" + _digit_by_digit(fraction)
    return words


def _prepare(text: str) -> str:
    """Normalise width, drop control characters, spell numbers, make ASCII punctuation pauses."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text
    )
    text = _NUMBER.sub(
        lambda m: spell_number(m.group(1), m.group(2), bool(m.group(3))) + (m.group(3) or ""),
        text,
    )
    return text.translate(_ASCII_PAUSES)


def _join(tokens: list[str]) -> str:
    """Syllables and words separated by spaces; a pause sticks to the word before it."""
    out: list[str] = []
    for token in tokens:
        if token in PAUSES:
            if out and out[-1][-1] not in PAUSES:  # collapse runs of pauses, none at the start
                out[-1] += token
        else:
            out.append(token)
    return " ".join(out)


def _digit_by_digit(digits: str) -> str:
    return "".join(_DIGITS[int(d)] for d in digits)


def _quantity(number: int) -> str:
    """0..9999 the way it is said: 10 十, 15 十五, 105 一百零五, 2000 两千, 1010 一千零一十."""
    if number == 0:
        return "零"
    if 10 <= number < 20:
        return "十" + (_DIGITS[number - 10] if number > 10 else "")
    words = ""
    pending_zero = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = number // value % 10
        if digit == 0:
            pending_zero = bool(words)
            continue
        if pending_zero:
            words += "零"
            pending_zero = False
        words += ("两" if digit == 2 and unit in "千百" and unit else _DIGITS[digit]) + unit
    return words


def syllables(pinyin: str) -> list[str]:
    """The tone-numbered syllables in a `to_pinyin_numbers` result (for checks and tests)."""
    return _SYLLABLE.findall(pinyin)
