"""Bearer credentials, one way for POS keys and personal API tokens alike: a random secret
with a recognisable prefix, shown once, kept only as its SHA-256, read from an
``Authorization: Bearer <secret>`` header."""

from __future__ import annotations

import hashlib
import secrets

#: Longer than any secret we issue; anything longer is refused before hashing.
MAX_SECRET_LENGTH = 200


def new_secret(prefix: str) -> str:
    """``prefix`` followed by 256 random bits, URL-safe."""
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    # 256 random bits need no slow KDF: nobody can guess their way to a preimage.
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def bearer_secret(authorization: str | None, prefix: str) -> str | None:
    """The secret in an ``Authorization: Bearer`` header if it has our ``prefix``, else None."""
    scheme, _, secret = (authorization or "").partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret.startswith(prefix):
        return None
    return secret if len(secret) <= MAX_SECRET_LENGTH else None
