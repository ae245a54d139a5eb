"""Dashboard operators: argon2 password hashes, roles, lockout, signed sessions, CSRF, audit.

Roles: a *viewer* sees the fleet; an *operator* also sends remote commands. Passwords are kept
only as argon2id hashes. Failed logins lock the name out for a growing delay (5 s, 10 s, 20 s ...
up to 15 min after the third failure in a row); the lock holds even for the right password.
Every login, refusal and command is written to `OperatorAuditRow`. Sessions are stateless signed
cookies (HMAC-SHA256 over name, nonce and expiry); the CSRF token is derived from the session's
nonce, so a form is good only for the session that rendered it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session, sessionmaker

from fleet.db import OperatorAuditRow, OperatorRow, now

log = logging.getLogger(__name__)

VIEWER, OPERATOR = "viewer", "operator"
ROLES = (VIEWER, OPERATOR)
USERNAME_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")
MIN_PASSWORD_LEN = 10
MAX_PASSWORD_LEN = 1024  # argon2 takes anything; a bound keeps a huge form field cheap


class OperatorError(ValueError):
    """A bad username, password or role given to `add_operator`."""


@dataclass(frozen=True)
class LockoutPolicy:
    """How long a name is locked after `failures` wrong passwords in a row."""

    free_tries: int = 2
    base_delay_s: float = 5.0
    max_delay_s: float = 900.0

    def delay_after(self, failures: int) -> float:
        if failures <= self.free_tries:
            return 0.0
        return min(self.base_delay_s * 2 ** (failures - self.free_tries - 1), self.max_delay_s)


@dataclass(frozen=True)
class LoginResult:
    """`outcome` is "ok", "bad_credentials" (unknown name or wrong password, never told apart)
    or "locked" (`retry_after_s` until the next try is heard)."""

    outcome: str
    username: str = ""
    role: str = ""
    retry_after_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id, RFC 9106 low-memory profile defaults


@cache
def _dummy_hash() -> str:
    # Verified against for unknown names, so a wrong name costs as long as a wrong password.
    return _hasher().hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    if not MIN_PASSWORD_LEN <= len(password) <= MAX_PASSWORD_LEN:
        raise OperatorError(f"a password needs {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters")
    return _hasher().hash(password)


def add_operator(
    sessions: sessionmaker[Session],
    username: str,
    password: str,
    role: str,
    *,
    clock: Callable[[], datetime] = now,
) -> bool:
    """Create an operator, or set a known one's password and role (and lift any lock).
    Returns True when the operator is new."""
    if not USERNAME_RE.fullmatch(username):
        raise OperatorError("a username is 1 to 64 letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise OperatorError(f"role must be one of {', '.join(ROLES)}")
    password_hash = hash_password(password)
    with sessions.begin() as session:
        row = session.get(OperatorRow, username)
        created = row is None
        if row is None:
            row = OperatorRow(username=username, created_at=clock())
            session.add(row)
        row.password_hash, row.role = password_hash, role
        row.failed_logins, row.locked_until = 0, None
        session.flush()
        audit(session, username, "operator_created" if created else "operator_updated", role, clock)
    return created


def audit(
    session: Session,
    username: str,
    action: str,
    target: str = "",
    clock: Callable[[], datetime] = now,
) -> None:
    """One audit entry in the caller's transaction (the action and its record commit together)."""
    session.add(OperatorAuditRow(at=clock(), username=username, action=action, target=target[:64]))


def authenticate(
    sessions: sessionmaker[Session],
    username: str,
    password: str,
    *,
    policy: LockoutPolicy = LockoutPolicy(),
    clock: Callable[[], datetime] = now,
) -> LoginResult:
    """Check a login and record it. Slow on purpose (argon2): call it from a worker thread."""
    if not USERNAME_RE.fullmatch(username) or len(password) > MAX_PASSWORD_LEN:
        _verify(_dummy_hash(), password[:MAX_PASSWORD_LEN])
        return LoginResult("bad_credentials")
    with sessions.begin() as session:
        row = session.get(OperatorRow, username, with_for_update=True)
        if row is None:
            _verify(_dummy_hash(), password)
            # No audit row: the audit table names known operators only, and a mistyped name
            # may be a password typed into the wrong field, so it is not logged either.
            log.info("login refused: unknown operator name")
            return LoginResult("bad_credentials")
        at = clock()
        if row.locked_until is not None and row.locked_until > at:
            audit(session, username, "login_locked", clock=clock)
            return LoginResult(
                "locked", username, retry_after_s=(row.locked_until - at).total_seconds()
            )
        if not _verify(row.password_hash, password):
            row.failed_logins += 1
            delay = policy.delay_after(row.failed_logins)
            row.locked_until = at + timedelta(seconds=delay) if delay else None
            audit(session, username, "login_failed", f"failures={row.failed_logins}", clock)
            if delay:
                return LoginResult("locked", username, retry_after_s=delay)
            return LoginResult("bad_credentials")
        if _hasher().check_needs_rehash(row.password_hash):
            row.password_hash = _hasher().hash(password)
        row.failed_logins, row.locked_until = 0, None
        audit(session, username, "login", clock=clock)
        return LoginResult("ok", username, row.role)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def role_of(session: Session, username: str) -> str | None:
    """The operator's role as it is now (a demotion takes effect on the next request)."""
    row = session.get(OperatorRow, username)
    return row.role if row is not None else None


@dataclass(frozen=True)
class OperatorSession:
    """A logged-in operator as the signed cookie says."""

    username: str
    nonce: str
    expires_at: float


class SessionSigner:
    """Issues and reads session cookies, and the CSRF tokens bound to them."""

    def __init__(
        self, secret: bytes, *, lifetime_s: float = 8 * 3600, clock: Callable[[], float] = time.time
    ) -> None:
        if len(secret) < 16:
            raise ValueError("the session secret needs at least 16 bytes")
        self._secret = secret
        self.lifetime_s = lifetime_s
        self._clock = clock

    def issue(self, username: str) -> str:
        payload = {
            "u": username,
            "n": secrets.token_urlsafe(16),
            "e": int(self._clock() + self.lifetime_s),
        }
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        return f"{body}.{self._mac('session', body)}"

    def read(self, token: str | None) -> OperatorSession | None:
        """The session a cookie carries, or None when it is missing, forged or expired."""
        if not token or len(token) > 512 or token.count(".") != 1:
            return None
        body, mac = token.split(".")
        if not same_text(mac, self._mac("session", body)):
            return None
        try:
            payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            session = OperatorSession(str(payload["u"]), str(payload["n"]), float(payload["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires_at > self._clock() else None

    def csrf_token(self, session: OperatorSession) -> str:
        return self._mac("csrf", session.nonce)

    def csrf_ok(self, session: OperatorSession, token: str | None) -> bool:
        return bool(token) and same_text(str(token), self.csrf_token(session))

    def _mac(self, purpose: str, data: str) -> str:
        digest = hmac.new(self._secret, f"{purpose}:{data}".encode(), hashlib.sha256).digest()
        return _b64(digest)


def same_text(given: str, expected: str) -> bool:
    """Constant-time comparison that any text can be given to (compare_digest refuses non-ASCII
    str, and a cookie or form field is attacker-chosen)."""
    return hmac.compare_digest(
        given.encode("utf-8", "replace"), expected.encode("utf-8", "replace")
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
