"""Key files and the registry file: modes, clear errors, revocation without a restart."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.support.kiosk_keys import test_signer
from trust.keys import (
    KeyFileError,
    KioskRegistry,
    RegistryError,
    generate_key_file,
    load_private_key,
    public_key_b64,
)


def test_a_new_key_file_is_private_and_loads(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "kiosk-key.pem"
    public = generate_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert public_key_b64(load_private_key(path)) == public
    assert len(public) == 44


def test_an_existing_key_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "kiosk-key.pem"
    first = generate_key_file(path)
    with pytest.raises(KeyFileError, match="already there"):
        generate_key_file(path)
    assert public_key_b64(load_private_key(path)) == first


def test_loading_refuses_missing_open_and_bad_files(tmp_path: Path) -> None:
    path = tmp_path / "kiosk-key.pem"
    with pytest.raises(KeyFileError, match="no key file"):
        load_private_key(path)
    generate_key_file(path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="open to others"):
        load_private_key(path)
    path.write_text("not a key")
    os.chmod(path, 0o600)
    with pytest.raises(KeyFileError, match="not a PEM"):
        load_private_key(path)


def test_enroll_and_revoke_write_the_file_and_another_reader_sees_them(tmp_path: Path) -> None:
    path = tmp_path / "kiosks.yaml"
    signer = test_signer("KIOSK-7")
    writer = KioskRegistry.load(path)
    reader = KioskRegistry.load(path)
    assert reader.get("KIOSK-7") is None
    writer.enroll("KIOSK-7", signer.public_key, site="HALL-1")
    entry = reader.get("KIOSK-7")
    assert entry is not None and (entry.site, entry.revoked) == ("HALL-1", False)
    writer.revoke("KIOSK-7")
    entry = reader.get("KIOSK-7")
    assert entry is not None and entry.revoked
    assert "PRIVATE" not in path.read_text()


def test_a_hand_edit_takes_effect_on_the_next_lookup(tmp_path: Path) -> None:
    path = tmp_path / "kiosks.yaml"
    registry = KioskRegistry.load(path)
    registry.enroll("KIOSK-1", test_signer().public_key)
    path.write_text(path.read_text().replace("revoked: false", "revoked: true"))
    entry = registry.get("KIOSK-1")
    assert entry is not None and entry.revoked


def test_a_broken_edit_keeps_the_last_good_registry(tmp_path: Path, caplog) -> None:
    path = tmp_path / "kiosks.yaml"
    registry = KioskRegistry.load(path)
    registry.enroll("KIOSK-1", test_signer().public_key)
    path.write_text("kiosks: [not, a, mapping")
    assert registry.get("KIOSK-1") is not None
    assert "not reloaded" in caplog.text
    with pytest.raises(RegistryError):
        KioskRegistry.load(path)


@pytest.mark.parametrize(
    "text",
    [
        "- a list",
        "kiosks: [1, 2]",
        "kiosks: {K1: {public_key: 'AAAA'}}",
        "kiosks: {K1: {public_key: '!!!'}}",
        "kiosks: {'bad id!': {public_key: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='}}",
        "kiosks: {K1: {public_key: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', revoked: 'no'}}",
    ],
)
def test_a_bad_registry_file_is_a_clear_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "kiosks.yaml"
    path.write_text(text)
    with pytest.raises(RegistryError):
        KioskRegistry.load(path)


def test_revoking_an_unknown_kiosk_is_an_error() -> None:
    with pytest.raises(RegistryError, match="not enrolled"):
        KioskRegistry.in_memory().revoke("KIOSK-X")


def test_enroll_refuses_a_bad_id_or_key() -> None:
    registry = KioskRegistry.in_memory()
    with pytest.raises(RegistryError):
        registry.enroll("../etc", test_signer().public_key)
    with pytest.raises(RegistryError):
        registry.enroll("KIOSK-1", "c2hvcnQ=")
