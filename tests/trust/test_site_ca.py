"""scripts/site-ca.sh: a site CA whose kiosk certificates open a mutual-TLS service and nothing
else does (docs/trust.md, "mTLS, where TLS reaches the server")."""

from __future__ import annotations

import socket
import ssl
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from central.app import create_app
from tests.support.kiosk_keys import test_registry, test_signer

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "site-ca.sh"
KIOSK = test_signer("KIOSK-0042")


def _ca(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", str(SCRIPT), *args], capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ca = tmp_path_factory.mktemp("site-ca")
    for args in (
        ("init", str(ca)),
        ("kiosk", str(ca), "KIOSK-0042"),
        ("server", str(ca), "localhost"),
    ):
        done = _ca(*args)
        assert done.returncode == 0, done.stderr
    return ca


@pytest.fixture(scope="module")
def tls_central(site: Path) -> Iterator[str]:
    app = create_app("sqlite://", kiosk_registry=test_registry(KIOSK))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        ssl_certfile=str(site / "localhost.crt"),
        ssl_keyfile=str(site / "localhost.key"),
        ssl_ca_certs=str(site / "ca.crt"),
        ssl_cert_reqs=ssl.CERT_REQUIRED,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"https://localhost:{port}/api/v1"
    server.should_exit = True
    thread.join(5)


def _context(site: Path, cert: Path | None = None) -> ssl.SSLContext:
    """What a kiosk's httpx client is given: the site CA, and its own certificate."""
    context = ssl.create_default_context(cafile=str(site / "ca.crt"))
    if cert is not None:
        context.load_cert_chain(str(cert.with_suffix(".crt")), str(cert.with_suffix(".key")))
    return context


def test_keys_are_private_and_the_ca_is_never_overwritten(site: Path) -> None:
    for key in ("ca.key", "KIOSK-0042.key", "localhost.key"):
        assert stat.S_IMODE((site / key).stat().st_mode) == 0o600, key
    again = _ca("init", str(site))
    assert again.returncode != 0 and "not overwriting" in again.stderr
    assert _ca("kiosk", str(site), "bad id; rm -rf /").returncode == 2


def test_a_kiosk_certificate_of_the_site_opens_the_service(site: Path, tls_central: str) -> None:
    with httpx.Client(verify=_context(site, site / "KIOSK-0042")) as client:
        assert client.get(f"{tls_central}/health").status_code == 200
        # TLS lets the machine in; the signature still says which kiosk it is.
        assert client.get(f"{tls_central}/catalogue").status_code == 401
        signed = client.get(f"{tls_central}/catalogue", auth=KIOSK)
        assert signed.status_code == 200


def test_without_a_site_certificate_the_handshake_fails(site: Path, tls_central: str) -> None:
    with httpx.Client(verify=_context(site)) as client, pytest.raises(httpx.HTTPError):
        client.get(f"{tls_central}/health")
    # A certificate from another site's CA is refused as well.
    other = site.parent / "other-site"
    assert _ca("init", str(other)).returncode == 0
    assert _ca("kiosk", str(other), "KIOSK-0042").returncode == 0
    stranger = _context(site, other / "KIOSK-0042")
    with httpx.Client(verify=stranger) as client, pytest.raises(httpx.HTTPError):
        client.get(f"{tls_central}/health")
