"""The US keyboard layout both ways: key events back into text, and text into key events. Pure.

A HID wedge scanner pretends to be a US keyboard and types each code followed by ENTER. The
`KeyDecoder` follows the key events (down 1, up 0, auto-repeat 2), the Shift, Caps Lock, Ctrl
and Alt state, and hands back each line when ENTER or keypad ENTER is pressed. Events it does
not understand (other event types, function keys, unknown codes) are skipped and counted,
never fatal.

Characters outside the US layout (Chinese) can only be typed the Windows way, holding Alt
while typing a decimal code on the keypad; Chinese scanners do this in their "Windows" output
mode with the GBK code (``alt_codes="gbk"``) or, in "Unicode" mode, the code point
(``"unicode"``). Both are decoded here, since Linux itself ignores Alt codes.

`events_for_text` goes the other way, producing what such a scanner sends for a string: the
test fixtures and the simulator's recordings are made with it.
"""

from __future__ import annotations

import logging

from drivers.qr.evdev_events import (
    EV_KEY,
    EV_MSC,
    EV_SYN,
    KEY_DOWN,
    KEY_REPEAT,
    KEY_UP,
    MSC_SCAN,
    SYN_REPORT,
    InputEvent,
)

log = logging.getLogger("drivers.qr")

# The printable keys of the US layout: code -> (unshifted, shifted).
US_KEYS: dict[int, tuple[str, str]] = {
    2: ("1", "!"),
    3: ("2", "@"),
    4: ("3", "#"),
    5: ("4", "$"),
    6: ("5", "%"),
    7: ("6", "^"),
    8: ("7", "&"),
    9: ("8", "*"),
    10: ("9", "("),
    11: ("0", ")"),
    12: ("-", "_"),
    13: ("=", "+"),
    15: ("\t", "\t"),
    26: ("[", "{"),
    27: ("]", "}"),
    39: (";", ":"),
    40: ("'", '"'),
    41: ("`", "~"),
    43: ("\\", "|"),
    51: (",", "<"),
    52: (".", ">"),
    53: ("/", "?"),
    57: (" ", " "),
    # Keypad: scanners in "keypad emulation" mode type digits here, whatever Num Lock says.
    55: ("*", "*"),
    74: ("-", "-"),
    78: ("+", "+"),
    83: (".", "."),
    98: ("/", "/"),
    117: ("=", "="),
}
for _start, _row in ((16, "qwertyuiop"), (30, "asdfghjkl"), (44, "zxcvbnm")):
    for _offset, _letter in enumerate(_row):
        US_KEYS[_start + _offset] = (_letter, _letter.upper())
KEYPAD_DIGITS = {71: "7", 72: "8", 73: "9", 75: "4", 76: "5", 77: "6", 79: "1", 80: "2"}
KEYPAD_DIGITS.update({81: "3", 82: "0"})
for _code, _digit in KEYPAD_DIGITS.items():
    US_KEYS[_code] = (_digit, _digit)

KEY_ENTER = 28
KEY_KPENTER = 96
SHIFT_KEYS = frozenset({42, 54})  # LEFTSHIFT, RIGHTSHIFT
CTRL_KEYS = frozenset({29, 97})  # LEFTCTRL, RIGHTCTRL
ALT_KEYS = frozenset({56, 100})  # LEFTALT, RIGHTALT
KEY_CAPSLOCK = 58
# Keys a scanner may send that carry no text and are not worth a debug line.
_SILENT_KEYS = frozenset({69, 70, 125, 126})  # NUMLOCK, SCROLLLOCK, LEFTMETA, RIGHTMETA

DEFAULT_MAX_CHARS = 4096


