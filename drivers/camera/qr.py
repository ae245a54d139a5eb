"""QR codes in camera frames: one decode seam, and the rule that turns sightings into scans.

`decode_qr` is the only place the camera calls a decoder: the QR family's live-frame pipeline
(`drivers.qr.decode.decode_frame`, zxing-cpp's fast stage, about 1 ms a 640x480 frame), so the
camera reads codes exactly as well as `drivers.qr` measures and validates them. The device
turns each new payload into the same `ScannedCode` record a hardware scanner posts.

`CodeTracker` deduplicates: a code held in front of the camera is seen in frame after frame, but
it is one scan. It is reported again only after it has been out of view for `forget_after`
seconds, which also bridges the odd frame where motion blur hides it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

# What the device calls on each analysed frame: the raw payloads of the QR codes in it.
FrameDecoder = Callable[[np.ndarray], list[bytes]]


def decode_qr(image: np.ndarray) -> list[bytes]:
    """The raw payloads of the valid QR codes in a BGR or grey frame, in the order found."""
    from drivers.qr.decode import decode_frame  # zxing-cpp and zbar load on first use

    return [code.raw for code in decode_frame(image)]


class CodeTracker:
    """Turns per-frame sightings into appearances: a code is new after `forget_after` s unseen."""

    def __init__(self, forget_after: float = 1.0) -> None:
        self.forget_after = forget_after
        self._last_seen: dict[bytes, float] = {}

    def update(self, codes: Iterable[bytes], t: float) -> list[bytes]:
        """Record the codes decoded in a frame taken at `t`; return those that just appeared."""
        for code, seen in list(self._last_seen.items()):
            if t - seen > self.forget_after:
                del self._last_seen[code]
        new = []
        for code in codes:
            if code not in self._last_seen and code not in new:
                new.append(code)
            self._last_seen[code] = t
        return new

    def in_view(self) -> int:
        """How many distinct codes are currently considered in view."""
        return len(self._last_seen)

    def clear(self) -> None:
        """Forget everything (a new session: the same code may be shown again)."""
        self._last_seen.clear()
