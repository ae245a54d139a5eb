"""Device URLs: every documented form parses; anything else fails with a readable message."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.url import DeviceUrlError, parse_device_url


@pytest.mark.parametrize(
    ("url", "scheme", "host", "port", "path", "params"),
    [
        (
            "serial:///dev/ttyUSB0?baud=115200",
            "serial",
            "",
            None,
            "/dev/ttyUSB0",
            {"baud": "115200"},
        ),
        ("tcp://127.0.0.1:9100", "tcp", "127.0.0.1", 9100, "", {}),
        ("usb://04b8:0e15", "usb", "", None, "04b8:0e15", {}),
        ("pcsc://ACS%20ACR122U", "pcsc", "", None, "ACS ACR122U", {}),
        ("cups://kioskpdf", "cups", "", None, "kioskpdf", {}),
        ("file:///tmp/out.bin", "file", "", None, "/tmp/out.bin", {}),
        ("v4l2:///dev/video0", "v4l2", "", None, "/dev/video0", {}),
        ("sim://", "sim", "", None, "", {}),
    ],
)
def test_documented_urls_parse(url, scheme, host, port, path, params):
    parsed = parse_device_url(url)
    assert (parsed.scheme, parsed.host, parsed.port, parsed.path, parsed.params) == (
        scheme,
        host,
        port,
        path,
        params,
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/dev/ttyUSB0", "not a device URL"),
        ("bluetooth://x", "unknown scheme 'bluetooth'"),
        ("tcp://host", "needs host and port"),
        ("tcp://host:99999", "port is not a number"),
        ("serial://", "needs a path"),
        ("usb://[", "Invalid IPv6 URL"),
        ("serial://[", "Invalid IPv6 URL"),
    ],
)
def test_bad_urls_say_what_is_wrong(url, message):
    with pytest.raises(DeviceUrlError, match=message):
        parse_device_url(url)


def test_bad_integer_parameter_names_it():
    with pytest.raises(DeviceUrlError, match="baud='fast' is not a whole number"):
        parse_device_url("serial:///dev/ttyS0?baud=fast").param_int("baud", 9600)


@given(st.text(max_size=60))
def test_any_text_parses_or_fails_with_device_url_error(text):
    with contextlib.suppress(DeviceUrlError):
        parse_device_url(text)
