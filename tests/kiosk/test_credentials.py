"""The kiosk's key: made and enrolled for the embedded central, and `kiosk keys ...`."""

from __future__ import annotations

import stat
from pathlib import Path

from fastapi.testclient import TestClient

from central.app import create_app
from kiosk.central import NO_RETRY, CentralClient
from kiosk.cli import main
from kiosk.config import parse_config
from kiosk.credentials import embedded_registry_path, kiosk_signer
from trust.keys import KioskRegistry, generate_key_file


def test_the_registry_lives_beside_the_embedded_database() -> None:
    path = embedded_registry_path("sqlite:////srv/kiosk/var/central.db")
    assert path == Path("/srv/kiosk/var/central-kiosks.yaml")
    assert embedded_registry_path("sqlite://", "/tmp/v") == Path("/tmp/v/central-kiosks.yaml")


def test_the_embedded_default_makes_and_enrolls_a_key_that_central_accepts(tmp_path: Path) -> None:
    config = parse_config({"kiosk_id": "KIOSK-DEV-007"})
    key, registry_path = tmp_path / "var" / "kiosk-key.pem", tmp_path / "var" / "reg.yaml"
    signer = kiosk_signer(config, key, embedded_registry=registry_path)
    assert signer is not None
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    again = kiosk_signer(config, key, embedded_registry=registry_path)  # second start: same key
    assert again is not None and again.public_key == signer.public_key
    app = create_app("sqlite://", kiosk_registry=KioskRegistry.load(registry_path))
    with TestClient(app) as http:
        client = CentralClient(
            "http://testserver",
            kiosk_id="KIOSK-DEV-007",
            transport=http._transport,
            retry=NO_RETRY,
            auth=signer,
        )
        assert client.catalogue().categories


def test_a_site_kiosk_without_its_key_runs_unsigned_and_says_so(tmp_path: Path, caplog) -> None:
    config = parse_config({"kiosk_id": "KIOSK-1"})
    assert kiosk_signer(config, tmp_path / "missing.pem") is None
    assert "kiosk key not usable" in caplog.text
    assert not (tmp_path / "missing.pem").exists()


def test_keys_commands_make_enroll_and_revoke(tmp_path: Path, capsys) -> None:
    key, registry = tmp_path / "k.pem", tmp_path / "kiosks.yaml"
    assert main(["keys", "new", "--key-file", str(key)]) == 0
    public = capsys.readouterr().out.split("public key: ")[1].strip()
    assert main(["keys", "new", "--key-file", str(key)]) == 1  # never overwrites
    assert "already there" in capsys.readouterr().err
    args = ["keys", "enroll", "--key-file", str(key), "--registry", str(registry)]
    assert main([*args, "--kiosk-id", "KIOSK-9", "--site", "HALL-1"]) == 0
    entry = KioskRegistry.load(registry).get("KIOSK-9")
    assert entry is not None and entry.public_key == public and entry.site == "HALL-1"
    assert main(["keys", "revoke", "--registry", str(registry), "KIOSK-9"]) == 0
    entry = KioskRegistry.load(registry).get("KIOSK-9")
    assert entry is not None and entry.revoked
    assert main(["keys", "revoke", "--registry", str(registry), "KIOSK-NONE"]) == 1


def test_a_key_made_elsewhere_is_enrolled_by_its_public_key(tmp_path: Path) -> None:
    public = generate_key_file(tmp_path / "other.pem")
    registry = tmp_path / "kiosks.yaml"
    args = ["keys", "enroll", "--registry", str(registry), "--kiosk-id", "K2"]
    assert main([*args, "--public-key", public]) == 0
    entry = KioskRegistry.load(registry).get("K2")
    assert entry is not None and entry.public_key == public
