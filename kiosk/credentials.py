"""The kiosk's own key (trust/): load it, and for the embedded central, create and enroll it.

A site makes the key with `kiosk keys new` and enrolls the public key in its central's and
fleet's registry (`kiosk keys enroll`). The embedded default (`make run`) does both by itself at
first start, in the registry file next to the embedded central's database.
"""

from __future__ import annotations

import logging
from pathlib import Path

from kiosk.config import KioskConfig
from trust.keys import KeyFileError, KioskRegistry, generate_key_file, load_private_key
from trust.signing import KioskSigner

log = logging.getLogger(__name__)

REGISTRY_NAME = "central-kiosks.yaml"


def embedded_registry_path(db_url: str, fallback_dir: str | Path = "var") -> Path:
    """The embedded central's kiosk registry: beside its SQLite file (`var/central-kiosks.yaml`)."""
    prefix = "sqlite:///"
    if db_url.startswith(prefix) and ":memory:" not in db_url:
        return Path(db_url[len(prefix) :]).parent / REGISTRY_NAME
    return Path(fallback_dir) / REGISTRY_NAME


def kiosk_signer(
    config: KioskConfig, key_path: str | Path, *, embedded_registry: Path | None = None
) -> KioskSigner | None:
    """The signer for this kiosk's requests, or None (logged) when its key is not usable.

    With `embedded_registry` (central is the embedded one) a missing key is created and the
    public key enrolled there, unless the registry has revoked this kiosk.
    """
    path = Path(key_path)
    try:
        if embedded_registry is not None and not path.exists():
            generate_key_file(path)
            log.info("created this kiosk's key %s", path)
        key = load_private_key(path)
    except KeyFileError as exc:
        log.error("kiosk key not usable (%s); central will refuse this kiosk's calls", exc)
        return None
    signer = KioskSigner(config.kiosk_id, key)
    if embedded_registry is not None:
        registry = KioskRegistry.load(embedded_registry)
        entry = registry.get(config.kiosk_id)
        if entry is None or (entry.public_key != signer.public_key and not entry.revoked):
            registry.enroll(config.kiosk_id, signer.public_key, site=config.site_name)
    return signer
