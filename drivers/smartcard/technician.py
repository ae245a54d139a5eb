"""Technician cards: challenge-response that unlocks the kiosk's maintenance menu.

The card is our own applet. It holds an Ed25519 (or ECDSA P-256) private key and a technician
id; the kiosk holds a registry of technicians' public keys. Nothing secret ever crosses the
reader, and an old answer is worthless because every challenge is fresh.

    kiosk                                                card
      SELECT by name  TECHNICIAN_AID  ------------------->
      INTERNAL AUTHENTICATE (00 88 00 00)
        data = challenge (32 random bytes) || kiosk id  ->
                                                         signs signed_message(kiosk id, challenge)
      <------------------------  80 technician id (UTF-8) | 9E signature   9000

    signed_message = b"kiosk-maint-v1" || len(kiosk id) || kiosk id || challenge

The one-byte length keeps the kiosk id from running into the domain string (the challenge has a
fixed size at the end). Signing the kiosk id means an answer given to one kiosk does not unlock
another; the domain string means the key cannot be tricked into signing anything else.

Registry file (JSON, or YAML when the name ends in .yaml/.yml):

    {"technicians": [{"id": "T0001", "name": "王工", "public_key": "<PEM or base64 Ed25519>",
                      "valid_until": "2027-12-31", "revoked": false}]}
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from drivers.smartcard.apdu import CommandApdu
from drivers.smartcard.channel import INS_INTERNAL_AUTHENTICATE, ApduTransport, select_by_name
from drivers.smartcard.errors import (
    CardFileNotFoundError,
    CardProtocolError,
    NotTechnicianCardError,
    TechnicianExpiredError,
    TechnicianRegistryError,
    TechnicianRevokedError,
    TechnicianSignatureError,
    UnknownTechnicianError,
)
from drivers.smartcard.tlv import encode_tlvs, tlv_dict

log = logging.getLogger("drivers.smartcard")

# Proprietary, unregistered AID: ISO 7816-5 reserves a leading F nibble for those.
TECHNICIAN_AID = b"\xf0" + b"KIOSKMNT"
DOMAIN = b"kiosk-maint-v1"
CHALLENGE_SIZE = 32
MAX_KIOSK_ID = 64  # bytes of UTF-8; keeps the command a short APDU
TAG_TECHNICIAN_ID = 0x80
TAG_SIGNATURE = 0x9E  # "digital signature" in ISO 7816-8

PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey


def kiosk_id_bytes(kiosk_id: str) -> bytes:
    """The kiosk id as signed: UTF-8, 1 to 64 bytes."""
    raw = kiosk_id.encode("utf-8")
    if not 1 <= len(raw) <= MAX_KIOSK_ID:
        raise ValueError(f"a kiosk id is 1 to {MAX_KIOSK_ID} bytes of UTF-8")
    return raw


def signed_message(kiosk_id: bytes, challenge: bytes) -> bytes:
    """What the card signs: domain, kiosk id (length-prefixed), challenge."""
    if len(challenge) != CHALLENGE_SIZE:
        raise ValueError(f"the challenge is {CHALLENGE_SIZE} bytes")
    return DOMAIN + bytes((len(kiosk_id),)) + kiosk_id + challenge


def sign(private_key: PrivateKey, message: bytes) -> bytes:
    """Sign like the card does: Ed25519, or ECDSA P-256 with SHA-256 (DER)."""
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return private_key.sign(message)
    return private_key.sign(message, ec.ECDSA(hashes.SHA256()))


def verify_signature(public_key: PublicKey, signature: bytes, message: bytes) -> bool:
    """Whether `signature` is valid for `message` under `public_key`."""
    try:
        if isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, message)
        else:
            public_key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def encode_public_key(public_key: PublicKey) -> str:
    """A registry's `public_key` text: base64 for Ed25519, PEM for P-256."""
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return base64.b64encode(raw).decode("ascii")
    pem = public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode("ascii")


