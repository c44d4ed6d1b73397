"""Personal API tokens: created per user, stored as a SHA-256, recognised by prefix,
revocable by their owner, and checked on every metrics API request.

The secret exists only in the answer to its creation (a page or the CLI); the database
keeps its hash, so a leaked table leaks no token. A token sees exactly what its user may
see, and stops working when the user is deactivated.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit import Actor, record_audit
from portal.bearer import bearer_secret, digest, new_secret
from portal.errors import DomainError, NotFound
from portal.models import ApiToken, User

TOKEN_PREFIX = "pat_"
#: How many leading characters of the secret are stored and shown to recognise a token.
SHOWN_PREFIX_LENGTH = 12
MAX_LABEL_LENGTH = 200
#: ``last_used_at`` is a hint for spotting unused tokens, so minute precision is plenty.
LAST_USED_PRECISION = timedelta(minutes=1)


class BadApiToken(DomainError):
    status = 401
    code = "bad_api_token"
    message = _l("Send a valid personal API token as 'Authorization: Bearer <token>'.")


class InvalidTokenRequest(DomainError):
    status = 400
    code = "invalid_token_request"


@dataclass(frozen=True, slots=True)
class NewApiToken:
    api_token: ApiToken
    #: The only time the secret exists outside its owner's hands: shown once, never stored.
    secret: str


def create_api_token(
    session: Session, user: User, *, actor: Actor, now: datetime, label: str = ""
) -> NewApiToken:
    """Add a personal token for ``user`` and audit it; the caller shows the secret once.

    Raises
    ------
    InvalidTokenRequest
        The label is longer than 200 characters, or the user is deactivated (their
        token could never be used).
    """
    label = label.strip()
    if len(label) > MAX_LABEL_LENGTH:
        raise InvalidTokenRequest(
            _l("The label can have at most %(n)d characters.", n=MAX_LABEL_LENGTH), field="label"
        )
    if not user.active:
        raise InvalidTokenRequest(_l("This user is deactivated."))
    secret = new_secret(TOKEN_PREFIX)
    api_token = ApiToken(
        user_id=user.id,
        prefix=secret[:SHOWN_PREFIX_LENGTH],
        token_hash=digest(secret),
        label=label,
        created_at=now,
    )
    session.add(api_token)
    session.flush()
    record_audit(
        session,
        actor,
        "api_token.create",
        "api_token",
        api_token.id,
        now,
        user=user.email,
        prefix=api_token.prefix,
        label=label,
    )
    return NewApiToken(api_token, secret)


def revoke_api_token(
    session: Session, user: User, token_id: int, *, actor: Actor, now: datetime
) -> ApiToken:
    """Revoke one of ``user``'s own tokens; requests with it are refused from then on.
    Revoking a revoked token changes nothing and is not audited again.

    Raises
    ------
    NotFound
        No such token, or it belongs to someone else (one answer for both, so that token
        ids of other users cannot be probed).
    """
    api_token = session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    )
    if api_token is None:
        raise NotFound(_l("No such API token."))
    if api_token.revoked_at is None:
        api_token.revoked_at = now
        record_audit(
            session, actor, "api_token.revoke", "api_token", api_token.id, now, user=user.email
        )
    return api_token


def list_api_tokens(session: Session, user: User) -> list[ApiToken]:
    """``user``'s tokens, newest first, revoked ones included (they show when it happened)."""
    stmt = (
        select(ApiToken)
        .where(ApiToken.user_id == user.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return list(session.scalars(stmt))


def user_for_api_token(session: Session, authorization_header: str | None, now: datetime) -> User:
    """The active user whose live token is in an ``Authorization: Bearer`` header.

    Records the use in ``last_used_at``, at most once per minute; the caller commits.

    Raises
    ------
    BadApiToken
        Missing, malformed, unknown or revoked token, or a deactivated user (one answer
        for all, so that a caller learns nothing about which tokens exist).
    """
    secret = bearer_secret(authorization_header, TOKEN_PREFIX)
    if secret is None:
        raise BadApiToken()
    hashed = digest(secret)
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hashed)
    ).one_or_none()
    if row is None:
        raise BadApiToken()
    api_token, user = row._tuple()
    if api_token.revoked_at is not None or not user.active:
        raise BadApiToken()
    # The lookup was by hash already; compare again in constant time for good measure.
    if not hmac.compare_digest(api_token.token_hash, hashed):
        raise BadApiToken()
    # Metrics reads are GETs on a read session. Writing on each of them would turn every
    # read into a write transaction: on SQLite they would queue on the one write lock (and
    # a read transaction that upgrades can fail outright when another writer got in
    # first), on PostgreSQL every request would create a dead row. A dashboard polling
    # with one token thus writes at most once a minute, which is all "last used" needs.
    last = api_token.last_used_at
    if last is None or now - last >= LAST_USED_PRECISION:
        api_token.last_used_at = now
    return user