class KeyDecoder:
    """Follows key events and returns each line typed before ENTER.

    `feed` returns the finished line (without ENTER) or None. Empty lines are skipped. A line
    longer than `max_chars` is dropped with a warning, and decoding resumes after the next
    ENTER. `unknown_keys` counts skipped keys, `discarded` dropped lines.
    """

    def __init__(self, *, max_chars: int = DEFAULT_MAX_CHARS, alt_codes: str = "gbk") -> None:
        if alt_codes not in ("gbk", "unicode"):
            raise ValueError(f"alt_codes must be 'gbk' or 'unicode', not {alt_codes!r}")
        self.max_chars = max_chars
        self.alt_codes = alt_codes
        self.unknown_keys = 0
        self.discarded = 0
        self._chars: list[str] = []
        self._shift: set[int] = set()
        self._ctrl: set[int] = set()
        self._alt: set[int] = set()
        self._alt_digits = ""
        self._caps = False
        self._overlong = False

    @property
    def pending(self) -> int:
        """Characters typed since the last ENTER."""
        return len(self._chars)

    def reset(self) -> None:
        """Forget the partial line and every held key (the device was reopened)."""
        self._chars.clear()
        self._shift.clear()
        self._ctrl.clear()
        self._alt.clear()
        self._alt_digits = ""
        self._overlong = False

    def feed_all(self, events: list[InputEvent]) -> list[str]:
        """Every line finished by `events`, oldest first."""
        lines = []
        for event in events:
            line = self.feed(event)
            if line is not None:
                lines.append(line)
        return lines

    def feed(self, event: InputEvent) -> str | None:
        """Follow one event; return the line it finishes, if it is an ENTER press."""
        if event.type != EV_KEY:
            return None  # SYN reports, MSC_SCAN, LEDs: nothing to type
        code, value = event.code, event.value
        if self._modifier(code, value):
            return None
        if value == KEY_UP or value not in (KEY_DOWN, KEY_REPEAT):
            return None
        # A repeat types the key again, as it would in the window the scanner types into.
        if code in (KEY_ENTER, KEY_KPENTER):
            return self._finish()
        if code == KEY_CAPSLOCK:
            if value == KEY_DOWN:
                self._caps = not self._caps
            return None
        if self._alt and code in KEYPAD_DIGITS:
            self._alt_digits += KEYPAD_DIGITS[code]
            return None
        if self._ctrl or self._alt:
            return None  # shortcuts (Ctrl+J, Alt+Tab) are not text
        keys = US_KEYS.get(code)
        if keys is None:
            self._unknown(code)
            return None
        char = keys[1] if self._shifted(keys[0]) else keys[0]
        self._append(char)
        return None

    def _modifier(self, code: int, value: int) -> bool:
        for keys, held in ((SHIFT_KEYS, self._shift), (CTRL_KEYS, self._ctrl)):
            if code in keys:
                (held.discard if value == KEY_UP else held.add)(code)
                return True
        if code in ALT_KEYS:
            if value == KEY_UP:
                self._alt.discard(code)
                if not self._alt and self._alt_digits:
                    self._alt_char(self._alt_digits)
                    self._alt_digits = ""
            else:
                self._alt.add(code)
            return True
        return False

    def _shifted(self, plain: str) -> bool:
        # Caps Lock inverts Shift for letters only, as on a PC keyboard.
        return bool(self._shift) != (self._caps and plain.isalpha())

    def _alt_char(self, digits: str) -> None:
        number = int(digits)
        try:
            if self.alt_codes == "unicode" or number < 0x80:
                char = chr(number)
            else:
                # GB18030 agrees with GBK on two bytes and also knows the few GBK extensions.
                char = number.to_bytes(2 if number > 0xFF else 1, "big").decode("gb18030")
        except (ValueError, OverflowError, UnicodeDecodeError):
            self._unknown(-number)  # an Alt code that names no character
            return
        self._append(char)

    def _append(self, char: str) -> None:
        if self._overlong:
            return
        self._chars.append(char)
        if len(self._chars) > self.max_chars:
            self.discarded += 1
            log.warning(
                "discarded an overlong scanner line (over %d characters) from key events",
                self.max_chars,
            )
            self._chars.clear()
            self._overlong = True

    def _finish(self) -> str | None:
        line = "".join(self._chars)
        self._chars.clear()
        if self._overlong:
            self._overlong = False  # back in step after the overlong line's ENTER
            return None
        return line or None

    def _unknown(self, code: int) -> None:
        self.unknown_keys += 1
        if code not in _SILENT_KEYS:
            log.debug("skipped key %d that types nothing on a US layout", code)


