"""Device addresses as URLs: `serial:///dev/ttyUSB0?baud=115200`, `tcp://host:9100`, `sim://`."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

_NAMED_SCHEMES = frozenset({"usb", "pcsc", "cups"})
KNOWN_SCHEMES = frozenset(
    {"serial", "tcp", "usb", "file", "pcsc", "v4l2", "cups", "sim", "pty", "hid", "evdev"}
)


class DeviceUrlError(ValueError):
    """A device URL that cannot be understood; the message names what is wrong."""


@dataclass(frozen=True)
class DeviceUrl:
    """A parsed device address."""

    scheme: str
    host: str = ""
    port: int | None = None
    path: str = ""
    params: dict[str, str] = field(default_factory=dict)
    raw: str = ""

    def param_int(self, name: str, default: int) -> int:
        """An integer query parameter, or `default` when absent."""
        value = self.params.get(name)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise DeviceUrlError(f"{self.raw}: {name}={value!r} is not a whole number") from None


def parse_device_url(url: str) -> DeviceUrl:
    """Parse a device URL, failing with a readable message on anything malformed."""
    if not isinstance(url, str) or "://" not in url:
        raise DeviceUrlError(
            f"{url!r} is not a device URL (expected scheme://..., e.g. tcp://host:9100)"
        )
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. "Invalid IPv6 URL" for a stray "["
        raise DeviceUrlError(f"{url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in KNOWN_SCHEMES:
        known = ", ".join(sorted(KNOWN_SCHEMES))
        raise DeviceUrlError(f"{url!r}: unknown scheme {scheme!r} (known: {known})")
    if scheme in _NAMED_SCHEMES:
        # usb://04b8:0e15, pcsc://reader-name and cups://queue name a device, not a host:port
        return DeviceUrl(
            scheme=scheme,
            path=unquote(parts.netloc + parts.path),
            params=dict(parse_qsl(parts.query, keep_blank_values=True)),
            raw=url,
        )
    try:
        port = parts.port
    except ValueError:
        raise DeviceUrlError(f"{url!r}: the port is not a number from 0 to 65535") from None
    path = parts.path
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    if scheme in {"serial", "pty", "file", "hid", "evdev"} and not path:
        raise DeviceUrlError(f"{url!r}: a {scheme} URL needs a path, e.g. {scheme}:///dev/ttyUSB0")
    if scheme == "tcp" and (not parts.hostname or port is None):
        raise DeviceUrlError(f"{url!r}: a tcp URL needs host and port, e.g. tcp://127.0.0.1:9100")
    return DeviceUrl(
        scheme=scheme,
        host=parts.hostname or "",
        port=port,
        path=path,
        params=params,
        raw=url,
    )
