"""POS API keys: created per store, stored as a SHA-256, recognised by prefix, revocable,
and stamped with when and from where a till last used them."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from portal.audit import Actor, record_audit
from portal.bearer import bearer_secret, digest, new_secret
from portal.errors import DomainError, NotFound
from portal.models import ApiKey, Store

KEY_PREFIX = "pos_"
#: A till may send a receipt every few seconds: its key's "last used" is written at most
#: this often, so that the stamp never turns every receipt into a second write.
KEY_USE_INTERVAL = timedelta(minutes=1)


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


def authenticate_api_key(session: Session, authorization: str | None) -> ApiKey:
    """The live key in an ``Authorization: Bearer`` header.

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
    return api_key


def store_for_api_key(session: Session, authorization: str | None) -> Store:
    """The store whose live key is in an ``Authorization: Bearer`` header.

    Raises
    ------
    BadApiKey
    """
    return authenticate_api_key(session, authorization).store


def record_key_use(session: Session, api_key: ApiKey, *, address: str, now: datetime) -> bool:
    """Stamp ``api_key`` as used at ``now`` from ``address``, unless it was stamped less
    than `KEY_USE_INTERVAL` ago; True when the stamp was written (flushed, not committed).

    Never raises for a busy row: the stamp is a convenience for the admin, and a till's
    receipt must not fail because of it. On PostgreSQL a key row another request is
    stamping at this moment is skipped (``SKIP LOCKED``) instead of waited for; a lock or
    timeout error on either database is swallowed inside a savepoint.
    """
    due = now - KEY_USE_INTERVAL
    if api_key.last_used_at is not None and api_key.last_used_at > due:
        return False
    # Checked again in the database: of two requests that both read an old stamp, the
    # second finds the first's and writes nothing.
    still_due = (
        select(ApiKey.id)
        .where(
            ApiKey.id == api_key.id,
            or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= due),
        )
        .with_for_update(skip_locked=True)
    )
    stamp = (
        update(ApiKey)
        .where(ApiKey.id.in_(still_due.scalar_subquery()))
        .values(last_used_at=now, last_used_ip=address[:45])
        .execution_options(synchronize_session=False)
    )
    try:
        with session.begin_nested():
            rowcount: int = session.execute(stamp).rowcount  # type: ignore[attr-defined]
        written = rowcount == 1
    except OperationalError:
        return False
    if written:
        # The bulk UPDATE bypassed the ORM: show the loaded key its new values without
        # marking it changed (that would write it again at the next flush).
        session.expire(api_key, ["last_used_at", "last_used_ip"])
    return written
