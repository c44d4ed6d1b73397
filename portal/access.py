"""Who may do what: roles on views, and the one scoping function for stores.

Every view declares its audience with `@requires(...)` or `@public`; a test walks the URL
map to prove that none is forgotten. `visible_store_ids` is the only answer to "which
stores may this user see", and `scope_to_user` applies it to a query; `store_choices`
and `managers_of` are the two questions the pages and operations ask of it most.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, bindparam, false, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from wtforms.fields.choices import SelectChoice

from portal.models import Role, Store, User, user_stores

F = TypeVar("F", bound=Callable[..., Any])

#: Roles that see every store of the chain.
CHAIN_WIDE = frozenset({Role.ADMIN, Role.HR, Role.REVIEWER, Role.CX})
#: Who writes, publishes and targets surveys and sets the branding.
SURVEY_OWNERS = (Role.CX, Role.ADMIN)
#: Who may read customers' contact details (on cases, on the list of customers to call
#: back): managers, for the stores they see, and admins. HR and reviewers see the figures,
#: not the customers behind them.
CONTACT_ROLES = (Role.MANAGER, Role.ADMIN)


def requires(*roles: Role) -> Callable[[F], F]:
    """Allow signed-in users with one of ``roles``; send others to sign in, or 403."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.portal_roles = frozenset(roles)  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorate


def public(view: F) -> F:
    """Mark a view as open to anyone (shoppers, the POS API with its own key check)."""
    view.portal_roles = None  # type: ignore[attr-defined]
    return view


def visible_store_ids(user: User) -> Select[tuple[int]]:
    """The ids of the stores ``user`` may see, as a SELECT usable as a subquery: every store
    for chain-wide roles; for a manager the stores listed for them plus, when their
    ``region`` is set, the stores of that region; none for mystery shoppers."""
    if user.role in CHAIN_WIDE:
        return select(Store.id)
    if user.role == Role.MANAGER:
        own = select(user_stores.c.store_id).where(user_stores.c.user_id == user.id)
        if not user.region:
            return own
        # A region manager also sees every store of the region, present and future.
        return select(Store.id).where(or_(Store.id.in_(own), Store.region == user.region))
    # Mystery shoppers see no store's customer data.
    return select(Store.id).where(false())


def scope_to_user(
    stmt: Select[Any], user: User, store_column: ColumnElement[int] | InstrumentedAttribute[int]
) -> Select[Any]:
    """Restrict ``stmt`` to rows whose ``store_column`` is a store ``user`` may see."""
    return stmt.where(store_column.in_(visible_store_ids(user).scalar_subquery()))


def list_visible_stores(session: Session, user: User) -> list[Store]:
    """The stores ``user`` may see, by code."""
    return list(session.scalars(scope_to_user(select(Store).order_by(Store.code), user, Store.id)))


def store_choices(session: Session, user: User, *, blank: str | None = None) -> list[SelectChoice]:
    """``(code, "code name")`` choices of the stores ``user`` may see, for a select field;
    led by an empty choice labelled ``blank`` (e.g. "all my stores") when one is given."""
    choices = [] if blank is None else [SelectChoice("", blank)]
    choices += [SelectChoice(s.code, store_label(s)) for s in list_visible_stores(session, user)]
    return choices


def store_label(store: Store) -> str:
    """``"code name"``, marked when the store is closed: how a store is named in a list."""
    label = f"{store.code} {store.name}"
    return label if store.closed_at is None else _("%(store)s (closed)", store=label)


def region_managers(session: Session, region: str) -> list[User]:
    """The active managers scoped to the region named ``region`` (`User.region`), the
    longest-standing first."""
    stmt = (
        select(User)
        .where(User.role == Role.MANAGER, User.active.is_(True), User.region == region)
        .order_by(User.id)
    )
    return list(session.scalars(stmt))


def _managers_of(*columns: Any, store_id: Any) -> Any:
    return (
        select(*columns)
        .join(user_stores, user_stores.c.user_id == User.id)
        .where(user_stores.c.store_id == store_id, User.role == Role.MANAGER, User.active.is_(True))
        .order_by(User.id)
    )


def managers_of(session: Session, store_id: int) -> list[User]:
    """The active managers of a store, the longest-standing (lowest id) first."""
    return list(session.scalars(_managers_of(User, store_id=store_id)))


#: Built once: every unhappy answer asks it inside its write transaction.
_FIRST_MANAGER = _managers_of(User.id, store_id=bindparam("store_id")).limit(1)


def first_manager_id(session: Session, store_id: int) -> int | None:
    """The id of the store's longest-standing active manager (the first of `managers_of`),
    or None."""
    found: int | None = session.scalar(_FIRST_MANAGER, {"store_id": store_id})
    return found
