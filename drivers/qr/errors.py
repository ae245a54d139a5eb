"""The QR driver's exception tree, in one place so every layer raises the same types.

```
QrError
├── ScannerUnavailableError   the scanner cannot be opened, or it went away (unplugged)
├── PayloadError              a scanned or decoded payload is not acceptable (also a ValueError)
└── ImageError                an image file cannot be read or is not an image (also a ValueError)
```

`ScannerUnavailableError` is the device manager's cue to back off and open the scanner again.
A `PayloadError` concerns one code only: the scanner keeps working, the code is dropped.
Messages never quote a payload, so an error can always be logged.
"""

from __future__ import annotations


class QrError(Exception):
    """Base of every error raised by the QR driver."""


class ScannerUnavailableError(QrError):
    """The scanner's port or input device cannot be opened or stopped working."""


class PayloadError(QrError, ValueError):
    """A payload is too long, badly encoded or holds control characters; `reason` says which."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class ImageError(QrError, ValueError):
    """An image cannot be read (missing file, not an image, unsupported pixel layout)."""
