"""Setting a password through a mailed link: sending the link (an invitation for someone
who never had a password, a reset otherwise), answering "forgot password" without telling
whether the address exists, and using the link once.

The link is a `portal.auth.tokens` token; nothing about it is stored, so the only copy
is the one in the mail (and the outbox row that carries it until it is sent).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from portal.audit import Actor, record_audit
from portal.auth.mail import password_link_mail
from portal.auth.operations import (
    check_password_rules,
    has_usable_password,
    normalize_email,
)
from portal.auth.tokens import INVITATION, RESET, check_token, make_token
from portal.cases.notify import queue_mail
from portal.config import Settings
from portal.models import OutboxMessage, User


def link_lifetime(settings: Settings, purpose: str) -> timedelta:
    if purpose == INVITATION:
        return timedelta(days=settings.invitation_days)
    return timedelta(minutes=settings.reset_minutes)


def password_link(settings: Settings, user: User, purpose: str, now: datetime) -> str:
    """The full URL of a link that lets ``user`` set a password."""
    path = "invitation" if purpose == INVITATION else "reset-password"
    return f"{settings.base_url}/{path}/{make_token(settings.secret_key, user, purpose, now)}"


def send_password_link(
    session: Session, settings: Settings, user: User, *, actor: Actor, now: datetime
) -> OutboxMessage:
    """Queue the mail with a password link for ``user``: an invitation while they have
    never chosen a password, a reset otherwise. Audited; the link itself never is."""
    purpose = RESET if has_usable_password(user) else INVITATION
    text = password_link_mail(settings, user, purpose, password_link(settings, user, purpose, now))
    message = queue_mail(session, to=user.email, subject=text.subject, body=text.body, now=now)
    record_audit(session, actor, f"user.{purpose}_sent", "user", user.id, now)
    return message


def request_password_reset(
    session: Session, settings: Settings, email: str, *, actor: Actor, now: datetime
) -> bool:
    """ "Forgot password": mail a link if ``email`` is an active account's, else nothing.
    The caller answers the same either way; the result is for tests and logs only."""
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None or not user.active:
        return False
    send_password_link(session, settings, user, actor=actor, now=now)
    return True


def user_for_link(
    session: Session, settings: Settings, token: str, purpose: str, *, now: datetime
) -> User:
    """The user a valid link of ``purpose`` is for (see `check_token` for what it raises)."""
    return check_token(
        session,
        settings.secret_key,
        token,
        purpose,
        now=now,
        max_age=link_lifetime(settings, purpose),
    )


def set_password_with_link(
    session: Session,
    settings: Settings,
    token: str,
    purpose: str,
    new_password: str,
    *,
    now: datetime,
) -> User:
    """Set the password of the link's user and count it as a sign-in: the link and every
    other link sent before die (its signed state changed), every session they had ends
    (the session version moves on), and the caller starts a new one.

    Raises
    ------
    InvalidLink, ExpiredLink
        As `check_token`.
    InvalidAccount
        The new password breaks the password rules (field ``new_password``).
    """
    user = user_for_link(session, settings, token, purpose, now=now)
    check_password_rules(new_password, field="new_password")
    user.password_hash = generate_password_hash(new_password)
    user.session_version += 1
    user.last_login_at = now
    session.flush()
    record_audit(
        session, Actor.of_user(user), f"user.password_set_by_{purpose}", "user", user.id, now
    )
    return user