def load_public_key(text: str) -> PublicKey:
    """Parse a registry key: PEM (Ed25519 or P-256) or base64 of a raw Ed25519 key."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode("ascii"))
        else:
            key = ed25519.Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error, TypeError) as exc:
        raise TechnicianRegistryError(f"unreadable public key: {exc}") from None
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    raise TechnicianRegistryError("public keys must be Ed25519 or ECDSA P-256")


@dataclass(frozen=True)
class TechnicianEntry:
    """One registry entry."""

    tech_id: str
    name: str
    public_key: PublicKey
    valid_until: date
    revoked: bool = False

    def __repr__(self) -> str:
        return f"TechnicianEntry({self.tech_id!r}, valid_until={self.valid_until}, revoked={self.revoked})"


@dataclass(frozen=True)
class TechnicianIdentity:
    """A technician whose card proved possession of their registered key just now."""

    tech_id: str
    name: str
    valid_until: date
    kiosk_id: str


class TechnicianRegistry:
    """Technicians' public keys, by id."""

    def __init__(self, entries: Iterable[TechnicianEntry]) -> None:
        self._entries: dict[str, TechnicianEntry] = {}
        for entry in entries:
            if entry.tech_id in self._entries:
                raise TechnicianRegistryError(f"technician {entry.tech_id!r} listed twice")
            self._entries[entry.tech_id] = entry

    def get(self, tech_id: str) -> TechnicianEntry | None:
        """The entry for `tech_id`, or None."""
        return self._entries.get(tech_id)

    def __len__(self) -> int:
        return len(self._entries)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TechnicianRegistry:
        """Build from ``{"technicians": [...]}``; `TechnicianRegistryError` names the bad entry."""
        items = data.get("technicians") if isinstance(data, Mapping) else None
        if not isinstance(items, list):
            raise TechnicianRegistryError("the registry needs a 'technicians' list")
        return cls(_entry(item, index) for index, item in enumerate(items))

    @classmethod
    def load(cls, path: str | Path) -> TechnicianRegistry:
        """Read a JSON or YAML registry file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise TechnicianRegistryError(f"{path}: {exc.strerror or exc}") from None
        try:
            if path.suffix.lower() in (".yaml", ".yml"):
                import yaml

                data = yaml.safe_load(text)
            else:
                data = json.loads(text)
        except Exception as exc:  # any parser error becomes one readable line
            raise TechnicianRegistryError(
                f"{path}: not valid {path.suffix or 'JSON'}: {exc}"
            ) from None
        try:
            return cls.from_dict(data)
        except TechnicianRegistryError as exc:
            raise TechnicianRegistryError(f"{path}: {exc}") from None


def _entry(item: Any, index: int) -> TechnicianEntry:
    where = f"technicians[{index}]"
    if not isinstance(item, Mapping):
        raise TechnicianRegistryError(f"{where} is not a mapping")
    for key in ("id", "public_key", "valid_until"):
        if key not in item:
            raise TechnicianRegistryError(f"{where} has no {key!r}")
    valid_until = item["valid_until"]
    if isinstance(valid_until, datetime):
        valid_until = valid_until.date()
    elif isinstance(valid_until, str):
        try:
            valid_until = date.fromisoformat(valid_until)
        except ValueError:
            raise TechnicianRegistryError(f"{where}.valid_until is not YYYY-MM-DD") from None
    if not isinstance(valid_until, date):
        raise TechnicianRegistryError(f"{where}.valid_until is not a date")
    try:
        public_key = load_public_key(str(item["public_key"]))
    except TechnicianRegistryError as exc:
        raise TechnicianRegistryError(f"{where}: {exc}") from None
    return TechnicianEntry(
        tech_id=str(item["id"]),
        name=str(item.get("name", "")),
        public_key=public_key,
        valid_until=valid_until,
        revoked=bool(item.get("revoked", False)),
    )


def internal_authenticate_command(challenge: bytes, kiosk_id: bytes) -> CommandApdu:
    """INTERNAL AUTHENTICATE carrying the challenge and the kiosk id."""
    return CommandApdu(0x00, INS_INTERNAL_AUTHENTICATE, 0x00, 0x00, challenge + kiosk_id, le=256)


def parse_auth_response(data: bytes) -> tuple[str, bytes]:
    """(technician id, signature) from the card's answer; `CardProtocolError` if malformed."""
    found = tlv_dict(data)
    if TAG_TECHNICIAN_ID not in found or TAG_SIGNATURE not in found:
        raise CardProtocolError("technician card answer lacks the id or the signature")
    try:
        tech_id = found[TAG_TECHNICIAN_ID].decode("utf-8")
    except UnicodeDecodeError:
        raise CardProtocolError("technician id is not UTF-8") from None
    if not tech_id:
        raise CardProtocolError("technician id is empty")
    return tech_id, found[TAG_SIGNATURE]


def encode_auth_response(tech_id: str, signature: bytes) -> bytes:
    """The card side of `parse_auth_response`."""
    return encode_tlvs([(TAG_TECHNICIAN_ID, tech_id.encode("utf-8")), (TAG_SIGNATURE, signature)])


def verify_technician(
    device: ApduTransport,
    registry: TechnicianRegistry,
    kiosk_id: str,
    *,
    today: date | None = None,
) -> TechnicianIdentity:
    """Run the challenge-response with the card in `device` and return who it proved to be.

    Raises `NotTechnicianCardError` for other cards, `UnknownTechnicianError`,
    `TechnicianSignatureError` (replayed, forged, or made for another kiosk),
    `TechnicianRevokedError`, `TechnicianExpiredError`, and the transport's errors.
    """
    kiosk = kiosk_id_bytes(kiosk_id)
    try:
        select_by_name(device, TECHNICIAN_AID)
    except CardFileNotFoundError:
        raise NotTechnicianCardError("not a technician card (no maintenance applet)") from None
    challenge = secrets.token_bytes(CHALLENGE_SIZE)
    answer = device.transmit(internal_authenticate_command(challenge, kiosk)).check()
    tech_id, signature = parse_auth_response(answer)
    entry = registry.get(tech_id)
    if entry is None:
        raise UnknownTechnicianError(f"technician {tech_id!r} is not in the registry")
    if not verify_signature(entry.public_key, signature, signed_message(kiosk, challenge)):
        raise TechnicianSignatureError(f"technician {tech_id!r}: the card's signature is invalid")
    if entry.revoked:
        raise TechnicianRevokedError(f"technician {tech_id!r}: key revoked")
    if (today or date.today()) > entry.valid_until:
        raise TechnicianExpiredError(f"technician {tech_id!r}: expired on {entry.valid_until}")
    log.info("technician %s verified", tech_id)
    return TechnicianIdentity(tech_id, entry.name, entry.valid_until, kiosk_id)


def read_technician_id(device: ApduTransport, kiosk_id: str = "diagnostics") -> str:
    """The id a technician card claims, unverified (for diagnostics without a registry)."""
    try:
        select_by_name(device, TECHNICIAN_AID)
    except CardFileNotFoundError:
        raise NotTechnicianCardError("not a technician card (no maintenance applet)") from None
    challenge = secrets.token_bytes(CHALLENGE_SIZE)
    answer = device.transmit(internal_authenticate_command(challenge, kiosk_id_bytes(kiosk_id)))
    return parse_auth_response(answer.check())[0]
