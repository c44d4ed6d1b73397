"""POS API keys: created per store, stored as a SHA-256, recognised by prefix, revocable."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit import Actor, record_audit
from portal.bearer import bearer_secret, digest, new_secret
from portal.errors import DomainError, NotFound
from portal.models import ApiKey, Store

KEY_PREFIX = "pos_"


class BadApiKey(DomainError):
    status = 401
    code = "bad_api_key"
    message = "Send a valid store API key as 'Authorization: Bearer <key>'."


@dataclass(frozen=True, slots=True)
class NewApiKey:
    api_key: ApiKey
    #: The only time the secret exists outside the till: shown once, never stored.
    secret: str


def create_api_key(
    session: Session, store: Store, *, actor: Actor, now: datetime, label: str = ""
) -> NewApiKey:
    """Add a POS key for ``store`` and audit it; the caller shows the secret once."""
    secret = new_secret(KEY_PREFIX)
    api_key = ApiKey(
        store_id=store.id,
        prefix=secret[:12],
        key_hash=digest(secret),
        label=label,
        created_at=now,
    )
    session.add(api_key)
    session.flush()
    record_audit(session, actor, "api_key.create", "api_key", api_key.id, now, store=store.code)
    return NewApiKey(api_key, secret)


def revoke_api_key(session: Session, key_id: int, *, actor: Actor, now: datetime) -> ApiKey:
    """Revoke a key; requests with it are refused from the next one on.

    Raises
    ------
    NotFound
        No such key.
    """
    api_key = session.get(ApiKey, key_id)
    if api_key is None:
        raise NotFound(f"No API key with id {key_id}.")
    if api_key.revoked_at is None:
        api_key.revoked_at = now
        record_audit(session, actor, "api_key.revoke", "api_key", api_key.id, now)
    return api_key


def store_for_api_key(session: Session, authorization: str | None) -> Store:
    """The store whose live key is in an ``Authorization: Bearer`` header.

    Raises
    ------
    BadApiKey
        Missing, malformed, unknown or revoked key (one answer for all, so that a caller
        learns nothing about which keys exist).
    """
    secret = bearer_secret(authorization, KEY_PREFIX)
    if secret is None:
        raise BadApiKey()
    api_key = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest(secret)))
    if api_key is None or api_key.revoked_at is not None:
        raise BadApiKey()
    # The lookup was by hash already; compare again in constant time for good measure.
    if not hmac.compare_digest(api_key.key_hash, digest(secret)):
        raise BadApiKey()
    return api_key.store
