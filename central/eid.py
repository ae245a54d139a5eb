"""Electronic ID (电子身份证): short-lived, single-use signed tokens shown as a QR code.

Token: ``CNEID1.<base64url(claims JSON)>.<base64url(Ed25519 signature)>``, the signature taken
over everything before the last dot. Claims: ``p`` the person's keyed ID hash (32 bytes,
base64url), ``t`` the card type, ``iat``/``exp`` Unix seconds, ``n`` a 16-byte nonce.

Why Ed25519 rather than HMAC: in production the code is issued by another party (the
government app's identity platform), and a verifier should be able to check codes without being
able to make them. With Ed25519 the central service needs only the issuer's public key; the
private key here exists because the reference service also plays the issuer for tests and demos
(`central.eid_dev`). Both keys are kept in this database's `central_meta`, like the ID hash key.

Verification reads nothing before the signature holds, so arbitrary scanned text never reaches
the JSON parser. A token is accepted once: its nonce is remembered until the token expires.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import String, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from central import service
from central.db import Base, Meta, UtcDateTime, find_person_by_hash
from central.idnumber import CardType
from central.lookup_models import EidIdentityResult, EidReason
from central.person_cards import card_type_of
from rules.masking import mask_name

TOKEN_PREFIX = "CNEID1."
DEFAULT_TTL = timedelta(seconds=120)
MAX_TTL = timedelta(minutes=10)
# A phone's clock may run a little ahead of ours; more than this is not a real token.
CLOCK_SKEW = timedelta(seconds=60)
_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")
_SIGNING_KEY = "eid_signing_key"


class TokenError(Exception):
    """A token that cannot be accepted; `reason` is what the API answers."""

    def __init__(self, reason: EidReason, message: str) -> None:
        super().__init__(message)
        self.reason: EidReason = reason


class EidClaims(BaseModel):
    """What an e-ID token says, once its signature has been checked."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    p: str = Field(pattern=r"^[A-Za-z0-9_-]{43}$", description="keyed ID hash, base64url")
    t: CardType
    # Bounded so that turning them into datetimes can never overflow (10**10 s is year 2286).
    iat: int = Field(ge=0, lt=10**10)
    exp: int = Field(ge=0, lt=10**10)
    n: str = Field(pattern=r"^[A-Za-z0-9_-]{22}$", description="nonce, base64url")

    @property
    def id_hash(self) -> str:
        """The registry's hex form of the person's keyed ID hash."""
        return _b64decode(self.p).hex()


class EidUseRow(Base):
    """A token already accepted, remembered by nonce until it would have expired anyway."""

    __tablename__ = "eid_used_tokens"

    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    kiosk_id: Mapped[str] = mapped_column(String(64))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    if not _B64URL.match(text):
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


# --- keys ------------------------------------------------------------------------------------


def signing_key(session: Session) -> Ed25519PrivateKey:
    """The reference issuer's private key, created on first use and kept in the database."""
    row = session.get(Meta, _SIGNING_KEY)
    if row is None:
        row = Meta(key=_SIGNING_KEY, value=secrets.token_hex(32))
        session.add(row)
        session.commit()
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(row.value))


def verify_key(session: Session) -> Ed25519PublicKey:
    """The public key e-ID signatures are checked with."""
    return signing_key(session).public_key()


# --- tokens ----------------------------------------------------------------------------------


def mint_token(
    key: Ed25519PrivateKey,
    id_hash: str,
    card_type: CardType,
    now: datetime,
    ttl: timedelta = DEFAULT_TTL,
) -> tuple[str, datetime]:
    """A signed token for the person whose keyed ID hash is `id_hash`, and when it expires."""
    if not timedelta(0) < ttl <= MAX_TTL:
        raise ValueError(f"ttl must be between 1 s and {MAX_TTL}")
    issued = int(now.timestamp())
    expires = issued + int(ttl.total_seconds())
    claims = EidClaims(
        p=_b64encode(bytes.fromhex(id_hash)),
        t=card_type,
        iat=issued,
        exp=expires,
        n=_b64encode(secrets.token_bytes(16)),
    )
    body = _b64encode(json.dumps(claims.model_dump(), separators=(",", ":")).encode("ascii"))
    signed = TOKEN_PREFIX + body
    signature = _b64encode(key.sign(signed.encode("ascii")))
    return f"{signed}.{signature}", datetime.fromtimestamp(expires, UTC)


def read_token(public_key: Ed25519PublicKey, token: str, now: datetime) -> EidClaims:
    """The claims of a genuine, unexpired token; `TokenError` otherwise (never anything else)."""
    token = token.strip()
    if not token.startswith(TOKEN_PREFIX) or token.count(".") != 2:
        raise TokenError("token_invalid", "not an e-ID token")
    signed, _, signature_text = token.rpartition(".")
    try:
        signature = _b64decode(signature_text)
        public_key.verify(signature, signed.encode("ascii"))
    except (ValueError, InvalidSignature, UnicodeEncodeError):
        raise TokenError("token_invalid", "signature does not hold") from None
    try:
        claims = EidClaims.model_validate_json(_b64decode(signed.removeprefix(TOKEN_PREFIX)))
    except (ValueError, ValidationError):
        # Signed by our key yet unreadable: a bug of the issuer, still not a token to accept.
        raise TokenError("token_invalid", "claims are not readable") from None
    issued = datetime.fromtimestamp(claims.iat, UTC)
    expires = datetime.fromtimestamp(claims.exp, UTC)
    if expires <= issued or expires - issued > MAX_TTL or issued > now + CLOCK_SKEW:
        raise TokenError("token_invalid", "implausible validity period")
    if expires <= now:
        raise TokenError("token_expired", "token has expired")
    return claims


def _consume(session: Session, claims: EidClaims, kiosk_id: str, now: datetime) -> None:
    """Remember the token's nonce; `token_used` if it was accepted before."""
    # Nonces of expired tokens need not be kept: those tokens are refused as expired.
    session.execute(delete(EidUseRow).where(EidUseRow.expires_at < now))
    session.add(
        EidUseRow(
            nonce=claims.n,
            used_at=now,
            expires_at=datetime.fromtimestamp(claims.exp, UTC),
            kiosk_id=kiosk_id,
        )
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise TokenError("token_used", "token was already used") from None


def verify_eid(
    session: Session, settings: service.Settings, token: str, kiosk_id: str
) -> EidIdentityResult:
    """Check an e-ID token and, when it holds, identify its person as an ID card check would."""
    now = settings.clock()
    id_hash = ""
    try:
        claims = read_token(verify_key(session), token, now)
        id_hash = claims.id_hash
        person = find_person_by_hash(session, id_hash)
        if person is not None:
            _consume(session, claims, kiosk_id, now)
    except TokenError as exc:
        service.record_identity_check(
            session,
            settings,
            kiosk_id=kiosk_id,
            method="eid",
            id_hash=id_hash,
            person=None,
            reason=exc.reason,
        )
        return EidIdentityResult(
            verified=False, person_ref=None, reason=exc.reason, expires_at=None
        )
    reason: EidReason = "ok" if person is not None else "not_found"
    ref, expires_at = service.record_identity_check(
        session,
        settings,
        kiosk_id=kiosk_id,
        method="eid",
        id_hash=id_hash,
        person=person,
        reason=reason,
    )
    if person is None or ref is None:
        return EidIdentityResult(verified=False, person_ref=None, reason=reason, expires_at=None)
    return EidIdentityResult(
        verified=True,
        person_ref=ref,
        reason="ok",
        expires_at=expires_at,
        name_masked=mask_name(person.name),
        card_type=card_type_of(session, person),
    )
