"""Accounts: creating users, checking and changing passwords, ending sessions."""

from __future__ import annotations

import gzip
import secrets
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from portal.audit import Actor, record_audit
from portal.config import LOCALES
from portal.errors import Conflict, DomainError
from portal.models import Role, Store, User

MIN_PASSWORD_LENGTH = 10
#: Longest password accepted anywhere (the sign-in form allows the same): long passphrases
#: are welcome, but hashing megabytes on every sign-in would be a cheap denial of service.
MAX_PASSWORD_LENGTH = 200
#: 20,000 common passwords, lowercased (Royce Williams' list as shipped by Django in
#: django/contrib/auth/common-passwords.txt.gz; BSD-3-Clause, see common-passwords.LICENSE).
COMMON_PASSWORDS_PATH = Path(__file__).with_name("common-passwords.txt.gz")
MAX_NAME_LENGTH = 200
#: Werkzeug hashes start with their method name, never with this.
UNUSABLE_PASSWORD_PREFIX = "!"

# Checked against when the e-mail is unknown, so that a wrong e-mail and a wrong password
# take the same time and an attacker cannot list accounts.
_DUMMY_HASH = generate_password_hash("not a real password")


class InvalidAccount(DomainError):
    status = 400
    code = "invalid_account"


class DuplicateEmail(Conflict):
    code = "duplicate_email"


def normalize_email(email: str) -> str:
    return email.strip().lower()


#: The audit action of a failed sign-in, listed for admins on the failed sign-ins page.
FAILED_LOGIN = "login.failed"


