"""Passwords and tokens. Every JWT call in the project lives in this module.

Access tokens are HS256 JWTs with `sub`, `exp`, `iat`, `iss`, `aud` and
`token_version`, the account's token version when the token was issued: a password
change or a disable bumps the account's version, and a token naming an older one is
refused, so those revoke every token issued before them. Decoding pins the algorithm
list, so `alg: none` or an RS/HS confusion is refused before any claim is trusted.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from jose import JWTError, jwt

from app.core.config import Settings
from app.core.time import utcnow

ALGORITHM = "HS256"
ACCEPTED_ALGORITHMS = [ALGORITHM]
TOKEN_VERSION_CLAIM = "token_version"

_hasher = PasswordHasher()
# Verified against when the email is unknown, so a miss costs as much as a hit.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class InvalidToken(Exception):
    """The token is malformed, expired, tampered with or meant for someone else."""


def hash_password(password: str) -> str:
    """An argon2id hash with the library's current parameters."""
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Constant work whether or not the account exists."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def create_access_token(
    subject: str,
    settings: Settings,
    *,
    token_version: int = 0,
    expires_in: timedelta | None = None,
) -> tuple[str, int]:
    """A signed access token for `subject` (at its `token_version`) and its lifetime in
    seconds."""
    lifetime = expires_in or timedelta(minutes=settings.access_token_minutes)
    now = utcnow()
    claims: dict[str, Any] = {
        "sub": subject,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        TOKEN_VERSION_CLAIM: token_version,
    }
    token = jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM)
    return token, int(lifetime.total_seconds())


def decode_access_token(token: str, settings: Settings) -> dict[str, Any]:
    """The verified claims of `token`, or InvalidToken."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") not in ACCEPTED_ALGORITHMS:
            raise InvalidToken("algorithm not accepted")
        claims: dict[str, Any] = jwt.decode(
            token,
            settings.secret_key,
            algorithms=ACCEPTED_ALGORITHMS,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require_exp": True, "require_iat": True, "require_sub": True},
        )
    except JWTError as exc:
        raise InvalidToken(str(exc)) from exc
    version = claims.get(TOKEN_VERSION_CLAIM)
    # Without it the token could not be revoked (bool is an int to Python: not here).
    if type(version) is not int:
        raise InvalidToken("no token version")
    return claims


def new_secret_token() -> str:
    """A URL-safe secret for links (booking manage links, feeds): 256 bits."""
    return secrets.token_urlsafe(32)


def hash_secret_token(token: str) -> str:
    """Only this digest of a secret token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def secret_token_matches(token: str, stored_hash: str) -> bool:
    """Compare in constant time, so timing does not reveal how much matched."""
    return hmac.compare_digest(hash_secret_token(token), stored_hash)


def calendar_feed_token(subject: str, settings: Settings) -> str:
    """A signature that makes a calendar feed URL unguessable (HMAC of the subject)."""
    digest = hmac.new(
        settings.secret_key.encode(), f"calendar-feed:{subject}".encode(), hashlib.sha256
    ).hexdigest()
    return digest[:40]


def calendar_feed_token_matches(subject: str, token: str, settings: Settings) -> bool:
    return hmac.compare_digest(calendar_feed_token(subject, settings), token)
