"""Links that set a password (invitations and resets): single use and expiring, with no
table of their own.

Made the way Django's ``PasswordResetTokenGenerator`` makes them: the link carries the user
id, the time it was made and an HMAC, keyed with the secret key, over those and over the
account's state at that time (password hash, last sign-in, session version, e-mail,
active or not). Using the link sets a password, signs the user in and so changes that
state: the same link no longer verifies. So does any other sign-in, password change,
"sign out everywhere", switch-off or e-mail change after the link was sent. The time it
was made bounds its life: days for an invitation, an hour for a reset (settings).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.errors import DomainError
from portal.models import User

#: What the link is for; part of the signed text, so that a reset link (an hour) cannot
#: be presented as an invitation (days).
INVITATION = "invitation"
RESET = "reset"
PURPOSES = (INVITATION, RESET)

_KEY_SALT = b"portal.auth.tokens.password-link"
#: ``<user id>-<made at>-<signature>``: base-36 numbers, then 43 URL-safe characters.
_TOKEN = re.compile(r"([0-9a-z]{1,13})-([0-9a-z]{1,13})-([A-Za-z0-9_\-]{43})")
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
#: A link "made" this far in the future is refused (it was not made by this clock).
_CLOCK_SKEW = timedelta(minutes=5)
#: Largest id an integer primary key holds on PostgreSQL.
_MAX_ID = 2**31 - 1


class InvalidLink(DomainError):
    """Not a link we made, or one already used or voided (which cannot be told apart)."""

    status = 400
    code = "invalid_link"
    message = _l(
        "This link is not valid any more: it was already used, or replaced by a newer one."
    )


class ExpiredLink(InvalidLink):
    status = 410
    code = "expired_link"
    message = _l("This link has expired.")


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = _BASE36[rest] + digits
        if number == 0:
            return digits


def _signature(secret_key: str, user: User, purpose: str, made: int) -> str:
    # The same key derivation as Django's salted_hmac: a key of its own for this use, so
    # that no other signature made with the secret key can ever pass for a link.
    key = hashlib.sha256(_KEY_SALT + secret_key.encode("utf-8")).digest()
    last_login = "" if user.last_login_at is None else str(int(user.last_login_at.timestamp()))
    state = "|".join(
        [
            purpose,
            str(user.id),
            user.password_hash,
            last_login,
            str(user.session_version),
            user.email,
            "1" if user.active else "0",
            str(made),
        ]
    )
    digest = hmac.new(key, state.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def make_token(secret_key: str, user: User, purpose: str, now: datetime) -> str:
    """The token for a link that lets ``user`` set a password, made at ``now``."""
    if purpose not in PURPOSES:
        raise ValueError(purpose)
    made = int(now.timestamp())
    return f"{_base36(user.id)}-{_base36(made)}-{_signature(secret_key, user, purpose, made)}"


def check_token(
    session: Session,
    secret_key: str,
    token: str,
    purpose: str,
    *,
    now: datetime,
    max_age: timedelta,
) -> User:
    """The user a genuine, unused, unexpired link of ``purpose`` was made for.

    Raises
    ------
    InvalidLink
        Malformed, not signed by us, for another purpose, already used or voided by a
        change to the account, or the account is switched off.
    ExpiredLink
        Genuine and unused, but older than ``max_age``.
    """
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise InvalidLink()
    user_id, made = int(match.group(1), 36), int(match.group(2), 36)
    # Numbers out of range are refused before they reach the database or the calendar.
    if user_id > _MAX_ID or made > now.timestamp() + _CLOCK_SKEW.total_seconds():
        raise InvalidLink()
    # Locked and read afresh: of two uses of one link at once, the second waits and then
    # sees the password the first set, so the link no longer verifies (PostgreSQL; SQLite
    # has one writer at a time).
    user = session.get(User, user_id, with_for_update=True, populate_existing=True)
    if user is None or not user.active:
        raise InvalidLink()
    if not hmac.compare_digest(match.group(3), _signature(secret_key, user, purpose, made)):
        raise InvalidLink()
    made_at = datetime.fromtimestamp(made, UTC)
    if now - made_at > max_age:
        raise ExpiredLink()
    return user
