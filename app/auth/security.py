"""Password hashes, signed bearer tokens, CSRF tokens: pure functions of a secret key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

_hasher = PasswordHash((Argon2Hasher(),))
# A hash to verify against when the e-mail is unknown, so a failed login takes the same time either way.
_DUMMY_HASH = _hasher.hash("not a real password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    return _hasher.verify(password, password_hash)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _sign(secret: str, purpose: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), f"{purpose}:{payload}".encode(), hashlib.sha256).digest())


@dataclass(frozen=True, slots=True)
class AccessToken:
    account_id: str
    expires_at: int
    # Milliseconds since the epoch: a password change refuses every token issued before it.
    issued_at_ms: int


def issue_access_token(secret: str, account_id: str, lifetime_seconds: int) -> str:
    """`a.<account id>.<issued, ms>.<expiry, s>.<signature>`: checked with the server's secret, then
    against the account's password changes and the logged-out tokens (app.auth.deps)."""
    issued_ms = time.time_ns() // 1_000_000
    payload = f"{account_id}.{issued_ms}.{issued_ms // 1000 + lifetime_seconds}"
    return f"a.{payload}.{_sign(secret, 'access', payload)}"


def read_access_token(secret: str, token: str) -> AccessToken | None:
    parts = token.split(".")
    if len(parts) != 5 or parts[0] != "a":
        return None
    payload = ".".join(parts[1:4])
    if not hmac.compare_digest(parts[4], _sign(secret, "access", payload)):
        return None
    try:
        issued_ms, expires = int(parts[2]), int(parts[3])
    except ValueError:
        return None
    if expires < time.time():
        return None
    return AccessToken(parts[1], expires, issued_ms)


def access_token_hash(token: str) -> str:
    """How a logged-out token is kept: never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token_for(secret: str, login_token: str) -> str:
    """The CSRF token bound to one login: a page that cannot read the cookie cannot make it."""
    return _sign(secret, "csrf", login_token)


def hash_participant_token(token: str) -> str:
    """SHA-256, not argon2: participant tokens carry 256 random bits, and a join burst must stay fast."""
    return hashlib.sha256(token.encode()).hexdigest()
