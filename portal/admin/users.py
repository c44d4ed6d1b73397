"""Users in the admin console: invite by e-mail, edit role, scope, name and language,
switch off and on, send a password link. Every change is audited.

Two refusals protect the console itself: an admin cannot switch themself off, and the
last active admin can neither be switched off nor lose the admin role. Both are decided
with the active admins' rows locked (PostgreSQL; SQLite has one writer at a time), so two
admins switching each other off at once cannot leave the chain with none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session

from portal.audit import Actor, record_audit
from portal.auth.operations import check_profile, check_scope, create_user
from portal.auth.recovery import send_password_link
from portal.config import Settings
from portal.errors import Conflict, NotFound
from portal.models import ApiToken, Region, Role, Store, User


class UserRefused(Conflict):
    code = "user_refused"


@dataclass(frozen=True, slots=True)
class Profile:
    """What an admin sets on a user: the display name, role, scope and language."""

    name: str
    role: str
    stores: Sequence[Store]
    region: str | None
    locale: str | None


@dataclass(frozen=True, slots=True)
class UserFilters:
    text: str = ""
    role: str = ""
    #: "yes", "no" or "" (both).
    active: str = ""


def list_users(filters: UserFilters) -> Select[Any]:
    """Users matching ``filters`` (e-mail or name containing the text), by e-mail."""
    stmt = select(User).order_by(User.email)
    if filters.text:
        pattern = "%" + filters.text.lower().replace("\\", "\\\\").replace("%", "\\%") + "%"
        pattern = pattern.replace("_", "\\_")
        stmt = stmt.where(
            or_(
                User.email.like(pattern, escape="\\"),
                func.lower(User.name).like(pattern, escape="\\"),
            )
        )
    if filters.role:
        stmt = stmt.where(User.role == filters.role)
    if filters.active in ("yes", "no"):
        stmt = stmt.where(User.active.is_(filters.active == "yes"))
    return stmt


def get_user(session: Session, user_id: int) -> User:
    """Raises `NotFound` for an unknown id."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_l("No such user."))
    return user


def invite_user(
    session: Session,
    settings: Settings,
    *,
    email: str,
    profile: Profile,
    actor: Actor,
    now: datetime,
) -> User:
    """Add a user without a usable password and queue their invitation, in their language.

    Raises
    ------
    InvalidAccount, DuplicateEmail
        As `create_user`.
    """
    user = create_user(
        session,
        email=email,
        role=profile.role,
        password=None,
        stores=profile.stores,
        name=profile.name,
        region=profile.region,
        locale=profile.locale,
        actor=actor,
        now=now,
    )
    send_password_link(session, settings, user, actor=actor, now=now)
    return user


def _lock_active_admins(session: Session) -> list[int]:
    stmt = select(User.id).where(User.role == Role.ADMIN, User.active.is_(True)).with_for_update()
    return list(session.scalars(stmt))


def _refuse_removing_last_admin(session: Session, user: User) -> None:
    if user.role == Role.ADMIN and user.active and _lock_active_admins(session) == [user.id]:
        raise UserRefused(
            _l("This is the last active administrator: make another user an administrator first.")
        )


def update_user(
    session: Session, user: User, profile: Profile, *, actor: Actor, now: datetime
) -> None:
    """Set ``user``'s name, role, scope and language. A role other than manager keeps no
    store or region scope (it would mean nothing).

    Raises
    ------
    InvalidAccount
        Unknown role or language, a manager without stores or region, a long name.
    UserRefused
        It would take the admin role from the last active admin.
    """
    check_scope(profile.role, profile.stores, profile.region)
    name = check_profile(profile.name, profile.locale)
    if profile.role != Role.ADMIN:
        _refuse_removing_last_admin(session, user)
    manager = profile.role == Role.MANAGER
    before = _profile_of(user)
    user.name = name
    user.role = profile.role
    user.stores = list(profile.stores) if manager else []
    user.region = (profile.region or None) if manager else None
    user.locale = profile.locale
    session.flush()
    after = _profile_of(user)
    changes = {key: [before[key], after[key]] for key in before if before[key] != after[key]}
    if changes:
        record_audit(session, actor, "user.update", "user", user.id, now, **changes)


def _profile_of(user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "role": user.role,
        "stores": [s.code for s in user.stores],
        "region": user.region,
        "locale": user.locale,
    }


def switch_off(session: Session, user: User, *, actor: Actor, now: datetime) -> int:
    """Switch ``user`` off: they cannot sign in, every session they have ends now (the
    session version moves on) and every live personal API token is revoked now (the
    metrics API also refuses any token of a switched-off user). Returns how many tokens
    were revoked; they stay revoked if the user is switched on again.

    Raises
    ------
    UserRefused
        ``user`` is the actor, or the last active admin.
    """
    if user.id == actor.user_id:
        raise UserRefused(_l("You cannot switch yourself off."))
    if not user.active:
        return 0
    _refuse_removing_last_admin(session, user)
    user.active = False
    user.session_version += 1
    revoked = session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    tokens = int(getattr(revoked, "rowcount", 0) or 0)
    session.flush()
    record_audit(session, actor, "user.switch_off", "user", user.id, now, tokens_revoked=tokens)
    return tokens


def switch_on(session: Session, user: User, *, actor: Actor, now: datetime) -> None:
    """Let ``user`` sign in again (with their password; tokens revoked stay revoked)."""
    if user.active:
        return
    user.active = True
    session.flush()
    record_audit(session, actor, "user.switch_on", "user", user.id, now)


def send_link_for_user(
    session: Session, settings: Settings, user: User, *, actor: Actor, now: datetime
) -> None:
    """An admin sends ``user`` a password link (an invitation again if they never chose a
    password); the admin never sees or sets the password.

    Raises
    ------
    UserRefused
        ``user`` is switched off (a link would not work).
    """
    if not user.active:
        raise UserRefused(_l("This user is switched off: switch them on first."))
    send_password_link(session, settings, user, actor=actor, now=now)


def count_live_tokens(session: Session, user: User) -> int:
    """How many of ``user``'s personal API tokens are not revoked."""
    stmt = select(func.count()).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    return int(session.scalar(stmt) or 0)


def region_names(session: Session) -> list[str]:
    """The regions a manager may be scoped to: the list's and those stores name."""
    listed = select(Region.name)
    named = select(Store.region).where(Store.region != "")
    return sorted(set(session.scalars(listed.union(named))))
