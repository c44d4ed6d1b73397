"""Accounts: creating users, checking and changing passwords, ending sessions."""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from portal.audit import Actor, record_audit
from portal.errors import Conflict, DomainError
from portal.models import Role, Store, User

MIN_PASSWORD_LENGTH = 10
#: Longest password accepted anywhere (the sign-in form allows the same): long passphrases
#: are welcome, but hashing megabytes on every sign-in would be a cheap denial of service.
MAX_PASSWORD_LENGTH = 200
#: 20,000 common passwords, lowercased (Royce Williams' list as shipped by Django in
#: django/contrib/auth/common-passwords.txt.gz; BSD-3-Clause, see common-passwords.LICENSE).
COMMON_PASSWORDS_PATH = Path(__file__).with_name("common-passwords.txt.gz")

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
            f"The password must have at least {MIN_PASSWORD_LENGTH} characters.", field=field
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidAccount(
            f"The password must have at most {MAX_PASSWORD_LENGTH} characters.", field=field
        )
    if password.strip().lower() in common_passwords():
        raise InvalidAccount(
            "This password is too common; choose one that is not on lists of leaked passwords.",
            field=field,
        )


def create_user(
    session: Session,
    *,
    email: str,
    role: str,
    password: str,
    stores: Sequence[Store] = (),
    name: str = "",
    actor: Actor,
    now: datetime,
) -> User:
    """Add a user with a hashed password; managers must be given at least one store.

    Raises
    ------
    InvalidAccount
        Unknown role, short, long or common password, malformed e-mail, or a manager without stores.
    DuplicateEmail
        The e-mail is already taken (decided by the unique constraint).
    """
    email = normalize_email(email)
    if "@" not in email or len(email) > 254:
        raise InvalidAccount(f"{email!r} is not an e-mail address.", field="email")
    if role not in {r.value for r in Role}:
        raise InvalidAccount(f"Unknown role {role!r}.", field="role")
    check_password_rules(password)
    if role == Role.MANAGER and not stores:
        raise InvalidAccount("A store manager needs at least one store.", field="store")
    user = User(
        email=email,
        name=name,
        role=role,
        password_hash=generate_password_hash(password),
        stores=list(stores),
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        raise DuplicateEmail(f"A user with e-mail {email} already exists.", field="email") from None
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
    )
    return user


def authenticate(session: Session, email: str, password: str, now: datetime) -> User | None:
    """The active user with these credentials, with the sign-in time recorded; else None."""
    user = session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
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