def record_failed_login(
    session: Session, email: str, *, address: str, actor: Actor, now: datetime
) -> None:
    """Audit one failed sign-in: the normalised e-mail and the client's address (never
    the password typed)."""
    email = normalize_email(email)
    record_audit(
        session, actor, FAILED_LOGIN, "login", email[:64], now, email=email, address=address
    )


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords, read once per process."""
    with gzip.open(COMMON_PASSWORDS_PATH, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def check_password_rules(password: str, field: str = "password") -> None:
    """The one password rule: between the two lengths, and not a common password
    (compared case-insensitively, as the list is lowercased).

    Raises
    ------
    InvalidAccount
        Too short, too long, or on the common-passwords list (on ``field``).
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidAccount(
            _l("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
            field=field,
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidAccount(
            _l("The password must have at most %(n)d characters.", n=MAX_PASSWORD_LENGTH),
            field=field,
        )
    if password.strip().lower() in common_passwords():
        raise InvalidAccount(
            _l("This password is too common; choose one that is not on lists of leaked passwords."),
            field=field,
        )


def unusable_password_hash() -> str:
    """A stored "hash" no password matches (Django's idea): an invited user has one until
    they set their own through the invitation link."""
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(24)


def has_usable_password(user: User) -> bool:
    return not user.password_hash.startswith(UNUSABLE_PASSWORD_PREFIX)


def check_scope(role: str, stores: Sequence[Store], region: str | None) -> None:
    """The one rule on a user's role and scope: a known role, and a store manager sees
    at least one store or a region.

    Raises
    ------
    InvalidAccount
        Unknown role (field ``role``), or a manager without stores or region (``stores``).
    """
    if role not in {r.value for r in Role}:
        raise InvalidAccount(_l("Unknown role."), field="role")
    if role == Role.MANAGER and not stores and not region:
        raise InvalidAccount(
            _l("A store manager needs at least one store or a region."), field="stores"
        )


def check_profile(name: str, locale: str | None) -> str:
    """The display name and language rules: at most 200 characters (returned stripped),
    and a language the portal speaks, or None (as the browser asks).

    Raises
    ------
    InvalidAccount
        On field ``name`` or ``locale``.
    """
    name = name.strip()
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidAccount(
            _l("A name has at most %(max)d characters.", max=MAX_NAME_LENGTH), field="name"
        )
    if locale is not None and locale not in LOCALES:
        raise InvalidAccount(_l("Unknown language."), field="locale")
    return name


def create_user(
    session: Session,
    *,
    email: str,
    role: str,
    password: str | None,
    stores: Sequence[Store] = (),
    name: str = "",
    region: str | None = None,
    locale: str | None = None,
    actor: Actor,
    now: datetime,
) -> User:
    """Add a user with a hashed password, or with an unusable one when ``password`` is
    None (an invitation: they choose it through the link); managers must be given at
    least one store or a region.

    Raises
    ------
    InvalidAccount
        Unknown role, short, long or common password, malformed e-mail, unknown language,
        or a manager without stores or region.
    DuplicateEmail
        The e-mail is already taken (decided by the unique constraint).
    """
    email = normalize_email(email)
    if "@" not in email.strip("@") or len(email) > 254 or any(c.isspace() for c in email):
        raise InvalidAccount(_l("This is not an e-mail address."), field="email")
    check_scope(role, stores, region)
    if password is not None:
        check_password_rules(password)
    user = User(
        email=email,
        name=check_profile(name, locale),
        role=role,
        password_hash=unusable_password_hash()
        if password is None
        else generate_password_hash(password),
        stores=list(stores),
        region=region or None,
        locale=locale,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        raise DuplicateEmail(_l("A user with this e-mail already exists."), field="email") from None
    record_audit(
        session,
        actor,
        "user.create",
        "user",
        user.id,
        now,
        email=email,
        role=role,
        stores=[s.code for s in stores],
        region=user.region,
        invited=password is None,
    )
    return user


def authenticate(session: Session, email: str, password: str, now: datetime) -> User | None:
    """The active user with these credentials, with the sign-in time recorded; else None."""
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None or not has_usable_password(user):
        # The same work as a real check, so that neither case can be told by its timing.
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    user.last_login_at = now
    return user


def change_password(
    session: Session,
    user: User,
    *,
    current_password: str,
    new_password: str,
    actor: Actor,
    now: datetime,
) -> None:
    """Replace ``user``'s password and end all their sessions (every device signs in again).

    Raises
    ------
    InvalidAccount
        The current password is wrong (field ``current_password``), or the new one breaks
        the length rules (field ``new_password``).
    """
    if not check_password_hash(user.password_hash, current_password):
        raise InvalidAccount("The current password is wrong.", field="current_password")
    check_password_rules(new_password, field="new_password")
    user.password_hash = generate_password_hash(new_password)
    user.session_version += 1
    session.flush()
    record_audit(session, actor, "user.password_change", "user", user.id, now)


def end_sessions(session: Session, user: User, *, actor: Actor, now: datetime) -> int:
    """Void every session cookie ``user`` was given, on every device; return the new
    session version (the caller stamps it into a session it keeps open)."""
    user.session_version += 1
    session.flush()
    record_audit(session, actor, "user.sessions_end", "user", user.id, now)
    return user.session_version


def update_profile(
    session: Session, user: User, *, name: str, locale: str | None, actor: Actor, now: datetime
) -> None:
    """Set ``user``'s display name and language (None: as the browser asks).

    Raises
    ------
    InvalidAccount
        A name over 200 characters, or an unknown language.
    """
    name = check_profile(name, locale)
    if (user.name, user.locale) == (name, locale):
        return
    changes = {"name": [user.name, name], "locale": [user.locale, locale]}
    user.name, user.locale = name, locale
    session.flush()
    record_audit(session, actor, "user.profile", "user", user.id, now, **changes)


def remember_language(session: Session, user_id: int, locale: str) -> None:
    """Keep ``locale``, switched to on a page, as the user's language (pages and mail)."""
    if locale not in LOCALES:
        raise InvalidAccount(_l("Unknown language."), field="locale")
    session.execute(update(User).where(User.id == user_id).values(locale=locale))
