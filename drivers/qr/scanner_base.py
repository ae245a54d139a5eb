"""What serial and HID scanners share: turning a line into a validated code, and outage logging."""

from __future__ import annotations

import logging

from drivers.qr.errors import PayloadError
from drivers.qr.payload import ScannedCode, split_aim_prefix, validate_payload

log = logging.getLogger("drivers.qr")


class ScannerBase:
    """Counts, payload validation and one log line per outage; subclasses set the attributes."""

    path: str
    source: str
    aim: bool
    max_bytes: int

    def _init_base(self) -> None:
        self.codes_read = 0
        self.codes_refused = 0
        self._failure = ""
        self._failing = False

    def _code(self, line: bytes) -> ScannedCode | None:
        symbology, payload = split_aim_prefix(line) if self.aim else ("unknown", line)
        try:
            text = validate_payload(payload, max_bytes=self.max_bytes)
        except PayloadError as exc:
            self.codes_refused += 1
            # The message never quotes the payload; the reason is enough to act on.
            log.warning("refused a code from %s: %s", self.path, exc)
            return None
        self.codes_read += 1
        return ScannedCode(text=text, symbology=symbology, source=self.source, raw=line)

    def _fail(self, reason: str) -> None:
        self._failure = reason
        # One line when the scanner breaks, not one per poll.
        if not self._failing:
            self._failing = True
            log.warning("QR scanner unavailable: %s", reason)
        else:
            log.debug("QR scanner still unavailable: %s", reason)

    def _recovered(self) -> None:
        self._failure = ""
        if self._failing:
            self._failing = False
            log.info("QR scanner on %s back online", self.path)
