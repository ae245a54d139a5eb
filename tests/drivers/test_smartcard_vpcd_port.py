"""vpcd's listening port is picked where no outgoing connection can take it before pcscd binds it."""

from __future__ import annotations

import socket

from drivers.smartcard import simulator
from drivers.smartcard.simulator import _ephemeral_low, vpcd_port


def test_the_port_is_free_and_below_the_ephemeral_range() -> None:
    low = _ephemeral_low()
    for _ in range(20):
        port = vpcd_port(2)
        assert port >= 1024 and port + 1 < low
        with socket.socket() as a, socket.socket() as b:
            a.bind(("0.0.0.0", port))
            b.bind(("0.0.0.0", port + 1))


def test_an_unreadable_range_file_falls_back_to_linuxs_default(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(simulator, "EPHEMERAL_RANGE_FILE", str(tmp_path / "missing"))
    assert _ephemeral_low() == 32768
    assert vpcd_port() < 32768
