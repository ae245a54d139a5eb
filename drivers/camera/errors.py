"""The camera driver's exception tree, in one place so every layer raises the same types.

```
CameraError
├── CameraUnavailableError      no device at the address, unplugged, busy, or stopped delivering
│                               frames: back off and reopen
├── CameraConfigError           the URL or an option makes no sense (also a DeviceUrlError)
├── CameraFormatError           the source is there but its content cannot be decoded
├── CameraTimeoutError          no frame arrived in time (also a TimeoutError)
└── DocumentError               document capture failed on this frame: try another frame
    ├── NoPageFoundError        no page-shaped quadrilateral in the picture
    └── DocumentTooLargeError   the page cannot be compressed under the byte budget
```

Messages never contain image data or decoded QR contents, so an error can be logged.
"""

from __future__ import annotations

from drivers.url import DeviceUrlError


class CameraError(Exception):
    """Base of every error raised by the camera driver."""


class CameraUnavailableError(CameraError):
    """The camera cannot be opened or stopped delivering frames (unplugged, busy, no device)."""


class CameraConfigError(CameraError, DeviceUrlError):
    """A camera URL or option that cannot be used; the message names what is wrong."""


class CameraFormatError(CameraError):
    """The source exists but cannot be decoded (not a video, a corrupt image, no images)."""


class CameraTimeoutError(CameraError, TimeoutError):
    """No frame arrived before the deadline."""


class DocumentError(CameraError):
    """Document capture failed on this frame; the resident can hold the page again."""


class NoPageFoundError(DocumentError):
    """No page-shaped quadrilateral was found in the picture."""


class DocumentTooLargeError(DocumentError):
    """The corrected page cannot be compressed under the requested byte budget."""
