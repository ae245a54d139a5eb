"""Kiosk keys: Ed25519 private keys in root-only files, public keys in a registry YAML file.

The private key never leaves the kiosk; the registry (central and fleet read it) holds only public
keys, so it may be copied around. The registry file is re-read when it changes on disk, so a
revocation takes effect on the next request without a restart.
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
import os
import re
import stat
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

log = logging.getLogger(__name__)

KIOSK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")  # as central's kiosk_id fields


class KeyFileError(Exception):
    """A private key file is missing, unreadable, not an Ed25519 key, or readable by others."""


class RegistryError(Exception):
    """The kiosk registry file or an entry in it is not valid."""


def generate_key_file(path: str | Path) -> str:
    """Write a new Ed25519 private key (PEM, mode 0600, parent 0700); return its public key.

    Refuses to overwrite an existing file: replacing a kiosk's key is a deliberate act (delete
    the old file first), since the registry must then be told the new public key.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise KeyFileError(f"{target}: a key file is already there; not overwriting it") from exc
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    os.chmod(target, 0o600)  # the umask may have narrowed it; never widened
    return public_key_b64(key)


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in `path`; KeyFileError if missing, bad, or group/world-readable."""
    source = Path(path)
    try:
        mode = source.stat().st_mode
        data = source.read_bytes()
    except FileNotFoundError as exc:
        raise KeyFileError(f"{source}: no key file (create one with `kiosk keys new`)") from exc
    except OSError as exc:
        raise KeyFileError(f"{source}: cannot read the key file: {exc.strerror}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"{source}: the key file is open to others (mode {stat.S_IMODE(mode):o}); chmod 600 it"
        )
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"{source}: not a PEM private key without a password") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{source}: not an Ed25519 key")
    return key


def public_key_b64(private_key: Ed25519PrivateKey) -> str:
    """The raw 32-byte public key, base64 (the form the registry holds)."""
    raw = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return base64.b64encode(raw).decode("ascii")


@functools.lru_cache(maxsize=16384)
def decode_public_key(public_key: str) -> Ed25519PublicKey:
    """The key from its base64 raw form; RegistryError if it is not 32 bytes of base64.

    Cached: every signed request checks its kiosk's key, and a fleet has thousands at most."""
    try:
        raw = base64.b64decode(public_key, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise RegistryError("public_key is not base64") from exc
    if len(raw) != 32:
        raise RegistryError("public_key must be 32 bytes (Ed25519, raw)")
    return Ed25519PublicKey.from_public_bytes(raw)


@dataclass(frozen=True)
class KioskKey:
    """One enrolled kiosk: its id, public key (base64 raw), site and whether it is revoked."""

    kiosk_id: str
    public_key: str
    site: str = ""
    revoked: bool = False


def _check_id(kiosk_id: str) -> str:
    if not isinstance(kiosk_id, str) or not KIOSK_ID.match(kiosk_id):
        raise RegistryError(
            "kiosk id: 1-64 of A-Z a-z 0-9 . _ : - (starting with a letter or digit)"
        )
    return kiosk_id


def _entry(kiosk_id: object, raw: object) -> KioskKey:
    if not isinstance(kiosk_id, str) or not isinstance(raw, dict):
        raise RegistryError(f"entry {kiosk_id!r}: expected `ID: {{public_key: ..., site: ...}}`")
    public_key = raw.get("public_key")
    site = raw.get("site", "") or ""
    revoked = raw.get("revoked", False)
    if not isinstance(public_key, str) or not isinstance(site, str):
        raise RegistryError(f"entry {kiosk_id}: public_key and site must be strings")
    if not isinstance(revoked, bool):
        raise RegistryError(f"entry {kiosk_id}: revoked must be true or false")
    decode_public_key(public_key)
    return KioskKey(_check_id(kiosk_id), public_key, site, revoked)


def _parse(text: str) -> dict[str, KioskKey]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RegistryError("not valid YAML") from exc
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise RegistryError("expected a mapping with a `kiosks` key")
    kiosks = document.get("kiosks") or {}
    if not isinstance(kiosks, dict):
        raise RegistryError("`kiosks` must map kiosk ids to entries")
    return {key.kiosk_id: key for key in (_entry(k, v) for k, v in kiosks.items())}


def _dump(keys: dict[str, KioskKey]) -> str:
    document: dict[str, Any] = {
        "kiosks": {
            key.kiosk_id: {"public_key": key.public_key, "site": key.site, "revoked": key.revoked}
            for key in sorted(keys.values(), key=lambda k: k.kiosk_id)
        }
    }
    header = (
        "# Kiosk public keys (Ed25519, base64 raw). Public data; keep it writable by root only.\n"
    )
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


class KioskRegistry:
    """Which kiosks may call, by id: public keys, sites, revocations. Thread-safe."""

    def __init__(self, keys: dict[str, KioskKey], path: Path | None) -> None:
        self._keys = keys
        self._path = path
        self._seen: tuple[int, int, int] | None = None
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: str | Path) -> KioskRegistry:
        """The registry in `path` (empty if the file does not exist yet); RegistryError if bad."""
        registry = cls({}, Path(path))
        with registry._lock:
            registry._reload(strict=True)
        return registry

    @classmethod
    def in_memory(cls, keys: Iterable[KioskKey] = ()) -> KioskRegistry:
        """A registry that lives only in this process (tests, the embedded central)."""
        entries = {}
        for key in keys:
            _check_id(key.kiosk_id)
            decode_public_key(key.public_key)
            entries[key.kiosk_id] = key
        return cls(entries, None)

    @property
    def path(self) -> Path | None:
        return self._path

    def get(self, kiosk_id: str) -> KioskKey | None:
        """The kiosk's entry as the file says now, or None if it is not enrolled."""
        with self._lock:
            if self._path is not None:
                self._reload(strict=False)
            return self._keys.get(kiosk_id)

    def all(self) -> list[KioskKey]:
        with self._lock:
            if self._path is not None:
                self._reload(strict=False)
            return sorted(self._keys.values(), key=lambda k: k.kiosk_id)

    def enroll(self, kiosk_id: str, public_key: str, site: str = "") -> None:
        """Add or replace the kiosk's public key (un-revoking it); writes the file if file-backed."""
        decode_public_key(public_key)
        key = KioskKey(_check_id(kiosk_id), public_key, site)
        self._update(lambda keys: {**keys, kiosk_id: key})

    def revoke(self, kiosk_id: str) -> None:
        """Mark the kiosk revoked; RegistryError if it is not enrolled."""

        def change(keys: dict[str, KioskKey]) -> dict[str, KioskKey]:
            if kiosk_id not in keys:
                raise RegistryError(f"{kiosk_id}: not enrolled")
            return {**keys, kiosk_id: replace(keys[kiosk_id], revoked=True)}

        self._update(change)

    def _update(self, change: Any) -> None:
        with self._lock:
            if self._path is not None:
                self._reload(strict=True)
            keys = change(dict(self._keys))
            if self._path is not None:
                self._write(keys)
            self._keys = keys

    def _stamp(self) -> tuple[int, int, int] | None:
        assert self._path is not None
        try:
            info = self._path.stat()
        except FileNotFoundError:
            return None
        return (info.st_ino, info.st_mtime_ns, info.st_size)  # os.replace gives a new inode

    def _reload(self, *, strict: bool) -> None:
        stamp = self._stamp()
        if stamp == self._seen:
            return
        assert self._path is not None
        try:
            keys = {} if stamp is None else _parse(self._path.read_text(encoding="utf-8"))
        except (RegistryError, OSError, UnicodeDecodeError) as exc:
            if strict:
                raise RegistryError(f"{self._path}: {exc}") from exc
            # Keep serving the last good registry rather than locking every kiosk out; say so.
            log.error(
                "kiosk registry %s not reloaded, keeping the previous one: %s", self._path, exc
            )
            self._seen = stamp
            return
        self._keys = keys
        self._seen = stamp

    def _write(self, keys: dict[str, KioskKey]) -> None:
        assert self._path is not None
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=self._path.parent, prefix=".kiosks-", suffix=".yaml")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(_dump(keys))
            os.chmod(temp, 0o644)
            os.replace(temp, self._path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        self._seen = self._stamp()
