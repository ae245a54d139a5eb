"""The `kiosk` command as a user runs it: subprocesses, exit codes, one-line errors."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time

import httpx

from tests.support.kiosk_keys import test_signer
from trust.keys import KioskRegistry

KIOSK = [sys.executable, "-m", "kiosk.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_kiosk_central_serves_the_api_and_its_openapi_document(tmp_path):
    port = _free_port()
    signer, registry = test_signer(), tmp_path / "kiosks.yaml"
    KioskRegistry.load(registry).enroll(signer.kiosk_id, signer.public_key)
    proc = subprocess.Popen(
        [*KIOSK, "central", "--port", str(port), "--db", f"sqlite:///{tmp_path / 'c.db'}"]
        + ["--kiosks", str(registry)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                doc = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1).json()
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "central did not start"
                time.sleep(0.2)
        paths = set(doc["paths"])
        assert {
            "/api/v1/catalogue",
            "/api/v1/identity/verify",
            "/api/v1/certificates",
            "/api/v1/ratings",
        } <= paths
        url = f"http://127.0.0.1:{port}/api/v1/catalogue"
        assert httpx.get(url).status_code == 401  # unsigned
        catalogue = httpx.get(url, auth=signer).json()
        assert sum(len(c["items"]) for c in catalogue["categories"]) >= 30
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_bad_config_file_is_one_clear_error_and_exit_2(tmp_path):
    bad = tmp_path / "kiosk.yaml"
    bad.write_text("devices:\n  idcard:\n    url: /dev/ttyUSB0\n", encoding="utf-8")
    result = subprocess.run(
        [*KIOSK, "run", "--headless", "--config", str(bad)], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "devices.idcard.url" in result.stderr and "Traceback" not in result.stderr


def test_a_broken_printer_is_reported_not_fatal(tmp_path):
    """A bad printer address disables printing only; `kiosk diag devices` says what is wrong."""
    cfg = tmp_path / "kiosk.yaml"
    cfg.write_text("devices:\n  receipt_printer:\n    url: usb://zzzz:0000\n", encoding="utf-8")
    result = subprocess.run(
        [*KIOSK, "diag", "devices", "--json", "--wait", "2", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"KIOSK_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1, result.stderr
    rows = {row["device"]: row for row in json.loads(result.stdout)["devices"]}
    assert rows["idcard"]["state"] == "online"
    assert rows["receipt_printer"]["state"] in ("hardware_error", "offline")
    assert "usb" in rows["receipt_printer"]["reason"].lower()
    assert "Traceback" not in result.stderr


def test_logs_mask_id_numbers_whoever_logs_them(capsys):
    import logging

    from kiosk.cli import configure_logging

    configure_logging(verbose=False)
    logging.getLogger("some.library").warning("card %s rejected", "110101195603121240")
    err = capsys.readouterr().err
    assert "110101195603121240" not in err and "1240" in err


def test_kiosk_central_serves_on_a_socket_its_parent_bound(tmp_path):
    """How `kiosk run` starts its embedded service: the port is known before the child is up,
    and a request made meanwhile waits in the backlog instead of failing."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        port = sock.getsockname()[1]
        proc = subprocess.Popen(
            [*KIOSK, "central", "--listen-fd", str(sock.fileno())]
            + ["--db", f"sqlite:///{tmp_path / 'c.db'}"],
            pass_fds=(sock.fileno(),),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
    try:
        # No retry loop: the connection is accepted once the service is up.
        health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=60)
        assert health.status_code == 200, proc.stderr
    finally:
        proc.terminate()
        # uvicorn shuts down gracefully, then re-raises the SIGTERM it caught
        assert proc.wait(timeout=10) in (0, -signal.SIGTERM)
