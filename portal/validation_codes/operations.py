"""Checking and redeeming the signed validation code shown on the thank-you page.

The code carries the response id and an HMAC, so a made-up code is refused before any
query; redemption is a conditional UPDATE, so two tills cannot both redeem one code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.access import scope_to_user
from portal.audit import Actor, record_audit
from portal.errors import Conflict, DomainError
from portal.models import Response, Store, User
from surveys.codes import InvalidCode, read_validation_code


class UnknownCode(DomainError):
    status = 404
    code = "unknown_code"
    message = _l("This is not a valid code.")


class AlreadyRedeemed(Conflict):
    code = "already_redeemed"
    message = _l("This code was already redeemed.")


@dataclass(frozen=True, slots=True)
class CodeStatus:
    response_id: int
    store_code: str
    store_name: str
    submitted_at: datetime
    redeemed_at: datetime | None


def check_validation_code(
    session: Session, secret_key: str, text: str, *, user: User | None
) -> CodeStatus:
    """What a code stands for. ``user`` limits it to stores they may see (None: the CLI).

    Raises
    ------
    UnknownCode
        Forged, mistyped, or of a store the user may not see (one answer for all).
    """
    try:
        response_id = read_validation_code(secret_key, text)
    except InvalidCode:
        raise UnknownCode() from None
    stmt = (
        select(Response.id, Store.code, Store.name, Response.submitted_at, Response.redeemed_at)
        .join(Store, Store.id == Response.store_id)
        .where(Response.id == response_id)
    )
    if user is not None:
        stmt = scope_to_user(stmt, user, Response.store_id)
    row = session.execute(stmt).one_or_none()
    if row is None:
        raise UnknownCode()
    return CodeStatus(*row)


def redeem_validation_code(
    session: Session, secret_key: str, text: str, *, user: User | None, actor: Actor, now: datetime
) -> CodeStatus:
    """Mark the code redeemed, exactly once, and audit it.

    Raises
    ------
    UnknownCode
        As for `check_validation_code`.
    AlreadyRedeemed
        It was redeemed before (also when another till won a simultaneous redemption).
    """
    status = check_validation_code(session, secret_key, text, user=user)
    result = session.execute(
        update(Response)
        .where(Response.id == status.response_id, Response.redeemed_at.is_(None))
        .values(redeemed_at=now, redeemed_by_user_id=None if user is None else user.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise AlreadyRedeemed()
    record_audit(session, actor, "validation_code.redeem", "response", status.response_id, now)
    return CodeStatus(
        status.response_id, status.store_code, status.store_name, status.submitted_at, now
    )
