"""Configuration: the default loads, and every bad file fails with a message naming the key."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.config import ConfigError, load_config, parse_config


def test_the_default_config_is_the_embedded_simulated_kiosk():
    config = load_config()
    assert config.central.url == "embedded"
    assert config.devices.idcard.url == "sim://"
    assert config.ui.language == "zh_CN" and config.timezone == "Asia/Shanghai"


def test_the_example_site_config_is_valid():
    from kiosk.config import PROJECT_ROOT

    config = load_config(PROJECT_ROOT / "config" / "example-site.yaml")
    assert config.devices.idcard.url.startswith("serial://")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"timezone": "Mars/Base"}, "x.yaml: timezone: unknown time zone 'Mars/Base'"),
        (
            {"devices": {"idcard": {"url": "bogus"}}},
            "x.yaml: devices.idcard.url: 'bogus' is not a device URL",
        ),
        ({"devices": {"receipt_printer": {"url": "tcp://host"}}}, "needs host and port"),
        (
            {"ui": {"timeouts": {"default_s": -1}}},
            "x.yaml: ui.timeouts.default_s: Input should be greater than 0",
        ),
        (
            {"central": {"url": "ftp://x"}},
            "x.yaml: central.url: must be 'embedded' or an http(s):// URL",
        ),
        ({"ui": {"language": "fr"}}, "x.yaml: ui.language"),
        ({"kiosk_idd": "typo"}, "x.yaml: kiosk_idd: Extra inputs are not permitted"),
        ([1, 2], "x.yaml: the top level must be a mapping of keys, not list"),
    ],
)
def test_bad_config_names_the_key(data, expected):
    with pytest.raises(ConfigError) as err:
        parse_config(data, "x.yaml")
    assert expected in str(err.value)


def test_bad_yaml_and_missing_file_fail_clearly(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kiosk_id: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["kiosk_id", "central", "devices", "ui", "url", "idcard", "timeouts", "x"]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@given(json_like)
def test_any_config_data_is_accepted_or_fails_with_config_error(data):
    try:
        parse_config(data, "fuzz.yaml")
    except ConfigError as exc:
        assert str(exc).startswith("fuzz.yaml")