# -- text to key events: what a wedge scanner sends -----------------------------------------

KEY_LEFTSHIFT = 42
KEY_LEFTALT = 56


def _char_keys() -> dict[str, tuple[int, bool]]:
    # In code order, so main-row keys win over keypad keys typing the same character.
    table: dict[str, tuple[int, bool]] = {}
    for code in sorted(US_KEYS):
        plain, shifted = US_KEYS[code]
        table.setdefault(plain, (code, False))
        table.setdefault(shifted, (code, True))
    return table


CHAR_KEYS = _char_keys()
_DIGIT_KEYS = {digit: code for code, digit in KEYPAD_DIGITS.items()}


class _Clock:
    """Event timestamps `step_us` apart, starting at `start` seconds."""

    def __init__(self, start: float, step_us: int) -> None:
        self.us = int(start * 1e6)
        self.step_us = step_us

    def event(self, type_: int, code: int, value: int) -> InputEvent:
        sec, usec = divmod(self.us, 1_000_000)
        return InputEvent(sec, usec, type_, code, value)

    def press(self, code: int, value: int, *, scan: bool) -> list[InputEvent]:
        # As a USB HID keyboard reports it: MSC_SCAN with the usage, the key, a SYN_REPORT.
        events = [self.event(EV_MSC, MSC_SCAN, 0x70000 + code)] if scan else []
        events += [self.event(EV_KEY, code, value), self.event(EV_SYN, SYN_REPORT, 0)]
        self.us += self.step_us
        return events


def events_for_text(
    text: str,
    *,
    enter: bool = True,
    start: float = 1_700_000_000.0,
    step_us: int = 800,
    scan_codes: bool = True,
    alt_codes: str = "gbk",
) -> list[InputEvent]:
    """The key events a US-layout wedge scanner sends for `text`, then ENTER.

    Characters off the US layout are typed the Windows way, Alt held while the decimal code is
    typed on the keypad: the GBK code (`alt_codes` "gbk") or the code point ("unicode").
    Raises `UnicodeEncodeError` for a character GBK cannot encode in "gbk" mode.
    """
    clock = _Clock(start, step_us)
    events: list[InputEvent] = []
    for char in text:
        if char in CHAR_KEYS:
            code, shift = CHAR_KEYS[char]
            if shift:
                events += clock.press(KEY_LEFTSHIFT, KEY_DOWN, scan=scan_codes)
            events += clock.press(code, KEY_DOWN, scan=scan_codes)
            events += clock.press(code, KEY_UP, scan=scan_codes)
            if shift:
                events += clock.press(KEY_LEFTSHIFT, KEY_UP, scan=scan_codes)
            continue
        gbk = alt_codes != "unicode"
        number = int.from_bytes(char.encode("gbk"), "big") if gbk else ord(char)
        events += clock.press(KEY_LEFTALT, KEY_DOWN, scan=scan_codes)
        for digit in str(number):
            events += clock.press(_DIGIT_KEYS[digit], KEY_DOWN, scan=scan_codes)
            events += clock.press(_DIGIT_KEYS[digit], KEY_UP, scan=scan_codes)
        events += clock.press(KEY_LEFTALT, KEY_UP, scan=scan_codes)
    if enter:
        events += clock.press(KEY_ENTER, KEY_DOWN, scan=scan_codes)
        events += clock.press(KEY_ENTER, KEY_UP, scan=scan_codes)
    return events
